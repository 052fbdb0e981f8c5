#include "vtab/timeseries/rollup_maintenance.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <unordered_map>

#include "codecs/column_codec.h"
#include "codecs/distinct_sketch.h"
#include "codecs/value_compare.h"
#include "codecs/value_encoding.h"
#include "ext/civil_time.h"
#include "ext/sqlite_handles.h"
#include "ext/str_cat.h"
#include "vtab/columnar/partition.h"
#include "vtab/columnar/storage.h"
#include "vtab/columnar/values.h"
#include "vtab/timeseries/rollup_segments.h"

namespace strata::timeseries {

namespace {

// Applying is done when this many groups are pending mid-statement: bounded memory for a bulk
// INSERT spanning many buckets, and the deltas of a time-ordered load (one bucket's groups
// after another) few enough to stay in cache.
constexpr size_t kApplyThresholdGroups = 4096;

Collation collation_of(const std::string& name) {
  return columnar::builtin_collation(name).value_or(Collation::kBinary);
}

// sum()'s reading of a value, as SQLite's: integers exactly; text that is a number as that
// number; anything else as a real (text and blobs by their leading number, else 0).
struct SumTerm {
  bool integer;
  int64_t whole;
  double real;
};
bool is_sqlite_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

SumTerm sum_term(const ValueView& value) {
  if (value.type == ValueType::kInteger) return {true, value.integer, 0};
  if (value.type == ValueType::kReal) return {false, 0, value.real};
  // Text or a blob, as sqlite3AtoF reads it: spaces, a sign, digits with an optional fraction
  // and exponent (no hex, no "inf"). Text that is wholly an integer literal (spaces aside) sums
  // as that integer; anything else as the double of its numeric prefix (0 when there is none).
  const std::string_view text = value.bytes;
  auto digit = [&](size_t i) { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
  size_t at = 0;
  while (at < text.size() && is_sqlite_space(text[at])) ++at;
  const size_t start = at;
  if (at < text.size() && (text[at] == '+' || text[at] == '-')) ++at;
  size_t digits = 0;
  while (digit(at)) ++at, ++digits;
  bool integer_literal = true;
  if (at < text.size() && text[at] == '.') {
    integer_literal = false;
    ++at;
    while (digit(at)) ++at, ++digits;
  }
  if (digits == 0) return {false, 0, 0};
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    size_t exponent = at + 1;
    if (exponent < text.size() && (text[exponent] == '+' || text[exponent] == '-')) ++exponent;
    if (digit(exponent)) {
      integer_literal = false;
      at = exponent;
      while (digit(at)) ++at;
    }
  }
  const std::string number(text.substr(start, at - start));
  size_t end = at;
  while (end < text.size() && is_sqlite_space(text[end])) ++end;
  if (value.type == ValueType::kText && integer_literal && end == text.size()) {
    errno = 0;
    char* parsed_end = nullptr;
    const long long whole = std::strtoll(number.c_str(), &parsed_end, 10);
    if (errno == 0) return {true, static_cast<int64_t>(whole), 0};  // else too large: a real, as in SQLite
  }
  return {false, 0, std::strtod(number.c_str(), nullptr)};
}

// The changes to one source column's states in one group.
struct InputDelta {
  int64_t count = 0;       // non-NULL values
  __int128 whole_sum = 0;  // of integer terms
  double real_sum = 0;     // of the others
  int64_t real_count = 0;  // how many terms were not integers
  std::optional<Value> added_min, added_max;
  // Removed non-NULL values not added back since, by equality key (min/max and distinct only).
  std::map<std::string, std::pair<Value, int64_t>> removed;
  DistinctSketch added_hashes;
};

struct GroupDelta {
  Value bucket;
  std::vector<Value> groups;
  int64_t rows = 0;
  std::vector<InputDelta> inputs;
  bool needs_source = false;  // a recomputation from the source rows, at the end of the statement
};

// One stored (or recomputed) group: the data table's row.
struct GroupState {
  int64_t rows = 0;
  struct Input {
    int64_t count = 0;
    Value whole_sum;  // INTEGER, or REAL once it overflowed
    double real_sum = 0;
    int64_t real_count = 0;
    Value min, max;
    std::optional<DistinctSketch> distinct;
  };
  std::vector<Input> inputs;
};

Value merged_whole_sum(const Value& stored, __int128 delta) {
  if (stored.type == ValueType::kReal) return Value(ValueView::of_real(stored.real + static_cast<double>(delta)));
  const __int128 sum = static_cast<__int128>(stored.type == ValueType::kInteger ? stored.integer : 0) + delta;
  if (sum >= INT64_MIN && sum <= INT64_MAX) return Value(ValueView::of_integer(static_cast<int64_t>(sum)));
  return Value(ValueView::of_real(static_cast<double>(sum)));
}

}  // namespace

std::string rollup_shadow(std::string_view schema_name, std::string_view rollup_name, std::string_view suffix) {
  return str_cat(quote_identifier(schema_name), ".", quote_identifier(str_cat(rollup_name, "_", suffix)));
}

std::string rollup_meta_key(std::string_view rollup_name) { return str_cat("rollup:", rollup_name); }

std::string rollup_key_column(size_t k) { return k == 0 ? "bucket" : str_cat("g", std::to_string(k - 1)); }

std::string rollup_key_columns(size_t groups) {
  std::string columns = "bucket";
  for (size_t k = 1; k <= groups; ++k) columns += ", " + rollup_key_column(k);
  return columns;
}

std::vector<std::string> rollup_state_column_names(size_t inputs) {
  std::vector<std::string> names = {"rows"};
  for (size_t i = 0; i < inputs; ++i) {
    for (const char* state : {"n", "si", "sr", "nr", "lo", "hi", "d"}) names.push_back(state + std::to_string(i));
  }
  return names;
}

std::string rollup_state_columns(size_t inputs) {
  std::string columns;
  for (const std::string& name : rollup_state_column_names(inputs)) columns += (columns.empty() ? "" : ", ") + name;
  return columns;
}

std::string rollup_column_sql(std::string_view name, const std::string& type, const std::string& collation) {
  std::string out = quote_identifier(name);
  if (!type.empty()) out += " " + type;
  if (!collation.empty()) out += " COLLATE " + collation;
  return out;
}

std::string rollup_data_table_sql(std::string_view schema_name, std::string_view rollup_name, const RollupSpec& spec) {
  std::string columns = rollup_column_sql("bucket", spec.bucket_type, spec.bucket_collation);
  for (size_t g = 0; g < spec.group_columns.size(); ++g) {
    columns += ", " + rollup_column_sql(rollup_key_column(g + 1), spec.group_types[g], spec.group_collations[g]);
  }
  columns += ", rows INTEGER NOT NULL";
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    const std::string n = std::to_string(i);
    const std::string& collation = spec.inputs[i].collation;
    columns += str_cat(", n", n, " INTEGER, si", n, ", sr", n, " REAL, nr", n, " INTEGER, ", rollup_column_sql("lo" + n, "", collation), ", ",
                       rollup_column_sql("hi" + n, "", collation), ", d", n, " BLOB");
  }
  // The index keeps its name when the rollup is renamed (and cannot be dropped then): a random
  // suffix leaves the old name free for a new rollup.
  uint32_t suffix = 0;
  sqlite3_randomness(sizeof suffix, &suffix);
  char hex[16];
  std::snprintf(hex, sizeof hex, "key_%08x", suffix);
  return str_cat("CREATE TABLE ", rollup_shadow(schema_name, rollup_name, "data"), "(", columns, ");",
                 "CREATE INDEX ", rollup_shadow(schema_name, rollup_name, hex), " ON ",
                 quote_identifier(str_cat(rollup_name, "_data")), "(", rollup_key_columns(spec.group_columns.size()), ");",
                 rollup_segment_tables_sql(schema_name, rollup_name, spec.bucket_type, spec.bucket_collation));
}

