#include "vtab/columnar/cursor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <unordered_map>

#include "ext/str_cat.h"
#include "ext/module_arguments.h"

#include "vtab/columnar/values.h"

namespace strata::columnar {

namespace {

// Group keys compare as SQLite compares them; lookups by view avoid copying each row's value.
struct GroupKeyLess {
  Collation collation;
  using is_transparent = void;
  static ValueView view(const Value& value) { return value.view(); }
  static ValueView view(const ValueView& value) { return value; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const { return compare_values(view(a), view(b), collation) < 0; }
};

// The tightest integer bounds implied by `rowid >= value` (or > when strict); nullopt when no
// integer rowid can satisfy it. Bounds may be loose: SQLite re-checks every returned row.
std::optional<int64_t> lower_bound_for(sqlite3_value* value, bool strict, bool& unsatisfiable) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_NULL: unsatisfiable = true; return std::nullopt;
    case SQLITE_INTEGER: {
      int64_t v = sqlite3_value_int64(value);
      if (!strict) return v;
      if (v == INT64_MAX) unsatisfiable = true;
      return v == INT64_MAX ? v : v + 1;
    }
    case SQLITE_FLOAT: {
      double v = sqlite3_value_double(value);
      if (std::isnan(v) || v < -9.2e18) return std::nullopt;
      if (v > 9.2e18) { unsatisfiable = true; return std::nullopt; }
      return static_cast<int64_t>(std::floor(v));
    }
    default: return std::nullopt;  // text and blobs: leave it to SQLite
  }
}

std::optional<int64_t> upper_bound_for(sqlite3_value* value, bool strict, bool& unsatisfiable) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_NULL: unsatisfiable = true; return std::nullopt;
    case SQLITE_INTEGER: {
      int64_t v = sqlite3_value_int64(value);
      if (!strict) return v;
      if (v == INT64_MIN) unsatisfiable = true;
      return v == INT64_MIN ? v : v - 1;
    }
    case SQLITE_FLOAT: {
      double v = sqlite3_value_double(value);
      if (std::isnan(v) || v > 9.2e18) return std::nullopt;
      if (v < -9.2e18) { unsatisfiable = true; return std::nullopt; }
      return static_cast<int64_t>(std::ceil(v));
    }
    default: return std::nullopt;
  }
}

}  // namespace

