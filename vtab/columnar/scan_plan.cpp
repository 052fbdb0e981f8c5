#include "vtab/columnar/scan_plan.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>

#include "ext/module_arguments.h"
#include "ext/str_cat.h"
#include "vtab/columnar/key_sorted_rows.h"
#include "vtab/columnar/table.h"

namespace strata::columnar {

namespace {

constexpr int kRowidEquals = 1;
constexpr int kRowidLower = 2;
constexpr int kLowerStrict = 4;
constexpr int kRowidUpper = 8;
constexpr int kUpperStrict = 16;
// (Values 32 and 64 once carried LIMIT and OFFSET, which are left to SQLite: see plan_scan.)
constexpr int kKeyIndexShift = 8;
constexpr int kKeyFilterShift = 16;
constexpr int kGrouped = 1 << 24;
constexpr int kGroupedBySort = 1 << 25;
constexpr int kGroupedDescending = 1 << 26;
// A key index and a filter number are encoded as 1 + their number in 8 bits each.
constexpr int kMaxKeyLookup = 255;

constexpr std::string_view kPlanMarker = " {plan ";

// The single-column key index (UNIQUE constraint or index= column) on `column` that compares
// like a constraint with `collation` does, or -1. The collation must match even on a numeric
// column: such a column can still hold text ('Abc' in an INTEGER column), and `k COLLATE NOCASE
// = 'abc'` must find it, which a BINARY B-tree would not.
int find_key_index(const TableSchema& schema, int column, const char* collation) {
  std::string wanted = collation ? collation : "BINARY";
  for (size_t k = 0; k < schema.key_indexes.size(); ++k) {
    const KeyIndex& index = schema.key_indexes[k];
    if (index.columns.size() != 1 || index.columns[0] != column) continue;
    std::string have = index.collations[0].empty() ? "BINARY" : index.collations[0];
    if (equals_ignore_case(have, wanted)) return static_cast<int>(k);
  }
  return -1;
}

const char* operator_text(int op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return "=";
    case SQLITE_INDEX_CONSTRAINT_GT: return ">";
    case SQLITE_INDEX_CONSTRAINT_GE: return ">=";
    case SQLITE_INDEX_CONSTRAINT_LT: return "<";
    case SQLITE_INDEX_CONSTRAINT_LE: return "<=";
    case SQLITE_INDEX_CONSTRAINT_IS: return "IS";
    case SQLITE_INDEX_CONSTRAINT_ISNULL: return "IS NULL";
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: return "IS NOT NULL";
    default: return "?";
  }
}

// "read a, b; rowid >= ?; k IN (…) via unique index; ts <= ?; grouped by kind desc"
std::string describe(const ScanPlan& plan, const TableSchema& schema) {
  std::string text;
  auto part = [&](std::string piece) { text += (text.empty() ? "" : "; ") + piece; };
  std::string read;
  size_t named = 0;
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    if (static_cast<int>(c) == schema.rowid_alias) continue;
    if (!((plan.column_mask >> std::min<size_t>(c, 63)) & 1)) continue;
    if (++named > 8) continue;
    read += (read.empty() ? "" : ", ") + schema.columns[c].name;
  }
  if (named > 8) read += str_cat(" and ", std::to_string(named - 8), " more");
  part(read.empty() ? std::string("read no column") : "read " + read);
  if (plan.rowid_equals) part("rowid = ?");
  if (plan.rowid_lower) part(str_cat("rowid ", plan.lower_strict ? ">" : ">=", " ?"));
  if (plan.rowid_upper) part(str_cat("rowid ", plan.upper_strict ? "<" : "<=", " ?"));
  for (size_t f = 0; f < plan.filters.size(); ++f) {
    const ColumnFilter& filter = plan.filters[f];
    std::string piece = schema.columns[filter.column].name + " " +
                        (filter.in_list ? std::string("IN (…)") : std::string(operator_text(filter.op)) +
                            (filter.op == SQLITE_INDEX_CONSTRAINT_ISNULL || filter.op == SQLITE_INDEX_CONSTRAINT_ISNOTNULL ? "" : " ?"));
    if (filter.collation == Collation::kNoCase) piece += " COLLATE NOCASE";
    if (filter.collation == Collation::kRtrim) piece += " COLLATE RTRIM";
    if (static_cast<int>(f) == plan.key_filter) {
      piece += plan.key_index >= 0 && schema.key_indexes[static_cast<size_t>(plan.key_index)].unique ? " via unique index" : " via index";
    }
    const bool bloom = std::find(schema.bloom_columns.begin(), schema.bloom_columns.end(), filter.column) != schema.bloom_columns.end();
    if (bloom && (filter.op == SQLITE_INDEX_CONSTRAINT_EQ || filter.op == SQLITE_INDEX_CONSTRAINT_IS)) piece += " with bloom filter";
    if (!filter.exact) piece += " (narrows; SQLite re-checks)";
    part(piece);
  }
  if (plan.grouping_column >= 0) {
    part(str_cat(plan.grouped_by_sort ? "sorted by " : "grouped by ", schema.columns[plan.grouping_column].name,
                 plan.grouped_descending ? " desc" : ""));
  }
  return text;
}

}  // namespace

