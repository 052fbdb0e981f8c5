#include "vtab/columnar/filter.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "ext/module_arguments.h"
#include "vtab/columnar/values.h"

namespace strata::columnar {

namespace {

bool compare_matches(int op, int comparison) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ:
    case SQLITE_INDEX_CONSTRAINT_IS: return comparison == 0;
    case SQLITE_INDEX_CONSTRAINT_GT: return comparison > 0;
    case SQLITE_INDEX_CONSTRAINT_GE: return comparison >= 0;
    case SQLITE_INDEX_CONSTRAINT_LT: return comparison < 0;
    case SQLITE_INDEX_CONSTRAINT_LE: return comparison <= 0;
    default: return true;
  }
}

}  // namespace

bool is_numeric_affinity(Affinity affinity) {
  return affinity == Affinity::kInteger || affinity == Affinity::kReal || affinity == Affinity::kNumeric;
}

namespace {

// Lists longer than this are sorted for binary search (prepare()).
constexpr size_t kSortedValuesFrom = 8;
// A bloom filter is probed for at most this many values: a longer list almost always hits
// something, and probing it per chunk would cost more than reading the chunk.
constexpr size_t kBloomProbesAtMost = 4096;

bool is_equality(int op) { return op == SQLITE_INDEX_CONSTRAINT_EQ || op == SQLITE_INDEX_CONSTRAINT_IS; }

}  // namespace

void ColumnFilter::prepare() {
  sorted = false;
  if (!is_equality(op) || values.size() < kSortedValuesFrom) return;
  std::sort(values.begin(), values.end(), [&](const Value& a, const Value& b) {
    return compare_values(a.view(), b.view(), collation) < 0;
  });
  sorted = true;
}

bool ColumnFilter::matches(const ValueView& value) const {
  if (lets_everything_through) return true;
  if (op == SQLITE_INDEX_CONSTRAINT_ISNULL) return value.type == ValueType::kNull;
  if (op == SQLITE_INDEX_CONSTRAINT_ISNOTNULL) return value.type != ValueType::kNull;
  if (value.type == ValueType::kNull) {
    // NULL matches nothing, except `IS NULL` written as `col IS ?` with a NULL right side.
    if (op != SQLITE_INDEX_CONSTRAINT_IS) return false;
    for (const Value& rhs : values) {
      if (rhs.is_null()) return true;
    }
    return false;
  }
  if (sorted) {
    // NULLs sort first and compare below every value, so they never match here.
    auto found = std::lower_bound(values.begin(), values.end(), value, [&](const Value& rhs, const ValueView& v) {
      return compare_values(rhs.view(), v, collation) < 0;
    });
    return found != values.end() && !found->is_null() && compare_values(found->view(), value, collation) == 0;
  }
  for (const Value& rhs : values) {
    if (rhs.is_null()) continue;  // comparisons with NULL are never true; IS NULL handled above
    if (compare_matches(op, compare_values(value, rhs.view(), collation))) return true;
  }
  return false;
}

