#include "vtab/timeseries/rollup_segments.h"

#include <cstdio>

#include "codecs/column_codec.h"
#include "ext/str_cat.h"
#include "vtab/timeseries/rollup_maintenance.h"

namespace strata::timeseries {

size_t rollup_input_column(size_t groups, size_t input) { return 1 + groups + 1 + kStatesPerInput * input; }
size_t rollup_data_column_count(size_t groups, size_t inputs) { return rollup_input_column(groups, inputs); }

std::string rollup_segment_tables_sql(std::string_view schema_name, std::string_view rollup_name, const std::string& bucket_type,
                                      const std::string& bucket_collation) {
  // The index keeps its name when the rollup is renamed: a random suffix, as the key index's.
  uint32_t suffix = 0;
  sqlite3_randomness(sizeof suffix, &suffix);
  char hex[24];
  std::snprintf(hex, sizeof hex, "first_%08x", suffix);
  const std::string first = rollup_column_sql("first_bucket", bucket_type, bucket_collation);
  const std::string last = rollup_column_sql("last_bucket", bucket_type, bucket_collation);
  return str_cat("CREATE TABLE ", rollup_shadow(schema_name, rollup_name, "segments"), "(id INTEGER PRIMARY KEY, ", first, ", ", last,
                 ", rows INTEGER NOT NULL);",
                 "CREATE INDEX ", rollup_shadow(schema_name, rollup_name, hex), " ON ", quote_identifier(str_cat(rollup_name, "_segments")),
                 "(first_bucket);",
                 "CREATE TABLE ", rollup_shadow(schema_name, rollup_name, "columns"), "(cell INTEGER PRIMARY KEY, data BLOB NOT NULL);");
}

std::string segment_may_hold(std::string_view op, int parameter) {
  const std::string p = "?" + std::to_string(parameter);
  // NULL sorts first: a segment whose first_bucket is NULL may hold any bucket up to its last.
  const std::string from_start = str_cat("(first_bucket IS NULL OR first_bucket ");
  if (op == "=") return str_cat(from_start, "<= ", p, ") AND last_bucket >= ", p);
  if (op == "IS") {
    return str_cat("((", from_start, "<= ", p, ") AND last_bucket >= ", p, ") OR (", p, " IS NULL AND first_bucket IS NULL))");
  }
  if (op == "<" || op == "<=") return str_cat(from_start, op, " ", p, ")");
  return str_cat("last_bucket ", op, " ", p);  // > and >=
}

Status SegmentColumns::open(sqlite3* db, std::string_view schema_name, std::string_view rollup_name) {
  rollup_name_ = std::string(rollup_name);
  STRATA_ASSIGN_OR_RETURN(select_, Statement::prepare_persistent(
                                       db, str_cat("SELECT data FROM ", rollup_shadow(schema_name, rollup_name, "columns"), " WHERE cell = ?1")));
  return Status::ok();
}

Result<ColumnVector> SegmentColumns::read(int64_t segment, size_t column, uint64_t rows) {
  select_.reset();
  STRATA_RETURN_IF_ERROR(select_.bind_int64(1, segment * kCellsPerSegment + static_cast<int64_t>(column)));
  STRATA_ASSIGN_OR_RETURN(bool found, select_.step());
  if (!found) {
    return Status::corruption(str_cat("rollup ", rollup_name_, ": segment ", std::to_string(segment), " has no column ", std::to_string(column)));
  }
  std::span<const std::byte> blob = select_.column_blob(0);
  Result<ColumnVector> values = decode_column(std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()), rows);
  select_.reset();
  if (!values.is_ok()) {
    return Status::corruption(str_cat("rollup ", rollup_name_, ": segment ", std::to_string(segment), ": ", values.status().message()));
  }
  return values;
}

Result<std::vector<ColumnVector>> SegmentColumns::read_segment(int64_t segment, uint64_t rows, const std::vector<bool>& needed) {
  std::vector<ColumnVector> columns(needed.size());
  for (size_t c = 0; c < needed.size(); ++c) {
    if (!needed[c]) continue;
    STRATA_ASSIGN_OR_RETURN(columns[c], read(segment, c, rows));
  }
  return columns;
}

Result<bool> rollup_has_segments(sqlite3* db, std::string_view schema_name, std::string_view rollup_name) {
  STRATA_ASSIGN_OR_RETURN(Statement select, Statement::prepare(db, str_cat("SELECT 1 FROM ", quote_identifier(schema_name),
                                                                           ".sqlite_schema WHERE type = 'table' AND name = ?1")));
  STRATA_RETURN_IF_ERROR(select.bind_text(1, str_cat(rollup_name, "_segments")));
  return select.step();
}

}  // namespace strata::timeseries
