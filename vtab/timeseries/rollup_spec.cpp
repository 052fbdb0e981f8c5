#include "vtab/timeseries/rollup_spec.h"

#include <algorithm>
#include <set>

#include "ext/module_arguments.h"
#include "ext/sql_tokenizer.h"
#include "ext/str_cat.h"
#include "vtab/columnar/partition.h"

namespace strata::timeseries {

namespace {

Status spec_error(std::string_view option, std::string_view text, std::string_view allowed) {
  return Status::error(str_cat("rollup: option '", option, "' ", allowed, "; got '", text, "'"));
}

constexpr std::string_view kBucketForms =
    "must be a column, hour(col), day(col), month(col) or year(col) (hour_ms(col) … for unix milliseconds), "
    "or time_bucket('<width>', col [, origin]) / time_bucket_ms(…)";

Result<int> source_column(const columnar::TableSchema& schema, std::string_view option, const SqlToken& token,
                          std::string_view text) {
  if (!token.is_name() || token.kind == SqlTokenKind::kString) {
    return spec_error(option, text, "names a column of the source");
  }
  const std::string name = token.identifier();
  const int column = schema.column_index(name);
  if (column < 0) {
    std::string columns;
    for (const columnar::ColumnDefinition& definition : schema.columns) columns += str_cat(columns.empty() ? "" : ", ", definition.name);
    return Status::error(str_cat("rollup: option '", option, "' names no column of the source: '", name,
                                 "' (the source has: ", columns, ")"));
  }
  return column;
}

Value literal_value(const SqlToken& token, bool negative) {
  if (token.kind == SqlTokenKind::kString) return Value(ValueView::of_text(token.identifier()));
  std::string text(token.text);
  if (std::optional<int64_t> integer = parse_int64(text)) return Value(ValueView::of_integer(negative ? -*integer : *integer));
  char* end = nullptr;
  double real = std::strtod(text.c_str(), &end);
  return Value(ValueView::of_real(negative ? -real : real));
}

Result<BucketSpec> parse_bucket(std::string_view text, const columnar::TableSchema& schema) {
  BucketSpec spec;
  spec.text = std::string(trim_sql_space(text));
  Result<std::vector<SqlToken>> tokenized = tokenize_sql(text);
  if (!tokenized.is_ok() || tokenized->empty()) return spec_error("bucket", text, kBucketForms);
  const std::vector<SqlToken>& t = *tokenized;
  if (t.size() == 1) {
    spec.kind = BucketSpec::Kind::kColumn;
    STRATA_ASSIGN_OR_RETURN(spec.column, source_column(schema, "bucket", t[0], text));
    return spec;
  }
  if (t[0].kind != SqlTokenKind::kWord || t.size() < 4 || t[1].kind != SqlTokenKind::kLeftParen ||
      t.back().kind != SqlTokenKind::kRightParen) {
    return spec_error("bucket", text, kBucketForms);
  }
  std::string function(t[0].text);
  std::transform(function.begin(), function.end(), function.begin(), [](unsigned char c) { return std::tolower(c); });
  // The arguments between the parentheses, split at commas (each one token, or '-' and a number).
  std::vector<std::vector<SqlToken>> arguments(1);
  for (size_t i = 2; i + 1 < t.size(); ++i) {
    if (t[i].kind == SqlTokenKind::kComma) {
      arguments.emplace_back();
    } else {
      arguments.back().push_back(t[i]);
    }
  }
  if (function == "time_bucket" || function == "time_bucket_ms") {
    if (arguments.size() < 2 || arguments.size() > 3) return spec_error("bucket", text, kBucketForms);
    auto literal = [&](const std::vector<SqlToken>& argument) -> std::optional<Value> {
      if (argument.size() == 1 && (argument[0].kind == SqlTokenKind::kString || argument[0].kind == SqlTokenKind::kNumber)) {
        return literal_value(argument[0], false);
      }
      if (argument.size() == 2 && argument[0].text == "-" && argument[1].kind == SqlTokenKind::kNumber) {
        return literal_value(argument[1], true);
      }
      return std::nullopt;
    };
    std::optional<Value> width = literal(arguments[0]);
    if (!width) return spec_error("bucket", text, "takes the width of time_bucket as a literal such as '1 hour'");
    if (arguments[1].size() != 1) return spec_error("bucket", text, kBucketForms);
    STRATA_ASSIGN_OR_RETURN(spec.column, source_column(schema, "bucket", arguments[1][0], text));
    std::optional<Value> origin;
    if (arguments.size() == 3) {
      origin = literal(arguments[2]);
      if (!origin) return spec_error("bucket", text, "takes the origin of time_bucket as a literal such as '2000-01-03'");
    }
    Result<TimeBucketSpec> parsed = time_bucket_spec(function, width->view(),
                                                     origin ? std::optional(origin->view()) : std::nullopt);
    if (!parsed.is_ok()) return Status::error(str_cat("rollup: option 'bucket': ", parsed.status().message()));
    spec.kind = BucketSpec::Kind::kTimeBucket;
    spec.time_bucket = std::move(*parsed);
    return spec;
  }
  bool milliseconds = function.ends_with("_ms");
  std::string unit = milliseconds ? function.substr(0, function.size() - 3) : function;
  columnar::PartitionUnit partition_unit;
  if (unit == "hour") partition_unit = columnar::PartitionUnit::kHour;
  else if (unit == "day") partition_unit = columnar::PartitionUnit::kDay;
  else if (unit == "month") partition_unit = columnar::PartitionUnit::kMonth;
  else if (unit == "year") partition_unit = columnar::PartitionUnit::kYear;
  else return spec_error("bucket", text, kBucketForms);
  if (arguments.size() != 1 || arguments[0].size() != 1) return spec_error("bucket", text, kBucketForms);
  STRATA_ASSIGN_OR_RETURN(spec.column, source_column(schema, "bucket", arguments[0][0], text));
  spec.kind = BucketSpec::Kind::kCalendar;
  spec.calendar.column = spec.column;
  spec.calendar.unit = partition_unit;
  spec.calendar.milliseconds = milliseconds;
  spec.calendar.text = spec.text;
  return spec;
}

constexpr std::string_view kMeasureForms =
    "lists count(*), count(col), sum(col), min(col), max(col), avg(col) or count(DISTINCT col), separated by commas";

}  // namespace

Result<Value> BucketSpec::bucket_of(const ValueView& value) const {
  switch (kind) {
    case Kind::kColumn: return Value(value);
    case Kind::kCalendar: return columnar::partition_key(calendar, value);
    case Kind::kTimeBucket: return time_bucket_of(time_bucket, value);
  }
  return Value();
}

Result<RollupSpec> parse_rollup_spec(std::string_view source, std::string_view bucket, std::string_view group_by,
                                     std::string_view measures, const columnar::TableSchema& schema) {
  RollupSpec spec;
  spec.source = std::string(source);
  STRATA_ASSIGN_OR_RETURN(spec.bucket, parse_bucket(bucket, schema));
  const columnar::ColumnDefinition& time_column = schema.columns[spec.bucket.column];
  if (spec.bucket.kind == BucketSpec::Kind::kColumn) {
    spec.bucket_type = time_column.declared_type;
    spec.bucket_collation = time_column.collation;
  } else if (spec.bucket.kind == BucketSpec::Kind::kCalendar) {
    spec.bucket_type = "TEXT";  // always text (or NULL): compared as text whatever the other side
  }
  std::set<std::string> names{"bucket"};
  auto claim_name = [&](const std::string& name, std::string_view option, std::string_view text) -> Status {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!names.insert(lower).second) {
      return Status::error(str_cat("rollup: option '", option, "' gives the column '", name, "' twice (or one named bucket); got '",
                                   text, "'"));
    }
    return Status::ok();
  };