Status ColumnarCursor::filter(int idx_num, const char* idx_str, int argc, sqlite3_value** argv) {
  // Rows being encoded on a helper thread are in neither the buffer nor the chunks: store them.
  STRATA_RETURN_IF_ERROR(table_->settle());
  STRATA_ASSIGN_OR_RETURN(ScanPlan plan, ScanPlan::decode(idx_num, idx_str, table_->schema()));
  if (plan.rowid_arguments() + static_cast<int>(plan.filters.size()) > argc) {
    return Status::internal("columnar: the scan plan names more arguments than xFilter was given");
  }
  column_mask_ = plan.column_mask;
  low_ = INT64_MIN;
  high_ = INT64_MAX;
  empty_range_ = false;
  active_.clear();
  chunks_.clear();
  next_chunk_ = 0;
  int arg = 0;
  if (plan.rowid_equals) {
    std::optional<int64_t> rowid = integer_under_affinity(argv[arg++]);
    if (rowid) {
      low_ = high_ = *rowid;
    } else {
      empty_range_ = true;
    }
  }
  if (plan.rowid_lower) {
    std::optional<int64_t> bound = lower_bound_for(argv[arg++], plan.lower_strict, empty_range_);
    if (bound) low_ = std::max(low_, *bound);
  }
  if (plan.rowid_upper) {
    std::optional<int64_t> bound = upper_bound_for(argv[arg++], plan.upper_strict, empty_range_);
    if (bound) high_ = std::min(high_, *bound);
  }
  if (low_ > high_) empty_range_ = true;
  filters_ = std::move(plan.filters);
  for (ColumnFilter& pushed : filters_) bind_filter_values(pushed, argv[arg++], table_->schema());
  eager_columns_.clear();
  for (const ColumnFilter& pushed : filters_) {
    if (pushed.column >= 63) eager_columns_.push_back(pushed.column);
  }
  const int grouping_column = plan.grouping_column;
  if (grouping_column >= 63) eager_columns_.push_back(grouping_column);
  key_rowids_.reset();
  key_filter_ = -1;
  if (plan.key_index >= 0 && !filters_[static_cast<size_t>(plan.key_filter)].lets_everything_through) {
    STRATA_RETURN_IF_ERROR(look_up_key_rowids(plan.key_index, filters_[static_cast<size_t>(plan.key_filter)]));
    key_filter_ = plan.key_filter;
  }

  pending_ = table_->pending();
  pending_order_.reset();
  if (!pending_.inserts->ascending()) pending_order_ = pending_.inserts->rowid_order();
  {
    // The snapshot's rows with rowids in [low_, high_].
    size_t size = pending_.inserts_at.size;
    auto first_above = [&](int64_t bound, bool or_equal) {
      size_t low = 0, high = size;
      while (low < high) {
        size_t middle = (low + high) / 2;
        int64_t rowid = buffered_rowid_at(middle);
        if (or_equal ? rowid < bound : rowid <= bound) low = middle + 1; else high = middle;
      }
      return low;
    };
    pending_index_ = first_above(low_, true);
    pending_end_ = first_above(high_, false);
  }
  skip_filtered_pending();
  if (empty_range_) {
    eof_ = true;
    return Status::ok();
  }
  if (low_ == INT64_MIN && high_ == INT64_MAX) {
    STRATA_ASSIGN_OR_RETURN(chunks_, table_->store().list_chunks());
  } else {
    STRATA_ASSIGN_OR_RETURN(chunks_, table_->store().chunks_overlapping(low_, high_));
  }
  ScanStats& stats = table_->last_scan();
  stats = ScanStats();
  stats.chunks = chunks_.size();
  // Listing the chunks has opened this statement's read transaction: now the data version says
  // whether another connection has committed since the cache was filled.
  table_->refresh_cache();
  if (key_rowids_) {
    STRATA_RETURN_IF_ERROR(check_key_rowids_exist());
    // Only chunks whose rowid range holds a looked-up rowid.
    stats.skipped_by_key_index = std::erase_if(chunks_, [&](const ChunkInfo& chunk) {
      auto first = std::lower_bound(key_rowids_->begin(), key_rowids_->end(), chunk.min_rowid);
      return first == key_rowids_->end() || *first > chunk.max_rowid;
    });
  }
  stats.cold = static_cast<uint64_t>(
      std::count_if(chunks_.begin(), chunks_.end(), [](const ChunkInfo& chunk) { return chunk.tier.has_value(); }));
  eof_ = false;
  grouped_ = false;
  sorted_rows_.reset();
  // Grouped and sorted delivery note rows by their position in the whole chunk and read the
  // chunk again later: they read chunks whole.
  point_reads_ = grouping_column < 0;
  if (grouping_column >= 0) {
    // Grouped delivery numbers rows in 32 bits.
    if (plan.grouped_by_sort || candidate_rows() >= UINT32_MAX) return sort_rows_by(grouping_column, plan.grouped_descending);
    return group_rows(grouping_column, plan.grouped_descending);
  }
  return advance();
}

