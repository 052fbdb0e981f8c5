// parquet — Parquet files as read-only SQLite tables, and parquet_export() to write them.
//
// USER SQL (docs/parquet.md)
//
//   CREATE VIRTUAL TABLE ext USING parquet('s3://bucket/x/events.parquet');  -- one file
//   CREATE VIRTUAL TABLE lake USING parquet('file:lake/events/');   -- every .parquet below;
//       -- `key=value` directories become columns (hive partitioning; hive_partitioning=false
//       -- turns that off)
//   SELECT count(*) FROM ext WHERE user_id = 42;      -- files and row groups pruned
//   SELECT parquet_scan_stats('ext');                 -- what the last scan read and skipped
//   SELECT parquet_export('file:out/e.parquet', 'SELECT * FROM events' [, '{json options}']);
//
// The columns are found when the table is created: the union, by name, of every file's columns
// (a column whose files disagree on its type is declared without one), then the partition keys
// (INTEGER when every value is an integer, else TEXT). A strata file's mixed-class column reads
// back as one column. Each statement lists the files again (new files are read; their columns
// that the table does not have are not), so the table follows a lake that grows. Nothing is
// written anywhere: INSERT, UPDATE and DELETE are errors, DROP TABLE leaves the files alone.
//
// SHADOW TABLE (docs/parquet.md, "Storage")
//
//   ext_columns(position, name, source, kind 'file'|'partition', declared_type)
//     the columns found at CREATE, so that opening the database needs no store.
//
// xBestIndex PLAN
//
//   idxStr "colUsed;plan;plan…" — colUsed (decimal) says which columns' chunks to fetch; each
//   plan is a columnar::ColumnFilter (vtab/columnar/filter.h: column, op, collation, exact,
//   in_list) whose right-hand side is the next xFilter argument. The filters only prune: whole
//   files by partition values, row groups by min/max/null-count statistics and, for = and IN,
//   bloom filters. SQLite still checks every row (omit is never set).
#include <algorithm>
#include <array>
#include <map>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "ext/vtab_module.h"
#include "vtab/columnar/filter.h"
#include "vtab/columnar/values.h"
#include "vtab/parquet/parquet_sql.h"
#include "vtab/parquet/parquet_table.h"

namespace strata::parquet_sql {

namespace {

// Reads whose gap is smaller than this are fetched as one (a round trip costs more than it).
constexpr uint64_t kCoalesceGap = uint64_t{1} << 20;

struct ModuleState {
  ParquetRegistry registry;
};

Result<std::unique_ptr<ParquetTable>> open_table(sqlite3* db, void* state, int argc, const char* const* argv, bool create) {
  return ParquetTable::open(db, &static_cast<ModuleState*>(state)->registry, argc, argv, create);
}

bool plan_constraint(const ParquetTable& table, sqlite3_index_info* info, int i, columnar::ColumnFilter& plan) {
  const auto& constraint = info->aConstraint[i];
  sqlite3_value* literal = nullptr;
  const bool literal_right_side = sqlite3_vtab_rhs_value(info, i, &literal) == SQLITE_OK && literal != nullptr;
  return columnar::plan_filter(table.filter_schema(), constraint.iColumn, constraint.op, sqlite3_vtab_collation(info, i),
                               plan, literal_right_side);
}

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  return vtab_call(vtab, [&]() -> Status {
    const ParquetTable& table = *ParquetTable::from(vtab);
    std::string plans;
    int arguments = 0;
    double selectivity = 1;
    for (int i = 0; i < info->nConstraint; ++i) {
      const auto& constraint = info->aConstraint[i];
      if (!constraint.usable || constraint.iColumn < 0) continue;
      columnar::ColumnFilter plan;
      if (!plan_constraint(table, info, i, plan)) continue;
      if (plan.op == SQLITE_INDEX_CONSTRAINT_EQ) plan.in_list = sqlite3_vtab_in(info, i, 1) != 0;
      info->aConstraintUsage[i].argvIndex = ++arguments;
      info->aConstraintUsage[i].omit = 0;  // pruning is by row group; SQLite checks the rows
      plans += str_cat(";", columnar::encode_filter_plan(plan));
      const bool equality = plan.op == SQLITE_INDEX_CONSTRAINT_EQ || plan.op == SQLITE_INDEX_CONSTRAINT_IS;
      selectivity *= equality ? 0.1 : 0.5;
    }
    const std::string idx = std::to_string(static_cast<uint64_t>(info->colUsed)) + plans;
    info->idxStr = sqlite3_mprintf("%s", idx.c_str());
    if (info->idxStr == nullptr) return Status::no_memory();
    info->needToFreeIdxStr = 1;
    const double rows = std::max(1.0, table.estimated_rows() * selectivity);
    info->estimatedRows = static_cast<sqlite3_int64>(rows);
    info->estimatedCost = 10 + rows;
    return Status::ok();
  });
}

// A scan: the files of one snapshot, row group by row group, skipping what the filters rule out.
struct ParquetCursor {
  sqlite3_vtab_cursor base{};  // first
  std::shared_ptr<const Snapshot> snapshot;
  std::vector<columnar::ColumnFilter> filters;
  uint64_t columns_used = 0;
  ScanCounters counters;
  bool scanned = false;  // counters hold a scan to report