class RollupState {
 public:
  RollupState(sqlite3* db, std::string schema_name, std::string source_name, const columnar::TableSchema* schema, std::string name,
              RollupSpec spec)
      : db_(db), schema_name_(std::move(schema_name)), source_name_(std::move(source_name)), schema_(schema), name_(std::move(name)),
        spec_(std::move(spec)) {
    for (const MeasureInput& input : spec_.inputs) collations_.push_back(collation_of(input.collation));
  }

  const std::string& name() const { return name_; }
  const RollupSpec& spec() const { return spec_; }
  // Groups with changes that can be applied before the statement ends.
  size_t pending() const { return deltas_.size() - waiting_for_source_; }
  void discard() {
    deltas_.clear();
    waiting_for_source_ = 0;
  }

  // The bucket of `row`, into bucket_ for row_changed().
  Status compute_bucket(std::span<const ValueView> row) {
    const ValueView& time = row[spec_.bucket.column];
    if (spec_.bucket.kind != BucketSpec::Kind::kCalendar || time.type != ValueType::kInteger) {
      bucket_range_known_ = false;
      STRATA_ASSIGN_OR_RETURN(bucket_, spec_.bucket.bucket_of(time));
      return Status::ok();
    }
    // Calendar buckets of integer times: the last bucket's range answers most rows of a load
    // without formatting its text again.
    if (bucket_range_known_ && time.integer >= bucket_start_ && time.integer < bucket_end_) return Status::ok();
    STRATA_ASSIGN_OR_RETURN(bucket_, spec_.bucket.bucket_of(time));
    const std::optional<std::pair<int64_t, int64_t>> range = columnar::partition_range(spec_.bucket.calendar, bucket_);
    const int64_t unit = spec_.bucket.calendar.milliseconds ? 1000 : 1;
    bucket_range_known_ = range && !__builtin_mul_overflow(range->first, unit, &bucket_start_) &&
                          !__builtin_mul_overflow(range->second, unit, &bucket_end_);
    return Status::ok();
  }

  // A row added or removed, in bucket_.
  void row_changed(int sign, std::span<const ValueView> row) {
    // The plain encoding tells every value apart, so no two groups SQLite keeps apart share a
    // delta (groups it merges may have two, which the stored row then merges).
    key_.clear();
    put_value(key_, bucket_.view());
    for (int column : spec_.group_columns) put_value(key_, row[column]);
    auto [found, inserted] = deltas_.try_emplace(key_);
    GroupDelta& delta = found->second;
    if (inserted) {
      delta.bucket = bucket_;
      for (int column : spec_.group_columns) delta.groups.emplace_back(row[column]);
      delta.inputs.resize(spec_.inputs.size());
    }
    delta.rows += sign;
    for (size_t i = 0; i < spec_.inputs.size(); ++i) add_value(delta.inputs[i], i, row[spec_.inputs[i].column], sign);
  }

  // One value of input i added (sign +1) to or removed (-1) from a group's changes.
  void add_value(InputDelta& changes, size_t i, const ValueView& value, int sign) const {
    if (value.type == ValueType::kNull) return;
    const MeasureInput& input = spec_.inputs[i];
    changes.count += sign;
    if (input.keeps_sum) {
      SumTerm term = sum_term(value);
      if (term.integer) {
        changes.whole_sum += sign * static_cast<__int128>(term.whole);
      } else {
        changes.real_sum += sign * term.real;
        changes.real_count += sign;
      }
    }
    if (!input.keeps_extremes && !input.keeps_distinct) return;
    auto extend_extremes = [&] {
      if (!changes.added_min || compare_values(value, changes.added_min->view(), collations_[i]) < 0) changes.added_min = Value(value);
      if (!changes.added_max || compare_values(value, changes.added_max->view(), collations_[i]) > 0) changes.added_max = Value(value);
    };
    if (sign > 0 && !input.keeps_distinct && changes.removed.empty()) {  // no equality key needed
      extend_extremes();
      return;
    }
    std::string equal = equality_key(value, collations_[i]);
    if (sign < 0) {
      auto [entry, is_new] = changes.removed.try_emplace(std::move(equal), Value(value), 0);
      ++entry->second.second;
      return;
    }
    // A value removed earlier in the same changes and added back cancels out.
    if (!changes.removed.empty()) {
      auto entry = changes.removed.find(equal);
      if (entry != changes.removed.end() && --entry->second.second == 0) changes.removed.erase(entry);
    }
    if (input.keeps_extremes) extend_extremes();
    if (input.keeps_distinct) changes.added_hashes.add_hash(XXH3_64bits(equal.data(), equal.size()));
  }