// Grouped delivery: one pass over the matching rows numbers them in scan order (their ordinals),
// notes each one's group (the column's value, compared as SQLite's GROUP BY does), and keeps
// where they are as runs of consecutive rows (a whole chunk is one run when no filter drops
// rows); then a counting sort by group puts the ordinals in emission order — groups in ascending
// key order (descending when asked) — and the rows are emitted from it, each ordinal found in
// its run, re-reading chunk rows through the cache. Memory: 8 bytes per row (in huge pages,
// reserved once: no growth copies) plus a run per stretch of consecutive rows and the distinct
// keys; fresh pages cost more than the rest here (the kernel zeroes each), so fewer bytes per
// row is most of the speed.
Status ColumnarCursor::group_rows(int column, bool descending) {
  const TableSchema& schema = table_->schema();
  if (column < 0 || column >= static_cast<int>(schema.columns.size())) return Status::internal("columnar: bad grouping column");
  // Another collation than the built-in ones keeps SQLite from asking for grouped delivery.
  Collation collation = builtin_collation(schema.columns[column].collation).value_or(Collation::kBinary);
  // Group numbers in the order groups are first met.
  std::map<Value, uint32_t, GroupKeyLess> groups(GroupKeyLess{collation});
  std::unordered_map<int64_t, uint32_t> integer_groups;  // the common case, hashed
  uint32_t group_count = 0;
  ScratchVector<uint32_t> group_of_row;  // by ordinal
  group_of_row.reserve(candidate_rows());
  grouped_runs_.clear();
  // The row met next has the ordinal group_of_row.size(): it extends the last run when it is
  // that run's next row.
  auto note_row = [&](uint64_t reference, uint32_t group) {
    const auto ordinal = static_cast<uint32_t>(group_of_row.size());
    if (grouped_runs_.empty() ||
        grouped_runs_.back().first_reference + (ordinal - grouped_runs_.back().first_ordinal) != reference) {
      grouped_runs_.push_back({reference, ordinal});
    }
    group_of_row.push_back(group);
  };
  bool is_alias = column == schema.rowid_alias;
  STRATA_RETURN_IF_ERROR(advance());
  // A coded (dictionary) column maps each chunk's codes to their group once: afterwards a row
  // costs one array lookup instead of a comparison-ordered search on its value.
  constexpr uint32_t kUnknown = UINT32_MAX;
  const ColumnVector* coded_vector = nullptr;
  std::vector<uint32_t> group_of_code;
  while (!eof_) {
    uint64_t reference;
    ValueView key;
    uint32_t* memo = nullptr;
    if (current_buffered_ >= 0) {
      reference = (kBufferedRow << 32) | static_cast<uint64_t>(current_buffered_);
      key = pending_.inserts->value(column, static_cast<uint32_t>(current_buffered_));
    } else {
      size_t position = current_chunk_->rows.position(current_chunk_->position);
      reference = (static_cast<uint64_t>(current_chunk_->chunk_index) << 32) | position;
      const ColumnVector* values = is_alias ? nullptr : current_chunk_->rows.columns[column].get();
      if (values != nullptr && values->is_coded()) {
        if (values != coded_vector) {
          coded_vector = values;
          group_of_code.assign(values->dictionary().size(), kUnknown);
        }
        memo = &group_of_code[values->code(position)];
        if (*memo != kUnknown) {
          note_row(reference, *memo);
          STRATA_RETURN_IF_ERROR(next());
          continue;
        }
      }
      key = current_chunk_->rows.value(column, current_chunk_->position);
    }
    if (is_alias) key = ValueView::of_integer(rowid());
    uint32_t group;
    if (key.type == ValueType::kInteger) {
      group = integer_groups.try_emplace(key.integer, group_count).first->second;
    } else {
      auto found = groups.find(key);
      if (found == groups.end()) found = groups.emplace(Value(key), group_count).first;
      group = found->second;
    }
    if (group == group_count) ++group_count;
    note_row(reference, group);
    if (memo != nullptr) *memo = group;
    STRATA_RETURN_IF_ERROR(next());
  }
  // The emission rank of each group: integer keys merged into the ordered ones, so that equal
  // keys (5 and 5.0) come out next to each other, which is all SQLite needs of a group.
  std::vector<std::pair<int64_t, uint32_t>> integers(integer_groups.begin(), integer_groups.end());
  std::sort(integers.begin(), integers.end());
  std::vector<uint32_t> rank(group_count);
  uint32_t next_rank = 0;
  auto other = groups.begin();
  size_t next_integer = 0;
  while (next_integer < integers.size() || other != groups.end()) {
    bool take_integer = next_integer < integers.size() &&
                        (other == groups.end() ||
                         compare_values(ValueView::of_integer(integers[next_integer].first), other->first.view(), collation) <= 0);
    uint32_t group = take_integer ? integers[next_integer++].second : (other++)->second;
    rank[group] = descending ? group_count - 1 - next_rank : next_rank;
    ++next_rank;
  }
  // Each row's group becomes its rank; then a counting sort by rank scatters the ordinals into
  // one array.
  for (uint32_t& group : group_of_row) group = rank[group];
  std::vector<size_t> start(group_count + 1, 0);
  for (uint32_t r : group_of_row) ++start[r + 1];
  for (size_t r = 1; r <= group_count; ++r) start[r] += start[r - 1];
  grouped_ordinals_.clear();
  grouped_ordinals_.resize(group_of_row.size());
  for (size_t row = 0; row < group_of_row.size(); ++row) grouped_ordinals_[start[group_of_row[row]]++] = static_cast<uint32_t>(row);
  grouped_run_ = 0;
  grouped_ = true;
  grouped_next_ = 0;
  grouped_chunks_.clear();
  grouped_chunk_rows_ = nullptr;
  grouped_chunks_.resize(chunks_.size());
  active_.clear();
  current_chunk_ = nullptr;
  current_buffered_ = -1;
  return position_on_group_entry();
}

