#include "codecs/distinct_sketch.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "codecs/distinct_estimate.h"

namespace strata {

namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kSparse = 0;
constexpr uint8_t kDense = 1;

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

bool get_varint(std::span<const std::byte> bytes, size_t& at, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at >= bytes.size()) return false;
    const auto byte = static_cast<uint8_t>(bytes[at++]);
    if (shift == 63 && byte > 1) return false;
    value |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

Status corrupt_sketch(std::string_view what) {
  return Status::corruption(std::string("distinct sketch: ") + std::string(what));
}

}  // namespace

void DistinctSketch::normalize() const {
  if (sorted_prefix_ == hashes_.size()) return;
  std::sort(hashes_.begin(), hashes_.end());
  hashes_.erase(std::unique(hashes_.begin(), hashes_.end()), hashes_.end());
  sorted_prefix_ = hashes_.size();
}

void DistinctSketch::add_to_registers(uint64_t hash) {
  const size_t index = hash >> (64 - kRegisterBits);
  registers_[index] = std::max(registers_[index], hyperloglog_rank(hash, kRegisterBits));
}

void DistinctSketch::densify() {
  registers_.assign(kRegisters, 0);
  for (uint64_t hash : hashes_) add_to_registers(hash);
  hashes_.clear();
  hashes_.shrink_to_fit();
  sorted_prefix_ = 0;
}

void DistinctSketch::add_hash(uint64_t hash) {
  if (dense()) {
    add_to_registers(hash);
    return;
  }
  hashes_.push_back(hash);
  // Sorting is deferred: duplicates pile up until the vector doubles past the limit.
  if (hashes_.size() > 2 * kSparseLimit) {
    normalize();
    if (hashes_.size() > kSparseLimit) densify();
  }
}

void DistinctSketch::merge(const DistinctSketch& other) {
  if (other.dense()) {
    if (!dense()) densify();
    for (size_t i = 0; i < kRegisters; ++i) registers_[i] = std::max(registers_[i], other.registers_[i]);
    return;
  }
  for (uint64_t hash : other.hashes_) add_hash(hash);
}

int64_t DistinctSketch::estimate() const {
  if (!dense()) {
    normalize();
    if (hashes_.size() <= kSparseLimit) return static_cast<int64_t>(hashes_.size());
    DistinctSketch copy = *this;
    copy.densify();
    return copy.estimate();
  }
  return std::llround(hyperloglog_estimate(registers_.data(), registers_.size()));
}

std::string DistinctSketch::serialize() const {
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  if (dense()) {
    out.push_back(static_cast<char>(kDense));
    out.append(reinterpret_cast<const char*>(registers_.data()), registers_.size());
    return out;
  }
  normalize();
  if (hashes_.size() > kSparseLimit) {
    DistinctSketch copy = *this;
    copy.densify();
    return copy.serialize();
  }
  out.push_back(static_cast<char>(kSparse));
  put_varint(out, hashes_.size());
  uint64_t previous = 0;
  for (uint64_t hash : hashes_) {
    put_varint(out, hash - previous);
    previous = hash;
  }
  return out;
}

Result<DistinctSketch> DistinctSketch::parse(std::span<const std::byte> bytes) {
  if (bytes.size() < 2) return corrupt_sketch("shorter than its header");
  if (static_cast<uint8_t>(bytes[0]) != kVersion) {
    return corrupt_sketch("unknown version " + std::to_string(static_cast<int>(bytes[0])) + " (this build reads 1)");
  }
  DistinctSketch sketch;
  const auto mode = static_cast<uint8_t>(bytes[1]);
  if (mode == kDense) {
    if (bytes.size() != 2 + kRegisters) return corrupt_sketch("dense sketch of the wrong size");
    sketch.registers_.resize(kRegisters);
    for (size_t i = 0; i < kRegisters; ++i) {
      const auto rank = static_cast<uint8_t>(bytes[2 + i]);
      if (rank > 64 - kRegisterBits + 1) return corrupt_sketch("register out of range");
      sketch.registers_[i] = rank;
    }
    return sketch;
  }
  if (mode != kSparse) return corrupt_sketch("unknown mode");
  size_t at = 2;
  uint64_t count = 0;
  if (!get_varint(bytes, at, count) || count > kSparseLimit) return corrupt_sketch("bad hash count");
  uint64_t previous = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t delta = 0;
    if (!get_varint(bytes, at, delta)) return corrupt_sketch("truncated hash list");
    if (i > 0 && delta == 0) return corrupt_sketch("hashes not strictly ascending");
    if (delta > UINT64_MAX - previous) return corrupt_sketch("hash out of range");
    previous += delta;
    sketch.hashes_.push_back(previous);
  }
  if (at != bytes.size()) return corrupt_sketch("bytes after the hash list");
  sketch.sorted_prefix_ = sketch.hashes_.size();
  return sketch;
}

}  // namespace strata
