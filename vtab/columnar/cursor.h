// ColumnarCursor: a scan of a columnar table, in rowid order unless grouped.
//
// The rows come from the stored chunks (minus deleted rows) and from the rows buffered by the
// current transaction. Chunks usually cover disjoint rowid ranges, but an UPDATE moves a row
// to a newer chunk, so the cursor merges its sources by rowid: chunks are loaded in order of
// their smallest rowid, only when they may hold the next row, and only the columns the query
// uses (colUsed) are decoded. On top of that, per plan: rowid bounds and key-index lookups
// narrow the chunks read, zone maps and bloom filters rule chunks out, pushed filters narrow
// the rows (filter.h), LIMIT/OFFSET are applied, or the rows are delivered grouped by a column.
#pragma once

#include <memory>
#include <vector>

#include "vtab/columnar/filter.h"
#include "vtab/columnar/key_sorted_rows.h"
#include "vtab/columnar/scan_plan.h"
#include "vtab/columnar/table.h"

namespace strata::columnar {

class ColumnarCursor {
 public:
  sqlite3_vtab_cursor base{};  // must stay the first member

  explicit ColumnarCursor(ColumnarTable* table) : table_(table) { table_->cursor_opened(); }
  ~ColumnarCursor() { table_->cursor_closed(); }
  static ColumnarCursor* from(sqlite3_vtab_cursor* cursor) {
    return reinterpret_cast<ColumnarCursor*>(cursor);
  }

  // idx_str: colUsed of the plan, then the pushed column filters (filter.h).
  // xFilter with the plan scan_plan.h wrote.
  Status filter(int idx_num, const char* idx_str, int argc, sqlite3_value** argv);
  Status next();
  // next() for the common case, cheap enough for the per-row xNext: true when it moved to the
  // current chunk's next row; false when next() must run.
  bool next_in_chunk() {
    if (current_chunk_ == nullptr || current_chunk_->position + 1 >= sequential_end_) return false;
    ++current_chunk_->position;  // the rowid is looked up only if asked for (count(*) never does)
    return true;
  }
  bool eof() const { return eof_; }
  Status column(sqlite3_context* context, int column);
  // The current rowid. Grouped delivery visits rows out of order and most queries never ask for
  // their rowids, so the (cache-missing) lookup, and reading the chunk, wait until one does.
  Result<int64_t> rowid_value();

 private:
  // The current rowid once its chunk's rows are at hand (rowid_value() sees to that).
  int64_t rowid() const {
    if (grouped_ && current_buffered_ < 0 && grouped_chunk_rows_ != nullptr) {  // either grouped delivery
      return (*grouped_chunk_rows_->all_rowids)[grouped_position_];
    }
    if (current_chunk_ != nullptr) return current_chunk_->rows.rowid(current_chunk_->position);
    return current_rowid_;
  }

  struct LoadedChunk {
    ChunkRows rows;
    size_t position = 0;
    size_t end = 0;
    size_t chunk_index = 0;  // in chunks_
  };
  LoadedChunk* current_chunk_ = nullptr;  // null: the current row is a buffered one
  size_t sequential_end_ = 0;  // see advance(): rows of current_chunk_ before it need no merge

  Status load_chunks_up_to(int64_t rowid_bound);
  Status advance();
  bool buffered_row_matches(uint32_t position) const;
  // The buffered row at index i of the snapshot's rowid order.
  uint32_t buffered_at(size_t i) const { return pending_order_ ? (*pending_order_)[i] : static_cast<uint32_t>(i); }
  int64_t buffered_rowid_at(size_t i) const { return pending_.inserts->rowid(buffered_at(i)); }
  Status group_rows(int column, bool descending);
  Status position_on_group_entry();
  // How many rows a scan may yield at most (the chunks still to load and the buffered rows).
  size_t candidate_rows() const;
  Status sort_rows_by(int column, bool descending);
  Status position_on_sorted_entry();
  // Makes the row a grouped reference names current (both grouped deliveries).
  void position_on_reference(uint64_t reference);
  // The decoded rows of chunk `chunk` (an index into chunks_), read once while groups are emitted.
  Result<const ChunkRows*> grouped_chunk(size_t chunk);
  Status look_up_key_rowids(int key_index, const ColumnFilter& filter);
  // Every looked-up rowid outside the chunks' ranges is a buffered row; otherwise the key index
  // is damaged (SQLITE_CORRUPT_VTAB) and the row it names would silently be missing.
  Status check_key_rowids_exist();
  // The rowids a scan can want of a cold chunk when they are few (a rowid or key lookup): read
  // as a point read (ColumnarTable::read_chunk_points). nullopt: read the chunk whole.
  std::optional<std::vector<int64_t>> point_rowids(const ChunkInfo& info) const;
  bool point_reads_ = true;  // false while grouped or sorted delivery notes rows by chunk position
  void skip_filtered_pending();

