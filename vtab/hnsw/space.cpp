#include "vtab/hnsw/space.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "vtab/hnsw/vector.h"

namespace strata::hnsw {

std::optional<Metric> metric_from_name(std::string_view name) {
  if (name == "l2") return Metric::kL2;
  if (name == "cosine") return Metric::kCosine;
  if (name == "ip") return Metric::kInnerProduct;
  if (name == "hamming") return Metric::kHamming;
  if (name == "l1") return Metric::kL1;
  return std::nullopt;
}

std::string_view metric_name(Metric metric) {
  switch (metric) {
    case Metric::kL2: return "l2";
    case Metric::kCosine: return "cosine";
    case Metric::kInnerProduct: return "ip";
    case Metric::kHamming: return "hamming";
    case Metric::kL1: return "l1";
  }
  return "l2";
}

std::optional<Quantization> quantization_from_name(std::string_view name) {
  if (name == "none") return Quantization::kNone;
  if (name == "int8") return Quantization::kInt8;
  if (name == "binary") return Quantization::kBinary;
  return std::nullopt;
}

std::string_view quantization_name(Quantization quantization) {
  switch (quantization) {
    case Quantization::kNone: return "none";
    case Quantization::kInt8: return "int8";
    case Quantization::kBinary: return "binary";
  }
  return "none";
}

namespace {


}  // namespace

VectorSpace::VectorSpace(SpaceSettings settings) : settings_(settings) {
  indexed_ = settings.indexed_dimensions == 0 ? settings.dimensions : std::min(settings.indexed_dimensions, settings.dimensions);
  words_ = (indexed_ + 63) / 64;
  // Binary codes keep only signs, and the extra element is never negative: no use there.
  augmented_ = settings.metric == Metric::kInnerProduct && settings.quantization != Quantization::kBinary;
  code_width_ = augmented_ ? indexed_ + 1 : indexed_;
  walks_full_vectors_ = settings.quantization == Quantization::kNone && indexed_ == settings.dimensions && !augmented_;
  switch (settings.metric) {
    case Metric::kL2:
    case Metric::kHamming: float_kernel_ = kernels_->l2_squared; break;
    case Metric::kCosine:
      float_kernel_ = kernels_->dot;
      float_offset_ = 1;
      float_sign_ = -1;
      break;
    case Metric::kInnerProduct:
      float_kernel_ = kernels_->dot;
      float_sign_ = -1;
      break;
    case Metric::kL1: float_kernel_ = kernels_->l1; break;
  }
  walk_kernel_ = float_kernel_;
  walk_offset_ = float_offset_;
  walk_sign_ = float_sign_;
  if (augmented_ && settings.quantization == Quantization::kNone) {
    walk_width_ = indexed_ + 1;
    walk_kernel_ = kernels_->l2_squared;
    walk_offset_ = 0;
    walk_sign_ = 1;
  } else if (settings.quantization == Quantization::kNone && indexed_ != settings.dimensions) {
    walk_width_ = indexed_;
  }
}

float VectorSpace::extra_element(NodeId node) const {
  return std::sqrt(std::max(0.0f, norm_bound_ * norm_bound_ - squared_norms_[node]));
}

void VectorSpace::set_norm_bound(float bound) {
  if (!augmented_ || bound == norm_bound_) return;
  norm_bound_ = bound;
  size_t nodes = squared_norms_.size();
  std::vector<float> walk(code_width_);
  for (size_t node = 0; node < nodes; ++node) {
    float extra = extra_element(static_cast<NodeId>(node));
    if (walk_width_ > 0) walk_[node * walk_width_ + indexed_] = extra;
    if (settings_.quantization == Quantization::kInt8) {
      std::memcpy(walk.data(), full_.data() + node * settings_.dimensions, indexed_ * sizeof(float));
      walk.back() = extra;
      quantize(walk.data(), codes_.data() + node * code_width_, scales_[node], code_norms_[node]);
    }
  }
}

void VectorSpace::quantize(const float* values, int8_t* codes, float& scale, float& code_norm) const {
  float largest = 0;
  for (size_t i = 0; i < code_width_; ++i) largest = std::max(largest, std::fabs(values[i]));
  scale = largest / 127.0f;
  code_norm = 0;
  for (size_t i = 0; i < code_width_; ++i) {
    long code = scale > 0 ? std::lround(values[i] / scale) : 0;
    codes[i] = static_cast<int8_t>(std::clamp(code, -127L, 127L));
    float value = scale * codes[i];
    code_norm += value * value;
  }
}

void VectorSpace::fill_traversal(const std::vector<float>& full, float extra, std::vector<float>& indexed,
                                 std::vector<int8_t>& codes, float& scale, float& code_norm, std::vector<uint64_t>& bits) const {
  const float* traversal = full.data();
  if (augmented_) {
    indexed.assign(full.begin(), full.begin() + static_cast<long>(indexed_));
    indexed.push_back(extra);
    if (settings_.quantization == Quantization::kInt8) {
      codes.assign(code_width_, 0);
      quantize(indexed.data(), codes.data(), scale, code_norm);
      indexed.clear();  // the walk uses the codes
    }
    return;
  }
  if (indexed_ != settings_.dimensions) {
    indexed.assign(full.begin(), full.begin() + static_cast<long>(indexed_));
    if (settings_.metric == Metric::kCosine) normalize(indexed.data(), indexed_);
    traversal = indexed.data();
  }
  switch (settings_.quantization) {
    case Quantization::kNone: break;
    case Quantization::kInt8:
      codes.assign(code_width_, 0);
      quantize(traversal, codes.data(), scale, code_norm);
      break;
    case Quantization::kBinary:
      bits.assign(words_, 0);
      for (size_t i = 0; i < indexed_; ++i) {
        if (traversal[i] > 0) bits[i / 64] |= uint64_t{1} << (i % 64);
      }
      break;
  }
}

PreparedQuery VectorSpace::prepare(const float* vector) const {
  PreparedQuery query;
  query.full.assign(vector, vector + settings_.dimensions);
  if (settings_.metric == Metric::kCosine) normalize(query.full.data(), settings_.dimensions);
  // A query's extra element is 0 (space.h); set() gives a node its own.
  fill_traversal(query.full, 0.0f, query.indexed, query.codes, query.scale, query.code_norm, query.bits);
  return query;
}

void VectorSpace::grow(NodeId node) {
  auto reserve_for = [](auto& values, size_t needed) {
    if (values.size() >= needed) return;
    if (values.capacity() < needed) values.reserve(std::max(needed, values.capacity() * 2));
    values.resize(needed);
  };
  size_t count = static_cast<size_t>(node) + 1;
  reserve_for(full_, count * settings_.dimensions);
  if (walk_width_ > 0) reserve_for(walk_, count * walk_width_);
  if (augmented_) reserve_for(squared_norms_, count);
  if (settings_.quantization == Quantization::kInt8) {
    reserve_for(codes_, count * code_width_);
    reserve_for(scales_, count);
    reserve_for(code_norms_, count);
  }
  if (settings_.quantization == Quantization::kBinary) reserve_for(bits_, count * words_);
}

void VectorSpace::set(NodeId node, const float* vector) {
  grow(node);
  PreparedQuery prepared;
  prepared.full.assign(vector, vector + settings_.dimensions);
  if (settings_.metric == Metric::kCosine) normalize(prepared.full.data(), settings_.dimensions);
  std::memcpy(full_.data() + static_cast<size_t>(node) * settings_.dimensions, prepared.full.data(),
              settings_.dimensions * sizeof(float));
  float extra = 0;
  if (augmented_) {
    double squares = 0;  // of what the walk sees: the prefix
    for (size_t i = 0; i < indexed_; ++i) squares += static_cast<double>(prepared.full[i]) * prepared.full[i];
    squared_norms_[node] = static_cast<float>(squares);
    float norm = std::sqrt(squared_norms_[node]);
    if (norm > norm_bound_) set_norm_bound(norm * 1.25f);  // every node's extra element changes
    extra = extra_element(node);
  }
  fill_traversal(prepared.full, extra, prepared.indexed, prepared.codes, prepared.scale, prepared.code_norm, prepared.bits);
  if (walk_width_ > 0) {
    std::memcpy(walk_.data() + static_cast<size_t>(node) * walk_width_, prepared.indexed.data(), walk_width_ * sizeof(float));
  }
  if (settings_.quantization == Quantization::kInt8) {
    std::memcpy(codes_.data() + static_cast<size_t>(node) * code_width_, prepared.codes.data(), code_width_);
    scales_[node] = prepared.scale;
    code_norms_[node] = prepared.code_norm;
  }
  if (settings_.quantization == Quantization::kBinary) {
    std::memcpy(bits_.data() + static_cast<size_t>(node) * words_, prepared.bits.data(), words_ * sizeof(uint64_t));
  }
}

PreparedQuery VectorSpace::query_for(NodeId node) const {
  PreparedQuery query;
  const float* full = full_.data() + static_cast<size_t>(node) * settings_.dimensions;
  query.full.assign(full, full + settings_.dimensions);
  if (walk_width_ > 0) {
    const float* walk = walk_.data() + static_cast<size_t>(node) * walk_width_;
    query.indexed.assign(walk, walk + walk_width_);
  }
  if (settings_.quantization == Quantization::kInt8) {
    const int8_t* codes = codes_.data() + static_cast<size_t>(node) * code_width_;
    query.codes.assign(codes, codes + code_width_);
    query.scale = scales_[node];
    query.code_norm = code_norms_[node];
  }
  if (settings_.quantization == Quantization::kBinary) {
    const uint64_t* bits = bits_.data() + static_cast<size_t>(node) * words_;
    query.bits.assign(bits, bits + words_);
  }
  return query;
}

float VectorSpace::float_distance(const float* a, const float* b, size_t n) const {
  return float_offset_ + float_sign_ * float_kernel_(a, b, n);
}

float VectorSpace::int8_distance(const int8_t* a, float a_scale, float a_norm, const int8_t* b, float b_scale,
                                 float b_norm) const {
  float dot = static_cast<float>(kernels_->dot_int8(a, b, code_width_)) * a_scale * b_scale;
  if (augmented_) return a_norm + b_norm - 2 * dot;  // Euclidean over the extra element too
  switch (settings_.metric) {
    case Metric::kL2:
    case Metric::kHamming: return a_norm + b_norm - 2 * dot;
    case Metric::kCosine: return 1.0f - dot;
    case Metric::kInnerProduct: return -dot;
    case Metric::kL1: break;  // never quantized (the table refuses it)
  }
  return 0;
}

float VectorSpace::distance(const PreparedQuery& query, NodeId node) const {
  switch (settings_.quantization) {
    case Quantization::kInt8:
      return int8_distance(query.codes.data(), query.scale, query.code_norm, codes_.data() + static_cast<size_t>(node) * code_width_,
                           scales_[node], code_norms_[node]);
    case Quantization::kBinary:
      return static_cast<float>(kernels_->hamming(query.bits.data(), bits_.data() + static_cast<size_t>(node) * words_, words_));
    case Quantization::kNone: break;
  }
  if (walk_width_ > 0) return walk_distance(query.indexed.data(), walk_.data() + static_cast<size_t>(node) * walk_width_);
  return exact_distance(query, node);
}

float VectorSpace::distance(NodeId a, NodeId b) const {
  switch (settings_.quantization) {
    case Quantization::kInt8:
      return int8_distance(codes_.data() + static_cast<size_t>(a) * code_width_, scales_[a], code_norms_[a],
                           codes_.data() + static_cast<size_t>(b) * code_width_, scales_[b], code_norms_[b]);
    case Quantization::kBinary:
      return static_cast<float>(kernels_->hamming(bits_.data() + static_cast<size_t>(a) * words_,
                                                  bits_.data() + static_cast<size_t>(b) * words_, words_));
    case Quantization::kNone: break;
  }
  if (walk_width_ > 0) {
    return walk_distance(walk_.data() + static_cast<size_t>(a) * walk_width_, walk_.data() + static_cast<size_t>(b) * walk_width_);
  }
  return float_distance(full_.data() + static_cast<size_t>(a) * settings_.dimensions,
                        full_.data() + static_cast<size_t>(b) * settings_.dimensions, settings_.dimensions);
}

float VectorSpace::exact_distance(const PreparedQuery& query, NodeId node) const {
  return float_distance(query.full.data(), full_.data() + static_cast<size_t>(node) * settings_.dimensions, settings_.dimensions);
}

double VectorSpace::user_distance(float exact) const {
  // float32 throughout, as sqlite-vec's distances (its vec0 returns the root of a float sum as a
  // float, and the same query should show the same distance in both).
  if (settings_.metric == Metric::kL2) return std::sqrt(std::max(0.0f, exact));
  return exact;
}

const void* VectorSpace::traversal_data(NodeId node) const {
  switch (settings_.quantization) {
    case Quantization::kInt8: return codes_.data() + static_cast<size_t>(node) * code_width_;
    case Quantization::kBinary: return bits_.data() + static_cast<size_t>(node) * words_;
    case Quantization::kNone: break;
  }
  if (walk_width_ > 0) return walk_.data() + static_cast<size_t>(node) * walk_width_;
  return full_.data() + static_cast<size_t>(node) * settings_.dimensions;
}

}  // namespace strata::hnsw