Status ColumnarCursor::position_on_group_entry() {
  if (grouped_next_ >= grouped_ordinals_.size()) {
    eof_ = true;
    return Status::ok();
  }
  eof_ = false;
  const uint32_t ordinal = grouped_ordinals_[grouped_next_];
  // Within a group the ordinals ascend, so the run is mostly the last one or the next.
  auto run_end = [&](size_t run) {
    return run + 1 < grouped_runs_.size() ? grouped_runs_[run + 1].first_ordinal : static_cast<uint32_t>(grouped_ordinals_.size());
  };
  if (grouped_runs_[grouped_run_].first_ordinal > ordinal || run_end(grouped_run_) <= ordinal) {
    if (run_end(grouped_run_) <= ordinal && grouped_run_ + 1 < grouped_runs_.size() && run_end(grouped_run_ + 1) > ordinal) {
      ++grouped_run_;
    } else {
      auto after = std::upper_bound(grouped_runs_.begin(), grouped_runs_.end(), ordinal,
                                    [](uint32_t wanted, const GroupedRun& run) { return wanted < run.first_ordinal; });
      grouped_run_ = static_cast<size_t>(after - grouped_runs_.begin()) - 1;
    }
  }
  const GroupedRun& run = grouped_runs_[grouped_run_];
  position_on_reference(run.first_reference + (ordinal - run.first_ordinal));
  return Status::ok();
}

void ColumnarCursor::position_on_reference(uint64_t reference) {
  size_t chunk = static_cast<size_t>(reference >> 32);
  size_t position = static_cast<size_t>(reference & 0xffffffffu);
  if (chunk == kBufferedRow) {
    current_buffered_ = static_cast<int64_t>(position);
    current_rowid_ = pending_.inserts->rowid(static_cast<uint32_t>(position));
    return;
  }
  current_buffered_ = -1;
  // The chunk's decoded rows are read only when a value or the rowid is asked for.
  grouped_chunk_index_ = chunk;
  grouped_chunk_rows_ = nullptr;
  grouped_position_ = position;
}

Result<const ChunkRows*> ColumnarCursor::grouped_chunk(size_t chunk) {
  if (chunk >= grouped_chunks_.size()) return Status::internal("columnar: bad grouped row");
  if (!grouped_chunks_[chunk]) {
    STRATA_ASSIGN_OR_RETURN(ChunkRows rows, table_->read_chunk_rows(chunks_[chunk], column_mask_, &eager_columns_));
    grouped_chunks_[chunk] = std::make_unique<ChunkRows>(std::move(rows));
  }
  return grouped_chunks_[chunk].get();
}

