// VectorSpace: the vectors an HnswGraph walks over, one per node, and how they are compared.
//
// Each node keeps its full vector (float32; unit length for cosine), which exact distances and
// re-ranking use. The graph itself walks over a traversal form, which may be smaller:
//   - a Matryoshka prefix: the first `indexed_dimensions` elements (made unit length again for
//     cosine), when the table says dims=K;
//   - int8 codes with one scale per vector (code = round(x / max|x| * 127)), whose distances
//     come from an exact integer dot product and two stored norms;
//   - one sign bit per element (binary), compared by Hamming distance.
// Traversal distances only need to rank like the user's distance: squared Euclidean for l2,
// 1 - dot of unit vectors for cosine, the negative dot product for ip (Hamming for binary).
// Whenever the traversal form is not the full vector, the search's candidates are re-ranked by
// exact_distance(). user_distance() turns an exact distance into what `distance` shows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vtab/hnsw/distance.h"

namespace strata::hnsw {

using NodeId = uint32_t;

// kHamming is for bit vectors (elements 0 and 1): the squared Euclidean distance, which counts
// the bits that differ.
enum class Metric { kL2, kCosine, kInnerProduct, kHamming };
enum class Quantization { kNone, kInt8, kBinary };

std::optional<Metric> metric_from_name(std::string_view name);  // "l2", "cosine", "ip", "hamming"
std::string_view metric_name(Metric metric);
std::optional<Quantization> quantization_from_name(std::string_view name);  // "none", "int8", "binary"
std::string_view quantization_name(Quantization quantization);

struct SpaceSettings {
  Metric metric = Metric::kL2;
  size_t dimensions = 0;          // of the full vectors
  size_t indexed_dimensions = 0;  // the prefix the graph walks over (0: all)
  Quantization quantization = Quantization::kNone;
};

// A query in every form the space compares with.
struct PreparedQuery {
  std::vector<float> full;     // unit length for cosine
  std::vector<float> indexed;  // the traversal prefix (unit length for cosine); empty: `full`
  std::vector<int8_t> codes;   // int8
  float scale = 0;             // int8: the value of code 1
  float code_norm = 0;         // int8: sum of (scale * code)^2
  std::vector<uint64_t> bits;  // binary
};

class VectorSpace {
 public:
  explicit VectorSpace(SpaceSettings settings);
  VectorSpace(Metric metric, size_t dimensions) : VectorSpace(SpaceSettings{metric, dimensions, 0, Quantization::kNone}) {}

  Metric metric() const { return settings_.metric; }
  size_t dimensions() const { return settings_.dimensions; }
  // Whether search results must be re-ranked with exact_distance().
  bool approximate() const { return settings_.quantization != Quantization::kNone || indexed_ != settings_.dimensions; }

  // Stores node's vector (`dimensions` floats).
  void set(NodeId node, const float* vector);
  PreparedQuery prepare(const float* vector) const;
  // The query form of a stored node (linking a new node searches with it).
  PreparedQuery query_for(NodeId node) const;

  // Traversal distances.
  float distance(const PreparedQuery& query, NodeId node) const;
  float distance(NodeId a, NodeId b) const;
  // Inline for the common case: the graph's inner loop calls this.
  float distance_fast(const PreparedQuery& query, NodeId node) const {
    if (walks_full_vectors_) {
      return float_offset_ + float_sign_ * float_kernel_(query.full.data(), full_.data() + static_cast<size_t>(node) * settings_.dimensions,
                                                         settings_.dimensions);
    }
    return distance(query, node);
  }
  // The full-precision distance over every dimension (same scale as traversal for `none`).
  float exact_distance(const PreparedQuery& query, NodeId node) const;
  double user_distance(float exact) const;

  // Start of a node's traversal data, for prefetching.
  const void* traversal_data(NodeId node) const;
  size_t memory_bytes() const;

 private:
  void grow(NodeId node);
  void fill_traversal(const std::vector<float>& full, std::vector<float>& indexed, std::vector<int8_t>& codes,
                      float& scale, float& code_norm, std::vector<uint64_t>& bits) const;
  float float_distance(const float* a, const float* b, size_t n) const;
  float int8_distance(const int8_t* a, float a_scale, float a_norm, const int8_t* b, float b_scale, float b_norm) const;

  SpaceSettings settings_;
  size_t indexed_;  // traversal dimensions
  // float_distance = offset + sign * kernel(a, b): the metric chosen once, not per distance.
  float (*float_kernel_)(const float*, const float*, size_t) = nullptr;
  float float_offset_ = 0;
  float float_sign_ = 1;
  bool walks_full_vectors_ = true;  // no quantization, no prefix: traversal is exact
  size_t words_;    // binary: 64-bit words per vector
  const DistanceKernels* kernels_ = &kernels();
  std::vector<float> full_;        // node-major, `dimensions` each
  std::vector<float> prefix_;      // node-major, `indexed_` each (only with a prefix and no quantization)
  std::vector<int8_t> codes_;      // node-major, `indexed_` each
  std::vector<float> scales_;      // per node
  std::vector<float> code_norms_;  // per node
  std::vector<uint64_t> bits_;     // node-major, `words_` each
};

}  // namespace strata::hnsw
