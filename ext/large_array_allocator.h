// LargeArrayAllocator: an allocator for big arrays read at random (a graph's adjacency, its
// per-node names and scratch), which asks the kernel for transparent huge pages.
//
// A traversal touches a few hundred random places in arrays of hundreds of megabytes. With 4 KiB
// pages nearly every one of those is a TLB miss as well as a cache miss, and under
// virtualisation a TLB miss walks two sets of page tables. 2 MiB pages cut the walks to a few.
// Debian's default transparent-huge-page setting is "madvise", so nothing happens unless the
// mapping is advised: arrays of at least kLargeArrayBytes get their own 2 MiB-aligned mapping
// with MADV_HUGEPAGE; smaller ones come from operator new as usual. Where the kernel refuses
// (THP disabled), the mapping simply stays in small pages.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "ext/default_init_allocator.h"

namespace strata {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;
inline constexpr size_t kLargeArrayBytes = size_t{4} << 20;

template <class T>
struct LargeArrayAllocator {
  using value_type = T;

  LargeArrayAllocator() = default;
  template <class U>
  LargeArrayAllocator(const LargeArrayAllocator<U>&) noexcept {}

  T* allocate(size_t count) {
    if (count > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    const size_t bytes = count * sizeof(T);
    if (bytes < kLargeArrayBytes) return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
    const size_t mapped = mapping_bytes(bytes);
    // Over-allocate by one huge page, then trim both ends so the mapping starts on a 2 MiB
    // boundary (the kernel only backs aligned 2 MiB ranges with huge pages).
    void* raw = mmap(nullptr, mapped + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    auto start = reinterpret_cast<uintptr_t>(raw);
    uintptr_t aligned = (start + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
    if (aligned > start) munmap(raw, aligned - start);
    uintptr_t end = start + mapped + kHugePageBytes;
    if (end > aligned + mapped) munmap(reinterpret_cast<void*>(aligned + mapped), end - (aligned + mapped));
    madvise(reinterpret_cast<void*>(aligned), mapped, MADV_HUGEPAGE);
    return reinterpret_cast<T*>(aligned);
  }

  void deallocate(T* pointer, size_t count) noexcept {
    const size_t bytes = count * sizeof(T);
    if (bytes < kLargeArrayBytes) {
      ::operator delete(pointer, std::align_val_t{alignof(T)});
      return;
    }
    munmap(pointer, mapping_bytes(bytes));
  }

  template <class U>
  bool operator==(const LargeArrayAllocator<U>&) const noexcept {
    return true;
  }

 private:
  static size_t mapping_bytes(size_t bytes) { return (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1); }
};

template <class T>
using LargeVector = std::vector<T, LargeArrayAllocator<T>>;

// LargeArrayAllocator whose vectors leave new elements of trivial types uninitialized on
// resize(n) (default_init_allocator.h): for scratch arrays every element of which is written
// before it is read.
template <class T>
using UninitializedArrayAllocator = DefaultInitializing<LargeArrayAllocator, T>;

template <class T>
using ScratchVector = std::vector<T, UninitializedArrayAllocator<T>>;

}  // namespace strata
