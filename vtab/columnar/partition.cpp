#include "vtab/columnar/partition.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

namespace strata::columnar {

namespace {

struct CivilTime {
  int64_t year;
  int month;
  int day;
  int hour;
};

// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
CivilTime civil_from_seconds(int64_t seconds) {
  int64_t days = seconds / 86400;
  int64_t second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    days -= 1;
  }
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t day_of_era = days - era * 146097;
  int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_index = (5 * day_of_year + 2) / 153;
  int day = static_cast<int>(day_of_year - (153 * month_index + 2) / 5 + 1);
  int month = static_cast<int>(month_index < 10 ? month_index + 3 : month_index - 9);
  int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day, static_cast<int>(second_of_day / 3600)};
}

bool digits(std::string_view text, size_t at, size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// 'YYYY-MM-DD', optionally followed by 'T' or ' ' and 'HH…'. Time zones are not converted: the
// partition is that of the wall-clock time written.
std::optional<CivilTime> parse_iso8601(std::string_view text) {
  CivilTime time{0, 0, 0, 0};
  int year = 0;
  if (!digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!digits(text, 5, 2, time.month) || !digits(text, 8, 2, time.day)) return std::nullopt;
  if (time.month < 1 || time.month > 12 || time.day < 1 || time.day > 31) return std::nullopt;
  time.year = year;
  if (text.size() > 10) {
    if ((text[10] != 'T' && text[10] != ' ') || !digits(text, 11, 2, time.hour) || time.hour > 23) {
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