  Status apply(bool may_read_source) {
    STRATA_RETURN_IF_ERROR(prepare());
    Status status;
    for (auto it = deltas_.begin(); it != deltas_.end();) {
      Result<bool> applied = apply_group(it->second, may_read_source);
      if (!applied.is_ok()) {
        status = applied.status();
        break;
      }
      if (*applied) {
        if (it->second.needs_source) --waiting_for_source_;
        it = deltas_.erase(it);
      } else {
        ++it;
      }
    }
    // A statement that reads the source holds the source's virtual table open: kept past this
    // call it would keep the source (which owns it) from ever being disconnected.
    recompute_by_value_ = Statement();
    recompute_by_range_ = Statement();
    recompute_all_ = Statement();
    STRATA_RETURN_IF_ERROR(status);
    return settle_if_due();
  }

 private:
  Status prepare() {
    if (lookup_.valid()) return Status::ok();
    const std::string data = rollup_shadow(schema_name_, name_, "data");
    // Parameters: the key columns ?1 … ?k, then the states (insert); the states ?1 …, then the
    // rowid (update).
    const size_t keys = spec_.group_columns.size() + 1;
    const std::string key_columns = rollup_key_columns(spec_.group_columns.size());
    const std::string states = rollup_state_columns(spec_.inputs.size());
    std::string where, key_values;
    for (size_t k = 0; k < keys; ++k) {
      where += str_cat(k ? " AND " : "", rollup_key_column(k), " IS ?", std::to_string(k + 1));
      key_values += str_cat(k ? ", ?" : "?", std::to_string(k + 1));
    }
    const std::vector<std::string> state_names = rollup_state_column_names(spec_.inputs.size());
    const size_t state_count = state_names.size();
    std::string state_values, assignments;
    for (size_t c = 0; c < state_count; ++c) {
      state_values += str_cat(c ? ", ?" : "?", std::to_string(keys + 1 + c));
      assignments += str_cat(c ? ", " : "", state_names[c], " = ?", std::to_string(c + 1));
    }
    STRATA_ASSIGN_OR_RETURN(lookup_, Statement::prepare_persistent(db_, str_cat("SELECT rowid, ", states, " FROM ", data, " WHERE ", where)));
    STRATA_ASSIGN_OR_RETURN(insert_, Statement::prepare_persistent(db_, str_cat("INSERT INTO ", data, "(", key_columns, ", ", states,
                                                                                ") VALUES (", key_values, ", ", state_values, ")")));
    STRATA_ASSIGN_OR_RETURN(update_, Statement::prepare_persistent(db_, str_cat("UPDATE ", data, " SET ", assignments,
                                                                                " WHERE rowid = ?", std::to_string(state_count + 1))));
    STRATA_ASSIGN_OR_RETURN(delete_, Statement::prepare_persistent(db_, str_cat("DELETE FROM ", data, " WHERE rowid = ?1")));
    STRATA_ASSIGN_OR_RETURN(segmented_, rollup_has_segments(db_, schema_name_, name_));
    if (!segmented_) return Status::ok();  // format 1: every row stays in the data table
    STRATA_ASSIGN_OR_RETURN(Statement meta, Statement::prepare(db_, str_cat("SELECT value FROM ", rollup_shadow(schema_name_, name_, "meta"),
                                                                            " WHERE key = 'segment_rows'")));
    STRATA_ASSIGN_OR_RETURN(bool found, meta.step());
    if (found) segment_rows_ = std::max<int64_t>(1, meta.column_int64(0));
    const std::string segments = rollup_shadow(schema_name_, name_, "segments");
    // The segment whose bucket range holds ?1: the last one starting at or before it (ranges do
    // not overlap), or the one starting with NULL buckets.
    STRATA_ASSIGN_OR_RETURN(find_segment_, Statement::prepare_persistent(
                                               db_, str_cat("SELECT id, rows FROM (SELECT id, rows, last_bucket FROM ", segments,
                                                            " WHERE first_bucket <= ?1 ORDER BY first_bucket DESC LIMIT 1) WHERE last_bucket >= ?1",
                                                            " UNION ALL SELECT id, rows FROM ", segments,
                                                            " WHERE first_bucket IS NULL AND (?1 IS NULL OR last_bucket >= ?1) LIMIT 1")));
    STRATA_RETURN_IF_ERROR(segment_columns_.open(db_, schema_name_, name_));
    return Status::ok();
  }

  // Writes rows `rows` of `columns` (the data table's columns, in order) to the data table.
  Status insert_hot(const std::vector<ColumnVector>& columns, std::span<const uint32_t> rows) {
    for (uint32_t r : rows) {  // the insert's parameters are the data table's columns in order
      insert_.reset();
      for (size_t c = 0; c < columns.size(); ++c) {
        STRATA_RETURN_IF_ERROR(columnar::bind_value_view(insert_, static_cast<int>(c + 1), columns[c].get(r)));
      }
      STRATA_RETURN_IF_ERROR(insert_.run());
    }
    insert_.reset();
    return Status::ok();
  }