  size_t file = 0;
  size_t next_row_group = 0;  // in `file`
  int64_t group_first_row = 0;  // of the row group being read, within the file
  int64_t row = 0;
  int64_t rows = 0;  // in the row group being read
  bool eof = true;
  // The decoded row group, kept across the passes of a nested loop (each pass is an xFilter):
  // per table column, when fetched.
  std::vector<std::optional<ColumnVector>> values;
  size_t loaded_file = SIZE_MAX;
  size_t loaded_row_group = SIZE_MAX;
  uint64_t loaded_columns = 0;
  // Bloom filters read in this statement, by (file, row group, leaf); nullopt: the chunk has none.
  std::map<std::array<size_t, 3>, std::optional<BloomFilter>> blooms;

  ParquetTable& table() const { return *ParquetTable::from(base.pVtab); }
  ~ParquetCursor() {
    if (scanned) table().record_scan(counters);
  }

  // Whether the plan fetches the column with the row group. SQLite's colUsed has one bit for
  // "column 63 or later": those columns are fetched one by one when xColumn first asks for them
  // (column()), so that a query reading one of them does not fetch them all, and a column there
  // that strata cannot read fails only the queries that read it.
  bool column_used(size_t column) const { return column < 63 && ((columns_used >> column) & 1); }

  Status filter(const char* idx_str, int argc, sqlite3_value** argv) {
    if (idx_str == nullptr) return Status::internal("parquet: xFilter without a plan");
    columns_used = std::strtoull(idx_str, nullptr, 10);
    if (!columnar::parse_filters(idx_str, 0, argc, argv, table().filter_schema(), filters)) {
      return Status::internal("parquet: a malformed plan");
    }
    // One snapshot per statement (the cursor lives as long as the statement): every pass of a
    // nested loop sees the same files.
    if (!snapshot) {
      STRATA_ASSIGN_OR_RETURN(snapshot, table().take_snapshot());
    }
    scanned = true;
    file = 0;
    next_row_group = 0;
    group_first_row = 0;
    rows = row = 0;
    eof = false;
    return load_next_row_group();
  }

  bool file_ruled_out(const DataFile& data) const {
    const std::vector<TableColumn>& columns = table().columns();
    for (const columnar::ColumnFilter& f : filters) {
      if (columns[f.column].partition && partition_rules_out(f, data)) return true;
    }
    return false;
  }

  Result<bool> row_group_ruled_out(const DataFile& data, size_t row_group) {
    const std::vector<TableColumn>& columns = table().columns();
    for (const columnar::ColumnFilter& f : filters) {
      if (!columns[f.column].partition && statistics_rule_out(f, data, row_group)) {
        ++counters.row_groups_pruned_by_statistics;
        return true;
      }
    }
    for (const columnar::ColumnFilter& f : filters) {
      if (columns[f.column].partition || f.lets_everything_through) continue;
      if (f.op != SQLITE_INDEX_CONSTRAINT_EQ && f.op != SQLITE_INDEX_CONSTRAINT_IS) continue;
      const int column = data.file_column[f.column];
      if (column < 0 || data.reader->columns()[column].leaves.size() != 1 || data.reader->columns()[column].nested_root) continue;
      const size_t leaf = data.reader->columns()[column].leaves[0];
      auto bloom = blooms.find({file, row_group, leaf});
      if (bloom == blooms.end()) {
        STRATA_ASSIGN_OR_RETURN(std::optional<BloomFilter> read,
                                in_file(data, data.reader->read_bloom_filter(reader_of(data), row_group, leaf)));
        bloom = blooms.emplace(std::array<size_t, 3>{file, row_group, leaf}, std::move(read)).first;
      }
      if (bloom->second && bloom_rules_out(f, data.reader->leaves()[leaf], *bloom->second)) {
        ++counters.row_groups_pruned_by_bloom_filter;
        return true;
      }
    }
    return false;
  }