  ColumnarTable* table_;
  uint64_t column_mask_ = ~uint64_t{0};
  // Columns from 63 on (one colUsed bit for all) decoded with their chunk: those the pushed
  // filters and the grouping read. Any other is decoded when xColumn first asks for it.
  std::vector<int> eager_columns_;
  // The current chunk row's column `column`, decoding it first if it is not yet.
  Result<const ColumnVector*> loaded_column(ChunkRows& rows, size_t chunk_index, int column);
  std::vector<ColumnFilter> filters_;
  // With a key-index lookup: the only rowids that can match, ascending.
  std::optional<std::vector<int64_t>> key_rowids_;
  int key_filter_ = -1;  // the filter key_rowids_ were looked up by

  // Grouped delivery: a row's reference is (chunk index << 32 | row in the chunk's decoded
  // vectors), or (kBufferedRow << 32 | position in the write buffer). The matching rows are
  // numbered in scan order (ordinals) and kept as runs of consecutive references; the ordinals
  // are listed in emission order.
  static constexpr uint64_t kBufferedRow = 0xffffffff;
  struct GroupedRun {
    uint64_t first_reference;  // rows first_reference, first_reference + 1, … until the next run
    uint32_t first_ordinal;
  };
  bool grouped_ = false;
  std::vector<GroupedRun> grouped_runs_;        // by first_ordinal
  ScratchVector<uint32_t> grouped_ordinals_;    // in emission order, group after group
  size_t grouped_next_ = 0;                     // in grouped_ordinals_
  size_t grouped_run_ = 0;                      // the run of the current row
  // Each chunk's rows, read once and kept while the groups are emitted: a group's rows are
  // spread over many chunks, and emission visits them group by group.
  std::vector<std::unique_ptr<ChunkRows>> grouped_chunks_;
  // The current row: its chunk (an index into chunks_), that chunk's rows once read (null until
  // a value or the rowid is asked for), and its position in them.
  size_t grouped_chunk_index_ = 0;
  const ChunkRows* grouped_chunk_rows_ = nullptr;
  size_t grouped_position_ = 0;
  // Sorted delivery: the rows, which slot holds each column's value (-1: read it through the
  // row's reference), and the decoded key columns whose text the sorted rows point into.
  std::unique_ptr<KeySortedRows> sorted_rows_;
  std::vector<int> sorted_slot_of_column_;
  std::vector<std::shared_ptr<const ColumnVector>> sorted_kept_alive_;

  int64_t low_ = INT64_MIN;
  int64_t high_ = INT64_MAX;
  bool empty_range_ = false;

  std::vector<ChunkInfo> chunks_;  // still to load, by min_rowid
  size_t next_chunk_ = 0;
  std::vector<std::unique_ptr<LoadedChunk>> active_;
  PendingSnapshot pending_;
  // The buffered rows in rowid order: pending_order_ maps an index to a buffer position (null
  // when positions are in rowid order already); [pending_index_, pending_end_) is still to come.
  std::shared_ptr<const std::vector<uint32_t>> pending_order_;
  size_t pending_index_ = 0;
  size_t pending_end_ = 0;

  bool eof_ = true;
  int64_t current_rowid_ = 0;  // of a buffered row; a chunk row's comes from its chunk (rowid())
  int64_t current_buffered_ = -1;  // the current row's position in the write buffer, or -1
};

}  // namespace strata::columnar
