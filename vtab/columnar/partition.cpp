#include "vtab/columnar/partition.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

#include "ext/civil_time.h"

namespace strata::columnar {

namespace {

struct CivilTime {
  int64_t year;
  int month;
  int day;
  int hour;
};

CivilTime civil_from_seconds(int64_t seconds) {
  int64_t days = seconds / 86400, second_of_day = seconds % 86400;  // no overflow at INT64_MIN
  if (second_of_day < 0) {
    second_of_day += 86400;
    days -= 1;
  }
  const CivilDate date = civil_from_days(days);
  return {date.year, date.month, date.day, static_cast<int>(second_of_day / 3600)};
}

// 'YYYY-MM-DD', optionally followed by 'T' or ' ' and 'HH…'. Time zones are not converted: the
// partition is that of the wall-clock time written.
std::optional<CivilTime> parse_iso8601(std::string_view text) {
  CivilTime time{0, 0, 0, 0};
  int year = 0;
  if (!parse_digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!parse_digits(text, 5, 2, time.month) || !parse_digits(text, 8, 2, time.day)) return std::nullopt;
  if (time.month < 1 || time.month > 12 || time.day < 1 || time.day > 31) return std::nullopt;
  time.year = year;
  if (text.size() > 10) {
    if ((text[10] != 'T' && text[10] != ' ') || !parse_digits(text, 11, 2, time.hour) || time.hour > 23) {
      return std::nullopt;
    }
  }
  return time;
}

}  // namespace

Value partition_key(const PartitionSpec& spec, const ValueView& value) {
  if (spec.unit == PartitionUnit::kValue) return Value(value);
  std::optional<CivilTime> time;
  if (value.type == ValueType::kInteger) {
    int64_t seconds = spec.milliseconds ? value.integer / 1000 - (value.integer % 1000 < 0 ? 1 : 0)
                                        : value.integer;
    time = civil_from_seconds(seconds);
  } else if (value.type == ValueType::kReal && std::isfinite(value.real) &&
             std::fabs(value.real) < 9.2e18) {
    double seconds = spec.milliseconds ? value.real / 1000.0 : value.real;
    time = civil_from_seconds(static_cast<int64_t>(std::floor(seconds)));
  } else if (value.type == ValueType::kText) {
    time = parse_iso8601(value.bytes);
  }
  if (!time) return Value();
  char buffer[64];
  long long year = static_cast<long long>(time->year);
  switch (spec.unit) {
    case PartitionUnit::kHour:
      std::snprintf(buffer, sizeof buffer, "%04lld-%02d-%02dT%02d", year, time->month, time->day, time->hour);
      break;
    case PartitionUnit::kDay:
      std::snprintf(buffer, sizeof buffer, "%04lld-%02d-%02d", year, time->month, time->day);
      break;
    case PartitionUnit::kMonth: std::snprintf(buffer, sizeof buffer, "%04lld-%02d", year, time->month); break;
    default: std::snprintf(buffer, sizeof buffer, "%04lld", year); break;
  }
  return Value(ValueView::of_text(buffer));
}

std::optional<std::pair<int64_t, int64_t>> partition_range(const PartitionSpec& spec, const Value& partition) {
  if (spec.unit == PartitionUnit::kValue || partition.type != ValueType::kText) return std::nullopt;
  // The year as partition_key writes it: at least four digits, with a sign when negative.
  std::string_view text = partition.bytes;
  size_t at = text.starts_with('-') ? 1 : 0;
  int64_t year = 0;
  const size_t year_start = at;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9' && at - year_start < 12) year = year * 10 + (text[at++] - '0');
  if (at - year_start < 4) return std::nullopt;
  if (year_start == 1) year = -year;
  int month = 1, day = 1, hour = 0;
  std::string_view rest = text.substr(at);
  const bool parsed = spec.unit == PartitionUnit::kYear    ? rest.empty()
                      : spec.unit == PartitionUnit::kMonth ? rest.size() == 3 && rest[0] == '-' && parse_digits(rest, 1, 2, month)
                      : spec.unit == PartitionUnit::kDay   ? rest.size() == 6 && rest[0] == '-' && parse_digits(rest, 1, 2, month) &&
                                                               rest[3] == '-' && parse_digits(rest, 4, 2, day)
                                                             : rest.size() == 9 && rest[0] == '-' && parse_digits(rest, 1, 2, month) &&
                                                               rest[3] == '-' && parse_digits(rest, 4, 2, day) && rest[6] == 'T' &&
                                                               parse_digits(rest, 7, 2, hour);
  if (!parsed || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23) return std::nullopt;
  const int64_t start = days_from_civil(year, month, day) * 86400 + hour * 3600;
  switch (spec.unit) {
    case PartitionUnit::kHour: return std::pair(start, start + 3600);
    case PartitionUnit::kDay: return std::pair(start, start + 86400);
    case PartitionUnit::kMonth:
      return std::pair(start, days_from_civil(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1) * 86400);
    default: return std::pair(start, days_from_civil(year + 1, 1, 1) * 86400);
  }
}

std::optional<int64_t> partition_end(const PartitionSpec& spec, const Value& partition) {
  std::optional<std::pair<int64_t, int64_t>> range = partition_range(spec, partition);
  if (!range) return std::nullopt;
  return range->second;
}

int64_t retention_cutoff(const Retention& retention, int64_t now) {
  switch (retention.unit) {
    case PartitionUnit::kHour: return now - retention.count * 3600;
    case PartitionUnit::kDay: return now - retention.count * 86400;
    default: break;
  }
  const int64_t days = floor_div(now, 86400);
  const int64_t months = retention.unit == PartitionUnit::kYear ? retention.count * 12 : retention.count;
  const CivilDate date = add_months(civil_from_days(days), -months);
  return days_from_civil(date.year, date.month, date.day) * 86400 + (now - days * 86400);
}

// A partition value as an ordered map key: the type, then the value's bytes.
std::string partition_map_key(const Value& value) {
  std::string key(1, static_cast<char>(value.type));
  switch (value.type) {
    case ValueType::kInteger: key += std::to_string(value.integer); break;
    case ValueType::kReal: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", value.real);
      key += buffer;
      break;
    }
    case ValueType::kText:
    case ValueType::kBlob: key += value.bytes; break;
    case ValueType::kNull: break;
  }
  return key;
}

std::string partition_text(const Value& value) {
  switch (value.type) {
    case ValueType::kNull: return "NULL";
    case ValueType::kInteger: return std::to_string(value.integer);
    case ValueType::kReal: {
      char buffer[32];
      auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value.real);
      return std::string(buffer, error == std::errc() ? end : buffer);
    }
    default: return value.bytes;
  }
}

std::string partition_in_message(const Value& value) {
  return value.type == ValueType::kText ? "'" + value.bytes + "'" : partition_text(value);
}

}  // namespace strata::columnar
