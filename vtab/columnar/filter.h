// Column filters pushed down from WHERE (xBestIndex) and evaluated on decoded column vectors
// and zone maps, before any value reaches SQLite.
//
// What is pushed, and why it is exact (SQLite's comparison rules, "Type Conversions Prior To
// Comparison"):
//   - IS NULL / IS NOT NULL on any column: exact.
//   - =, IS, <, <=, >, >=, IN on a column with INTEGER, REAL or NUMERIC affinity: SQLite applies
//     NUMERIC affinity to the other side, and every value stored in such a column already has it
//     (numeric-looking text was converted on insert), so comparing in SQLite's cross-type order
//     is exact. SQLite is told to omit its own check.
//   - =, IS, IN with text on a TEXT column: exact for text, but a non-text right-hand side could
//     convert either side depending on its own affinity, which a virtual table cannot see; so
//     these filter as a superset (a non-text value lets every row through) and SQLite re-checks.
//   - <, <=, >, >= with a literal on a TEXT column, when the caller asks (literal_right_side;
//     the parquet table does): a superset, as for = above.
//   Only the BINARY, NOCASE and RTRIM collations are pushed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "codecs/bloom_filter.h"
#include "codecs/value_compare.h"
#include "codecs/zone_map.h"
#include "ext/sqlite_api.h"
#include "vtab/columnar/schema.h"

namespace strata::columnar {

struct ColumnFilter {
  int column = -1;
  int op = 0;  // SQLITE_INDEX_CONSTRAINT_EQ, _GT, _LE, _LT, _GE, _IS, _ISNULL, _ISNOTNULL
  Collation collation = Collation::kBinary;
  bool exact = false;    // SQLite omits its own check: the filter must be exact
  bool in_list = false;  // the right-hand side is an IN list (sqlite3_vtab_in)
  std::vector<Value> values;  // the right-hand side(s), with NUMERIC affinity for numeric columns
  bool lets_everything_through = false;  // a superset filter that cannot narrow this time
  // = / IS / IN with many right-hand values: `values` is sorted in SQLite's order under
  // `collation` (NULLs first), so a row costs a binary search, not a pass over the list.
  bool sorted = false;

  // Call once the right-hand values are bound.
  void prepare();

  bool matches(const ValueView& value) const;
  // True when no row of a chunk with this zone map can match.
  bool rules_out(const ZoneMap& zone) const;
  // True when the chunk's bloom filter says no right-hand value is present (=, IS, IN only).
  bool rules_out(const BloomFilter& bloom) const;
};

// One pushed constraint in a plan ("column,op,collation,exact,in_list"), and back; decoding
// fails on anything encode_filter_plan() does not write or on a column the schema lacks.
std::string encode_filter_plan(const ColumnFilter& filter);
bool decode_filter_plan(std::string_view text, const TableSchema& schema, ColumnFilter& filter);
// Binds a decoded filter's right-hand side(s) from its argv value (the IN list's values when
// in_list), then prepares it.
void bind_filter_values(ColumnFilter& filter, sqlite3_value* right_hand_side, const TableSchema& schema);
// For the parquet table's idxStr ("colUsed;plan;plan…"): decodes the filters and binds their
// right-hand sides from argv[first_argument…]. Returns false when idxStr is malformed.
bool parse_filters(const char* idx_str, int first_argument, int argc, sqlite3_value** argv,
                   const TableSchema& schema, std::vector<ColumnFilter>& filters);

// Decides whether constraint `op` with `collation` on `column` can be pushed, and how.
// Returns false when it cannot. `literal_right_side` (sqlite3_vtab_rhs_value found a value)
// also pushes ranges on TEXT columns, as a superset: against a literal, which has no affinity,
// SQLite compares as text; any other right-hand side may carry NUMERIC affinity, under which
// numeric-looking text compares as numbers, an order text bounds do not give.
bool plan_filter(const TableSchema& schema, int column, int op, const char* collation, ColumnFilter& plan,
                 bool literal_right_side = false);

bool is_numeric_affinity(Affinity affinity);

}  // namespace strata::columnar