  // Moves the segment whose bucket range holds `bucket` back to the data table (its rows are
  // written to again). Whether there was one.
  Result<bool> unsettle(const Value& bucket) {
    find_segment_.reset();
    STRATA_RETURN_IF_ERROR(columnar::bind_value_view(find_segment_, 1, bucket.view()));
    STRATA_ASSIGN_OR_RETURN(bool found, find_segment_.step());
    if (!found) return false;
    const int64_t id = find_segment_.column_int64(0);
    const int64_t rows = find_segment_.column_int64(1);
    find_segment_.reset();
    STRATA_ASSIGN_OR_RETURN(std::vector<ColumnVector> columns, read_segment(id, rows));
    std::vector<uint32_t> all(static_cast<size_t>(rows));
    for (uint32_t r = 0; r < all.size(); ++r) all[r] = r;
    STRATA_RETURN_IF_ERROR(insert_hot(columns, all));
    hot_added_ += rows;
    STRATA_RETURN_IF_ERROR(drop_segment(id));
    return true;
  }

  // Every column of a segment, decoded.
  Result<std::vector<ColumnVector>> read_segment(int64_t id, int64_t rows) {
    const size_t column_count = rollup_data_column_count(spec_.group_columns.size(), spec_.inputs.size());
    return segment_columns_.read_segment(id, static_cast<uint64_t>(rows), std::vector<bool>(column_count, true));
  }

  Status drop_segment(int64_t id) {
    return execute(db_, str_cat("DELETE FROM ", rollup_shadow(schema_name_, name_, "columns"), " WHERE cell >= ",
                                std::to_string(id * kCellsPerSegment), " AND cell < ", std::to_string((id + 1) * kCellsPerSegment),
                                "; DELETE FROM ", rollup_shadow(schema_name_, name_, "segments"), " WHERE id = ", std::to_string(id)));
  }

