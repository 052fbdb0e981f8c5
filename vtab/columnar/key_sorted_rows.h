// KeySortedRows: the matching rows of a scan, sorted by one column's value (SQLite's order under
// the column's collation), for GROUP BY and DISTINCT on a column with many distinct values,
// where SQLite would otherwise run its sorter.
//
// The scan stages each row with its key and a copy of the numbers of the other columns the query
// uses (text, blobs and dictionary codes are read later through the row's reference), sampling
// every 64th key. Then the sample gives 255 splitters, every row moves into the range partition
// its key falls in, and each partition — small enough for the CPU cache — is sorted on its own.
// Emission reads partitions one after the other, so it walks memory in order instead of jumping
// about the decoded chunks the way following row references in key order would.
// Memory: 8 bytes per row plus 9 per value kept (the key's included), 16 more with text keys;
// twice that at the peak of partitioning.
//
// (SQLite 3.40 tells a virtual table that a GROUP BY needs only adjacent groups even when an
// identical ORDER BY relies on the order: so the rows come fully sorted, never merely grouped.)
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codecs/column_vector.h"
#include "ext/large_array_allocator.h"
#include "codecs/value_compare.h"

namespace strata::columnar {

class KeySortedRows {
 public:
  // `slots`: how many values each row brings (the key first).
  KeySortedRows(Collation collation, size_t slots);

  // Room for `rows` rows (an upper bound is fine: untouched room costs no memory), so that
  // staging never copies what it has staged to grow.
  void reserve(size_t rows);
  // Adds a row. values[0] is the key. A text or blob key must stay valid until this object is
  // gone (the caller keeps its chunk alive), unless `copy_key_bytes`. Values other than the key
  // are kept only when they are numbers or NULL; others read back as "by reference".
  void add(uint64_t reference, std::span<const ValueView> values, bool copy_key_bytes);
  // Partitions and sorts; call once, after the last add(). `descending`: emission runs from the
  // largest key down.
  void finish(bool descending = false);

  bool at_end() const { return position_ >= rows_.references.size(); }
  void next() { ++position_; }
  uint64_t reference() const { return rows_.references[row_at_position()]; }
  // The current row's value in `slot`, or nullopt when it was not kept (read it by reference).
  std::optional<ValueView> value(size_t slot) const;
  size_t rows() const { return rows_.references.size(); }

  // Bytes per row, for planning.
  static size_t row_bytes(size_t slots, bool text_key) { return 2 * (8 + 9 * slots + (text_key ? 16 : 0)); }

 private:
  static constexpr size_t kPartitions = 256;
  static constexpr size_t kSampleEvery = 64;
  static constexpr uint8_t kByReference = 0;  // a type byte: the value was not kept

  // Rows as struct-of-arrays: `slots_` payloads and types per row. Millions of rows take
  // hundreds of megabytes, so the arrays live in huge pages (a 4 KiB page fault per 4 KiB
  // written, under virtualisation, cost more than the sort) and are never zero-filled.
  struct Rows {
    ScratchVector<uint64_t> references;
    ScratchVector<int64_t> payloads;  // the integer, or the double's bits
    ScratchVector<uint8_t> types;     // ValueType, or kByReference
    ScratchVector<std::string_view> key_bytes;  // text/blob keys; empty while all keys are numbers
  };
  ValueView key_of(const Rows& rows, size_t row) const;
  size_t row_at_position() const { return descending_ ? rows_.references.size() - 1 - position_ : position_; }
  // The rows of [begin, end) in key order (ties in row order): their indexes.
  std::vector<uint32_t> sorted_order(size_t begin, size_t end) const;

  Collation collation_;
  size_t slots_;
  bool integer_keys_ = true;  // every key so far is an integer
  Rows rows_;  // staged in scan order; after finish(), in key order
  std::vector<std::pair<size_t, ValueView>> sample_;  // (row, key)
  std::deque<std::string> copied_keys_;
  size_t position_ = 0;  // emitted rows so far
  bool descending_ = false;
};

}  // namespace strata::columnar
