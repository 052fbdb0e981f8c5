// RollupMaintenance: keeps the rollups of one columnar source in step with its writes, on one
// connection (docs/timeseries.md, "Rollups"; docs/format-rollup.md).
//
// The source reports every row it adds and removes (an UPDATE is both) with the row's values;
// the changes are summed in memory per rollup, bucket and group (count, integer and real sums,
// the extremes and distinct-value hashes of added values, the removed values not added back),
// and applied to each rollup's data table when the source writes its own buffers: at the start
// of a statement (xSavepoint) and at commit (xSync), so that SQLite's savepoints and rollbacks
// undo both alike, and the source's discard of a rolled-back buffer discards these deltas too.
// A removed value that may have been a group's min or max, or that a count(DISTINCT) sketch
// holds, makes the group recomputed from the source rows at apply time (one query per group,
// pushed down on the group columns and the bucket's time range).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codecs/column_vector.h"
#include "ext/sqlite_api.h"
#include "ext/sqlite_handles.h"
#include "ext/status.h"
#include "vtab/columnar/schema.h"
#include "vtab/timeseries/rollup_spec.h"

namespace strata::timeseries {

class RollupState;  // one rollup's deltas and statements (rollup_maintenance.cpp)

class RollupMaintenance {
 public:
  RollupMaintenance(sqlite3* db, std::string schema_name, std::string source_name, const columnar::TableSchema* schema);
  ~RollupMaintenance();
  RollupMaintenance(const RollupMaintenance&) = delete;
  RollupMaintenance& operator=(const RollupMaintenance&) = delete;

  // Reads the rollups recorded in the source's meta table; rollups still defined alike keep
  // their pending deltas, others' are dropped.
  Status reload();
  // Adds one rollup by name (a rollup being created: it back-fills itself first).
  Status add(const std::string& rollup_name, const RollupSpec& spec);
  bool empty() const { return rollups_.empty(); }
  std::vector<std::string> names() const;

  // The source columns a removed row's values are needed for (ascending).
  const std::vector<int>& columns_read() const { return columns_read_; }
  // A row added (sign +1) or removed (-1): `row[c]` is its value of source column c (the rowid
  // for the INTEGER PRIMARY KEY column); only columns_read() need to be set for removals.
  Status row_changed(int sign, std::span<const ValueView> row);
  // Groups with deltas not yet applied, but for those waiting for the statement to end (a
  // recomputation from the source).
  size_t pending_groups() const;
  // Writes the deltas to the rollups' data tables. With may_read_source false, groups that need
  // a recomputation from the source stay pending (the source is mid-statement).
  Status apply(bool may_read_source);
  void discard();

 private:
  sqlite3* db_;
  std::string schema_name_;
  std::string source_name_;
  const columnar::TableSchema* schema_;
  std::vector<std::unique_ptr<RollupState>> rollups_;
  Statement list_rollups_;
  std::vector<int> columns_read_;
  size_t changes_since_check_ = 0;  // pending groups are counted every 4,096 changes
  void update_columns_read();
};

// The rollup's data table and its key index, as "schema"."<rollup>_data" etc.
std::string rollup_shadow(std::string_view schema_name, std::string_view rollup_name, std::string_view suffix);
// A column definition: the quoted name, then the declared type and collation when given.
std::string rollup_column_sql(std::string_view name, const std::string& type, const std::string& collation);
// CREATE TABLE/INDEX statements of a new rollup's data table.
std::string rollup_data_table_sql(std::string_view schema_name, std::string_view rollup_name, const RollupSpec& spec);
// The data table's key columns (bucket, g0, …) and state columns (rows, then n<i>, si<i>, sr<i>,
// nr<i>, lo<i>, hi<i>, d<i> per input), comma-separated, in table order.
std::string rollup_key_columns(size_t groups);
std::string rollup_key_column(size_t k);  // "bucket" for 0, then "g0", "g1", …
std::string rollup_state_columns(size_t inputs);
std::vector<std::string> rollup_state_column_names(size_t inputs);
// Each input's state columns, in table order (n, si, sr, nr, lo, hi, d), as offsets from its first.
enum InputState : int { kStateCount, kStateWholeSum, kStateRealSum, kStateRealCount, kStateMin, kStateMax, kStateSketch, kStatesPerInput };
// The meta key under which a source records a rollup.
std::string rollup_meta_key(std::string_view rollup_name);

}  // namespace strata::timeseries
