#include "vtab/timeseries/time_bucket.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ext/civil_time.h"
#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "vtab/columnar/values.h"

namespace strata::timeseries {

namespace {

constexpr int64_t kMillisPerDay = 86'400'000;
// TimescaleDB's default origins: a Monday, so that weekly buckets start on Mondays; the first
// of a month for calendar widths.
constexpr int64_t kDefaultOrigin = 946'857'600'000;        // 2000-01-03T00:00:00Z
constexpr int64_t kDefaultMonthOrigin = 946'684'800'000;   // 2000-01-01T00:00:00Z

struct DayAndTime {
  int64_t days;          // since 1970-01-01
  int64_t millis_of_day;
};

DayAndTime split_day(int64_t millis) {
  int64_t days = millis / kMillisPerDay, rest = millis % kMillisPerDay;  // no overflow at the extremes
  if (rest < 0) {
    rest += kMillisPerDay;
    days -= 1;
  }
  return {days, rest};
}

std::optional<int64_t> to_int64(__int128 value) {
  if (value < INT64_MIN || value > INT64_MAX) return std::nullopt;
  return static_cast<int64_t>(value);
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

bool lower_equals(std::string_view text, std::string_view word) {
  if (text.size() != word.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
    if (c != word[i]) return false;
  }
  return true;
}

// A unit word's length in milliseconds, or (months) in calendar months; 0 when unknown.
struct Unit {
  int64_t millis = 0;
  int64_t months = 0;
};
Unit unit_of(std::string_view word) {
  struct Named {
    const char* names[4];
    Unit unit;
  };
  static const Named kUnits[] = {
      {{"millisecond", "milliseconds", "ms", "msec"}, {1, 0}},
      {{"second", "seconds", "s", "sec"}, {1000, 0}},
      {{"minute", "minutes", "min", "mins"}, {60'000, 0}},
      {{"hour", "hours", "h", "hr"}, {3'600'000, 0}},
      {{"day", "days", "d", nullptr}, {kMillisPerDay, 0}},
      {{"week", "weeks", "w", nullptr}, {7 * kMillisPerDay, 0}},
      {{"month", "months", "mon", "mons"}, {0, 1}},
      {{"year", "years", "y", "yr"}, {0, 12}},
  };
  for (const Named& named : kUnits) {
    for (const char* name : named.names) {
      if (name != nullptr && lower_equals(word, name)) return named.unit;
    }
  }
  if (lower_equals(word, "secs")) return {1000, 0};
  if (lower_equals(word, "hrs")) return {3'600'000, 0};
  if (lower_equals(word, "yrs")) return {0, 12};
  return {};
}

// Adds count * unit to the width; false on overflow.
bool add_to(BucketWidth& width, int64_t count, Unit unit) {
  int64_t part = 0;
  if (unit.months > 0) {
    return !__builtin_mul_overflow(count, unit.months, &part) && !__builtin_add_overflow(width.months, part, &width.months);
  }
  return !__builtin_mul_overflow(count, unit.millis, &part) && !__builtin_add_overflow(width.millis, part, &width.millis);
}

// Digits at `at`: their value (false when none, or too many).
bool read_number(std::string_view text, size_t& at, int64_t& value) {
  const size_t start = at;
  value = 0;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
    if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, text[at] - '0', &value)) return false;
    ++at;
  }
  return at > start;
}

// The digits of a fraction of a second at `at` (after its '.'): how many there are, and the
// milliseconds they make (digits past the third do not count).
int read_fraction(std::string_view text, size_t& at, int64_t& millis) {
  int digits = 0;
  millis = 0;
  for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits) {
    if (digits < 3) millis = millis * 10 + (text[at] - '0');
  }
  for (int d = digits; d < 3; ++d) millis *= 10;
  return digits;
}

// ISO-8601: P[nY][nM][nW][nD][T[nH][nM][n[.fff]S]].
bool parse_iso_duration(std::string_view text, BucketWidth& width) {
  size_t at = 1;  // after the P
  bool in_time = false, any = false;
  while (at < text.size()) {
    if (text[at] == 'T' || text[at] == 't') {
      if (in_time) return false;
      in_time = true;
      ++at;
      continue;
    }
    int64_t count = 0;
    if (!read_number(text, at, count)) return false;
    int64_t fraction_millis = 0;
    if (at < text.size() && (text[at] == '.' || text[at] == ',')) {
      // Only seconds take a fraction.
      ++at;
      const int digits = read_fraction(text, at, fraction_millis);
      if (digits == 0 || !in_time || at >= text.size() || (text[at] != 'S' && text[at] != 's')) return false;
    }
    if (at >= text.size()) return false;
    const char designator = static_cast<char>(text[at] >= 'a' && text[at] <= 'z' ? text[at] - 'a' + 'A' : text[at]);
    ++at;
    Unit unit;
    if (!in_time) {
      unit = designator == 'Y' ? Unit{0, 12} : designator == 'M' ? Unit{0, 1} : designator == 'W' ? Unit{7 * kMillisPerDay, 0}
             : designator == 'D'                                   ? Unit{kMillisPerDay, 0}
                                                                   : Unit{};
    } else {
      unit = designator == 'H' ? Unit{3'600'000, 0} : designator == 'M' ? Unit{60'000, 0} : designator == 'S' ? Unit{1000, 0} : Unit{};
    }
    if (unit.millis == 0 && unit.months == 0) return false;
    if (!add_to(width, count, unit) || __builtin_add_overflow(width.millis, fraction_millis, &width.millis)) return false;
    any = true;
  }
  return any;
}

// '15 minutes', '1 hour 30 minutes', '2 weeks'.
bool parse_words(std::string_view text, BucketWidth& width) {
  size_t at = 0;
  bool any = false;
  while (true) {
    while (at < text.size() && is_space(text[at])) ++at;
    if (at == text.size()) return any;
    int64_t count = 0;
    if (!read_number(text, at, count)) return false;
    while (at < text.size() && is_space(text[at])) ++at;
    const size_t word_start = at;
    while (at < text.size() && !is_space(text[at]) && !(text[at] >= '0' && text[at] <= '9')) ++at;
    const Unit unit = unit_of(text.substr(word_start, at - word_start));
    if ((unit.millis == 0 && unit.months == 0) || !add_to(width, count, unit)) return false;
    any = true;
  }
}

}  // namespace

Result<BucketWidth> parse_width(std::string_view text, std::string_view function) {
  BucketWidth width;
  size_t first = 0;
  while (first < text.size() && is_space(text[first])) ++first;
  std::string_view trimmed = text.substr(first);
  while (!trimmed.empty() && is_space(trimmed.back())) trimmed.remove_suffix(1);
  const bool parsed = !trimmed.empty() && (trimmed[0] == 'P' || trimmed[0] == 'p') ? parse_iso_duration(trimmed, width)
                                                                                 : parse_words(trimmed, width);
  if (!parsed || (width.millis == 0 && width.months == 0)) {
    return Status::error(str_cat(function, ": the width must be a positive whole number and a unit (e.g. '15 minutes', '1 day', "
                                 "'1 month'; units: milliseconds, seconds, minutes, hours, days, weeks, months, years) or an "
                                 "ISO-8601 duration (e.g. 'PT15M', 'P1D', 'P1M'); got '", text, "'"));
  }
  if (width.millis != 0 && width.months != 0) {
    return Status::error(str_cat(function, ": the width '", text, "' mixes calendar months or years with days or a time; "
                                 "use one or the other"));
  }
  return width;
}

std::optional<int64_t> bucket_start(const BucketWidth& width, int64_t t, int64_t origin) {
  if (width.months == 0) {
    const __int128 offset = static_cast<__int128>(t) - origin;
    __int128 buckets = offset / width.millis;
    if (offset % width.millis != 0 && offset < 0) buckets -= 1;
    return to_int64(static_cast<__int128>(origin) + buckets * width.millis);
  }
  const DayAndTime at = split_day(t), from = split_day(origin);
  const CivilDate date = civil_from_days(at.days), origin_date = civil_from_days(from.days);
  const int64_t months = (date.year - origin_date.year) * 12 + (date.month - origin_date.month);
  int64_t step = floor_div(months, width.months) * width.months;
  auto start_of = [&](int64_t months_from_origin) -> std::optional<int64_t> {
    const CivilDate start = add_months(origin_date, months_from_origin);
    return to_int64(static_cast<__int128>(days_from_civil(start.year, start.month, start.day)) * kMillisPerDay + from.millis_of_day);
  };
  std::optional<int64_t> start = start_of(step);
  if (start && *start > t) start = start_of(step - width.months);  // t is before the origin's day in its month
  return start;
}

std::optional<TextTime> parse_text_time(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!parse_digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || text[7] != '-' || !parse_digits(text, 5, 2, month) ||
      !parse_digits(text, 8, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  TextShape shape;
  int64_t millis = 0;
  size_t at = 10;
  if (at < text.size()) {
    if (text[at] != ' ' && text[at] != 'T') return std::nullopt;
    shape.separator = text[at];
    if (!parse_digits(text, at + 1, 2, hour) || at + 3 >= text.size() || text[at + 3] != ':' || !parse_digits(text, at + 4, 2, minute)) {
      return std::nullopt;
    }
    shape.precision = 1;
    at += 6;
    if (at < text.size() && text[at] == ':') {
      if (!parse_digits(text, at + 1, 2, second)) return std::nullopt;
      shape.precision = 2;
      at += 3;
      if (at < text.size() && text[at] == '.') {
        ++at;
        const int digits = read_fraction(text, at, millis);
        if (digits == 0 || digits > 9) return std::nullopt;
        shape.precision = 2 + digits;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
    int64_t offset_minutes = 0;
    if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
      shape.zulu = true;
      ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
      int offset_hours = 0, offset_mins = 0;
      if (!parse_digits(text, at + 1, 2, offset_hours) || at + 3 >= text.size() || text[at + 3] != ':' ||
          !parse_digits(text, at + 4, 2, offset_mins) || offset_hours > 14 || offset_mins > 59) {
        return std::nullopt;
      }
      offset_minutes = (offset_hours * 60 + offset_mins) * (text[at] == '-' ? -1 : 1);
      shape.zulu = true;  // written back in UTC
      at += 6;
    }
    if (at != text.size()) return std::nullopt;
    millis -= offset_minutes * 60'000;
  }
  millis += days_from_civil(year, month, day) * kMillisPerDay + ((hour * 60 + minute) * 60 + second) * int64_t{1000};
  return TextTime{millis, shape};
}

std::optional<std::string> format_text_time(int64_t millis, TextShape shape) {
  const DayAndTime at = split_day(millis);
  const CivilDate date = civil_from_days(at.days);
  if (date.year < 0 || date.year > 9999) return std::nullopt;
  const int64_t of_day = at.millis_of_day;
  const int needed = of_day == 0 ? 0 : of_day % 60'000 == 0 ? 1 : of_day % 1000 == 0 ? 2 : 5;
  int precision = std::max(shape.precision, needed);
  if (shape.zulu && precision == 0) precision = 1;  // a zone needs a time to follow
  char buffer[48];
  int length = std::snprintf(buffer, sizeof buffer, "%04lld-%02d-%02d", static_cast<long long>(date.year), date.month, date.day);
  if (precision >= 1) {
    const int64_t seconds = of_day / 1000;
    length += std::snprintf(buffer + length, sizeof buffer - static_cast<size_t>(length), "%c%02lld:%02lld", shape.separator,
                            static_cast<long long>(seconds / 3600), static_cast<long long>(seconds / 60 % 60));
    if (precision >= 2) {
      length += std::snprintf(buffer + length, sizeof buffer - static_cast<size_t>(length), ":%02lld", static_cast<long long>(seconds % 60));
    }
    if (precision >= 3) {
      // The fraction with as many digits as the input had (at least the three milliseconds need).
      char fraction[16];
      std::snprintf(fraction, sizeof fraction, "%03lld000000", static_cast<long long>(of_day % 1000));
      length += std::snprintf(buffer + length, sizeof buffer - static_cast<size_t>(length), ".%.*s", precision - 2, fraction);
    }
    if (shape.zulu) buffer[length++] = 'Z';
  }
  return std::string(buffer, static_cast<size_t>(length));
}

namespace {

// A numeric time in milliseconds, `unit_millis` per unit (nullopt: out of range).
std::optional<int64_t> numeric_millis(const ValueView& value, int64_t unit_millis) {
  if (value.type == ValueType::kInteger) {
    int64_t millis = 0;
    if (__builtin_mul_overflow(value.integer, unit_millis, &millis)) return std::nullopt;
    return millis;
  }
  const double millis = std::floor(value.real * static_cast<double>(unit_millis));
  if (!(millis >= -9.2e18 && millis <= 9.2e18)) return std::nullopt;
  return static_cast<int64_t>(millis);
}

// time_bucket(width, ts [, origin]) and time_bucket_ms (whose name says its numeric times are
// milliseconds).
Status time_bucket(sqlite3_context* context, int argc, sqlite3_value** argv, const char* function) {
  for (int i = 0; i < argc; ++i) {
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return Status::ok();  // NULL in, NULL out
  }
  STRATA_ASSIGN_OR_RETURN(TimeBucketSpec spec,
                          time_bucket_spec(function, columnar::value_view_of(argv[0]), argc == 3 ? std::optional(columnar::value_view_of(argv[2])) : std::nullopt));
  STRATA_ASSIGN_OR_RETURN(Value bucket, time_bucket_of(spec, columnar::value_view_of(argv[1])));
  switch (bucket.type) {
    case ValueType::kInteger: sqlite3_result_int64(context, bucket.integer); break;
    case ValueType::kReal: sqlite3_result_double(context, bucket.real); break;
    case ValueType::kText: sqlite3_result_text64(context, bucket.bytes.data(), bucket.bytes.size(), SQLITE_TRANSIENT, SQLITE_UTF8); break;
    default: break;
  }
  return Status::ok();
}

void time_bucket_seconds(sqlite3_context* context, int argc, sqlite3_value** argv) {
  function_call(context, [&] { return time_bucket(context, argc, argv, "time_bucket"); });
}

void time_bucket_millis(sqlite3_context* context, int argc, sqlite3_value** argv) {
  function_call(context, [&] { return time_bucket(context, argc, argv, "time_bucket_ms"); });
}

}  // namespace

Result<TimeBucketSpec> time_bucket_spec(std::string_view function, const ValueView& width_value,
                                        const std::optional<ValueView>& origin_value) {
  TimeBucketSpec spec;
  spec.function = std::string(function);
  spec.unit_millis = function.ends_with("_ms") ? 1 : 1000;
  const std::string_view unit_name = spec.unit_millis == 1 ? "milliseconds" : "seconds";
  switch (width_value.type) {
    case ValueType::kInteger: {
      const int64_t count = width_value.integer;
      if (count <= 0 || __builtin_mul_overflow(count, spec.unit_millis, &spec.width.millis)) {
        return Status::error(str_cat(function, ": an integer width is a positive number of ", unit_name, "; got ", std::to_string(count)));
      }
      break;
    }
    case ValueType::kText: {
      STRATA_ASSIGN_OR_RETURN(spec.width, parse_width(width_value.bytes, function));
      break;
    }
    default:
      return Status::error(str_cat(function, ": the width must be text such as '15 minutes' or 'PT15M', or an integer number of ",
                                   unit_name));
  }
  spec.origin_millis = spec.width.months != 0 ? kDefaultMonthOrigin : kDefaultOrigin;
  if (origin_value) {
    std::optional<int64_t> given;
    if (origin_value->type == ValueType::kInteger || origin_value->type == ValueType::kReal) {
      given = numeric_millis(*origin_value, spec.unit_millis);
    } else if (origin_value->type == ValueType::kText) {
      if (auto parsed = parse_text_time(origin_value->bytes)) given = parsed->millis;
    }
    if (!given) {
      return Status::error(str_cat(function, ": the origin must be a time: ISO-8601 text such as '2000-01-03' or a number of ",
                                   unit_name));
    }
    spec.origin_millis = *given;
  }
  return spec;
}

Result<Value> time_bucket_of(const TimeBucketSpec& spec, const ValueView& ts) {
  const std::string_view unit_name = spec.unit_millis == 1 ? "milliseconds" : "seconds";
  std::optional<int64_t> t;
  TextShape shape;
  if (ts.type == ValueType::kInteger || ts.type == ValueType::kReal) {
    t = numeric_millis(ts, spec.unit_millis);
    if (!t) {
      std::string shown = ts.type == ValueType::kInteger ? std::to_string(ts.integer) : std::to_string(ts.real);
      return Status::error(str_cat(spec.function, ": the time ", shown, " is out of range"));
    }
  } else if (ts.type == ValueType::kText) {
    std::optional<TextTime> parsed = parse_text_time(ts.bytes);
    if (!parsed) return Value();  // not a time: NULL, as SQLite's date functions
    t = parsed->millis;
    shape = parsed->shape;
  } else {
    return Value();
  }
  std::optional<int64_t> start = bucket_start(spec.width, *t, spec.origin_millis);
  if (!start) return Status::error(str_cat(spec.function, ": the bucket's start is out of range"));
  switch (ts.type) {
    case ValueType::kInteger:
      if (*start % spec.unit_millis != 0) {
        return Status::error(str_cat(spec.function, ": the bucket starts between two whole ", unit_name,
                                     " (a width or origin with a fraction of a second): use time_bucket_ms, REAL seconds or text times"));
      }
      return Value(ValueView::of_integer(*start / spec.unit_millis));
    case ValueType::kReal:
      return Value(ValueView::of_real(static_cast<double>(*start) / static_cast<double>(spec.unit_millis)));
    default: {
      std::optional<std::string> text = format_text_time(*start, shape);
      if (!text) return Value();
      return Value(ValueView::of_text(*text));
    }
  }
}

Status register_time_bucket(sqlite3* db) {
  constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  for (int arguments : {2, 3}) {
    int rc = sqlite3_create_function_v2(db, "time_bucket", arguments, kFlags, nullptr, time_bucket_seconds, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "timeseries: registering time_bucket()");
    rc = sqlite3_create_function_v2(db, "time_bucket_ms", arguments, kFlags, nullptr, time_bucket_millis, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "timeseries: registering time_bucket_ms()");
  }
  return Status::ok();
}

}  // namespace strata::timeseries