bool ColumnFilter::rules_out(const ZoneMap& zone) const {
  if (lets_everything_through) return false;
  if (op == SQLITE_INDEX_CONSTRAINT_ISNULL) return zone.nulls == 0;
  if (op == SQLITE_INDEX_CONSTRAINT_ISNOTNULL) return zone.nulls == zone.rows;
  bool may_match_null = false;
  for (const Value& rhs : values) may_match_null |= rhs.is_null() && op == SQLITE_INDEX_CONSTRAINT_IS;
  if (may_match_null && zone.nulls > 0) return false;
  if (!zone.min || !zone.max) return true;  // only NULLs, and NULL matches no comparison
  if (sorted && collation == Collation::kBinary) {
    // Some value within [min, max]? The first one at or above min tells.
    auto found = std::lower_bound(values.begin(), values.end(), *zone.min, [](const Value& rhs, const Value& min) {
      return rhs.is_null() || compare_values(rhs.view(), min.view(), Collation::kBinary) < 0;
    });
    return found == values.end() || compare_values(found->view(), zone.max->view(), Collation::kBinary) > 0;
  }
  for (const Value& rhs : values) {
    if (rhs.is_null()) continue;
    // The bounds are in BINARY order; text under another collation cannot be bounded by them.
    bool text_involved = rhs.type == ValueType::kText || zone.has_type(ValueType::kText);
    if (collation != Collation::kBinary && text_involved) return false;
    int to_min = compare_values(rhs.view(), zone.min->view(), Collation::kBinary);
    int to_max = compare_values(rhs.view(), zone.max->view(), Collation::kBinary);
    bool possible = true;
    switch (op) {
      case SQLITE_INDEX_CONSTRAINT_EQ:
      case SQLITE_INDEX_CONSTRAINT_IS: possible = to_min >= 0 && to_max <= 0; break;
      case SQLITE_INDEX_CONSTRAINT_GT: possible = to_max < 0; break;   // some value > rhs
      case SQLITE_INDEX_CONSTRAINT_GE: possible = to_max <= 0; break;
      case SQLITE_INDEX_CONSTRAINT_LT: possible = to_min > 0; break;   // some value < rhs
      case SQLITE_INDEX_CONSTRAINT_LE: possible = to_min >= 0; break;
      default: break;
    }
    if (possible) return false;
  }
  return true;
}

bool ColumnFilter::rules_out(const BloomFilter& bloom) const {
  if (lets_everything_through) return false;
  if (op != SQLITE_INDEX_CONSTRAINT_EQ && op != SQLITE_INDEX_CONSTRAINT_IS) return false;
  // Text equality under NOCASE or RTRIM matches spellings the filter never saw.
  if (collation != Collation::kBinary) return false;
  if (values.size() > kBloomProbesAtMost) return false;
  for (const Value& rhs : values) {
    if (rhs.is_null()) {
      if (op == SQLITE_INDEX_CONSTRAINT_IS) return false;  // IS NULL: NULLs are not in filters
      continue;
    }
    if (bloom.may_contain(rhs.view())) return false;
    // SQLite's 5 = 5.0, while Parquet hashes an INT64 and a DOUBLE differently: probe both.
    if (rhs.type == ValueType::kInteger) {
      auto real = static_cast<double>(rhs.integer);
      if (static_cast<long double>(real) == static_cast<long double>(rhs.integer) &&
          bloom.may_contain(ValueView::of_real(real))) {
        return false;
      }
    } else if (rhs.type == ValueType::kReal && rhs.real == std::trunc(rhs.real) && rhs.real >= -0x1p63 &&
               rhs.real < 0x1p63) {
      // Every integral double in [-2^63, 2^63) is an int64 (NUMERIC affinity leaves -2^63 a REAL).
      if (bloom.may_contain(ValueView::of_integer(static_cast<int64_t>(rhs.real)))) return false;
    }
  }
  return true;
}

bool plan_filter(const TableSchema& schema, int column, int op, const char* collation, ColumnFilter& plan,
                 bool literal_right_side) {
  if (column < 0 || column >= static_cast<int>(schema.columns.size()) || column == schema.rowid_alias) return false;
  plan = ColumnFilter();
  plan.column = column;
  plan.op = op;
  std::optional<Collation> known = builtin_collation(collation == nullptr ? "" : collation);
  if (!known) return false;
  plan.collation = *known;
  Affinity affinity = schema.columns[column].affinity;
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_ISNULL:
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: plan.exact = true; return true;
    case SQLITE_INDEX_CONSTRAINT_EQ:
    case SQLITE_INDEX_CONSTRAINT_IS:
      if (is_numeric_affinity(affinity)) {
        plan.exact = true;
        return true;
      }
      if (affinity == Affinity::kText) {
        plan.exact = false;
        return true;
      }
      return false;
    case SQLITE_INDEX_CONSTRAINT_GT:
    case SQLITE_INDEX_CONSTRAINT_GE:
    case SQLITE_INDEX_CONSTRAINT_LT:
    case SQLITE_INDEX_CONSTRAINT_LE:
      if (affinity == Affinity::kText && literal_right_side) {
        plan.exact = false;
        return true;
      }
      if (!is_numeric_affinity(affinity)) return false;
      plan.exact = true;
      return true;
    default: return false;
  }
}