// Sorted delivery (key_sorted_rows.h): one pass over the matching rows stages each with its key
// and the values of the other columns the query uses; then they come out in key order.
Status ColumnarCursor::sort_rows_by(int column, bool descending) {
  const TableSchema& schema = table_->schema();
  const int column_count = static_cast<int>(schema.columns.size());
  if (column < 0 || column >= column_count) return Status::internal("columnar: bad grouping column");
  // Another collation than the built-in ones keeps SQLite from asking for grouped delivery.
  Collation collation = builtin_collation(schema.columns[column].collation).value_or(Collation::kBinary);
  std::vector<int> slots{column};
  sorted_slot_of_column_.assign(static_cast<size_t>(column_count), -1);
  sorted_slot_of_column_[column] = 0;
  for (int c = 0; c < column_count; ++c) {
    // Columns from 63 on are read through the row's reference (decoded when first asked for).
    bool used = c < 63 && ((column_mask_ >> c) & 1);
    if (!used || c == column || c == schema.rowid_alias) continue;
    sorted_slot_of_column_[c] = static_cast<int>(slots.size());
    slots.push_back(c);
  }
  sorted_rows_ = std::make_unique<KeySortedRows>(collation, slots.size());
  sorted_rows_->reserve(candidate_rows());
  sorted_kept_alive_.clear();
  std::vector<ValueView> values(slots.size());
  STRATA_RETURN_IF_ERROR(advance());
  while (!eof_) {
    uint64_t reference;
    bool buffered = current_buffered_ >= 0;
    if (buffered) {
      auto position = static_cast<uint32_t>(current_buffered_);
      reference = (kBufferedRow << 32) | position;
      for (size_t i = 0; i < slots.size(); ++i) {
        values[i] = slots[i] == schema.rowid_alias ? ValueView::of_integer(current_rowid_) : pending_.inserts->value(slots[i], position);
      }
    } else {
      const ChunkRows& rows = current_chunk_->rows;
      size_t position = rows.position(current_chunk_->position);
      reference = (static_cast<uint64_t>(current_chunk_->chunk_index) << 32) | position;
      for (size_t i = 0; i < slots.size(); ++i) {
        values[i] = slots[i] == schema.rowid_alias ? ValueView::of_integer(rows.rowid(current_chunk_->position))
                                                   : rows.columns[slots[i]]->get(position);
      }
      // The sorted rows point into text and blob keys: keep their vectors.
      if (slots[0] != schema.rowid_alias && (values[0].type == ValueType::kText || values[0].type == ValueType::kBlob) &&
          (sorted_kept_alive_.empty() || sorted_kept_alive_.back() != rows.columns[slots[0]])) {
        sorted_kept_alive_.push_back(rows.columns[slots[0]]);
      }
    }
    // A buffered row's bytes may move if the statement writes to the table: copy its key.
    sorted_rows_->add(reference, values, buffered);
    STRATA_RETURN_IF_ERROR(next());
  }
  sorted_rows_->finish(descending);
  grouped_ = true;
  grouped_chunks_.clear();
  grouped_chunks_.resize(chunks_.size());
  grouped_chunk_rows_ = nullptr;
  active_.clear();
  current_chunk_ = nullptr;
  current_buffered_ = -1;
  return position_on_sorted_entry();
}

Status ColumnarCursor::position_on_sorted_entry() {
  if (sorted_rows_->at_end()) {
    eof_ = true;
    return Status::ok();
  }
  eof_ = false;
  position_on_reference(sorted_rows_->reference());
  return Status::ok();
}

size_t ColumnarCursor::candidate_rows() const {
  size_t rows = pending_end_ - pending_index_;
  for (size_t c = next_chunk_; c < chunks_.size(); ++c) rows += static_cast<size_t>(std::max<int64_t>(0, chunks_[c].live_rows()));
  return rows;
}

Result<int64_t> ColumnarCursor::rowid_value() {
  if (grouped_ && current_buffered_ < 0 && grouped_chunk_rows_ == nullptr) {
    STRATA_ASSIGN_OR_RETURN(grouped_chunk_rows_, grouped_chunk(grouped_chunk_index_));
  }
  return rowid();
}

