#include "vtab/hnsw/space.h"

#include <cmath>
#include <algorithm>
#include <cstring>

#include "vtab/hnsw/distance.h"

namespace strata::hnsw {

std::optional<Metric> metric_from_name(std::string_view name) {
  if (name == "l2") return Metric::kL2;
  if (name == "cosine") return Metric::kCosine;
  if (name == "ip") return Metric::kInnerProduct;
  return std::nullopt;
}

std::string_view metric_name(Metric metric) {
  switch (metric) {
    case Metric::kL2: return "l2";
    case Metric::kCosine: return "cosine";
    case Metric::kInnerProduct: return "ip";
  }
  return "l2";
}

std::vector<float> VectorSpace::prepare(const float* vector) const {
  std::vector<float> prepared(vector, vector + dimensions_);
  if (metric_ == Metric::kCosine) {
    double squares = 0;
    for (float x : prepared) squares += static_cast<double>(x) * x;
    if (squares > 0) {
      auto scale = static_cast<float>(1.0 / std::sqrt(squares));
      for (float& x : prepared) x *= scale;
    }
  }
  return prepared;
}

void VectorSpace::set(NodeId node, const float* vector) {
  size_t needed = (static_cast<size_t>(node) + 1) * dimensions_;
  if (values_.size() < needed) {
    if (values_.capacity() < needed) values_.reserve(std::max(needed, values_.capacity() * 2));
    values_.resize(needed, 0.0f);
  }
  std::vector<float> prepared = prepare(vector);
  std::memcpy(values_.data() + static_cast<size_t>(node) * dimensions_, prepared.data(), dimensions_ * sizeof(float));
}

float VectorSpace::distance(const float* prepared_query, NodeId node) const {
  const DistanceKernels& k = *kernels_;
  const float* other = data(node);
  switch (metric_) {
    case Metric::kL2: return k.l2_squared(prepared_query, other, dimensions_);
    case Metric::kCosine: return 1.0f - k.dot(prepared_query, other, dimensions_);
    case Metric::kInnerProduct: return -k.dot(prepared_query, other, dimensions_);
  }
  return 0;
}

double VectorSpace::user_distance(float traversal) const {
  if (metric_ == Metric::kL2) return std::sqrt(std::max(0.0, static_cast<double>(traversal)));
  return traversal;
}

}  // namespace strata::hnsw
