// DefaultInitializing<Allocator, T>: the allocator Allocator<T>, except that resize(n) leaves new
// elements of trivial types uninitialized instead of zero-filling them, for arrays every element
// of which is written right after the resize (a decoded column's values, a scan's scratch
// arrays): the zero-fill would be a pass over fresh memory for nothing.
//
//   DefaultInitAllocator<T>          over std::allocator
//   UninitializedArrayAllocator<T>   over LargeArrayAllocator (huge pages; large_array_allocator.h)
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace strata {

template <template <class> class Allocator, class T>
struct DefaultInitializing : Allocator<T> {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = DefaultInitializing<Allocator, U>;
  };
  DefaultInitializing() = default;
  template <class U>
  DefaultInitializing(const DefaultInitializing<Allocator, U>&) noexcept {}

  template <class U>
  void construct(U* pointer) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(pointer)) U;
  }
  template <class U, class... Arguments>
  void construct(U* pointer, Arguments&&... arguments) {
    ::new (static_cast<void*>(pointer)) U(std::forward<Arguments>(arguments)...);
  }
};

template <class T>
using DefaultInitAllocator = DefaultInitializing<std::allocator, T>;

}  // namespace strata
