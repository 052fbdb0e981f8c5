// DefaultInitAllocator: std::allocator, except that resize(n) leaves new elements of trivial
// types uninitialized instead of zero-filling them, for arrays every element of which is written
// right after the resize (a decoded column's values): the zero-fill would be a pass over fresh
// memory for nothing. (large_array_allocator.h's UninitializedArrayAllocator does the same for
// huge scratch arrays.)
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace strata {

template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}

  template <class U>
  void construct(U* pointer) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(pointer)) U;
  }
  template <class U, class... Arguments>
  void construct(U* pointer, Arguments&&... arguments) {
    ::new (static_cast<void*>(pointer)) U(std::forward<Arguments>(arguments)...);
  }
};

}  // namespace strata
