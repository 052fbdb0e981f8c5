// ext/large_array_allocator.h: big arrays get their own 2 MiB-aligned mapping and behave as
// ordinary vectors through growth, copies and frees (ASan checks the small-array path).
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>

#include "ext/large_array_allocator.h"

namespace {

TEST(LargeArrayAllocator, BigArraysAreHugePageAlignedAndBehaveAsVectors) {
  strata::LargeVector<uint64_t> values;
  for (uint64_t i = 0; i < (3u << 20); ++i) values.push_back(i);  // grows through both paths
  EXPECT_EQ(reinterpret_cast<uintptr_t>(values.data()) % strata::kHugePageBytes, 0u);
  EXPECT_EQ(std::accumulate(values.begin(), values.end(), uint64_t{0}), (uint64_t{3} << 20) * ((uint64_t{3} << 20) - 1) / 2);
  strata::LargeVector<uint64_t> copy = values;
  copy.resize(10);
  copy.shrink_to_fit();
  EXPECT_EQ(copy.back(), 9u);
  values.assign(5u << 20, 7);
  EXPECT_EQ(values[(5u << 20) - 1], 7u);
  strata::LargeVector<char> small(100, 'x');
  EXPECT_EQ(small[99], 'x');
}

}  // namespace