  Status load_next_row_group() {
    while (file < snapshot->files.size()) {
      const DataFile& data = snapshot->files[file];
      if (next_row_group == 0) {
        ++counters.files;
        if (file_ruled_out(data)) {
          ++counters.files_pruned;
          ++file;
          continue;
        }
      }
      if (next_row_group >= data.reader->row_groups()) {
        ++file;
        next_row_group = 0;
        group_first_row = 0;
        continue;
      }
      const size_t row_group = next_row_group++;
      if (row_group > 0) group_first_row += data.reader->row_group_rows(row_group - 1);
      const int64_t group_rows = data.reader->row_group_rows(row_group);
      ++counters.row_groups;
      if (group_rows <= 0) continue;
      STRATA_ASSIGN_OR_RETURN(bool ruled_out, row_group_ruled_out(data, row_group));
      if (ruled_out) continue;
      rows = group_rows;
      row = 0;
      return fetch_used_columns(data, row_group);
    }
    eof = true;
    return Status::ok();
  }

  // Fetches the chunks of every used column with as few reads as gaps allow, then decodes them.
  Status fetch_used_columns(const DataFile& data, size_t row_group) {
    if (file == loaded_file && row_group == loaded_row_group && columns_used == loaded_columns) return Status::ok();
    loaded_file = SIZE_MAX;  // until every column is in
    values.assign(table().columns().size(), std::nullopt);
    std::vector<parquet::ByteRange> ranges;
    for (size_t c = 0; c < values.size(); ++c) {
      if (!column_used(c) || data.file_column[c] < 0) continue;
      for (size_t leaf : data.reader->columns()[data.file_column[c]].leaves) {
        STRATA_ASSIGN_OR_RETURN(parquet::ByteRange range, in_file(data, data.reader->chunk_range(row_group, leaf)));
        ranges.push_back(range);
      }
    }
    std::sort(ranges.begin(), ranges.end(), [](const parquet::ByteRange& a, const parquet::ByteRange& b) { return a.offset < b.offset; });
    struct Fetched {
      uint64_t offset;
      std::string bytes;
    };
    std::vector<Fetched> fetched;
    for (size_t i = 0; i < ranges.size();) {
      uint64_t start = ranges[i].offset;
      uint64_t end = start + ranges[i].length;
      size_t j = i + 1;
      while (j < ranges.size() && ranges[j].offset <= end + kCoalesceGap) {
        end = std::max(end, ranges[j].offset + ranges[j].length);
        ++j;
      }
      STRATA_ASSIGN_OR_RETURN(std::string bytes, reader_of(data)(start, end - start));
      fetched.push_back(Fetched{start, std::move(bytes)});
      i = j;
    }
    parquet::RangeReader from_fetched = [&](uint64_t offset, uint64_t length) -> Result<std::string> {
      for (const Fetched& piece : fetched) {
        if (offset >= piece.offset && offset + length <= piece.offset + piece.bytes.size()) {
          return piece.bytes.substr(offset - piece.offset, length);
        }
      }
      return reader_of(data)(offset, length);
    };
    for (size_t c = 0; c < values.size(); ++c) {
      if (!column_used(c) || data.file_column[c] < 0) continue;
      STRATA_ASSIGN_OR_RETURN(ColumnVector column, in_file(data, data.reader->read_column(from_fetched, row_group, data.file_column[c])));
      values[c] = std::move(column);
    }
    loaded_file = file;
    loaded_row_group = row_group;
    loaded_columns = columns_used;
    return Status::ok();
  }

  parquet::RangeReader reader_of(const DataFile& data) { return table().range_reader(data.object.key, counters); }

