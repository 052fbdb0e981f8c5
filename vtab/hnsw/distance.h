// Distance kernels: the inner loops of vector search, chosen once per process.
//
// Each kernel exists twice: a portable one (distance.cpp) and an AVX2+FMA one
// (distance_avx2.cpp, compiled for that instruction set and only called when the CPU has it,
// checked at run time). Both give the same results within float rounding: they sum in a
// different order.
//
// Conventions (docs/hnsw.md): l2 is the Euclidean distance; cosine is 1 - cos(a, b) (1 when a
// vector is all zeros); ip is the negative inner product (smaller is closer, as pgvector's
// `<#>`); l1 is the sum of absolute differences; hamming counts differing bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace strata::hnsw {

struct DistanceKernels {
  float (*l2_squared)(const float* a, const float* b, size_t n);
  float (*dot)(const float* a, const float* b, size_t n);
  float (*l1)(const float* a, const float* b, size_t n);
  // For int8 vectors (quantized or declared int8[N]): exact integer results.
  int32_t (*l2_squared_int8)(const int8_t* a, const int8_t* b, size_t n);
  int32_t (*dot_int8)(const int8_t* a, const int8_t* b, size_t n);
  // Differing bits between two bit vectors of `words` 64-bit words.
  uint32_t (*hamming)(const uint64_t* a, const uint64_t* b, size_t words);
  std::string_view name;  // "avx2" or "portable"
};

// The kernels for this CPU.
const DistanceKernels& kernels();
// Always the portable ones (tests compare the two).
const DistanceKernels& portable_kernels();
// The AVX2 ones when this CPU has AVX2 and FMA, else nullptr.
const DistanceKernels* avx2_kernels();

}  // namespace strata::hnsw