Status ColumnarCursor::load_chunks_up_to(int64_t rowid_bound) {
  while (next_chunk_ < chunks_.size() && chunks_[next_chunk_].min_rowid <= rowid_bound) {
    const ChunkInfo& info = chunks_[next_chunk_++];
    // A chunk that a zone map or bloom filter rules out is never read.
    bool ruled_out = false;
    ScanStats& stats = table_->last_scan();
    for (size_t f = 0; f < filters_.size(); ++f) {
      // The key index has chosen the chunks for its own filter; its rows are checked against it
      // (below), which a zone map or bloom filter ruling the chunk out would skip.
      if (key_rowids_ && static_cast<int>(f) == key_filter_) continue;
      const ColumnFilter& column_filter = filters_[f];
      STRATA_ASSIGN_OR_RETURN(std::optional<ZoneMap> zone, table_->chunk_zone(info, column_filter.column));
      if (zone && column_filter.rules_out(*zone)) {
        ruled_out = true;
        ++stats.skipped_by_zone_map;
        break;
      }
      STRATA_ASSIGN_OR_RETURN(std::optional<BloomFilter> bloom, table_->chunk_bloom(info, column_filter.column));
      if (bloom && column_filter.rules_out(*bloom)) {
        ruled_out = true;
        ++stats.skipped_by_bloom_filter;
        break;
      }
    }
    if (ruled_out) continue;
    ++stats.chunks_read;
    auto loaded = std::make_unique<LoadedChunk>();
    loaded->chunk_index = next_chunk_ - 1;
    if (std::optional<std::vector<int64_t>> points = point_rowids(info)) {
      STRATA_ASSIGN_OR_RETURN(loaded->rows, table_->read_chunk_points(info, column_mask_, &eager_columns_, *points));
      if (loaded->rows.size() == 0) continue;
    } else {
      STRATA_ASSIGN_OR_RETURN(loaded->rows, table_->read_chunk_rows(info, column_mask_, &eager_columns_));
    }
    if (key_rowids_) {
      // Keep only the looked-up rows (binary search for each in the chunk's visible rows).
      ChunkRows& narrowed = loaded->rows;
      std::vector<uint32_t> matching;
      auto first = std::lower_bound(key_rowids_->begin(), key_rowids_->end(), info.min_rowid);
      for (auto it = first; it != key_rowids_->end() && *it <= info.max_rowid; ++it) {
        size_t low = 0, high = narrowed.size();
        while (low < high) {
          size_t middle = (low + high) / 2;
          if (narrowed.rowid(middle) < *it) low = middle + 1; else high = middle;
        }
        if (low < narrowed.size() && narrowed.rowid(low) == *it) matching.push_back(static_cast<uint32_t>(narrowed.position(low)));
      }
      narrowed.positions = std::move(matching);
      narrowed.visible = narrowed.positions.size();
      if (narrowed.visible == 0) continue;
      // A stored row the index names holds the key it was looked up by, unless the index is
      // damaged: say so rather than leave the row out (its true key's entry is then missing).
      const ColumnFilter& key_filter = filters_[key_filter_];
      for (size_t row = 0; row < narrowed.size(); ++row) {
        if (!key_filter.matches(narrowed.value(key_filter.column, row))) {
          return corrupt(table_->name(), str_cat("a key index entry names rowid ", std::to_string(narrowed.rowid(row)),
                                                 ", which does not hold the key (columnar_check lists such damage)"));
        }
      }
    }
    if (!filters_.empty()) {
      // Evaluate the pushed filters on the decoded vectors: only matching rows stay visible.
      ChunkRows& narrowed = loaded->rows;
      std::vector<uint32_t> matching;
      matching.reserve(narrowed.size());
      for (size_t row = 0; row < narrowed.size(); ++row) {
        bool keep = true;
        for (const ColumnFilter& column_filter : filters_) {
          if (!column_filter.matches(narrowed.value(column_filter.column, row))) {
            keep = false;
            break;
          }
        }
        if (keep) matching.push_back(static_cast<uint32_t>(narrowed.position(row)));
      }
      narrowed.positions = std::move(matching);
      narrowed.visible = narrowed.positions.size();
      if (narrowed.visible == 0) continue;
    }
    const ChunkRows& rows = loaded->rows;
    stats.rows_matched += rows.size();
    // Visible rows are in rowid order: binary search over them for the range.
    auto first_at_least = [&](int64_t bound, bool strictly_greater) {
      size_t low = 0, high = rows.size();
      while (low < high) {
        size_t middle = (low + high) / 2;
        int64_t rowid = rows.rowid(middle);
        if (strictly_greater ? rowid <= bound : rowid < bound) low = middle + 1; else high = middle;
      }
      return low;
    };
    loaded->position = first_at_least(low_, false);
    loaded->end = first_at_least(high_, true);
    if (loaded->position < loaded->end) active_.push_back(std::move(loaded));
  }
  return Status::ok();
}

std::optional<std::vector<int64_t>> ColumnarCursor::point_rowids(const ChunkInfo& info) const {
  // Worth it where a chunk's whole columns cost a fetch and a decode that a few rows do not
  // need: cold chunks (whose pages can be skipped); a hot chunk is decoded whole into the cache.
  constexpr int64_t kMaxPointRows = 64;
  if (!point_reads_ || !info.tier) return std::nullopt;
  const int64_t low = std::max(low_, info.min_rowid), high = std::min(high_, info.max_rowid);
  std::vector<int64_t> rowids;
  if (key_rowids_) {
    for (auto it = std::lower_bound(key_rowids_->begin(), key_rowids_->end(), low); it != key_rowids_->end() && *it <= high; ++it) {
      if (static_cast<int64_t>(rowids.size()) == kMaxPointRows) return std::nullopt;
      if (rowids.empty() || rowids.back() != *it) rowids.push_back(*it);
    }
    return 8 * static_cast<int64_t>(rowids.size()) <= info.row_count ? std::optional(std::move(rowids)) : std::nullopt;
  }
  if (high < low) return rowids;
  if (static_cast<uint64_t>(high) - static_cast<uint64_t>(low) >= static_cast<uint64_t>(kMaxPointRows) ||
      8 * (high - low + 1) > info.row_count) {
    return std::nullopt;
  }
  for (int64_t rowid = low;; ++rowid) {
    rowids.push_back(rowid);
    if (rowid == high) break;
  }
  return rowids;
}

