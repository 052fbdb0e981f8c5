// time_bucket and time_bucket_ms (vtab/timeseries/time_bucket.h, docs/timeseries.md): widths
// in words and ISO-8601, every representation of a time, origins, calendar months, errors; and
// against buckets computed independently (integer arithmetic in SQL, month by month stepping).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ext/civil_time.h"
#include "tests/unit/test_database.h"
#include "vtab/timeseries/time_bucket.h"

namespace strata::timeseries {
namespace {

using strata::testing::TestDatabase;

TEST(TimeBucket, WidthsInWordsAndIso8601) {
  auto millis = [](const char* text) {
    Result<BucketWidth> width = parse_width(text, "time_bucket");
    EXPECT_TRUE(width.is_ok()) << text << ": " << width.status().message();
    return width.is_ok() ? width->millis : -1;
  };
  auto months = [](const char* text) {
    Result<BucketWidth> width = parse_width(text, "time_bucket");
    EXPECT_TRUE(width.is_ok()) << text;
    return width.is_ok() ? width->months : -1;
  };
  EXPECT_EQ(millis("15 minutes"), 900'000);
  EXPECT_EQ(millis(" 1 hour "), 3'600'000);
  EXPECT_EQ(millis("1 HOUR 30 mins"), 5'400'000);
  EXPECT_EQ(millis("2 weeks"), 14 * 86'400'000LL);
  EXPECT_EQ(millis("250 ms"), 250);
  EXPECT_EQ(millis("10s"), 10'000);
  EXPECT_EQ(millis("PT15M"), 900'000);
  EXPECT_EQ(millis("P1D"), 86'400'000);
  EXPECT_EQ(millis("P1W"), 7 * 86'400'000LL);
  EXPECT_EQ(millis("PT1H30M"), 5'400'000);
  EXPECT_EQ(millis("PT0.5S"), 500);
  EXPECT_EQ(millis("P1DT12H"), 129'600'000);
  EXPECT_EQ(months("1 month"), 1);
  EXPECT_EQ(months("3 months"), 3);
  EXPECT_EQ(months("2 years"), 24);
  EXPECT_EQ(months("P1Y6M"), 18);
  EXPECT_EQ(months("P1M"), 1);
  for (const char* bad : {"", "15", "minutes", "0 minutes", "-5 minutes", "1.5 hours", "1 fortnight", "P", "PT", "P1H", "PT1D",
                          "P1.5D", "PT1.S", "99999999999999999999 seconds", "106751991167301 days"}) {
    Result<BucketWidth> width = parse_width(bad, "time_bucket");
    ASSERT_FALSE(width.is_ok()) << "'" << bad << "'";
    EXPECT_NE(width.status().message().find("time_bucket: the width must be a positive whole number and a unit"), std::string::npos)
        << width.status().message();
  }
  for (const char* mixed : {"1 month 2 days", "P1M2D", "P1YT1H"}) {
    Result<BucketWidth> width = parse_width(mixed, "time_bucket");
    ASSERT_FALSE(width.is_ok()) << mixed;
    EXPECT_NE(width.status().message().find("mixes calendar months or years with days or a time"), std::string::npos);
  }
}

TEST(TimeBucket, EveryRepresentationOfATime) {
  TestDatabase db;
  // Unix seconds (INTEGER and REAL), milliseconds, and text as it was written.
  EXPECT_EQ(db.scalar("SELECT time_bucket('15 minutes', 1700000123)"), "1700000100");
  EXPECT_EQ(db.scalar("SELECT time_bucket('PT15M', 1700000123.5)"), "1700000100.0");
  EXPECT_EQ(db.scalar("SELECT time_bucket_ms('1 hour', 1700000123456)"), "1699999200000");
  EXPECT_EQ(db.scalar("SELECT time_bucket_ms('250 ms', 1700000123456)"), "1700000123250");
  EXPECT_EQ(db.scalar("SELECT time_bucket_ms(60000, 1700000123456)"), "1700000100000");  // an integer width: ms
  EXPECT_EQ(db.scalar("SELECT time_bucket(60, 1700000123)"), "1700000100");              // seconds
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 day', '2026-01-05 13:45:10')"), "2026-01-05 00:00:00");
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 hour', '2026-01-05T13:45')"), "2026-01-05T13:00");
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 second', '2026-01-05 13:45:10.789')"), "2026-01-05 13:45:10.000");
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 month', '2026-03-31T10:00:00Z')"), "2026-03-01T00:00:00Z");
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 hour', '2026-01-05 13:45:10+02:00')"), "2026-01-05 11:00:00Z");  // in UTC
  EXPECT_EQ(db.scalar("SELECT time_bucket('7 hours', '2026-01-05')"), "2026-01-05");
  EXPECT_EQ(db.scalar("SELECT time_bucket('5 hours', '2026-01-05')"), "2026-01-04 23:00");  // more precision when needed
  // Weeks start on Mondays (the default origin, 2000-01-03, is one); 2026-12-05 is a Saturday.
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 week', '2026-12-05')"), "2026-11-30");
  // Before 1970 and before the origin.
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 day', -1)"), "-86400");
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 year', '1969-07-20 20:17:40')"), "1969-01-01 00:00:00");
  // NULL, and text that is not a time, give NULL (as SQLite's date functions).
  EXPECT_EQ(db.scalar("SELECT quote(time_bucket('1 day', NULL))"), "NULL");
  EXPECT_EQ(db.scalar("SELECT quote(time_bucket(NULL, 5))"), "NULL");
  EXPECT_EQ(db.scalar("SELECT quote(time_bucket('1 day', 'yesterday'))"), "NULL");
  EXPECT_EQ(db.scalar("SELECT quote(time_bucket('1 day', '2026-02-30'))"), "NULL");
  EXPECT_EQ(db.scalar("SELECT quote(time_bucket('1 day', x'00'))"), "NULL");
}

TEST(TimeBucket, OriginsAndCalendarMonths) {
  TestDatabase db;
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 month', '2024-03-10', '2000-01-15')"), "2024-02-15");
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 month', '2024-03-20', '2000-01-15')"), "2024-03-15");
  EXPECT_EQ(db.scalar("SELECT time_bucket('3 months', '2024-05-20')"), "2024-04-01");  // quarters
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 year', '2024-05-20 10:00')"), "2024-01-01 00:00");
  // An origin on the 31st: buckets start on the 31st, or the month's last day.
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 month', '2024-02-29 12:00:00', '2000-01-31')"), "2024-02-29 00:00:00");
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 month', '2024-02-28 12:00:00', '2000-01-31')"), "2024-01-31 00:00:00");
  EXPECT_EQ(db.scalar("SELECT time_bucket('15 minutes', 1700000123, 1700000000)"), "1700000000");
  EXPECT_EQ(db.scalar("SELECT time_bucket('15 minutes', 1700000123, 1700000060)"), "1700000060");
  EXPECT_EQ(db.scalar("SELECT time_bucket('15 minutes', 1700000123, 1700000200)"), "1699999300");
  EXPECT_EQ(db.scalar("SELECT time_bucket('1 day', 1700000123, '2023-11-14 06:00')"), "1699941600");
  EXPECT_EQ(db.scalar("SELECT time_bucket_ms('1 day', 1700000123000, 1699941600000)"), "1699941600000");
  EXPECT_NE(db.error_of("SELECT time_bucket('1 day', 5, 'noon')").find("time_bucket: the origin must be a time"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT time_bucket('fortnight', 5)").find("time_bucket: the width must be"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT time_bucket_ms(0, 5)").find("time_bucket_ms: an integer width is a positive number of milliseconds"),
            std::string::npos);
  EXPECT_NE(db.error_of("SELECT time_bucket(1.5, 5)").find("the width must be text"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT time_bucket('1500 ms', 2)").find("the bucket starts between two whole seconds"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT time_bucket('1 day', 9223372036854775807)").find("is out of range"), std::string::npos);
  // Deterministic and innocuous: an index on it, a generated column.
  db.exec("CREATE TABLE e(ts INTEGER, hour AS (time_bucket('1 hour', ts)))");
  db.exec("CREATE INDEX e_day ON e(time_bucket('1 day', ts))");
  db.exec("INSERT INTO e(ts) VALUES (1700000123), (1700003723)");
  EXPECT_EQ(db.scalar("SELECT group_concat(hour) FROM e"), "1699999200,1700002800");
}

// Fixed widths against the bucket arithmetic written in SQL, and calendar months against stepping
// month by month from the origin, over random times, widths and origins (before 1970 too).
TEST(TimeBucket, AgreesWithBucketsComputedAnotherWay) {
  TestDatabase db;
  std::mt19937_64 random(7);
  const int64_t widths[] = {1, 7, 60, 900, 3600, 7 * 3600, 86400, 7 * 86400};
  for (int i = 0; i < 400; ++i) {
    const int64_t ts = static_cast<int64_t>(random() % 4'000'000'000ULL) - 1'000'000'000;
    const int64_t origin = static_cast<int64_t>(random() % 2'000'000'000ULL) - 500'000'000;
    const int64_t w = widths[random() % std::size(widths)];
    const std::string expected =
        db.scalar("SELECT " + std::to_string(ts) + " - (((" + std::to_string(ts) + " - " + std::to_string(origin) + ") % " +
                  std::to_string(w) + ") + " + std::to_string(w) + ") % " + std::to_string(w));
    EXPECT_EQ(db.scalar("SELECT time_bucket(" + std::to_string(w) + ", " + std::to_string(ts) + ", " + std::to_string(origin) + ")"),
              expected)
        << ts << " " << w << " " << origin;
  }
  for (int i = 0; i < 300; ++i) {
    const int64_t day = static_cast<int64_t>(random() % 40'000) - 10'000;  // 1942 … 2079
    const int64_t origin_day = static_cast<int64_t>(random() % 20'000);
    const int64_t months = 1 + static_cast<int64_t>(random() % 14);
    const int64_t t = day * 86'400'000 + static_cast<int64_t>(random() % 86'400'000);
    const int64_t origin = origin_day * 86'400'000 + static_cast<int64_t>(random() % 86'400'000);
    // The last start origin + k * months (k may be negative) that is not after t.
    const CivilDate origin_date = civil_from_days(origin_day);
    const int64_t time_of_day = origin - origin_day * 86'400'000;
    auto start_at = [&](int64_t k) {
      const CivilDate d = add_months(origin_date, k * months);
      return days_from_civil(d.year, d.month, d.day) * 86'400'000 + time_of_day;
    };
    int64_t k = 0;
    while (start_at(k) > t) --k;
    while (start_at(k + 1) <= t) ++k;
    EXPECT_EQ(db.scalar("SELECT time_bucket_ms('" + std::to_string(months) + " months', " + std::to_string(t) + ", " +
                        std::to_string(origin) + ")"),
              std::to_string(start_at(k)))
        << t << " " << months << " " << origin;
  }
  // Text in, text out: the same bucket as the numbers give, written as SQLite writes the time.
  for (int i = 0; i < 200; ++i) {
    const int64_t ts = static_cast<int64_t>(random() % 2'000'000'000ULL);
    const char* width = std::vector<const char*>{"15 minutes", "1 hour", "1 day", "1 week", "1 month", "1 year"}[random() % 6];
    EXPECT_EQ(db.scalar(std::string("SELECT time_bucket('") + width + "', datetime(" + std::to_string(ts) + ", 'unixepoch'))"),
              db.scalar(std::string("SELECT datetime(time_bucket('") + width + "', " + std::to_string(ts) + "), 'unixepoch')"))
        << ts << " " << width;
  }
}

// The parsers on random text (under the sanitizers in CI): an error or a value, never a crash;
// and every time written reads back as itself.
TEST(TimeBucket, ParsersTakeAnyTextAndTimesRoundTrip) {
  std::mt19937_64 random(3);
  const std::string alphabet = "0123456789PTYMWDHSZ.:- +msecondayhrwkpt";
  for (int i = 0; i < 20000; ++i) {
    std::string text(random() % 24, ' ');
    for (char& c : text) c = alphabet[random() % alphabet.size()];
    Result<BucketWidth> width = parse_width(text, "time_bucket");
    if (width.is_ok()) {
      EXPECT_TRUE((width->millis > 0) != (width->months > 0)) << text;
    }
    (void)parse_text_time(text);
  }
  for (int i = 0; i < 5000; ++i) {
    const int64_t millis = static_cast<int64_t>(random() % 400'000'000'000'000ULL) - 62'000'000'000'000LL;  // years 0 … 9999
    TextShape shape;
    shape.separator = random() % 2 ? 'T' : ' ';
    shape.precision = static_cast<int>(random() % 7);
    shape.zulu = random() % 2 == 0;
    std::optional<std::string> text = format_text_time(millis, shape);
    if (!text) continue;
    std::optional<TextTime> back = parse_text_time(*text);
    ASSERT_TRUE(back) << *text;
    // What the text holds: the time to its precision (a shorter precision drops seconds or ms).
    EXPECT_EQ(format_text_time(back->millis, back->shape), text) << *text;
    EXPECT_LE(back->millis, millis);
    EXPECT_GT(back->millis + 86'400'000, millis);
  }
}

}  // namespace
}  // namespace strata::timeseries
