// Settled rollup rows, stored column-wise (docs/format-rollup.md, version 2).
//
// A rollup's rows live in one of two places. Rows of buckets written recently are "hot": one
// row each in `r_data`, found by key and updated in place by the source's writes. Once at least
// segment_rows / 8 hot rows belong to buckets before the newest, those rows "settle": they move
// in key order into segments of about `segment_rows` rows each (a small last segment just before
// them is rewritten with them), every column of a segment one compressed blob
// (codecs/column_codec.h) in `r_columns`, and the segment's bucket range in `r_segments`. A
// segment holds every row of the buckets it spans, and no hot bucket lies within a segment's
// [first_bucket, last_bucket]: a write to such a bucket first moves the whole segment back to
// `r_data` (it settles again later). So a bucket and group is in exactly one place, and a scan
// reads the hot rows and the segments whose bucket range meets its constraints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/column_vector.h"
#include "ext/sqlite_api.h"
#include "ext/sqlite_handles.h"
#include "ext/status.h"

namespace strata::timeseries {

// Rows per segment unless the rollup's segment_rows option says otherwise.
inline constexpr int64_t kDefaultSegmentRows = 4096;
// A segment's column c is the cell segment_id * kCellsPerSegment + c.
inline constexpr int64_t kCellsPerSegment = 4096;

// The data table's columns: bucket, the group columns, rows, then the states of each input.
size_t rollup_data_column_count(size_t groups, size_t inputs);
// The data table's column of input i's first state (InputState offsets from there).
size_t rollup_input_column(size_t groups, size_t input);

// CREATE TABLE/INDEX statements of a new rollup's segment tables.
std::string rollup_segment_tables_sql(std::string_view schema_name, std::string_view rollup_name, const std::string& bucket_type,
                                      const std::string& bucket_collation);

// A condition on a segment's first_bucket and last_bucket that holds for every segment that may
// hold a row with `bucket <op> ?<parameter>` (op: =, IS, <, <=, >, >=). SQL compares the bound
// value under the bucket's declared affinity and collation, exactly as the data table does.
std::string segment_may_hold(std::string_view op, int parameter);

// Reads the columns of segments, each a blob of codecs/column_codec.h.
class SegmentColumns {
 public:
  Status open(sqlite3* db, std::string_view schema_name, std::string_view rollup_name);
  bool is_open() const { return select_.valid(); }
  Result<ColumnVector> read(int64_t segment, size_t column, uint64_t rows);
  // Column c of the segment for each set needed[c], others left empty.
  Result<std::vector<ColumnVector>> read_segment(int64_t segment, uint64_t rows, const std::vector<bool>& needed);

 private:
  Statement select_;
  std::string rollup_name_;
};

// Whether the rollup has segment tables (format 2; format 1 keeps every row in r_data).
Result<bool> rollup_has_segments(sqlite3* db, std::string_view schema_name, std::string_view rollup_name);

}  // namespace strata::timeseries