Status ColumnarCursor::advance() {
  while (true) {
    // The smallest rowid any loaded source offers.
    int64_t best = INT64_MAX;
    bool have = false;
    for (const auto& chunk : active_) {
      int64_t rowid = chunk->rows.rowid(chunk->position);
      if (!have || rowid < best) best = rowid, have = true;
    }
    if (pending_index_ != pending_end_ && (!have || buffered_rowid_at(pending_index_) < best)) {
      best = buffered_rowid_at(pending_index_);
      have = true;
    }
    // A chunk not loaded yet may hold something smaller.
    if (next_chunk_ < chunks_.size() && (!have || chunks_[next_chunk_].min_rowid <= best)) {
      STRATA_RETURN_IF_ERROR(load_chunks_up_to(have ? best : chunks_[next_chunk_].min_rowid));
      continue;
    }
    if (!have) {
      eof_ = true;
      current_chunk_ = nullptr;
      current_buffered_ = -1;
      return Status::ok();
    }
    current_rowid_ = best;
    if (pending_index_ != pending_end_ && buffered_rowid_at(pending_index_) == best) {
      current_buffered_ = buffered_at(pending_index_);
      current_chunk_ = nullptr;
      ++pending_index_;
      skip_filtered_pending();
      // A stored copy of a rowid rewritten in this transaction is hidden by the buffer's
      // deletions, so no chunk offers the same rowid.
      return Status::ok();
    }
    for (auto& chunk : active_) {
      if (chunk->rows.rowid(chunk->position) == best) {
        current_chunk_ = chunk.get();
        current_buffered_ = -1;
        // How far this chunk can run alone (sequential_end_): up to the first rowid another
        // source offers; next_in_chunk() steps through those rows without merging.
        int64_t other = INT64_MAX;
        for (const auto& other_chunk : active_) {
          if (other_chunk.get() != current_chunk_) other = std::min(other, other_chunk->rows.rowid(other_chunk->position));
        }
        if (pending_index_ != pending_end_) other = std::min(other, buffered_rowid_at(pending_index_));
        if (next_chunk_ < chunks_.size()) other = std::min(other, chunks_[next_chunk_].min_rowid);
        const ChunkRows& rows = current_chunk_->rows;
        size_t low = current_chunk_->position, high = current_chunk_->end;
        while (low < high) {  // the first visible row at or after `other`
          size_t middle = (low + high) / 2;
          if (rows.rowid(middle) < other) low = middle + 1; else high = middle;
        }
        sequential_end_ = low;
        return Status::ok();
      }
    }
    return Status::internal("columnar: cursor lost its row");
  }
}

Status ColumnarCursor::check_key_rowids_exist() {
  // chunks_ is ordered by min_rowid; ranges may overlap, so keep the running largest max_rowid.
  std::vector<int64_t> reach(chunks_.size());
  for (size_t i = 0; i < chunks_.size(); ++i) {
    reach[i] = i == 0 ? chunks_[i].max_rowid : std::max(reach[i - 1], chunks_[i].max_rowid);
  }
  for (int64_t rowid : *key_rowids_) {
    if (rowid < low_ || rowid > high_) continue;
    auto after = std::upper_bound(chunks_.begin(), chunks_.end(), rowid,
                                  [](int64_t value, const ChunkInfo& chunk) { return value < chunk.min_rowid; });
    size_t covering = static_cast<size_t>(after - chunks_.begin());
    if (covering > 0 && reach[covering - 1] >= rowid) continue;  // a chunk's range holds it
    // Outside every chunk: buffered, or an entry naming a row the table does not have.
    STRATA_ASSIGN_OR_RETURN(bool exists, table_->has_row(rowid));
    if (!exists) {
      return corrupt(table_->name(), str_cat("a key index entry names rowid ", std::to_string(rowid),
                                             ", which the table does not hold (columnar_check lists such damage)"));
    }
  }
  return Status::ok();
}