  // Settles the rows of every bucket but the newest into segments once more than twice
  // segment_rows rows are hot (rollup_segments.h).
  Status settle_if_due() {
    const int64_t settle_at = std::max<int64_t>(1, segment_rows_ / 8);
    if (!segmented_ || hot_added_ < settle_at) return Status::ok();
    hot_added_ = 0;
    const std::string data = rollup_shadow(schema_name_, name_, "data");
    const std::string segments = rollup_shadow(schema_name_, name_, "segments");
    // Hot rows of buckets before the newest (counted on the key index).
    STRATA_ASSIGN_OR_RETURN(Statement count, Statement::prepare(db_, str_cat("SELECT count(*) FROM ", data, " WHERE bucket IS NULL OR bucket < (SELECT bucket FROM ",
                                                                           data, " WHERE bucket IS NOT NULL ORDER BY bucket DESC LIMIT 1)")));
    STRATA_ASSIGN_OR_RETURN(bool counted, count.step());
    if (!counted || count.column_int64(0) < settle_at) return Status::ok();
    // Every hot row, read in table order (sequential, unlike the key index's) and sorted here.
    const size_t keys = spec_.group_columns.size() + 1;
    const size_t column_count = rollup_data_column_count(spec_.group_columns.size(), spec_.inputs.size());
    std::vector<ColumnVector> hot(column_count);
    {
      STRATA_ASSIGN_OR_RETURN(Statement rows, Statement::prepare(db_, str_cat("SELECT ", rollup_key_columns(spec_.group_columns.size()), ", ",
                                                                              rollup_state_columns(spec_.inputs.size()), " FROM ", data)));
      while (true) {
        STRATA_ASSIGN_OR_RETURN(bool has_row, rows.step());
        if (!has_row) break;
        for (size_t c = 0; c < column_count; ++c) hot[c].append(columnar::value_view_of(rows.column_value(static_cast<int>(c))));
      }
    }
    std::vector<Collation> key_collations = {collation_of(spec_.bucket_collation)};
    for (const std::string& collation : spec_.group_collations) key_collations.push_back(collation_of(collation));
    const Collation collation = key_collations[0];
    std::vector<uint32_t> order(hot[0].size());
    for (uint32_t r = 0; r < order.size(); ++r) order[r] = r;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      for (size_t k = 0; k < keys; ++k) {
        const int c = compare_values(hot[k].get(a), hot[k].get(b), key_collations[k]);
        if (c != 0) return c < 0;
      }
      return false;
    });
    // The newest bucket's rows (the last ones) stay hot.
    size_t settled = order.size();
    while (settled > 0 && compare_values(hot[0].get(order[settled - 1]), hot[0].get(order.back()), collation) == 0) --settled;
    if (settled == 0 || hot[0].get(order.back()).type == ValueType::kNull) return Status::ok();  // one bucket
    // A small last segment just before the rows settling is written again with them, so that
    // settling often (few rows stay hot) leaves no trail of small segments.
    {
      STRATA_ASSIGN_OR_RETURN(Statement select, Statement::prepare(db_, str_cat("SELECT id, rows, last_bucket FROM ", segments,
                                                                                " ORDER BY first_bucket DESC LIMIT 1")));
      STRATA_ASSIGN_OR_RETURN(bool found, select.step());
      if (found && select.column_int64(1) < segment_rows_ &&
          compare_values(columnar::value_view_of(select.column_value(2)), hot[0].get(order.front()), collation) < 0) {
        const int64_t id = select.column_int64(0);
        STRATA_ASSIGN_OR_RETURN(std::vector<ColumnVector> columns, read_segment(id, select.column_int64(1)));
        select.reset();
        std::vector<uint32_t> before(columns[0].size());
        const uint32_t first_index = static_cast<uint32_t>(hot[0].size());
        for (uint32_t r = 0; r < before.size(); ++r) {
          before[r] = first_index + r;
          for (size_t c = 0; c < column_count; ++c) hot[c].append(columns[c].get(r));
        }
        order.insert(order.begin(), before.begin(), before.end());
        settled += before.size();
        STRATA_RETURN_IF_ERROR(drop_segment(id));
      }
    }
    // Where existing segments start: a new segment must not span one.
    std::vector<Value> starts;
    {
      STRATA_ASSIGN_OR_RETURN(Statement select, Statement::prepare(db_, str_cat("SELECT first_bucket FROM ", segments,
                                                                                " WHERE first_bucket IS NOT NULL ORDER BY first_bucket")));
      while (true) {
        STRATA_ASSIGN_OR_RETURN(bool has_row, select.step());
        if (!has_row) break;
        starts.push_back(columnar::value_from_sqlite(select.column_value(0)));
      }
    }
    STRATA_ASSIGN_OR_RETURN(Statement next_id, Statement::prepare(db_, str_cat("SELECT coalesce(max(id), 0) + 1 FROM ", segments)));
    STRATA_ASSIGN_OR_RETURN(Statement add_segment, Statement::prepare(db_, str_cat("INSERT INTO ", segments,
                                                                                   "(id, first_bucket, last_bucket, rows) VALUES (?1, ?2, ?3, ?4)")));
    STRATA_ASSIGN_OR_RETURN(Statement add_cell, Statement::prepare(db_, str_cat("INSERT INTO ", rollup_shadow(schema_name_, name_, "columns"),
                                                                                "(cell, data) VALUES (?1, ?2)")));
    auto write_segment = [&](std::span<const uint32_t> rows) -> Status {
      next_id.reset();
      STRATA_ASSIGN_OR_RETURN(bool has_id, next_id.step());
      if (!has_id) return Status::internal("rollup: no segment id");
      const int64_t id = next_id.column_int64(0);
      next_id.reset();
      add_segment.reset();
      STRATA_RETURN_IF_ERROR(add_segment.bind_int64(1, id));
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(add_segment, 2, hot[0].get(rows.front())));
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(add_segment, 3, hot[0].get(rows.back())));
      STRATA_RETURN_IF_ERROR(add_segment.bind_int64(4, static_cast<int64_t>(rows.size())));
      STRATA_RETURN_IF_ERROR(add_segment.run());
      for (size_t c = 0; c < column_count; ++c) {
        // A count(DISTINCT) sketch is hashes or registers of random bits: zstd would not shrink it.
        const bool sketch = c > keys && (c - keys - 1) % kStatesPerInput == kStateSketch;
        const std::string blob = encode_column(hot[c].gather(rows), Compression{.zstd = !sketch});
        add_cell.reset();
        STRATA_RETURN_IF_ERROR(add_cell.bind_int64(1, id * kCellsPerSegment + static_cast<int64_t>(c)));
        STRATA_RETURN_IF_ERROR(add_cell.bind_blob(2, std::as_bytes(std::span(blob.data(), blob.size()))));
        STRATA_RETURN_IF_ERROR(add_cell.run());
      }
      return Status::ok();
    };
    size_t segment_start = 0;
    size_t next_start = 0;  // the first existing segment starting after the current segment's first bucket
    for (size_t i = 0; i < settled; ++i) {
      const ValueView bucket = hot[0].get(order[i]);
      if (i > segment_start && compare_values(bucket, hot[0].get(order[i - 1]), collation) != 0) {
        const bool spans_a_segment = next_start < starts.size() && compare_values(bucket, starts[next_start].view(), collation) > 0;
        if (i - segment_start >= static_cast<size_t>(segment_rows_) || spans_a_segment) {
          STRATA_RETURN_IF_ERROR(write_segment(std::span(order).subspan(segment_start, i - segment_start)));
          segment_start = i;
        }
      }
      if (i == segment_start) {
        while (bucket.type != ValueType::kNull && next_start < starts.size() && compare_values(starts[next_start].view(), bucket, collation) <= 0) {
          ++next_start;
        }
      }
    }
    STRATA_RETURN_IF_ERROR(write_segment(std::span(order).subspan(segment_start, settled - segment_start)));
    // Off the hot rows: when few stay, emptying the table (SQLite's truncation) and writing them
    // again costs less than deleting the others one by one.
    if (order.size() - settled <= settled) {
      STRATA_RETURN_IF_ERROR(execute(db_, str_cat("DELETE FROM ", data)));
      return insert_hot(hot, std::span(order).subspan(settled));
    }
    STRATA_ASSIGN_OR_RETURN(Statement remove, Statement::prepare(db_, str_cat("DELETE FROM ", data, " WHERE bucket < ?1 OR bucket IS NULL")));
    STRATA_RETURN_IF_ERROR(columnar::bind_value_view(remove, 1, hot[0].get(order.back())));
    return remove.run();
  }

  Status bind_key(Statement& statement, const GroupDelta& delta) {
    STRATA_RETURN_IF_ERROR(columnar::bind_value_view(statement, 1, delta.bucket.view()));
    for (size_t g = 0; g < delta.groups.size(); ++g) {
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(statement, static_cast<int>(g + 2), delta.groups[g].view()));
    }
    return Status::ok();
  }

  // Whether the group can be applied now (false: it needs the source, which may not be read).
  Result<bool> apply_group(GroupDelta& delta, bool may_read_source) {
    if (delta.needs_source && !may_read_source) return false;  // known: later changes keep it so
    lookup_.reset();
    STRATA_RETURN_IF_ERROR(bind_key(lookup_, delta));
    STRATA_ASSIGN_OR_RETURN(bool stored, lookup_.step());
    if (!stored && segmented_) {  // a settled group is written in the data table again
      lookup_.reset();
      STRATA_ASSIGN_OR_RETURN(bool moved, unsettle(delta.bucket));
      if (moved) {
        STRATA_ASSIGN_OR_RETURN(stored, lookup_.step());
      }
    }
    int64_t rowid = 0;
    GroupState state;
    state.inputs.resize(spec_.inputs.size());
    if (stored) {
      rowid = lookup_.column_int64(0);
      state.rows = lookup_.column_int64(1);
      for (size_t i = 0; i < spec_.inputs.size(); ++i) {
        const int c = static_cast<int>(2 + kStatesPerInput * i);
        GroupState::Input& input = state.inputs[i];
        input.count = lookup_.column_int64(c);
        input.whole_sum = columnar::value_from_sqlite(lookup_.column_value(c + kStateWholeSum));
        input.real_sum = lookup_.column_double(c + kStateRealSum);
        input.real_count = lookup_.column_int64(c + kStateRealCount);
        input.min = columnar::value_from_sqlite(lookup_.column_value(c + kStateMin));
        input.max = columnar::value_from_sqlite(lookup_.column_value(c + kStateMax));
        if (!lookup_.column_is_null(c + kStateSketch)) {
          Result<DistinctSketch> sketch = DistinctSketch::parse(lookup_.column_blob(c + kStateSketch));
          if (!sketch.is_ok()) return Status::corruption(str_cat("rollup ", name_, ": ", sketch.status().message()));
          input.distinct = std::move(*sketch);
        }
      }
    }
    lookup_.reset();

    // Whether a removed value may have been an extreme or is held by a distinct sketch.
    bool recompute = false;
    for (size_t i = 0; i < spec_.inputs.size(); ++i) {
      const MeasureInput& input = spec_.inputs[i];
      for (const auto& [key, removed] : delta.inputs[i].removed) {
        if (removed.second <= 0) continue;
        if (input.keeps_distinct) recompute = true;
        const ValueView value = removed.first.view();
        const GroupState::Input& held = state.inputs[i];
        if (input.keeps_extremes && (held.min.is_null() || compare_values(value, held.min.view(), collations_[i]) <= 0 ||
                                     held.max.is_null() || compare_values(value, held.max.view(), collations_[i]) >= 0)) {
          recompute = true;
        }
      }
    }
    if (recompute && !may_read_source) {
      delta.needs_source = true;
      ++waiting_for_source_;
      return false;
    }

    // The arithmetic merge.
    GroupState merged = state;
    merged.rows += delta.rows;
    for (size_t i = 0; i < spec_.inputs.size(); ++i) {
      const InputDelta& changes = delta.inputs[i];
      GroupState::Input& input = merged.inputs[i];
      input.count += changes.count;
      if (spec_.inputs[i].keeps_sum) {
        input.whole_sum = merged_whole_sum(input.whole_sum, changes.whole_sum);
        input.real_sum += changes.real_sum;
        input.real_count += changes.real_count;
      }
      if (changes.added_min && (input.min.is_null() || compare_values(changes.added_min->view(), input.min.view(), collations_[i]) < 0)) {
        input.min = *changes.added_min;
      }
      if (changes.added_max && (input.max.is_null() || compare_values(changes.added_max->view(), input.max.view(), collations_[i]) > 0)) {
        input.max = *changes.added_max;
      }
      if (spec_.inputs[i].keeps_distinct && !changes.added_hashes.empty()) {
        if (!input.distinct) input.distinct.emplace();
        input.distinct->merge(changes.added_hashes);
      }
      if (input.count <= 0) {  // no value left: nothing to bound
        input.min = Value();
        input.max = Value();
        input.distinct.reset();
        input.whole_sum = Value(ValueView::of_integer(0));
        input.real_sum = 0;
        input.real_count = 0;
      }
    }
    if (recompute && merged.rows > 0) {
      STRATA_ASSIGN_OR_RETURN(std::optional<GroupState> fresh, recompute_from_source(delta));
      // Equal row counts: the source holds every row the group was made of (none expired), so
      // the recomputed state is the exact one. Otherwise the extremes and sketch stay bounds.
      if (fresh && fresh->rows == merged.rows) merged = std::move(*fresh);
    }

    if (merged.rows <= 0) {
      if (stored) {
        delete_.reset();
        STRATA_RETURN_IF_ERROR(delete_.bind_int64(1, rowid));
        STRATA_RETURN_IF_ERROR(delete_.run());
      }
      return true;
    }
    Statement& write = stored ? update_ : insert_;
    write.reset();
    int p = 1;
    if (!stored) {
      STRATA_RETURN_IF_ERROR(bind_key(write, delta));
      p = static_cast<int>(delta.groups.size() + 2);
    }
    STRATA_RETURN_IF_ERROR(write.bind_int64(p++, merged.rows));
    for (size_t i = 0; i < spec_.inputs.size(); ++i) {
      const GroupState::Input& input = merged.inputs[i];
      STRATA_RETURN_IF_ERROR(write.bind_int64(p++, input.count));
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(write, p++, input.whole_sum.view()));
      STRATA_RETURN_IF_ERROR(write.bind_double(p++, input.real_sum));
      STRATA_RETURN_IF_ERROR(write.bind_int64(p++, input.real_count));
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(write, p++, input.min.view()));
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(write, p++, input.max.view()));
      if (input.distinct) {
        std::string blob = input.distinct->serialize();
        STRATA_RETURN_IF_ERROR(write.bind_blob(p++, std::as_bytes(std::span(blob.data(), blob.size()))));
      } else {
        STRATA_RETURN_IF_ERROR(write.bind_null(p++));
      }
    }
    if (stored) STRATA_RETURN_IF_ERROR(write.bind_int64(p++, rowid));
    if (!stored) ++hot_added_;
    STRATA_RETURN_IF_ERROR(write.run());
    write.reset();
    return true;
  }

  // The numeric [lo, hi) and text [lo, hi) ranges of the time column that hold every row of
  // `bucket` (a superset: rows are checked against the bucket after); empty ranges are (0, 0).
  struct TimeRanges {
    Value numeric_lo = Value(ValueView::of_integer(0)), numeric_hi = Value(ValueView::of_integer(0));
    Value text_lo = Value(ValueView::of_text("")), text_hi = Value(ValueView::of_text(""));
  };
  static std::string date_text(int64_t seconds) {
    const CivilDate date = civil_from_days(floor_div(seconds, 86400));
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%04lld-%02d-%02d", static_cast<long long>(date.year), date.month, date.day);
    return buffer;
  }
  static void set_text_range(TimeRanges& ranges, int64_t start_seconds, int64_t end_seconds) {
    // Text times carry a wall clock or an offset: a day either side covers both readings.
    ranges.text_lo = Value(ValueView::of_text(date_text(start_seconds - 86400)));
    ranges.text_hi = Value(ValueView::of_text(date_text(end_seconds + 2 * 86400)));
  }
  std::optional<TimeRanges> time_ranges(const Value& bucket) const {
    TimeRanges ranges;
    const BucketSpec& spec = spec_.bucket;
    if (spec.kind == BucketSpec::Kind::kCalendar) {
      std::optional<std::pair<int64_t, int64_t>> range = columnar::partition_range(spec.calendar, bucket);
      if (!range) return std::nullopt;
      const int64_t unit = spec.calendar.milliseconds ? 1000 : 1;
      auto scaled = [&](int64_t seconds) {  // saturating: the range only needs to cover the bucket
        int64_t out = 0;
        return __builtin_mul_overflow(seconds, unit, &out) ? (seconds < 0 ? INT64_MIN : INT64_MAX) : out;
      };
      ranges.numeric_lo = Value(ValueView::of_integer(scaled(range->first)));
      ranges.numeric_hi = Value(ValueView::of_integer(scaled(range->second)));
      set_text_range(ranges, range->first, range->second);
      return ranges;
    }
    const TimeBucketSpec& time_bucket = spec.time_bucket;
    // Past the end of any bucket that starts at `start`: a fixed width, or 31 days a month.
    const int64_t span = time_bucket.width.millis + time_bucket.width.months * 31 * 86'400'000;
    if (bucket.type == ValueType::kText) {
      std::optional<TextTime> start = parse_text_time(bucket.bytes);
      if (!start) return std::nullopt;
      set_text_range(ranges, floor_div(start->millis, 1000), floor_div(start->millis + span, 1000));
      return ranges;
    }
    if (bucket.type == ValueType::kInteger) {
      ranges.numeric_lo = bucket;
      ranges.numeric_hi = Value(ValueView::of_integer(bucket.integer + span / time_bucket.unit_millis + 1));
      return ranges;
    }
    if (bucket.type == ValueType::kReal) {
      ranges.numeric_lo = bucket;
      ranges.numeric_hi = Value(ValueView::of_real(bucket.real + static_cast<double>(span) / static_cast<double>(time_bucket.unit_millis) + 1));
      return ranges;
    }
    return std::nullopt;
  }

  // The group's state from the source rows (nullopt: the bucket's rows cannot be selected).
  Result<std::optional<GroupState>> recompute_from_source(const GroupDelta& delta) {
    const bool column_bucket = spec_.bucket.kind == BucketSpec::Kind::kColumn;
    std::optional<TimeRanges> ranges;
    if (!column_bucket && !delta.bucket.is_null()) {
      ranges = time_ranges(delta.bucket);
      if (!ranges) return std::optional<GroupState>();
    }
    Statement& select = column_bucket ? recompute_by_value_ : (ranges ? recompute_by_range_ : recompute_all_);
    if (!select.valid()) {
      const std::string source = str_cat(quote_identifier(schema_name_), ".", quote_identifier(source_name_));
      auto name_of = [&](int column) { return quote_identifier(column_name(column)); };
      std::string columns = name_of(spec_.bucket.column);
      for (const MeasureInput& input : spec_.inputs) columns += ", " + name_of(input.column);
      std::string where = "1";
      for (size_t g = 0; g < spec_.group_columns.size(); ++g) {
        where += str_cat(" AND ", name_of(spec_.group_columns[g]), " IS ?", std::to_string(g + 1));
      }
      const std::string time = name_of(spec_.bucket.column);
      const std::string p = std::to_string(spec_.group_columns.size() + 1);
      const std::string q = std::to_string(spec_.group_columns.size() + 2);
      const std::string r = std::to_string(spec_.group_columns.size() + 3);
      const std::string s = std::to_string(spec_.group_columns.size() + 4);
      std::string sql;
      if (column_bucket) {
        sql = str_cat("SELECT ", columns, " FROM ", source, " WHERE ", where, " AND ", time, " IS ?", p);
      } else if (ranges) {
        sql = str_cat("SELECT ", columns, " FROM ", source, " WHERE ", where, " AND ", time, " >= ?", p, " AND ", time, " < ?", q,
                      " UNION ALL SELECT ", columns, " FROM ", source, " WHERE ", where, " AND ", time, " >= ?", r, " AND ", time,
                      " < ?", s);
      } else {
        sql = str_cat("SELECT ", columns, " FROM ", source, " WHERE ", where);
      }
      STRATA_ASSIGN_OR_RETURN(select, Statement::prepare(db_, sql));
    }
    select.reset();
    for (size_t g = 0; g < delta.groups.size(); ++g) {
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(select, static_cast<int>(g + 1), delta.groups[g].view()));
    }
    const int p = static_cast<int>(delta.groups.size() + 1);
    if (column_bucket) {
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(select, p, delta.bucket.view()));
    } else if (ranges) {
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(select, p, ranges->numeric_lo.view()));
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(select, p + 1, ranges->numeric_hi.view()));
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(select, p + 2, ranges->text_lo.view()));
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(select, p + 3, ranges->text_hi.view()));
    }
    // The rows are fed through a delta of their own, then merged onto an empty state.
    GroupDelta fresh;
    fresh.inputs.resize(spec_.inputs.size());
    std::vector<ValueView> row_values(1 + spec_.inputs.size());  // into the statement's row
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool has_row, select.step());
      if (!has_row) break;
      for (size_t c = 0; c < row_values.size(); ++c) row_values[c] = columnar::value_view_of(select.column_value(static_cast<int>(c)));
      if (!column_bucket) {
        STRATA_ASSIGN_OR_RETURN(Value bucket, spec_.bucket.bucket_of(row_values[0]));
        if (bucket.type != delta.bucket.type || compare_values(bucket.view(), delta.bucket.view(), Collation::kBinary) != 0) continue;
      }
      ++fresh.rows;
      for (size_t i = 0; i < spec_.inputs.size(); ++i) add_value(fresh.inputs[i], i, row_values[i + 1], +1);
    }
    select.reset();
    GroupState state;
    state.rows = fresh.rows;
    state.inputs.resize(spec_.inputs.size());
    for (size_t i = 0; i < spec_.inputs.size(); ++i) {
      InputDelta& changes = fresh.inputs[i];
      GroupState::Input& input = state.inputs[i];
      input.count = changes.count;
      input.whole_sum = merged_whole_sum(Value(ValueView::of_integer(0)), changes.whole_sum);
      input.real_sum = changes.real_sum;
      input.real_count = changes.real_count;
      if (changes.added_min) input.min = *changes.added_min;
      if (changes.added_max) input.max = *changes.added_max;
      if (spec_.inputs[i].keeps_distinct && changes.count > 0) input.distinct = std::move(changes.added_hashes);
    }
    return std::optional<GroupState>(std::move(state));
  }

  const std::string& column_name(int column) const { return schema_->columns[column].name; }

  sqlite3* db_;
  std::string schema_name_;
  std::string source_name_;
  const columnar::TableSchema* schema_;
  std::string name_;
  RollupSpec spec_;
  std::vector<Collation> collations_;
  std::unordered_map<std::string, GroupDelta> deltas_;
  size_t waiting_for_source_ = 0;  // deltas that need_source
  std::string key_;  // row_changed()'s scratch
  Value bucket_;  // compute_bucket()'s; with a calendar bucket, its [start, end) when known
  bool bucket_range_known_ = false;
  int64_t bucket_start_ = 0, bucket_end_ = 0;
  Statement lookup_, insert_, update_, delete_;
  // Segments (rollup_segments.h): whether the rollup has them, their size, rows made hot since
  // settling was last considered.
  bool segmented_ = false;
  int64_t segment_rows_ = kDefaultSegmentRows;
  int64_t hot_added_ = 0;
  Statement find_segment_;
  SegmentColumns segment_columns_;
  Statement recompute_by_value_, recompute_by_range_, recompute_all_;
};

