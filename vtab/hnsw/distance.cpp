// The portable kernels and the run-time choice between them and the AVX2 ones.
#include "vtab/hnsw/distance.h"

#include <bit>
#include <cmath>

namespace strata::hnsw {

namespace {

// Four independent sums, so that the compiler may vectorize without reassociating.
float portable_l2_squared(const float* a, const float* b, size_t n) {
  float sums[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t j = 0; j < 4; ++j) {
      float d = a[i + j] - b[i + j];
      sums[j] += d * d;
    }
  }
  for (; i < n; ++i) {
    float d = a[i] - b[i];
    sums[0] += d * d;
  }
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

float portable_dot(const float* a, const float* b, size_t n) {
  float sums[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t j = 0; j < 4; ++j) sums[j] += a[i + j] * b[i + j];
  }
  for (; i < n; ++i) sums[0] += a[i] * b[i];
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

float portable_l1(const float* a, const float* b, size_t n) {
  float sums[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t j = 0; j < 4; ++j) sums[j] += std::fabs(a[i + j] - b[i + j]);
  }
  for (; i < n; ++i) sums[0] += std::fabs(a[i] - b[i]);
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

int32_t portable_l2_squared_int8(const int8_t* a, const int8_t* b, size_t n) {
  int32_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    int32_t d = int32_t{a[i]} - int32_t{b[i]};
    sum += d * d;
  }
  return sum;
}

int32_t portable_dot_int8(const int8_t* a, const int8_t* b, size_t n) {
  int32_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += int32_t{a[i]} * int32_t{b[i]};
  return sum;
}

uint32_t portable_hamming(const uint64_t* a, const uint64_t* b, size_t words) {
  uint32_t bits = 0;
  for (size_t i = 0; i < words; ++i) bits += static_cast<uint32_t>(std::popcount(a[i] ^ b[i]));
  return bits;
}

constexpr DistanceKernels kPortable = {portable_l2_squared, portable_dot, portable_l1, portable_l2_squared_int8,
                                       portable_dot_int8, portable_hamming, "portable"};

}  // namespace

const DistanceKernels* avx2_kernels_if_built();  // distance_avx2.cpp

const DistanceKernels& portable_kernels() { return kPortable; }

const DistanceKernels* avx2_kernels() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool usable = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (usable) return avx2_kernels_if_built();
#endif
  return nullptr;
}

const DistanceKernels& kernels() {
  static const DistanceKernels* chosen = [] {
    const DistanceKernels* avx2 = avx2_kernels();
    return avx2 != nullptr ? avx2 : &kPortable;
  }();
  return *chosen;
}

}  // namespace strata::hnsw