Status ColumnarCursor::look_up_key_rowids(int key_index, const ColumnFilter& filter) {
  std::vector<int64_t> rowids;
  for (const Value& value : filter.values) {
    if (value.is_null()) continue;  // = NULL matches nothing; NULL keys are not indexed
    STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> found,
                            table_->store().key_lookup(static_cast<size_t>(key_index), {value.view()}, std::nullopt));
    rowids.insert(rowids.end(), found.begin(), found.end());
  }
  std::sort(rowids.begin(), rowids.end());
  rowids.erase(std::unique(rowids.begin(), rowids.end()), rowids.end());
  key_rowids_ = std::move(rowids);
  return Status::ok();
}

bool ColumnarCursor::buffered_row_matches(uint32_t position) const {
  const WriteBuffer& buffer = *pending_.inserts;
  if (!buffer.visible(position, pending_.inserts_at)) return false;
  if (key_rowids_ && !std::binary_search(key_rowids_->begin(), key_rowids_->end(), buffer.rowid(position))) return false;
  for (const ColumnFilter& column_filter : filters_) {
    if (!column_filter.matches(buffer.value(column_filter.column, position))) return false;
  }
  return true;
}

void ColumnarCursor::skip_filtered_pending() {
  while (pending_index_ != pending_end_ && !buffered_row_matches(buffered_at(pending_index_))) ++pending_index_;
}

Status ColumnarCursor::next() {
  if (grouped_ && sorted_rows_) {
    sorted_rows_->next();
    return position_on_sorted_entry();
  }
  if (grouped_) {
    ++grouped_next_;
    return position_on_group_entry();
  }
  if (next_in_chunk()) return Status::ok();
  if (current_chunk_ != nullptr) {
    LoadedChunk* chunk = current_chunk_;
    if (++chunk->position >= chunk->end) {
      std::erase_if(active_, [chunk](const auto& loaded) { return loaded.get() == chunk; });
    }
  }
  current_chunk_ = nullptr;
  current_buffered_ = -1;
  return advance();
}

Status ColumnarCursor::column(sqlite3_context* context, int column) {
  if (column == table_->schema().rowid_alias) {
    STRATA_ASSIGN_OR_RETURN(int64_t value, rowid_value());
    sqlite3_result_int64(context, value);
    return Status::ok();
  }
  if (grouped_ && sorted_rows_) {
    int slot = sorted_slot_of_column_[column];
    if (slot >= 0) {
      if (std::optional<ValueView> value = sorted_rows_->value(static_cast<size_t>(slot))) {
        set_result(context, *value);
        return Status::ok();
      }
    }
  }
  if (current_buffered_ >= 0) {
    set_result(context, pending_.inserts->value(column, static_cast<uint32_t>(current_buffered_)));
    return Status::ok();
  }
  if (grouped_ && grouped_chunk_rows_ == nullptr) {
    STRATA_ASSIGN_OR_RETURN(grouped_chunk_rows_, grouped_chunk(grouped_chunk_index_));
  }
  if (grouped_) {
    if (grouped_chunk_rows_ == nullptr) return Status::internal("columnar: no current grouped row");
    STRATA_ASSIGN_OR_RETURN(const ColumnVector* values,
                            loaded_column(*grouped_chunks_[grouped_chunk_index_], grouped_chunk_index_, column));
    set_result(context, values->get(grouped_position_));
    return Status::ok();
  }
  if (current_chunk_ == nullptr) return Status::internal("columnar: no current row");
  STRATA_RETURN_IF_ERROR(loaded_column(current_chunk_->rows, current_chunk_->chunk_index, column).status());
  set_result(context, current_chunk_->rows.value(column, current_chunk_->position));
  return Status::ok();
}

Result<const ColumnVector*> ColumnarCursor::loaded_column(ChunkRows& rows, size_t chunk_index, int column) {
  if (column < 0 || static_cast<size_t>(column) >= rows.columns.size() || chunk_index >= chunks_.size()) {
    return Status::internal("columnar: bad column read");
  }
  if (!rows.columns[column]) {
    // Columns from 63 on are left to now (and, to be safe, one colUsed did not name).
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const ColumnVector> all, table_->chunk_column(chunks_[chunk_index], column));
    // A point read's rows: their values only.
    rows.columns[column] =
        rows.chunk_positions.empty() ? std::move(all) : std::make_shared<const ColumnVector>(all->gather(rows.chunk_positions));
  }
  return rows.columns[column].get();
}

}  // namespace strata::columnar