RollupMaintenance::RollupMaintenance(sqlite3* db, std::string schema_name, std::string source_name,
                                     const columnar::TableSchema* schema)
    : db_(db), schema_name_(std::move(schema_name)), source_name_(std::move(source_name)), schema_(schema) {}

RollupMaintenance::~RollupMaintenance() = default;

std::vector<std::string> RollupMaintenance::names() const {
  std::vector<std::string> names;
  for (const auto& rollup : rollups_) names.push_back(rollup->name());
  return names;
}

Status RollupMaintenance::add(const std::string& rollup_name, const RollupSpec& spec) {
  rollups_.push_back(std::make_unique<RollupState>(db_, schema_name_, source_name_, schema_, rollup_name, spec));
  update_columns_read();
  return Status::ok();
}

Status RollupMaintenance::reload() {
  // Once per write transaction: the statement is kept (it reads the meta table only).
  if (!list_rollups_.valid()) {
    STRATA_ASSIGN_OR_RETURN(list_rollups_, Statement::prepare_persistent(
                                               db_, str_cat("SELECT substr(key, 8), value FROM ", quote_identifier(schema_name_), ".",
                                                            quote_identifier(source_name_ + "_meta"),
                                                            " WHERE key >= 'rollup:' AND key < 'rollup;' ORDER BY key")));
  }
  Statement& select = list_rollups_;
  select.reset();
  struct ResetAfter {
    Statement& statement;
    ~ResetAfter() { statement.reset(); }
  } reset_after{select};
  std::vector<std::unique_ptr<RollupState>> kept;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool has_row, select.step());
    if (!has_row) break;
    std::string name(select.column_text(0));
    std::string definition(select.column_text(1));
    auto same = std::find_if(rollups_.begin(), rollups_.end(), [&](const std::unique_ptr<RollupState>& rollup) {
      return rollup && rollup->name() == name && rollup->spec().definition() == definition;
    });
    if (same != rollups_.end()) {
      kept.push_back(std::move(*same));
      continue;
    }
    Result<RollupSpec> spec = parse_rollup_definition(definition, *schema_);
    if (!spec.is_ok()) {
      return Status(spec.status().code(), str_cat("rollup ", name, " of ", source_name_, ": ", spec.status().message()));
    }
    kept.push_back(std::make_unique<RollupState>(db_, schema_name_, source_name_, schema_, name, std::move(*spec)));
  }
  rollups_ = std::move(kept);
  update_columns_read();
  return Status::ok();
}