  spec.group_by_text = std::string(trim_sql_space(group_by));
  if (!spec.group_by_text.empty()) {
    Result<std::vector<SqlToken>> tokens = tokenize_sql(group_by);
    if (!tokens.is_ok()) return spec_error("group_by", group_by, "lists source columns separated by commas");
    for (size_t i = 0; i < tokens->size(); ++i) {
      const SqlToken& token = (*tokens)[i];
      if (i % 2 == 1) {
        if (token.kind != SqlTokenKind::kComma || i + 1 == tokens->size()) {
          return spec_error("group_by", group_by, "lists source columns separated by commas");
        }
        continue;
      }
      STRATA_ASSIGN_OR_RETURN(int column, source_column(schema, "group_by", token, group_by));
      const columnar::ColumnDefinition& definition = schema.columns[column];
      STRATA_RETURN_IF_ERROR(claim_name(definition.name, "group_by", group_by));
      spec.group_columns.push_back(column);
      spec.group_names.push_back(definition.name);
      spec.group_collations.push_back(definition.collation);
      spec.group_types.push_back(definition.declared_type);
    }
  }

  spec.measures_text = std::string(trim_sql_space(measures));
  Result<std::vector<SqlToken>> tokenized = tokenize_sql(measures);
  if (!tokenized.is_ok() || tokenized->empty()) return spec_error("measures", measures, kMeasureForms);
  const std::vector<SqlToken>& t = *tokenized;
  size_t i = 0;
  while (i < t.size()) {
    // name ( [DISTINCT] column | * )
    if (i + 3 >= t.size() || t[i].kind != SqlTokenKind::kWord || t[i + 1].kind != SqlTokenKind::kLeftParen) {
      return spec_error("measures", measures, kMeasureForms);
    }
    std::string function(t[i].text);
    std::transform(function.begin(), function.end(), function.begin(), [](unsigned char c) { return std::tolower(c); });
    i += 2;
    bool distinct = false;
    if (t[i].is_keyword("DISTINCT")) {
      distinct = true;
      ++i;
    }
    if (i + 1 >= t.size() || t[i + 1].kind != SqlTokenKind::kRightParen) return spec_error("measures", measures, kMeasureForms);
    Measure measure;
    if (t[i].text == "*") {
      if (function != "count" || distinct) return spec_error("measures", measures, kMeasureForms);
      measure.kind = MeasureKind::kCountRows;
      measure.name = "count";
    } else {
      STRATA_ASSIGN_OR_RETURN(int column, source_column(schema, "measures", t[i], measures));
      const columnar::ColumnDefinition& definition = schema.columns[column];
      if (distinct && function != "count") return spec_error("measures", measures, kMeasureForms);
      if (function == "count") measure.kind = distinct ? MeasureKind::kCountDistinct : MeasureKind::kCount;
      else if (function == "sum") measure.kind = MeasureKind::kSum;
      else if (function == "min") measure.kind = MeasureKind::kMin;
      else if (function == "max") measure.kind = MeasureKind::kMax;
      else if (function == "avg") measure.kind = MeasureKind::kAvg;
      else return spec_error("measures", measures, kMeasureForms);
      if ((measure.kind == MeasureKind::kMin || measure.kind == MeasureKind::kMax || distinct) &&
          !columnar::builtin_collation(definition.collation)) {
        return Status::error(str_cat("rollup: option 'measures': ", function, "(", distinct ? "DISTINCT " : "", definition.name,
                                     ") needs a built-in collation (BINARY, NOCASE, RTRIM); the column has ", definition.collation));
      }
      auto found = std::find_if(spec.inputs.begin(), spec.inputs.end(), [&](const MeasureInput& input) { return input.column == column; });
      if (found == spec.inputs.end()) {
        MeasureInput input;
        input.column = column;
        input.name = definition.name;
        input.collation = definition.collation;
        found = spec.inputs.insert(spec.inputs.end(), std::move(input));
      }
      measure.input = static_cast<int>(found - spec.inputs.begin());
      found->keeps_sum |= measure.kind == MeasureKind::kSum || measure.kind == MeasureKind::kAvg;
      found->keeps_extremes |= measure.kind == MeasureKind::kMin || measure.kind == MeasureKind::kMax;
      found->keeps_distinct |= measure.kind == MeasureKind::kCountDistinct;
      static constexpr const char* kPrefix[] = {"count", "count_", "sum_", "min_", "max_", "avg_", "count_distinct_"};
      measure.name = str_cat(kPrefix[static_cast<int>(measure.kind)], definition.name);
    }
    STRATA_RETURN_IF_ERROR(claim_name(measure.name, "measures", measures));
    spec.measures.push_back(std::move(measure));
    i += 2;
    if (i < t.size()) {
      if (t[i].kind != SqlTokenKind::kComma || i + 1 == t.size()) return spec_error("measures", measures, kMeasureForms);
      ++i;
    }
  }
  return spec;
}

std::string RollupSpec::definition() const {
  auto flat = [](std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
  };
  return str_cat(flat(source), "\n", flat(bucket.text), "\n", flat(group_by_text), "\n", flat(measures_text));
}

Result<RollupSpec> parse_rollup_definition(std::string_view definition, const columnar::TableSchema& schema) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = definition.find('\n', start);
    parts.push_back(definition.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (parts.size() != 4) return Status::corruption("rollup: a rollup definition in the source's meta table is damaged");
  return parse_rollup_spec(parts[0], parts[1], parts[2], parts[3], schema);
}

}  // namespace strata::timeseries