std::string encode_filter_plan(const ColumnFilter& filter) {
  return std::to_string(filter.column) + "," + std::to_string(filter.op) + "," +
         std::to_string(static_cast<int>(filter.collation)) + "," + (filter.exact ? "1" : "0") + "," +
         (filter.in_list ? "1" : "0");
}

bool decode_filter_plan(std::string_view text, const TableSchema& schema, ColumnFilter& filter) {
  int fields[5];
  size_t at = 0;
  for (int i = 0; i < 5; ++i) {
    const size_t end = i < 4 ? text.find(',', at) : text.size();
    if (end == std::string_view::npos || end == at || end - at > 10) return false;
    int value = 0;
    bool negative = text[at] == '-';
    for (size_t c = at + (negative ? 1 : 0); c < end; ++c) {
      if (text[c] < '0' || text[c] > '9') return false;
      value = value * 10 + (text[c] - '0');
    }
    fields[i] = negative ? -value : value;
    at = end + 1;
  }
  if (fields[0] < 0 || fields[0] >= static_cast<int>(schema.columns.size())) return false;
  if (fields[2] < 0 || fields[2] > static_cast<int>(Collation::kRtrim)) return false;
  filter = ColumnFilter();
  filter.column = fields[0];
  filter.op = fields[1];
  filter.collation = static_cast<Collation>(fields[2]);
  filter.exact = fields[3] != 0;
  filter.in_list = fields[4] != 0;
  return true;
}

void bind_filter_values(ColumnFilter& filter, sqlite3_value* rhs, const TableSchema& schema) {
  filter.values.clear();
  filter.lets_everything_through = false;
  const bool numeric = is_numeric_affinity(schema.columns[filter.column].affinity);
  auto add = [&](sqlite3_value* value) {
    Value converted = numeric ? value_with_affinity(value, Affinity::kNumeric) : value_from_sqlite(value);
    // A TEXT column compared with a non-text value: the comparison depends on the other side's
    // affinity, which is not known here; let every row through (SQLite re-checks).
    if (!numeric && !converted.is_null() && converted.type != ValueType::kText) filter.lets_everything_through = true;
    filter.values.push_back(std::move(converted));
  };
  if (filter.op != SQLITE_INDEX_CONSTRAINT_ISNULL && filter.op != SQLITE_INDEX_CONSTRAINT_ISNOTNULL) {
    if (filter.in_list) {
      sqlite3_value* element = nullptr;
      for (int rc = sqlite3_vtab_in_first(rhs, &element); rc == SQLITE_OK && element != nullptr;
           rc = sqlite3_vtab_in_next(rhs, &element)) {
        add(element);
      }
    } else {
      add(rhs);
    }
  }
  filter.prepare();
}

bool parse_filters(const char* idx_str, int first_argument, int argc, sqlite3_value** argv,
                   const TableSchema& schema, std::vector<ColumnFilter>& filters) {
  filters.clear();
  if (idx_str == nullptr) return true;
  std::string_view text(idx_str);
  int argument = first_argument;
  for (size_t at = text.find(';'); at != std::string_view::npos;) {
    const size_t next = text.find(';', at + 1);
    std::string_view plan = text.substr(at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1);
    ColumnFilter filter;
    if (!decode_filter_plan(plan, schema, filter) || argument >= argc) return false;
    bind_filter_values(filter, argv[argument++], schema);
    filters.push_back(std::move(filter));
    at = next;
  }
  return true;
}

}  // namespace strata::columnar
