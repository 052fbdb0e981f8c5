// ScanPlan: how one scan of a columnar table reads it — the only place its xBestIndex plan is
// chosen (plan_scan, with the cost model), written (idx_num, idx_str) and read back (decode), so
// that the planner and the cursor cannot disagree about the encoding.
//
// The encoding (columnar.cpp's manual has the user's view):
//   idxNum  values 1: rowid = argv[0]; 2: a lower rowid bound follows (4: strict, >); 8: an
//           upper bound follows (16: strict, <). Bit positions 8-15: 1 + the key index to look
//           rowids up in, 16-23: 1 + the column filter whose values are looked up (0: no
//           lookup). Bit 24: rows come grouped by one column; 25: sorted (key_sorted_rows.h)
//           rather than collected per group; 26: in descending order.
//   idxStr  "<description> {plan <colUsed>;<filter>;<filter>…[/<grouping column>]}", a filter
//           being "column,op,collation,exact,in_list" (filter.h). The description is what
//           EXPLAIN QUERY PLAN shows ("read type, amount; ts >= ?; grouped by type desc").
// The filters' right-hand sides follow the rowid arguments in argv, in the filters' order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "vtab/columnar/filter.h"
#include "vtab/columnar/schema.h"

namespace strata::columnar {

class ColumnarTable;

struct ScanPlan {
  bool rowid_equals = false;
  bool rowid_lower = false;
  bool lower_strict = false;
  bool rowid_upper = false;
  bool upper_strict = false;
  // Pushed column filters, right-hand sides not yet bound (bind_filter_values, filter.h).
  std::vector<ColumnFilter> filters;
  int key_index = -1;   // a key-index lookup: which index (schema.key_indexes) …
  int key_filter = -1;  // … with the values of which filter
  uint64_t column_mask = ~uint64_t{0};  // colUsed: bit c for column c, bit 63 for every column from 63 on
  int grouping_column = -1;  // rows delivered grouped by this column
  bool grouped_by_sort = false;
  bool grouped_descending = false;

  // How many argv entries the rowid constraints take (they come first).
  int rowid_arguments() const { return (rowid_equals ? 1 : 0) + (rowid_lower ? 1 : 0) + (rowid_upper ? 1 : 0); }

  int idx_num() const;
  std::string idx_str(const TableSchema& schema) const;
  // What idx_num() and idx_str() wrote; an error when they were not written by this code.
  static Result<ScanPlan> decode(int idx_num, const char* idx_str, const TableSchema& schema);
};

// xBestIndex: chooses the plan for `info` and fills its argvIndex, omit, cost, row estimate and
// orderByConsumed (idxNum and idxStr are the caller's, from the plan).
Result<ScanPlan> plan_scan(ColumnarTable& table, sqlite3_index_info* info);

}  // namespace strata::columnar
