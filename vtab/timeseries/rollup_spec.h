// What a rollup computes (docs/timeseries.md, "Rollups"): its source, its bucket, its group
// columns and its measures, parsed from `USING rollup(source=…, bucket=…, group_by=…,
// measures=…)` and resolved against the source's columns.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "codecs/column_vector.h"
#include "codecs/value_compare.h"
#include "ext/status.h"
#include "vtab/columnar/schema.h"
#include "vtab/timeseries/time_bucket.h"

namespace strata::timeseries {

// bucket='hour(ts)' (hour/day/month/year, _ms for unix milliseconds: the partition_by forms),
// 'time_bucket(''15 minutes'', ts [, origin])' / time_bucket_ms(…), or a column itself.
struct BucketSpec {
  enum class Kind { kColumn, kCalendar, kTimeBucket };
  Kind kind = Kind::kColumn;
  int column = -1;                       // the source column it is computed from
  columnar::PartitionSpec calendar;      // kCalendar
  TimeBucketSpec time_bucket;            // kTimeBucket
  std::string text;                      // as written

  // The bucket of a row whose time column holds `value` (NULL: not a time).
  Result<Value> bucket_of(const ValueView& value) const;
};

enum class MeasureKind { kCountRows, kCount, kSum, kMin, kMax, kAvg, kCountDistinct };

// A source column some measure reads, and which states of it the rollup keeps.
struct MeasureInput {
  int column = -1;
  std::string name;
  std::string collation;  // the column's (empty: BINARY)
  bool keeps_sum = false;       // sum, avg
  bool keeps_extremes = false;  // min, max
  bool keeps_distinct = false;  // count(DISTINCT)
};

struct Measure {
  MeasureKind kind = MeasureKind::kCountRows;
  int input = -1;      // into RollupSpec::inputs (-1 for count(*))
  std::string name;    // the output column: count, count_x, sum_x, min_x, max_x, avg_x, count_distinct_x
};

struct RollupSpec {
  std::string source;
  BucketSpec bucket;
  std::vector<int> group_columns;
  std::vector<std::string> group_names;
  std::vector<std::string> group_collations;
  std::vector<std::string> group_types;  // declared types, so comparisons apply the same affinity
  std::string bucket_type;               // the bucket column's declared type (a column bucket's)
  std::string bucket_collation;
  std::vector<MeasureInput> inputs;
  std::vector<Measure> measures;
  std::string group_by_text;
  std::string measures_text;

  // The options as the source's meta table records them (parse_rollup_definition reads it back).
  std::string definition() const;
};

// Parses and checks the options against the source's schema; errors name the rollup module,
// the option and what is allowed.
Result<RollupSpec> parse_rollup_spec(std::string_view source, std::string_view bucket, std::string_view group_by,
                                     std::string_view measures, const columnar::TableSchema& schema);
// The same from RollupSpec::definition()'s text.
Result<RollupSpec> parse_rollup_definition(std::string_view definition, const columnar::TableSchema& schema);

}  // namespace strata::timeseries
