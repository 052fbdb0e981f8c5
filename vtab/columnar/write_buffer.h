// WriteBuffer: the rows a transaction has inserted into a columnar table and not yet written
// to chunks, kept column by column.
//
// Rows are appended to one ColumnVector per column, the layout a chunk is encoded from, so a
// flush of rows that arrived in rowid order hands the vectors to the encoder as they are
// (no per-row object, no copy). A deleted buffered row is only marked dead; the dead rows are
// left out when the buffer is flushed.
//
// Scans read the buffer while the same statement may still write to it (INSERT … SELECT from
// the same table, UPDATE, DELETE). A scan takes a Snapshot when it starts and sees exactly the
// rows live at that moment: rows appended later lie beyond the snapshot's size, rows deleted
// later carry a later generation. Appends never move what a position denotes, so positions stay
// valid; flushing replaces the table's buffer with a new one instead of emptying this one while
// a scan holds it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "codecs/column_vector.h"

namespace strata::columnar {

using Row = std::vector<Value>;  // one value per column; the rowid alias column holds NULL

class WriteBuffer {
 public:
  explicit WriteBuffer(size_t column_count) : columns_(column_count) {}

  struct Snapshot {
    size_t size = 0;          // positions below this existed
    uint32_t generation = 0;  // deletions up to this generation had happened
  };

  // Makes room for this many rows (a bulk INSERT's next chunk).
  void reserve(size_t rows);
  // Appends a row. `rowid` must not be live in the buffer (the caller erases the old row first).
  void append(int64_t rowid, const Row& values);
  // The position of the live row with this rowid.
  std::optional<uint32_t> find(int64_t rowid) const;
  // Marks a live row dead.
  void erase(uint32_t position);

  size_t live_rows() const { return live_rows_; }
  size_t appended_rows() const { return rowids_.size(); }
  // Approximate heap bytes of the buffered values (for the flush threshold).
  size_t bytes() const { return bytes_; }
  std::optional<int64_t> max_live_rowid() const;

  Snapshot snapshot() const { return {rowids_.size(), generation_}; }
  bool visible(uint32_t position, const Snapshot& snapshot) const {
    return position < snapshot.size && dead_since_[position] > snapshot.generation;
  }
  int64_t rowid(uint32_t position) const { return rowids_[position]; }
  ValueView value(int column, uint32_t position) const { return columns_[column].get(position); }

  // Whether every appended row came with a larger rowid than the one before (so positions are
  // in rowid order and rowids are distinct).
  bool ascending() const { return ascending_; }
  // Every position (dead ones too) in rowid order, ties by position; immutable once handed out.
  std::shared_ptr<const std::vector<uint32_t>> rowid_order() const;
  // The live positions in rowid order.
  std::vector<uint32_t> live_positions_in_rowid_order() const;

  const std::vector<int64_t>& rowids() const { return rowids_; }
  const std::vector<ColumnVector>& columns() const { return columns_; }

 private:
  static constexpr uint32_t kLive = UINT32_MAX;
  void index_all();

  std::vector<int64_t> rowids_;
  std::vector<ColumnVector> columns_;
  std::vector<uint32_t> dead_since_;  // per position: the generation that deleted it, or kLive
  uint32_t generation_ = 0;
  size_t live_rows_ = 0;
  size_t bytes_ = 0;
  bool ascending_ = true;
  // Once rowids arrive out of order (or a rowid is reused): live rowid -> position.
  std::unordered_map<int64_t, uint32_t> index_;
  mutable std::shared_ptr<const std::vector<uint32_t>> rowid_order_;
};

}  // namespace strata::columnar