void RollupMaintenance::update_columns_read() {
  std::vector<int> columns;
  for (const auto& rollup : rollups_) {
    const RollupSpec& spec = rollup->spec();
    columns.push_back(spec.bucket.column);
    columns.insert(columns.end(), spec.group_columns.begin(), spec.group_columns.end());
    for (const MeasureInput& input : spec.inputs) columns.push_back(input.column);
  }
  std::sort(columns.begin(), columns.end());
  columns.erase(std::unique(columns.begin(), columns.end()), columns.end());
  columns_read_ = std::move(columns);
}

Status RollupMaintenance::row_changed(int sign, std::span<const ValueView> row) {
  // Every bucket first: a row whose bucket cannot be computed changes no rollup.
  for (auto& rollup : rollups_) STRATA_RETURN_IF_ERROR(rollup->compute_bucket(row));
  for (auto& rollup : rollups_) rollup->row_changed(sign, row);
  if (++changes_since_check_ < 4096) return Status::ok();
  changes_since_check_ = 0;
  if (pending_groups() < kApplyThresholdGroups) return Status::ok();
  return apply(false);
}

size_t RollupMaintenance::pending_groups() const {
  size_t groups = 0;
  for (const auto& rollup : rollups_) groups += rollup->pending();
  return groups;
}

Status RollupMaintenance::apply(bool may_read_source) {
  changes_since_check_ = 0;
  for (auto& rollup : rollups_) STRATA_RETURN_IF_ERROR(rollup->apply(may_read_source));
  return Status::ok();
}

void RollupMaintenance::discard() {
  for (auto& rollup : rollups_) rollup->discard();
}

}  // namespace strata::timeseries
