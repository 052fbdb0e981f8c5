// VectorSpace: the vectors an HnswGraph walks over, one per node, and how they are compared.
//
// Each node keeps its full vector (float32; unit length for cosine), which exact distances and
// re-ranking use. The graph itself walks over a traversal form, which may be smaller:
//   - a Matryoshka prefix: the first `indexed_dimensions` elements (made unit length again for
//     cosine), when the table says dims=K;
//   - int8 codes with one scale per vector (code = round(x / max|x| * 127)), whose distances
//     come from an exact integer dot product and two stored norms;
//   - one sign bit per element (binary), compared by Hamming distance.
//   - for ip without binary codes: each vector (or its prefix) with one more element,
//     sqrt(B^2 - |x|^2) for a bound B on every norm, and the query with a 0 there. Then the
//     squared Euclidean distance |q|^2 + B^2 - 2 q.x ranks exactly as -q.x does, and the graph
//     is built over a true metric, which inner product is not (Bachrach et al., 2014). B grows
//     by a quarter past the largest norm seen, which changes every node's extra element (and
//     its int8 codes, when quantized: those then code the extended vector).
// Traversal distances only need to rank like the user's distance: squared Euclidean for l2,
// 1 - dot of unit vectors for cosine, the negative dot product for ip, the sum of absolute
// differences for l1 (Hamming for binary).
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
// the bits that differ. kL1 (Manhattan) walks the float vectors only: no quantization.
enum class Metric { kL2, kCosine, kInnerProduct, kHamming, kL1 };
enum class Quantization { kNone, kInt8, kBinary };

std::optional<Metric> metric_from_name(std::string_view name);  // "l2", "cosine", "ip", "hamming", "l1"
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
  bool approximate() const { return !walks_full_vectors_; }
  // ip's norm bound B (0 when unused). Loading restores the stored one before the first set().
  float norm_bound() const { return norm_bound_; }
  void set_norm_bound(float bound);

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

 private:
  void grow(NodeId node);
  // The walk's forms of a full vector; `extra` is ip's extra element (0 for a query).
  void fill_traversal(const std::vector<float>& full, float extra, std::vector<float>& indexed, std::vector<int8_t>& codes,
                      float& scale, float& code_norm, std::vector<uint64_t>& bits) const;
  // int8 codes of code_width_ values with one scale (the value of code 1).
  void quantize(const float* values, int8_t* codes, float& scale, float& code_norm) const;
  float float_distance(const float* a, const float* b, size_t n) const;
  float walk_distance(const float* a, const float* b) const {
    return walk_offset_ + walk_sign_ * walk_kernel_(a, b, walk_width_);
  }
  float extra_element(NodeId node) const;
  float int8_distance(const int8_t* a, float a_scale, float a_norm, const int8_t* b, float b_scale, float b_norm) const;

  SpaceSettings settings_;
  size_t indexed_;  // traversal dimensions
  // float_distance = offset + sign * kernel(a, b): the metric chosen once, not per distance.
  float (*float_kernel_)(const float*, const float*, size_t) = nullptr;
  float float_offset_ = 0;
  float float_sign_ = 1;
  bool walks_full_vectors_ = true;  // no quantization, no prefix, no extra element: traversal is exact
  // The walk's own floats per node (a prefix, or the vector plus ip's extra element), when the
  // walk does not use the full vectors or codes: walk_width_ floats each, compared thus.
  size_t walk_width_ = 0;
  float (*walk_kernel_)(const float*, const float*, size_t) = nullptr;
  float walk_offset_ = 0;
  float walk_sign_ = 1;
  bool augmented_ = false;   // ip with the extra element
  float norm_bound_ = 0;     // B
  std::vector<float> squared_norms_;  // per node, for recomputing the extra element
  size_t words_;    // binary: 64-bit words per vector
  size_t code_width_;  // int8: codes per vector (the walk's dimensions, plus ip's extra element)
  const DistanceKernels* kernels_ = &kernels();
  std::vector<float> full_;        // node-major, `dimensions` each
  std::vector<float> walk_;        // node-major, walk_width_ each
  std::vector<int8_t> codes_;      // node-major, `indexed_` each
  std::vector<float> scales_;      // per node
  std::vector<float> code_norms_;  // per node
  std::vector<uint64_t> bits_;     // node-major, `words_` each
};

}  // namespace strata::hnsw
