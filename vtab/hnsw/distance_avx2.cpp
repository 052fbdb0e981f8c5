// AVX2 + FMA kernels. This file is compiled with -mavx2 -mfma (CMakeLists.txt) and its kernels
// are only called after distance.cpp has checked that the CPU has both.
#include "vtab/hnsw/distance.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <bit>

namespace strata::hnsw {

namespace {

float horizontal_sum(__m256 v) {
  __m128 low = _mm256_castps256_ps128(v);
  __m128 high = _mm256_extractf128_ps(v, 1);
  __m128 sum = _mm_add_ps(low, high);
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_shuffle_ps(sum, sum, 0x55));
  return _mm_cvtss_f32(sum);
}

int32_t horizontal_sum(__m256i v) {
  __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4e));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xb1));
  return _mm_cvtsi128_si32(sum);
}

float avx2_l2_squared(const float* a, const float* b, size_t n) {
  __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    sum0 = _mm256_fmadd_ps(d0, d0, sum0);
    sum1 = _mm256_fmadd_ps(d1, d1, sum1);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    sum0 = _mm256_fmadd_ps(d, d, sum0);
  }
  float sum = horizontal_sum(_mm256_add_ps(sum0, sum1));
  for (; i < n; ++i) {
    float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float avx2_dot(const float* a, const float* b, size_t n) {
  __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), sum0);
    sum1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), sum1);
  }
  for (; i + 8 <= n; i += 8) sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), sum0);
  float sum = horizontal_sum(_mm256_add_ps(sum0, sum1));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float avx2_l1(const float* a, const float* b, size_t n) {
  const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));  // clears the sign bit
  __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    sum0 = _mm256_add_ps(sum0, _mm256_and_ps(magnitude, _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
    sum1 = _mm256_add_ps(sum1, _mm256_and_ps(magnitude, _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8))));
  }
  for (; i + 8 <= n; i += 8) {
    sum0 = _mm256_add_ps(sum0, _mm256_and_ps(magnitude, _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
  }
  float sum = horizontal_sum(_mm256_add_ps(sum0, sum1));
  for (; i < n; ++i) sum += a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
  return sum;
}

// int8 products widened to 16 bits (at most 2 * 128 * 128, which fits in int32 after madd).
__m256i widen(const int8_t* p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

int32_t avx2_l2_squared_int8(const int8_t* a, const int8_t* b, size_t n) {
  __m256i sum = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i d = _mm256_sub_epi16(widen(a + i), widen(b + i));
    sum = _mm256_add_epi32(sum, _mm256_madd_epi16(d, d));
  }
  int32_t total = horizontal_sum(sum);
  for (; i < n; ++i) {
    int32_t d = int32_t{a[i]} - int32_t{b[i]};
    total += d * d;
  }
  return total;
}

int32_t avx2_dot_int8(const int8_t* a, const int8_t* b, size_t n) {
  __m256i sum = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) sum = _mm256_add_epi32(sum, _mm256_madd_epi16(widen(a + i), widen(b + i)));
  int32_t total = horizontal_sum(sum);
  for (; i < n; ++i) total += int32_t{a[i]} * int32_t{b[i]};
  return total;
}

uint32_t avx2_hamming(const uint64_t* a, const uint64_t* b, size_t words) {
  // popcnt per word is already fast; unrolled so that four run at once.
  uint64_t sums[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= words; i += 4) {
    for (size_t j = 0; j < 4; ++j) sums[j] += static_cast<uint64_t>(std::popcount(a[i + j] ^ b[i + j]));
  }
  for (; i < words; ++i) sums[0] += static_cast<uint64_t>(std::popcount(a[i] ^ b[i]));
  return static_cast<uint32_t>(sums[0] + sums[1] + sums[2] + sums[3]);
}

constexpr DistanceKernels kAvx2 = {avx2_l2_squared, avx2_dot, avx2_l1, avx2_l2_squared_int8, avx2_dot_int8, avx2_hamming,
                                   "avx2"};

}  // namespace

const DistanceKernels* avx2_kernels_if_built() { return &kAvx2; }

}  // namespace strata::hnsw

#else

namespace strata::hnsw {
const DistanceKernels* avx2_kernels_if_built() { return nullptr; }
}  // namespace strata::hnsw

#endif
