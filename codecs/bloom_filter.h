// The Parquet split-block bloom filter (parquet-format BloomFilter.md), bit for bit: blocks of
// 256 bits (eight 32-bit little-endian words), the block chosen by the upper half of a 64-bit
// hash, one bit set per word by the lower half times that word's salt. The hash is XXH64 with
// seed 0 over the value's PLAIN encoding: 8 little-endian bytes for an integer (INT64) or a real
// (DOUBLE), the bytes themselves for text and blobs (BYTE_ARRAY, no length). NULLs are never
// inserted. The bitset alone is stored; the same bytes go into Parquet files unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "codecs/column_vector.h"
#include "ext/status.h"

namespace strata {

class BloomFilter {
 public:
  static constexpr size_t kBlockBytes = 32;
  static constexpr size_t kMinBytes = 32;
  static constexpr size_t kMaxBytes = size_t{128} << 20;

  // A filter of `bytes` bytes (a power of two from 32, as Parquet writers choose).
  explicit BloomFilter(size_t bytes);
  // The size Parquet's formula gives for `distinct` values at false-positive rate `fpp`,
  // rounded up to a power of two.
  static size_t optimal_bytes(uint64_t distinct, double fpp);
  // Wraps stored bytes; an error when they cannot be a filter.
  static Result<BloomFilter> from_bytes(std::string_view bytes);

  static uint64_t hash(const ValueView& value);  // XXH64 of the PLAIN encoding; value not NULL
  static uint64_t hash_bytes(std::string_view bytes);

  void insert_hash(uint64_t hash);
  bool may_contain_hash(uint64_t hash) const;
  void insert(const ValueView& value) { insert_hash(hash(value)); }
  bool may_contain(const ValueView& value) const { return may_contain_hash(hash(value)); }

  // Bitwise OR with a filter of the same size.
  Status merge(const BloomFilter& other);

  const std::string& bytes() const { return bits_; }
  size_t blocks() const { return bits_.size() / kBlockBytes; }
  uint64_t bits_set() const;

 private:
  BloomFilter() = default;
  std::string bits_;
};

}  // namespace strata
