// time_bucket — the start of the time bucket a timestamp falls in (docs/timeseries.md).
//
// USER SQL
//
//   SELECT time_bucket('15 minutes', ts) AS b, count(*) FROM events GROUP BY b;   -- ts: unix seconds
//   SELECT time_bucket_ms('1 hour', ts_ms) FROM events;                           -- unix milliseconds
//   SELECT time_bucket('1 day', '2026-01-05 13:45:10');                          -- → 2026-01-05 00:00:00
//   SELECT time_bucket('1 month', ts, '2000-01-15');                              -- buckets from the 15th
//   SELECT time_bucket('PT15M', ts);                                              -- ISO-8601 durations too
//
// A width is a whole number and a unit (milliseconds, seconds, minutes, hours, days, weeks,
// months, years; singular, plural or short: ms, s, sec, min, h, d, w, mon, y), an ISO-8601
// duration (P1Y2M, P1W, P3D, PT1H30M, PT0.5S), or an integer (seconds for time_bucket,
// milliseconds for time_bucket_ms). Months and years are calendar ones and cannot be mixed with
// a fixed part. Buckets are aligned to the origin, by default 2000-01-03T00:00:00Z (a Monday, as
// TimescaleDB's, so weekly buckets start on Mondays) and 2000-01-01 for months and years. The
// result has the representation of `ts`: an INTEGER or REAL count of seconds (milliseconds for
// time_bucket_ms), or ISO-8601 text written as the input was (separator, precision, a 'Z').
// NULL, or text that is not a time, gives NULL; a bad width or origin is an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "codecs/column_vector.h"
#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata::timeseries {

// A bucket width: fixed milliseconds or calendar months (one of them is 0).
struct BucketWidth {
  int64_t millis = 0;
  int64_t months = 0;
};

// '15 minutes', 'PT15M', '1 month' … ; errors say what is allowed.
Result<BucketWidth> parse_width(std::string_view text, std::string_view function);

// The start of the bucket holding `t`, in unix milliseconds, buckets aligned to `origin`;
// nullopt when it falls outside what int64 milliseconds hold.
std::optional<int64_t> bucket_start(const BucketWidth& width, int64_t t, int64_t origin);

// How an ISO-8601 time was written, to write a result the same way.
struct TextShape {
  char separator = ' ';  // between date and time: ' ' or 'T'
  int precision = 0;     // 0 date only, 1 hh:mm, 2 hh:mm:ss, 3 + digits of fractional seconds
  bool zulu = false;     // ended with 'Z' (or an offset, converted to UTC)
};
struct TextTime {
  int64_t millis;  // unix milliseconds (UTC)
  TextShape shape;
};
// 'YYYY-MM-DD[( |T)HH:MM[:SS[.fff…]]][Z|±HH:MM]'; nullopt when the text is not such a time.
std::optional<TextTime> parse_text_time(std::string_view text);
// `millis` written with `shape` (more precision when the value needs it); nullopt outside the
// years 0000-9999.
std::optional<std::string> format_text_time(int64_t millis, TextShape shape);

// What time_bucket(width, ts, origin) or time_bucket_ms(…) computes, its arguments parsed once.
struct TimeBucketSpec {
  std::string function;      // "time_bucket" or "time_bucket_ms", for messages
  BucketWidth width;
  int64_t unit_millis = 1000;  // what one unit of a numeric time is
  int64_t origin_millis = 0;
};
// The width and origin (nullopt: the default) as the SQL function takes them; errors as its.
Result<TimeBucketSpec> time_bucket_spec(std::string_view function, const ValueView& width,
                                        const std::optional<ValueView>& origin);
// The bucket of `ts` as the SQL function gives it: NULL for NULL, a blob or text that is not a
// time; an error when the bucket's start is out of range or between two whole seconds.
Result<Value> time_bucket_of(const TimeBucketSpec& spec, const ValueView& ts);

Status register_time_bucket(sqlite3* db);

}  // namespace strata::timeseries