  // A reader error, with the file's name in front.
  template <class T>
  Result<T> in_file(const DataFile& data, Result<T> result) const {
    if (result.is_ok()) return result;
    return table().file_error(data.object.key, result.status());
  }

  Status next() {
    if (++row < rows) return Status::ok();
    return load_next_row_group();
  }

  Status column(sqlite3_context* context, int index) {
    const DataFile& data = snapshot->files[file];
    const auto c = static_cast<size_t>(index);
    if (table().columns()[c].partition) {
      columnar::set_result(context, data.partition_value[c].view());
      return Status::ok();
    }
    if (data.file_column[c] < 0) {
      sqlite3_result_null(context);
      return Status::ok();
    }
    if (!values[c]) {
      // A column at position 63 or later (column_used()), or one the plan did not name.
      STRATA_ASSIGN_OR_RETURN(ColumnVector column,
                              in_file(data, data.reader->read_column(reader_of(data), loaded_row_group, data.file_column[c])));
      values[c] = std::move(column);
    }
    columnar::set_result(context, values[c]->get(static_cast<size_t>(row)));
    return Status::ok();
  }

  int64_t rowid() const { return snapshot->files[file].first_row + group_first_row + row; }
};

ParquetCursor* cursor_of(sqlite3_vtab_cursor* cursor) { return reinterpret_cast<ParquetCursor*>(cursor); }

int x_filter(sqlite3_vtab_cursor* cursor, int, const char* idx_str, int argc, sqlite3_value** argv) {
  return cursor_call(cursor, [&] { return cursor_of(cursor)->filter(idx_str, argc, argv); });
}

int x_next(sqlite3_vtab_cursor* cursor) {
  return cursor_call(cursor, [&] { return cursor_of(cursor)->next(); });
}

int x_eof(sqlite3_vtab_cursor* cursor) { return cursor_of(cursor)->eof ? 1 : 0; }

int x_column(sqlite3_vtab_cursor* cursor, sqlite3_context* context, int column) {
  return cursor_call(cursor, [&] { return cursor_of(cursor)->column(context, column); });
}

int x_rowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* rowid) {
  *rowid = cursor_of(cursor)->rowid();
  return SQLITE_OK;
}

constexpr char kReadOnly[] = "parquet: the table is read-only (it reads Parquet files; parquet_export() writes them)";

int x_shadow_name(const char* suffix) { return std::strcmp(suffix, "columns") == 0 ? 1 : 0; }

const sqlite3_module kParquetModule = read_only_table_module<ParquetTable, kReadOnly>({
    .create = create_table<open_table>,
    .connect = connect_table<open_table>,
    .best_index = x_best_index,
    .open = open_cursor<ParquetCursor>,
    .close = close_cursor<ParquetCursor>,
    .filter = x_filter,
    .next = x_next,
    .eof = x_eof,
    .column = x_column,
    .rowid = x_rowid,
    .shadow_name = x_shadow_name
});

void scan_stats_function(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    auto* state = static_cast<ModuleState*>(sqlite3_user_data(context));
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) return Status::error("parquet_scan_stats: expects a table name as text");
    const QualifiedName name = split_qualified_name(value_text(argv[0]));
    bool exists = false;
    ParquetTable* table = find_connected(sqlite3_context_db_handle(context), state->registry, name, &exists);
    if (table == nullptr) {
      return Status::error(exists ? str_cat("parquet_scan_stats: ", name.quoted(), " is not a parquet table")
                                  : str_cat("parquet_scan_stats: no such table: ", name.quoted()));
    }
    const std::string json = table->last_scan().to_json();
    sqlite3_result_text64(context, json.data(), json.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return Status::ok();
  });
}

void destroy_state(void* state) { delete static_cast<ModuleState*>(state); }

}  // namespace

Status register_parquet(sqlite3* db) {
  STRATA_RETURN_IF_ERROR(register_parquet_export(db));
  auto* state = new ModuleState();
  int rc = sqlite3_create_module_v2(db, "parquet", &kParquetModule, state, destroy_state);
  if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "parquet: registering the module");
  rc = sqlite3_create_function_v2(db, "parquet_scan_stats", 1, SQLITE_UTF8, state, scan_stats_function, nullptr,
                                  nullptr, nullptr);
  return status_from_sqlite(db, rc, "parquet: registering parquet_scan_stats()");
}

}  // namespace strata::parquet_sql