int ScanPlan::idx_num() const {
  int number = 0;
  if (rowid_equals) number |= kRowidEquals;
  if (rowid_lower) number |= kRowidLower | (lower_strict ? kLowerStrict : 0);
  if (rowid_upper) number |= kRowidUpper | (upper_strict ? kUpperStrict : 0);
  if (key_index >= 0 && key_filter >= 0) number |= ((key_index + 1) << kKeyIndexShift) | ((key_filter + 1) << kKeyFilterShift);
  if (grouping_column >= 0) {
    number |= kGrouped | (grouped_by_sort ? kGroupedBySort : 0) | (grouped_descending ? kGroupedDescending : 0);
  }
  return number;
}

std::string ScanPlan::idx_str(const TableSchema& schema) const {
  std::string encoding = std::to_string(column_mask);
  for (const ColumnFilter& filter : filters) encoding += ";" + encode_filter_plan(filter);
  if (grouping_column >= 0) encoding += "/" + std::to_string(grouping_column);
  return str_cat(describe(*this, schema), kPlanMarker, encoding, "}");
}

Result<ScanPlan> ScanPlan::decode(int idx_num, const char* idx_str, const TableSchema& schema) {
  auto malformed = [&](std::string_view what) {
    return Status::internal(str_cat("columnar: malformed scan plan (", what, "): ", idx_str ? idx_str : "(none)"));
  };
  ScanPlan plan;
  plan.rowid_equals = idx_num & kRowidEquals;
  plan.rowid_lower = idx_num & kRowidLower;
  plan.lower_strict = idx_num & kLowerStrict;
  plan.rowid_upper = idx_num & kRowidUpper;
  plan.upper_strict = idx_num & kUpperStrict;
  if (idx_str == nullptr) {
    if (idx_num & ~(kRowidEquals | kRowidLower | kLowerStrict | kRowidUpper | kUpperStrict)) return malformed("no idxStr");
    return plan;  // every column, no filter
  }
  std::string_view text(idx_str);
  const size_t marker = text.rfind(kPlanMarker);
  if (marker == std::string_view::npos || text.back() != '}') return malformed("no plan");
  std::string_view encoding = text.substr(marker + kPlanMarker.size());
  encoding.remove_suffix(1);
  const size_t grouping = encoding.find('/');
  if (grouping != std::string_view::npos) {
    std::string column(encoding.substr(grouping + 1));
    char* end = nullptr;
    const long value = std::strtol(column.c_str(), &end, 10);
    if (column.empty() || *end != '\0' || value < 0 || value >= static_cast<long>(schema.columns.size())) return malformed("grouping");
    plan.grouping_column = static_cast<int>(value);
    encoding = encoding.substr(0, grouping);
  }
  if ((plan.grouping_column >= 0) != ((idx_num & kGrouped) != 0)) return malformed("grouping flag");
  plan.grouped_by_sort = idx_num & kGroupedBySort;
  plan.grouped_descending = idx_num & kGroupedDescending;
  const size_t first_filter = encoding.find(';');
  {
    std::string mask(encoding.substr(0, first_filter));
    char* end = nullptr;
    plan.column_mask = std::strtoull(mask.c_str(), &end, 10);
    if (mask.empty() || *end != '\0') return malformed("columns");
  }
  for (size_t at = first_filter; at != std::string_view::npos;) {
    const size_t next = encoding.find(';', at + 1);
    ColumnFilter filter;
    if (!decode_filter_plan(encoding.substr(at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1),
                            schema, filter)) {
      return malformed("filter");
    }
    plan.filters.push_back(std::move(filter));
    at = next;
  }
  const int key_index = ((idx_num >> kKeyIndexShift) & 0xff) - 1;
  const int key_filter = ((idx_num >> kKeyFilterShift) & 0xff) - 1;
  if ((key_index >= 0) != (key_filter >= 0) || key_index >= static_cast<int>(schema.key_indexes.size()) ||
      key_filter >= static_cast<int>(plan.filters.size())) {
    return malformed("key lookup");
  }
  plan.key_index = key_index;
  plan.key_filter = key_filter;
  return plan;
}

