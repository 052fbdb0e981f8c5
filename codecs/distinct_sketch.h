// DistinctSketch: the state of an approximate count(DISTINCT x) that can be stored, merged and
// read back — what a rollup keeps per bucket and group (docs/format-rollup.md).
//
// Fed 64-bit hashes (XXH3 of a value's normalized bytes). While it has seen at most
// kSparseLimit distinct hashes it keeps them all and counts exactly (two different values with
// the same 64-bit hash are the only error); past that it becomes a HyperLogLog of 4,096
// one-byte registers (standard error 1.04 / sqrt(4096) = 1.6%), with linear counting for small
// estimates. Merging two sketches gives the sketch of the union. Hashes cannot be taken out:
// a rollup recomputes a bucket's sketch from the source rows after a deletion.
//
// Serialized form (version 1), little-endian:
//   byte 0  version (1)
//   byte 1  0 = sparse: then a varint count, then the sorted distinct hashes as varint deltas
//           1 = dense:  then 4,096 register bytes (each 0..53)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ext/status.h"

namespace strata {

class DistinctSketch {
 public:
  static constexpr size_t kSparseLimit = 512;
  static constexpr int kRegisterBits = 12;
  static constexpr size_t kRegisters = size_t{1} << kRegisterBits;

  void add_hash(uint64_t hash);
  void merge(const DistinctSketch& other);
  // The distinct count: exact while sparse, the HyperLogLog estimate (rounded) once dense.
  int64_t estimate() const;
  bool dense() const { return !registers_.empty(); }
  bool empty() const { return !dense() && hashes_.empty(); }

  std::string serialize() const;
  // A corrupt or unknown blob is an error naming what is wrong.
  static Result<DistinctSketch> parse(std::span<const std::byte> bytes);

 private:
  void normalize() const;  // sorts and dedups hashes_ when needed
  void densify();
  void add_to_registers(uint64_t hash);

  mutable std::vector<uint64_t> hashes_;  // sparse: distinct once normalized
  mutable size_t sorted_prefix_ = 0;      // hashes_[0, sorted_prefix_) are sorted and distinct
  std::vector<uint8_t> registers_;        // dense: kRegisters ranks
};

}  // namespace strata
