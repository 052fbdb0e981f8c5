// VectorSpace: the vectors an HnswGraph walks over, one per node, and how they are compared.
//
// Traversal distances are chosen for speed and only need to rank like the user's distance:
// squared Euclidean for l2, 1 - dot of normalized vectors for cosine, the negative dot product
// for ip. user_distance() turns one into what `distance` shows (docs/hnsw.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vtab/hnsw/distance.h"

namespace strata::hnsw {

using NodeId = uint32_t;

enum class Metric { kL2, kCosine, kInnerProduct };

std::optional<Metric> metric_from_name(std::string_view name);  // "l2", "cosine", "ip"
std::string_view metric_name(Metric metric);

class VectorSpace {
 public:
  VectorSpace(Metric metric, size_t dimensions) : metric_(metric), dimensions_(dimensions) {}

  Metric metric() const { return metric_; }
  size_t dimensions() const { return dimensions_; }

  // Stores node's vector (`dimensions` floats), normalized for cosine.
  void set(NodeId node, const float* vector);
  // A query in the form distance() expects.
  std::vector<float> prepare(const float* vector) const;
  const float* data(NodeId node) const { return values_.data() + static_cast<size_t>(node) * dimensions_; }

  float distance(const float* prepared_query, NodeId node) const;
  float distance(NodeId a, NodeId b) const { return distance(data(a), b); }
  // The user-facing distance for a traversal distance.
  double user_distance(float traversal) const;
  // Heap bytes held.
  size_t memory_bytes() const { return values_.capacity() * sizeof(float); }

 private:
  Metric metric_;
  size_t dimensions_;
  const DistanceKernels* kernels_ = &kernels();
  std::vector<float> values_;  // node-major
};

}  // namespace strata::hnsw