Result<ScanPlan> plan_scan(ColumnarTable& table, sqlite3_index_info* info) {
  const TableSchema& schema = table.schema();
  const int alias = schema.rowid_alias;
  ScanPlan plan;
  plan.column_mask = static_cast<uint64_t>(info->colUsed);
  int equals = -1, lower = -1, upper = -1;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& constraint = info->aConstraint[i];
    if (!constraint.usable) continue;
    if (constraint.iColumn != -1 && constraint.iColumn != alias) continue;
    switch (constraint.op) {
      case SQLITE_INDEX_CONSTRAINT_EQ:
        if (equals < 0) equals = i;
        break;
      case SQLITE_INDEX_CONSTRAINT_GT:
      case SQLITE_INDEX_CONSTRAINT_GE:
        if (lower < 0) lower = i, plan.lower_strict = constraint.op == SQLITE_INDEX_CONSTRAINT_GT;
        break;
      case SQLITE_INDEX_CONSTRAINT_LT:
      case SQLITE_INDEX_CONSTRAINT_LE:
        if (upper < 0) upper = i, plan.upper_strict = constraint.op == SQLITE_INDEX_CONSTRAINT_LT;
        break;
      default: break;
    }
  }
  STRATA_ASSIGN_OR_RETURN(int64_t rows, table.estimated_rows());
  double table_rows = static_cast<double>(std::max<int64_t>(rows, 1));
  int next_arg = 1;
  if (equals >= 0) {
    plan.rowid_equals = true;
    plan.lower_strict = plan.upper_strict = false;
    info->aConstraintUsage[equals].argvIndex = next_arg++;
    info->estimatedCost = 10;
    info->estimatedRows = 1;
    info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  } else {
    double fraction = 1.0;
    if (lower >= 0) {
      plan.rowid_lower = true;
      info->aConstraintUsage[lower].argvIndex = next_arg++;
      fraction /= 2;
    } else {
      plan.lower_strict = false;
    }
    if (upper >= 0) {
      plan.rowid_upper = true;
      info->aConstraintUsage[upper].argvIndex = next_arg++;
      fraction /= 2;
    } else {
      plan.upper_strict = false;
    }
    info->estimatedRows = static_cast<sqlite3_int64>(table_rows * fraction) + 1;
    info->estimatedCost = 100 + table_rows * fraction;
  }
  // Column filters (filter.h): their arguments follow the rowid ones.
  double selectivity = 1.0;
  bool key_lookup_unique = false;
  // The lookup yields at most one row: one value (no IN list) on a UNIQUE key, applied exactly.
  // Only then may SQLite be told SQLITE_INDEX_SCAN_UNIQUE: a one-pass UPDATE or DELETE looks at
  // the first row alone, and an IN list SQLite hands over whole (sqlite3_vtab_in) is not split
  // into one lookup per value.
  bool key_lookup_one_row = false;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& constraint = info->aConstraint[i];
    if (!constraint.usable || constraint.iColumn < 0 || constraint.iColumn == alias) continue;
    ColumnFilter filter;
    const char* collation = sqlite3_vtab_collation(info, i);
    if (!plan_filter(schema, constraint.iColumn, constraint.op, collation, filter)) continue;
    if (constraint.op == SQLITE_INDEX_CONSTRAINT_EQ && sqlite3_vtab_in(info, i, 1)) filter.in_list = true;
    const int filter_number = static_cast<int>(plan.filters.size());
    if (constraint.op == SQLITE_INDEX_CONSTRAINT_EQ && equals < 0) {
      int k = find_key_index(schema, constraint.iColumn, collation);
      if (k >= 0 && k < kMaxKeyLookup && filter_number < kMaxKeyLookup &&
          (plan.key_index < 0 || (!key_lookup_unique && schema.key_indexes[k].unique))) {
        plan.key_index = k;
        plan.key_filter = filter_number;
        key_lookup_unique = schema.key_indexes[k].unique;
        key_lookup_one_row = key_lookup_unique && !filter.in_list && filter.exact;
      }
    }
    info->aConstraintUsage[i].argvIndex = next_arg++;
    info->aConstraintUsage[i].omit = filter.exact ? 1 : 0;
    switch (constraint.op) {
      case SQLITE_INDEX_CONSTRAINT_EQ:
      case SQLITE_INDEX_CONSTRAINT_IS: selectivity *= filter.in_list ? 0.2 : 0.1; break;
      case SQLITE_INDEX_CONSTRAINT_ISNULL: selectivity *= 0.1; break;
      case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: selectivity *= 0.9; break;
      default: selectivity *= 0.33; break;
    }
    plan.filters.push_back(std::move(filter));
  }
  // LIMIT and OFFSET are left to SQLite. SQLite 3.40 offers them even when the WHERE clause
  // has a term it does not show the table (one comparing two of its columns, `a = b`), so a
  // table that stopped after LIMIT rows could return fewer rows than the query asks for.
  if (equals < 0 && !plan.filters.empty()) {
    info->estimatedRows = static_cast<sqlite3_int64>(static_cast<double>(info->estimatedRows) * selectivity) + 1;
    info->estimatedCost = 100 + (info->estimatedCost - 100) * (0.2 + 0.8 * selectivity);
  }
  if (plan.key_index >= 0) {
    // A B-tree lookup, then only the chunks holding the rows found.
    info->estimatedRows = key_lookup_one_row ? 1
                          : key_lookup_unique ? 10
                                              : std::max<sqlite3_int64>(1, static_cast<sqlite3_int64>(table_rows / 1000));
    info->estimatedCost = 20 + 10 * static_cast<double>(info->estimatedRows);
    if (key_lookup_one_row) info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  }
  // Grouped delivery (cursor.h) for GROUP BY, DISTINCT or ORDER BY on one column: SQLite then
  // needs no sorter. Rows come grouped, in the order asked for (ascending or descending) under
  // the column's collation: SQLite 3.40 reports a GROUP BY as needing adjacent groups only even
  // when an identical ORDER BY … DESC relies on the order.
  if (info->nOrderBy == 1 && !info->orderByConsumed && info->aOrderBy[0].iColumn >= 0 &&
      info->aOrderBy[0].iColumn != alias) {
    int column = info->aOrderBy[0].iColumn;
    int distinct = sqlite3_vtab_distinct(info);
    bool known_collation = builtin_collation(schema.columns[column].collation).has_value();
    // Emission keeps the used columns of every chunk decoded: bound what that may take.
    int used_columns = std::popcount(static_cast<uint64_t>(info->colUsed));
    double decoded_bytes = table_rows * (16.0 + 13.0 * used_columns);
    // Worth it for few groups: with many, emission jumps about all the decoded chunks while
    // SQLite's sorter would read sequentially.
    bool few_groups = false;
    if (known_collation && decoded_bytes < static_cast<double>(size_t{1} << 30)) {
      STRATA_ASSIGN_OR_RETURN(few_groups, table.looks_low_cardinality(column));
    }
    if (few_groups) {
      plan.grouping_column = column;
      info->orderByConsumed = 1;
      info->estimatedCost += static_cast<double>(info->estimatedRows) * 0.3;
    } else if (known_collation && (distinct == 1 || distinct == 2)) {
      // Many groups (GROUP BY, DISTINCT): the rows are sorted here, copying the numbers a query
      // uses (key_sorted_rows.h), cheaper than SQLite's sorter. Bounded like the above. Numbers
      // are copied; other used columns are read from the decoded chunks at emission, which
      // keeps those chunks decoded.
      bool text_key = !is_numeric_affinity(schema.columns[column].affinity);
      double kept_decoded = 0;
      for (int c = 0; c < static_cast<int>(schema.columns.size()) && c < 63; ++c) {
        if (((info->colUsed >> c) & 1) && c != column && !is_numeric_affinity(schema.columns[c].affinity)) {
          kept_decoded += table_rows * 24.0;
        }
      }
      double sorted_bytes = table_rows * static_cast<double>(KeySortedRows::row_bytes(static_cast<size_t>(std::max(used_columns, 1)), text_key));
      if (kept_decoded + sorted_bytes < static_cast<double>(size_t{1} << 30)) {
        plan.grouping_column = column;
        plan.grouped_by_sort = true;
        info->orderByConsumed = 1;
        info->estimatedCost += static_cast<double>(info->estimatedRows) * 0.5;
      }
    }
  }
  if (plan.grouping_column >= 0 && info->aOrderBy[0].desc) plan.grouped_descending = true;
  // Rows come out in rowid order: ORDER BY rowid (ascending) is consumed.
  if (info->nOrderBy == 1 && !info->aOrderBy[0].desc &&
      (info->aOrderBy[0].iColumn == -1 || info->aOrderBy[0].iColumn == alias)) {
    info->orderByConsumed = 1;
  }
  return plan;
}

}  // namespace strata::columnar
