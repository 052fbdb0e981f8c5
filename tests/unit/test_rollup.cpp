// Rollups (vtab/timeseries/rollup.cpp): the distinct sketch, option errors, and a seeded random
// differential — writes with savepoints, rollbacks, failing statements, replaces, key-moving
// updates, compaction, tiering and expiry against a columnar source with three rollups, each
// compared after every transaction (and inside some) with the same GROUP BY over an ordinary
// table holding the same rows (plus the rows expired from the source, which rollups keep).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "codecs/distinct_sketch.h"
#include "test_database.h"

namespace strata {
namespace {

using testing::ScratchDirectory;
using testing::TestDatabase;

TEST(DistinctSketch, ExactWhileSparseAndWithinErrorWhenDense) {
  DistinctSketch sketch;
  std::mt19937_64 random(7);
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 400; ++i) hashes.push_back(random());
  for (int pass = 0; pass < 3; ++pass) {
    for (uint64_t hash : hashes) sketch.add_hash(hash);
  }
  EXPECT_FALSE(sketch.dense());
  EXPECT_EQ(sketch.estimate(), 400);
  for (int n : {1000, 20000, 300000}) {
    DistinctSketch big;
    for (int i = 0; i < n; ++i) big.add_hash(random());
    EXPECT_EQ(big.dense(), n > 2 * static_cast<int>(DistinctSketch::kSparseLimit));
    // 1.6% standard error: 5% is over three standard deviations.
    EXPECT_NEAR(static_cast<double>(big.estimate()), n, 0.05 * n) << n;
    std::string blob = big.serialize();
    Result<DistinctSketch> back = DistinctSketch::parse(std::as_bytes(std::span(blob.data(), blob.size())));
    ASSERT_TRUE(back.is_ok());
    EXPECT_EQ(back->estimate(), big.estimate());
  }
}

TEST(DistinctSketch, MergeIsTheUnionAndBlobsRoundTrip) {
  std::mt19937_64 random(11);
  std::vector<uint64_t> hashes(2000);
  for (uint64_t& hash : hashes) hash = random();
  DistinctSketch a, b;
  for (int i = 0; i < 300; ++i) a.add_hash(hashes[i]);
  for (int i = 200; i < 450; ++i) b.add_hash(hashes[i]);
  std::string blob = a.serialize();
  Result<DistinctSketch> parsed = DistinctSketch::parse(std::as_bytes(std::span(blob.data(), blob.size())));
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(parsed->estimate(), 300);
  parsed->merge(b);
  EXPECT_EQ(parsed->estimate(), 450);
  DistinctSketch c;
  for (int i = 0; i < 2000; ++i) c.add_hash(hashes[i]);
  EXPECT_TRUE(c.dense());
  parsed->merge(c);  // sparse into dense
  EXPECT_TRUE(parsed->dense());
  EXPECT_NEAR(static_cast<double>(parsed->estimate()), 2000, 100);
}

TEST(DistinctSketch, CorruptBlobsAreErrorsNeverCrashes) {
  DistinctSketch sketch;
  for (uint64_t i = 1; i < 50; ++i) sketch.add_hash(i * 0x9E3779B97F4A7C15ull);
  const std::string good = sketch.serialize();
  std::mt19937 random(3);
  for (int round = 0; round < 3000; ++round) {
    std::string blob = good;
    if (round % 3 == 0) blob.resize(random() % blob.size());
    else blob[random() % blob.size()] = static_cast<char>(random());
    (void)DistinctSketch::parse(std::as_bytes(std::span(blob.data(), blob.size())));
  }
  for (std::string bad : {std::string(), std::string("\x02\x00", 2), std::string("\x01\x07", 2), std::string("\x01\x01\x00", 3),
                          std::string("\x01\x00\x02\x05\x00", 5)}) {
    EXPECT_FALSE(DistinctSketch::parse(std::as_bytes(std::span(bad.data(), bad.size()))).is_ok()) << bad.size();
  }
}

TEST(Rollup, OptionErrorsNameWhatIsAllowed) {
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE ev USING columnar(ts INTEGER, kind TEXT, amount REAL)");
  db.exec("CREATE TABLE plain(ts, kind)");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE r USING rollup(source='ev', measures='count(*)')"),
            "rollup: option 'bucket' is required (source='table', bucket='hour(ts)', measures='count(*), …')");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE r USING rollup(source='nope', bucket='ts', measures='count(*)')"),
            "rollup: the source table \"nope\" does not exist");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE r USING rollup(source='plain', bucket='ts', measures='count(*)')"),
            "rollup: the source \"plain\" is not a columnar table (a rollup follows the writes of a columnar table)");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='ts', measures='count(*)', segment_rows=0)"),
            "rollup: option 'segment_rows' must be an integer from 1 to 1048576, got '0'");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='week(ts)', measures='count(*)')"),
            "rollup: option 'bucket' must be a column, hour(col), day(col), month(col) or year(col) (hour_ms(col) … for unix "
            "milliseconds), or time_bucket('<width>', col [, origin]) / time_bucket_ms(…); got 'week(ts)'");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='time_bucket(''fortnight'', ts)', measures='count(*)')"),
            "rollup: option 'bucket': time_bucket: the width must be a positive whole number and a unit (e.g. '15 minutes', "
            "'1 day', '1 month'; units: milliseconds, seconds, minutes, hours, days, weeks, months, years) or an ISO-8601 "
            "duration (e.g. 'PT15M', 'P1D', 'P1M'); got 'fortnight'");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='ts', measures='median(amount)')"),
            "rollup: option 'measures' lists count(*), count(col), sum(col), min(col), max(col), avg(col) or count(DISTINCT col), "
            "separated by commas; got 'median(amount)'");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='ts', group_by='region', measures='count(*)')"),
            "rollup: option 'group_by' names no column of the source: 'region' (the source has: ts, kind, amount)");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='ts', measures='sum(amount), sum(amount)')"),
            "rollup: option 'measures' gives the column 'sum_amount' twice (or one named bucket); got 'sum(amount), sum(amount)'");
  db.exec("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='hour(ts)', measures='count(*)')");
  EXPECT_EQ(db.error_of("INSERT INTO r VALUES ('x', 1)"),
            "rollup: the table is read-only (it follows the writes of its source; write to the source instead)");
  // A row whose bucket cannot be computed is refused, and changes nothing.
  db.exec("CREATE VIRTUAL TABLE r2 USING rollup(source='ev', bucket='time_bucket(''PT1.5S'', ts)', measures='count(*)')");
  EXPECT_NE(db.error_of("INSERT INTO ev VALUES (1700000000, 'a', 1)"), "");
  db.exec("INSERT INTO ev VALUES (1700000000.25, 'a', 1)");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM ev"), "1");
  EXPECT_EQ(db.rows("SELECT * FROM r"), std::vector<std::string>{"2023-11-14T22|1"});
}

// A column without a type keeps text as text: sum and avg then read it as SQLite's do.
TEST(Rollup, SumsTextAndBlobsAsSqliteDoes) {
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE ev USING columnar(g INTEGER, v)");
  db.exec("CREATE TABLE plain(g INTEGER, v)");
  db.exec("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='g', measures='sum(v), avg(v), count(v)')");
  const std::vector<std::vector<std::string>> groups = {
      {"'12'", "' 7 '", "'+5'", "'-3'"},                       // integers written as text: an INTEGER sum
      {"'inf'", "'0x10'", "'12abc'", "'abc'", "'1e3'", "'.5'"},  // prefixes; no hex, no inf
      {"'99999999999999999999'", "'1'", "' 2.5e1x'"},          // too large for an integer
      {"x'3132'", "'4'"},                                      // a blob reads as its text
      {"'nan'", "'-'", "'+.e5'", "'5.'", "'  -0012  '"}};
  for (size_t g = 0; g < groups.size(); ++g) {
    for (const std::string& value : groups[g]) {
      for (const char* table : {"ev", "plain"}) {
        db.exec(std::string("INSERT INTO ") + table + " VALUES (" + std::to_string(g) + ", " + value + ")");
      }
    }
  }
  EXPECT_EQ(db.exact_rows("SELECT bucket, sum_v, avg_v, count_v FROM r ORDER BY bucket"),
            db.exact_rows("SELECT g, sum(v), avg(v), count(v) FROM plain GROUP BY g ORDER BY g"));
  db.exec("DELETE FROM ev WHERE v = '12abc'");
  db.exec("DELETE FROM plain WHERE v = '12abc'");
  EXPECT_EQ(db.exact_rows("SELECT bucket, sum_v, avg_v, count_v FROM r ORDER BY bucket"),
            db.exact_rows("SELECT g, sum(v), avg(v), count(v) FROM plain GROUP BY g ORDER BY g"));
}

// A scan reads only the states of the measures a query reads (idxNum bits 2-30; measures from
// the 29th on share the last bit): each measure alone, and all, give the GROUP BY's answer.
TEST(Rollup, EachMeasureReadAloneAnswersAsTheGroupBy) {
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE ev USING columnar(g INTEGER, a INTEGER, b REAL, c TEXT, d INTEGER, e INTEGER)");
  db.exec("CREATE TABLE plain(g INTEGER, a INTEGER, b REAL, c TEXT, d INTEGER, e INTEGER)");
  const std::string rows = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299) "
                           "SELECT i % 4, i % 17, i / 8.0, char(65 + i % 23), i % 5, (i * 7) % 31 FROM n";
  db.exec("INSERT INTO ev " + rows);
  db.exec("INSERT INTO plain " + rows);
  std::vector<std::pair<std::string, std::string>> measures = {{"count", "count(*)"}};  // (rollup column, aggregate)
  for (const char* column : {"a", "b", "c", "d", "e"}) {
    for (const char* function : {"count", "sum", "min", "max", "avg"}) {
      measures.emplace_back(std::string(function) + "_" + column, std::string(function) + "(" + column + ")");
    }
    measures.emplace_back(std::string("count_distinct_") + column, std::string("count(DISTINCT ") + column + ")");
  }
  std::string definition, names, aggregates;
  for (const auto& [name, aggregate] : measures) {
    definition += (definition.empty() ? "" : ", ") + aggregate;
    names += ", " + name;
    aggregates += ", " + aggregate;
  }
  db.exec("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='g', measures='" + definition + "')");  // 31 measures
  EXPECT_EQ(db.exact_rows("SELECT bucket" + names + " FROM r ORDER BY bucket"),
            db.exact_rows("SELECT g" + aggregates + " FROM plain GROUP BY g ORDER BY g"));
  for (const auto& [name, aggregate] : measures) {
    EXPECT_EQ(db.exact_rows("SELECT " + name + " FROM r ORDER BY bucket"),
              db.exact_rows("SELECT " + aggregate + " FROM plain GROUP BY g ORDER BY g"))
        << name;
  }
}

TEST(Rollup, DroppingTheSourceKeepsItsRollupsAndRenamesFollow) {
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE ev USING columnar(ts INTEGER, kind TEXT, amount REAL)");
  db.exec("INSERT INTO ev VALUES (1700000000, 'a', 1), (1700000001, 'b', 2), (1700090000, 'a', 4)");
  db.exec("CREATE VIRTUAL TABLE daily USING rollup(source='ev', bucket='day(ts)', group_by='kind', measures='count(*), sum(amount)')");
  db.exec("ALTER TABLE ev RENAME TO events");
  db.exec("ALTER TABLE daily RENAME TO by_day");
  db.exec("INSERT INTO events VALUES (1700000002, 'a', 8)");
  EXPECT_EQ(db.rows("SELECT * FROM by_day ORDER BY bucket, kind"),
            (std::vector<std::string>{"2023-11-14|a|2|9.0", "2023-11-14|b|1|2.0", "2023-11-15|a|1|4.0"}));
  db.exec("DROP TABLE events");
  EXPECT_EQ(db.rows("SELECT * FROM by_day ORDER BY bucket, kind"),
            (std::vector<std::string>{"2023-11-14|a|2|9.0", "2023-11-14|b|1|2.0", "2023-11-15|a|1|4.0"}));
  db.exec("DROP TABLE by_day");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema"), "0");
  // Inside a transaction with changes pending: renaming and dropping rollups lose nothing else.
  db.exec("CREATE VIRTUAL TABLE ev USING columnar(ts INTEGER, kind TEXT, amount REAL)");
  db.exec("CREATE VIRTUAL TABLE a USING rollup(source='ev', bucket='kind', measures='count(*)', segment_rows=1)");  // settles
  db.exec("CREATE VIRTUAL TABLE b USING rollup(source='ev', bucket='kind', measures='sum(amount)')");
  db.exec("BEGIN");
  db.exec("INSERT INTO ev VALUES (1, 'x', 2), (2, 'x', 3)");
  db.exec("ALTER TABLE a RENAME TO a2");
  db.exec("INSERT INTO ev VALUES (3, 'y', 4)");
  db.exec("DROP TABLE b");
  db.exec("INSERT INTO ev VALUES (4, 'y', 5)");
  db.exec("ALTER TABLE ev RENAME TO ev2");
  db.exec("INSERT INTO ev2 VALUES (5, 'z', 6)");
  db.exec("COMMIT");
  EXPECT_EQ(db.rows("SELECT * FROM a2 ORDER BY bucket"), (std::vector<std::string>{"x|2", "y|2", "z|1"}));
  EXPECT_EQ(db.scalar("SELECT sum(rows) FROM a2_segments"), "2");  // x and y settled under the new name
  db.exec("INSERT INTO ev2 VALUES (6, 'x', 1)");                    // back to the hot rows
  EXPECT_EQ(db.rows("SELECT * FROM a2 WHERE bucket < 'z' ORDER BY bucket DESC"), (std::vector<std::string>{"y|2", "x|3"}));
  db.exec("CREATE VIRTUAL TABLE a USING rollup(source='ev2', bucket='kind', measures='max(amount)')");  // the old name is free
  EXPECT_EQ(db.rows("SELECT * FROM a ORDER BY bucket"), (std::vector<std::string>{"x|3.0", "y|5.0", "z|6.0"}));
}

TEST(Rollup, ReadsPushDownAndMakeNoObjectStoreRequest) {
  ScratchDirectory scratch("rollup-tier");
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE ev USING columnar(ts INTEGER, kind TEXT, amount INTEGER, partition_by='day(ts)', tier='file:" +
          scratch.path("lake") + "', hot_partitions=1)");
  db.exec("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999) "
          "INSERT INTO ev SELECT 1700000000 + i * 600, char(97 + i % 3), i FROM n");
  db.exec("CREATE VIRTUAL TABLE hourly USING rollup(source='ev', bucket='hour(ts)', group_by='kind', measures='count(*), sum(amount), max(amount)', "
          "segment_rows=64)");
  // Settled column-wise: all but the newest bucket, in segments of whole buckets.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM hourly_data"), "3");
  EXPECT_EQ(db.scalar("SELECT sum(rows) || ' ' || count(*) FROM hourly_segments"), "498 8");
  EXPECT_EQ(db.scalar("SELECT tier_flush('ev')"), "7");
  std::filesystem::remove_all(scratch.path("lake"));  // any read of a cold row would fail now
  EXPECT_EQ(db.scalar("SELECT sum(count) || ' ' || sum(sum_amount) FROM hourly"), "1000 499500");
  EXPECT_EQ(db.rows("SELECT bucket, count FROM hourly WHERE bucket = '2023-11-15T00' AND kind IN ('a', 'c') ORDER BY kind"),
            (std::vector<std::string>{"2023-11-15T00|2", "2023-11-15T00|2"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM hourly WHERE bucket >= '2023-11-16' AND bucket < '2023-11-17'"), "72");
  EXPECT_EQ(db.rows("SELECT bucket, kind FROM hourly ORDER BY bucket DESC, kind DESC LIMIT 2"),
            (std::vector<std::string>{"2023-11-21T20|c", "2023-11-21T20|b"}));
  // The range goes to the data table and the segments' ranges (idxStr "0,>;"), the order is
  // the module's ("|0+"), as is a GROUP BY's on a group column.
  std::vector<std::string> plan = db.rows("EXPLAIN QUERY PLAN SELECT * FROM hourly WHERE bucket > '2023' ORDER BY bucket");
  ASSERT_EQ(plan.size(), 1u);  // no sort step: the order was consumed
  EXPECT_TRUE(plan[0].ends_with("SCAN hourly VIRTUAL TABLE INDEX 0:0,>,1;|0+|11")) << plan[0];
  plan = db.rows("EXPLAIN QUERY PLAN SELECT kind, sum(count) FROM hourly WHERE bucket < '2023-11-17' GROUP BY kind");
  ASSERT_EQ(plan.size(), 1u);  // no temporary B-tree for the GROUP BY
  EXPECT_TRUE(plan[0].ends_with("SCAN hourly VIRTUAL TABLE INDEX 24:0,<,1;|1+|11")) << plan[0];
  EXPECT_EQ(db.rows("SELECT kind, sum(count), max(max_amount) FROM hourly WHERE bucket < '2023-11-17' GROUP BY kind"),
            (std::vector<std::string>{"a|100|297", "b|100|298", "c|99|296"}));
  // A write to a settled bucket moves its segment back to the data table; those rows (more than
  // segment_rows / 8 of buckets before the newest) settle again at the end of the statement.
  db.exec("INSERT INTO ev VALUES (1700000000, 'a', 5000)");
  EXPECT_EQ(db.scalar("SELECT max_amount FROM hourly WHERE bucket = '2023-11-14T22' AND kind = 'a'"), "5000");
  EXPECT_EQ(db.scalar("SELECT sum(rows) || ' ' || count(*) FROM hourly_segments"), "498 8");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM hourly_data"), "3");
}

// One statement removes the maximum of 5,000 groups (more than are applied at once mid-statement),
// all settled in segments: each waits for the statement's end to be recomputed (and is not looked
// at again before), then moves back to the hot rows and settles again.
TEST(Rollup, ManyGroupsRecomputedAfterOneStatement) {
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE ev USING columnar(g INTEGER, x INTEGER)");
  db.exec("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 14999) INSERT INTO ev SELECT i % 5000, i FROM n");
  db.exec("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='g', measures='count(*), max(x), min(x)', segment_rows=512)");
  EXPECT_EQ(db.scalar("SELECT sum(rows) FROM r_segments"), "4999");  // all but the newest bucket
  db.exec("DELETE FROM ev WHERE x >= 10000");
  const std::string expected = "5000 10000 37497500 12497500";
  EXPECT_EQ(db.scalar("SELECT count(*) || ' ' || sum(count) || ' ' || sum(max_x) || ' ' || sum(min_x) FROM r"), expected);
  EXPECT_EQ(db.scalar("SELECT count(*) || ' ' || sum(c) || ' ' || sum(mx) || ' ' || sum(mn) FROM "
                      "(SELECT count(*) AS c, max(x) AS mx, min(x) AS mn FROM ev GROUP BY g)"),
            expected);
  EXPECT_EQ(db.rows("SELECT bucket, count, max_x, min_x FROM r WHERE bucket IN (0, 2500, 4999) ORDER BY bucket DESC"),
            (std::vector<std::string>{"4999|2|9999|4999", "2500|2|7500|2500", "0|2|5000|0"}));
  EXPECT_EQ(db.scalar("SELECT sum(rows) FROM r_segments"), "4999");
}

// A damaged or missing segment column is a clear error, not a crash or a wrong answer; a
// statement that writes the source from its own rollup's rows reads them as they were.
TEST(Rollup, DamagedSegmentsAreErrorsAndSelfFeedingWritesSeeASnapshot) {
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE ev USING columnar(g INTEGER, x INTEGER)");
  db.exec("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99) INSERT INTO ev SELECT i % 50, i FROM n");
  db.exec("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='g', measures='count(*), sum(x)', segment_rows=16)");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM r_segments"), "4");
  // Every group written again from the rollup itself: segments move back mid-statement.
  db.exec("INSERT INTO ev SELECT bucket, sum_x FROM r");
  EXPECT_EQ(db.scalar("SELECT sum(count) || ' ' || sum(sum_x) FROM r"), "150 9900");
  EXPECT_EQ(db.rows("SELECT bucket, count, sum_x FROM r WHERE bucket IN (0, 49)"),
            (std::vector<std::string>{"0|3|100", "49|3|296"}));
  const std::string damaged_cell = db.scalar("SELECT min(cell) + 1 FROM r_columns");  // a segment's `rows` column
  db.exec("UPDATE r_columns SET data = x'0102030405' WHERE cell = " + damaged_cell);
  EXPECT_NE(db.error_of("SELECT sum(count) FROM r").find("rollup r: segment"), std::string::npos) << db.error_of("SELECT sum(count) FROM r");
  db.exec("DELETE FROM r_columns WHERE cell = " + damaged_cell);
  EXPECT_NE(db.error_of("SELECT sum(count) FROM r").find("has no column 1"), std::string::npos) << db.error_of("SELECT sum(count) FROM r");
}

// A version 1 rollup (no segment tables: every row in r_data) is still read and maintained.
TEST(Rollup, ReadsAndMaintainsVersionOne) {
  ScratchDirectory scratch("rollup-v1");
  const std::string path = scratch.path("v1.db");
  {
    TestDatabase db(path);
    db.exec("CREATE VIRTUAL TABLE ev USING columnar(ts INTEGER, kind TEXT, amount REAL)");
    db.exec("INSERT INTO ev VALUES (1700000000, 'a', 1), (1700003600, 'b', 2), (1700007200, 'a', 3)");
    db.exec("CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='hour(ts)', group_by='kind', measures='count(*), max(amount)')");
    // As version 1 wrote it.
    db.exec("DROP TABLE r_segments; DROP TABLE r_columns; UPDATE r_meta SET value = '1' WHERE key = 'format'");
  }
  TestDatabase db(path);
  db.exec("INSERT INTO ev VALUES (1700000001, 'a', 9)");
  db.exec("DELETE FROM ev WHERE amount = 3");
  EXPECT_EQ(db.rows("SELECT bucket, kind, count, max_amount FROM r WHERE bucket >= '2023-11-14T22' ORDER BY kind DESC, bucket"),
            (std::vector<std::string>{"2023-11-14T23|b|1|2.0", "2023-11-14T22|a|2|9.0"}));
  db.exec("DROP TABLE r");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'r\\_%' ESCAPE '\\'"), "0");
}

TEST(Rollup, ConnectionClosesAfterARecomputation) {
  TestDatabase registers_strata;  // (registers the extension for every new connection)
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE VIRTUAL TABLE ev USING columnar(ts INTEGER, amount REAL);"
                         "INSERT INTO ev VALUES (1700000000, 1.5), (1700000000, 3);"
                         "CREATE VIRTUAL TABLE r USING rollup(source='ev', bucket='day(ts)', measures='max(amount)');"
                         "DELETE FROM ev WHERE amount = 3;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  // The recomputing query reads the source: a statement kept open would keep it connected and
  // the connection from closing.
  EXPECT_EQ(sqlite3_close(db), SQLITE_OK);
}

// ---- differential ---------------------------------------------------------------------------

struct Expected {
  std::string rollup;     // what to read from the rollup
  std::string reference;  // the same GROUP BY over `everything` (the reference rows plus the expired ones)
};

const std::vector<Expected>& expectations() {
  static const std::vector<Expected> list = {
      {"SELECT bucket, k, count, count_x, sum_x, min_x, max_x, avg_y, sum_y, count_distinct_u FROM r_hour",
       "SELECT strftime('%Y-%m-%dT%H', ts, 'unixepoch'), k, count(*), count(x), sum(x), min(x), max(x), avg(y), sum(y), "
       "count(DISTINCT u) FROM everything GROUP BY 1, 2"},
      {"SELECT bucket, k, g, count, min_y, max_y, sum_x, count_distinct_k FROM r_quarter",
       "SELECT time_bucket('15 minutes', ts), k, g, count(*), min(y), max(y), sum(x), count(DISTINCT k) FROM everything GROUP BY 1, 2, 3"},
      {"SELECT bucket, count, max_x, min_k FROM r_value", "SELECT g, count(*), max(x), min(k) FROM everything GROUP BY 1"},
  };
  return list;
}

// Rows as text, sorted unless `keep_order`; reals rounded so that sums taken in another order
// compare equal.
std::vector<std::string> canonical(TestDatabase& db, const std::string& sql, bool keep_order = false) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db.get()) << "\n" << sql;
  std::vector<std::string> rows;
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL: row += "NULL|"; break;
        case SQLITE_INTEGER: row += "i" + std::to_string(sqlite3_column_int64(stmt, c)) + "|"; break;
        case SQLITE_FLOAT: {
          char buffer[64];
          std::snprintf(buffer, sizeof buffer, "r%.9g|", sqlite3_column_double(stmt, c) + 0.0);
          row += buffer;
          break;
        }
        default: row += "t" + std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c))) + "|"; break;
      }
    }
    rows.push_back(row);
  }
  sqlite3_finalize(stmt);
  if (!keep_order) std::sort(rows.begin(), rows.end());
  return rows;
}

class RollupDifferential : public ::testing::TestWithParam<uint32_t> {};

TEST_P(RollupDifferential, EqualsTheGroupByAfterEveryTransaction) {
  const uint32_t seed = GetParam();
  std::mt19937 random(seed);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<uint32_t>(n)); };
  ScratchDirectory scratch("rollup-differential");
  TestDatabase db;
  const int chunk_rows = 3 + pick(20);
  // Small segments: rows settle and come back at most writes (rollup_segments.h).
  const int segment_rows = std::vector<int>{1, 2, 3, 5, 8, 4096}[static_cast<size_t>(pick(6))];
  const std::string columns = "id INTEGER PRIMARY KEY, ts INTEGER, k TEXT, g INTEGER, x INTEGER, y REAL, u INTEGER";
  db.exec("CREATE VIRTUAL TABLE src USING columnar(" + columns + ", UNIQUE(u), chunk_rows=" + std::to_string(chunk_rows) +
          ", partition_by='day(ts)', tier='file:" + scratch.path("lake") + "', hot_partitions=2)");
  db.exec("CREATE TABLE ref(" + columns + ", UNIQUE(u))");
  db.exec("CREATE TABLE expired(id INTEGER, ts INTEGER, k TEXT, g INTEGER, x INTEGER, y REAL, u INTEGER)");  // ids come back
  db.exec("CREATE VIEW everything AS SELECT * FROM ref UNION ALL SELECT * FROM expired");
  const int64_t base = 1700006400;  // a midnight
  int first_day = 0;                // days before this were expired: no write goes there
  auto random_ts = [&]() -> std::string {
    if (pick(30) == 0) return "NULL";
    return std::to_string(base + (first_day + pick(4)) * 86400 + pick(86400));
  };
  auto value_or_null = [&](std::string value) { return pick(8) == 0 ? std::string("NULL") : value; };
  auto random_row = [&](bool with_id) {
    std::string row = with_id ? std::to_string(1 + pick(120)) + ", " : "";
    row += random_ts() + ", " + value_or_null("'" + std::string(1, static_cast<char>('a' + pick(4))) + "'") + ", " +
           std::to_string(pick(3)) + ", " + value_or_null(std::to_string(pick(200) - 50)) + ", " +
           value_or_null(std::to_string(pick(1000) / 8.0)) + ", " + value_or_null(std::to_string(pick(400)));
    return row;
  };
  auto both = [&](const std::string& sql_src, const std::string& sql_ref) {
    const int rc_src = db.result_code_of(sql_src);
    const int rc_ref = db.result_code_of(sql_ref);
    ASSERT_EQ(rc_src & 0xff, rc_ref & 0xff) << sql_src << "\n" << sql_ref;
  };
  auto same = [&](const std::string& sql) {
    std::string on_ref = sql;
    for (size_t at; (at = on_ref.find(" src")) != std::string::npos;) on_ref.replace(at, 4, " ref");
    both(sql, on_ref);
  };
  bool created = false;
  const std::string segments = ", segment_rows=" + std::to_string(segment_rows) + ")";
  auto create_rollups = [&] {
    db.exec("CREATE VIRTUAL TABLE r_hour USING rollup(source='src', bucket='hour(ts)', group_by='k', "
            "measures='count(*), count(x), sum(x), min(x), max(x), avg(y), sum(y), count(DISTINCT u)'" + segments);
    db.exec("CREATE VIRTUAL TABLE r_quarter USING rollup(source='src', bucket='time_bucket(''15 minutes'', ts)', group_by='k, g', "
            "measures='count(*), min(y), max(y), sum(x), count(DISTINCT k)'" + segments);
    db.exec("CREATE VIRTUAL TABLE r_value USING rollup(source='src', bucket='g', measures='count(*), max(x), min(k)'" + segments);
    created = true;
  };
  auto compare = [&](const std::string& when) {
    if (!created) return;
    for (Expected expected : expectations()) {
      if (first_day > 0 && expected.rollup.find("r_value") != std::string::npos) {
        // Its groups span every day: once one is expired, a deleted extreme cannot be recomputed
        // and min/max stay bounds (docs/timeseries.md); the counts stay exact.
        expected = {"SELECT bucket, count FROM r_value", "SELECT g, count(*) FROM everything GROUP BY 1"};
      }
      ASSERT_EQ(canonical(db, expected.rollup), canonical(db, expected.reference)) << when << "\n" << expected.rollup;
    }
    // Reads with pushdown on bucket and group columns, ORDER BY, GROUP BY and DISTINCT, against
    // the same over the reference's GROUP BY (each ORDER BY orders the rows totally).
    const int64_t at = base + (first_day + pick(4)) * 86400 + pick(86400);
    const std::string hour = db.scalar("SELECT strftime('%Y-%m-%dT%H', " + std::to_string(at) + ", 'unixepoch')");
    const std::string quarter = std::to_string(at - at % 900);
    const std::string k1(1, static_cast<char>('a' + pick(4))), k2(1, static_cast<char>('a' + pick(4)));
    const std::vector<std::pair<std::string, bool>> reads = {
        {"SELECT bucket, k, count, sum_x FROM H WHERE bucket >= '" + hour + "' ORDER BY bucket DESC, k", true},
        {"SELECT bucket, k, count FROM H WHERE bucket < '" + hour + "' AND k IN ('" + k1 + "', '" + k2 + "') ORDER BY k, bucket DESC", true},
        {"SELECT k, sum(count), max(max_x), min(min_x) FROM H WHERE bucket <= '" + hour + "' GROUP BY k ORDER BY k", true},
        {"SELECT k, bucket, count, count_x FROM H WHERE bucket = '" + hour + "'", false},
        {"SELECT DISTINCT k FROM H WHERE bucket > '" + hour + "' ORDER BY 1 DESC", true},
        {"SELECT bucket, count FROM H WHERE k IS NULL ORDER BY bucket", true},
        {"SELECT bucket, count FROM H WHERE bucket IS NULL OR bucket >= '" + hour + "' ORDER BY bucket DESC, k", true},
        {"SELECT bucket, k, count FROM H WHERE bucket >= (SELECT '" + hour + "') AND k > (SELECT 'a') ORDER BY bucket, k", true},
        {"SELECT bucket, k FROM H WHERE k = '" + k1 + "' COLLATE NOCASE AND bucket < 2024 ORDER BY bucket DESC", true},
        {"SELECT bucket, k FROM H WHERE k = upper('" + k1 + "') COLLATE NOCASE AND bucket <= CAST(2023 AS TEXT) || '-11-16' ORDER BY bucket", true},
        {"SELECT g, k, sum(count), sum(sum_x) FROM Q WHERE bucket >= " + quarter + " GROUP BY g, k ORDER BY g DESC, k", true},
        {"SELECT bucket, k, g, count FROM Q WHERE bucket < " + quarter + " AND g = " + std::to_string(pick(3)) + " ORDER BY bucket, k DESC", true},
        {"SELECT sum(count), sum(sum_x), count(*) FROM Q WHERE g = " + std::to_string(pick(3)), false},  // bucket and k not read
    };
    const std::string reference_hour =
        "(SELECT CAST(strftime('%Y-%m-%dT%H', ts, 'unixepoch') AS TEXT) AS bucket, k, count(*) AS count, count(x) AS count_x, sum(x) AS sum_x, "
        "min(x) AS min_x, max(x) AS max_x FROM everything GROUP BY 1, 2)";
    const std::string reference_quarter =
        "(SELECT time_bucket('15 minutes', ts) AS bucket, k, g, count(*) AS count, sum(x) AS sum_x FROM everything GROUP BY 1, 2, 3)";
    for (const auto& [read, ordered] : reads) {
      auto on = [&](const std::string& hourly, const std::string& quarterly) {
        std::string sql = read;
        for (size_t p; (p = sql.find(" H ")) != std::string::npos;) sql.replace(p, 3, " " + hourly + " ");
        for (size_t p; (p = sql.find(" Q ")) != std::string::npos;) sql.replace(p, 3, " " + quarterly + " ");
        return sql;
      };
      ASSERT_EQ(canonical(db, on("r_hour", "r_quarter"), ordered), canonical(db, on(reference_hour, reference_quarter), ordered))
          << when << "\n" << on("r_hour", "r_quarter");
    }
  };
  auto random_where = [&]() -> std::string {
    switch (pick(6)) {
      case 0: return "id = " + std::to_string(1 + pick(120));
      case 1: return "id IN (" + std::to_string(1 + pick(120)) + ", " + std::to_string(1 + pick(120)) + ")";
      case 2: return "u IN (" + std::to_string(pick(400)) + ", " + std::to_string(pick(400)) + ", " + std::to_string(pick(400)) + ")";
      case 3: return "x > " + std::to_string(pick(200) - 50);
      case 4: return "k = '" + std::string(1, static_cast<char>('a' + pick(4))) + "'";
      default: return "ts >= " + std::to_string(base + (first_day + pick(4)) * 86400) + " AND ts < " +
                      std::to_string(base + (first_day + pick(4)) * 86400 + 20000);
    }
  };
  const int steps = 70;
  for (int step = 0; step < steps; ++step) {
    if (!created && (step == 5 || pick(12) == 0)) create_rollups();
    const int kind = pick(12);
    if (kind == 0 && created) {  // tiering: old partitions go cold (outside a transaction)
      db.exec("SELECT tier_flush('src')");
    } else if (kind == 1 && created && pick(3) == 0) {
      // Expire the oldest day that holds rows: its rollup rows stay (the reference keeps them in `expired`).
      const std::string day_start = std::to_string(base + first_day * 86400), day_end = std::to_string(base + (first_day + 1) * 86400);
      db.exec("INSERT INTO expired SELECT * FROM ref WHERE ts >= " + day_start + " AND ts < " + day_end);
      db.exec("DELETE FROM ref WHERE ts >= " + day_start + " AND ts < " + day_end);
      const std::string day = db.scalar("SELECT date(" + day_start + ", 'unixepoch')");
      db.exec("SELECT tier_expire('src', '" + day + "')");
      ++first_day;  // no write goes to an expired day again
    } else if (kind == 2) {
      db.exec("SELECT columnar_compact('src')");
    } else {
      // A transaction of a few statements, with savepoints, failing statements and a random end.
      db.exec("BEGIN");
      bool in_savepoint = false;
      const int statements = 1 + pick(5);
      for (int s = 0; s < statements; ++s) {
        switch (pick(9)) {
          case 0:
          case 1: {
            std::string rows;
            for (int r = 0, n = 1 + pick(6); r < n; ++r) rows += std::string(r ? ", " : "") + "(" + random_row(true) + ")";
            // Duplicate ids or u values make some fail part-way (statement rollback).
            same("INSERT INTO src(id, ts, k, g, x, y, u) VALUES " + rows);
            break;
          }
          case 2: same("INSERT OR REPLACE INTO src(id, ts, k, g, x, y, u) VALUES (" + random_row(true) + ")"); break;
          case 3: same("UPDATE src SET x = x + " + std::to_string(pick(9) - 4) + ", y = " + value_or_null(std::to_string(pick(100) / 4.0)) +
                       " WHERE " + random_where());
            break;
          case 4: same("UPDATE src SET k = " + value_or_null("'" + std::string(1, static_cast<char>('a' + pick(4))) + "'") + ", g = " +
                       std::to_string(pick(3)) + ", ts = " + random_ts() + " WHERE " + random_where());
            break;
          case 5: same("DELETE FROM src WHERE " + random_where()); break;
          case 6: same("UPDATE OR REPLACE src SET u = " + std::to_string(pick(400)) + " WHERE " + random_where()); break;
          case 7:
            if (!in_savepoint) {
              db.exec("SAVEPOINT sp");
              in_savepoint = true;
            } else {
              db.exec(pick(2) ? "ROLLBACK TO sp" : "RELEASE sp");
              if (db.scalar("SELECT 1") == "1") in_savepoint = false;
              // ROLLBACK TO leaves the savepoint open; release it so the next SAVEPOINT nests cleanly.
              db.exec("SAVEPOINT sp2");
              db.exec("RELEASE sp2");
            }
            break;
          default:
            compare("inside a transaction at step " + std::to_string(step));
            break;
        }
        if (::testing::Test::HasFatalFailure()) return;
      }
      db.exec(pick(4) == 0 ? "ROLLBACK" : "COMMIT");
    }
    compare("after step " + std::to_string(step) + " (seed " + std::to_string(seed) + ", chunk_rows " + std::to_string(chunk_rows) +
            ", segment_rows " + std::to_string(segment_rows) + ")");
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(std::stoi(db.scalar("SELECT count(*) FROM r_hour")), 0);
}

// A column bucket holding every storage class (no affinity) and a NOCASE group column: grouping,
// ordering in both directions and filters on the decoded columns agree with SQLite's GROUP BY.
TEST(RollupDifferentialMixed, MixedTypesAndNoCaseGroupsReadLikeTheGroupBy) {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    std::mt19937 random(seed);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<uint32_t>(n)); };
    TestDatabase db;
    db.exec("CREATE VIRTUAL TABLE src USING columnar(b, k TEXT COLLATE NOCASE, v INTEGER)");
    db.exec("CREATE TABLE ref(b, k TEXT COLLATE NOCASE, v INTEGER)");
    db.exec("CREATE VIRTUAL TABLE r USING rollup(source='src', bucket='b', group_by='k', measures='count(*), sum(v)', segment_rows=" +
            std::to_string(1 + pick(4)) + ")");
    const std::vector<std::string> buckets = {"NULL", "-2", "0", "1", "3", "0.5", "2.5", "'1'", "'2'", "'a'", "'B'", "x'01'", "x'00ff'"};
    const std::vector<std::string> keys = {"NULL", "'a'", "'A'", "'b'", "'B'", "'ab'", "'Ab'"};
    auto both = [&](const std::string& sql) {
      db.exec(sql);
      std::string on_ref = sql;
      on_ref.replace(on_ref.find(" src"), 4, " ref");
      db.exec(on_ref);
    };
    for (int step = 0; step < 25; ++step) {
      switch (pick(4)) {
        case 0: both("DELETE FROM src WHERE b IS " + buckets[static_cast<size_t>(pick(13))] + " AND v % 3 = " + std::to_string(pick(3))); break;
        case 1: both("UPDATE src SET v = v + 1, k = " + keys[static_cast<size_t>(pick(7))] + " WHERE v % 5 = " + std::to_string(pick(5))); break;
        default: {
          std::string rows;
          for (int r = 0; r < 8; ++r) {
            rows += std::string(r ? ", " : "") + "(" + buckets[static_cast<size_t>(pick(13))] + ", " + keys[static_cast<size_t>(pick(7))] +
                    ", " + std::to_string(pick(100)) + ")";
          }
          both("INSERT INTO src VALUES " + rows);
        }
      }
      const std::string at = buckets[static_cast<size_t>(1 + pick(12))];
      const std::string key = keys[static_cast<size_t>(1 + pick(6))];
      const std::vector<std::pair<std::string, std::string>> reads = {
          {"SELECT quote(bucket), lower(k), count, sum_v FROM r ORDER BY bucket DESC, k",
           "SELECT quote(b), lower(k), count(*), sum(v) FROM ref GROUP BY b, k ORDER BY b DESC, k"},
          {"SELECT lower(k), sum(count), sum(sum_v) FROM r GROUP BY k ORDER BY k DESC",
           "SELECT lower(k), count(*), sum(v) FROM ref GROUP BY k ORDER BY k DESC"},
          {"SELECT quote(bucket), sum(count) FROM r WHERE bucket >= " + at + " GROUP BY bucket ORDER BY bucket",
           "SELECT quote(b), count(*) FROM ref WHERE b >= " + at + " GROUP BY b ORDER BY b"},
          {"SELECT quote(bucket), lower(k), count FROM r WHERE bucket < " + at + " AND k = " + key + " ORDER BY k, bucket DESC",
           "SELECT quote(b), lower(k), count(*) FROM ref WHERE b < " + at + " AND k = " + key + " GROUP BY b, k ORDER BY k, b DESC"},
          {"SELECT DISTINCT lower(k) FROM r WHERE bucket IS " + at + " ORDER BY 1", "SELECT DISTINCT lower(k) FROM ref WHERE b IS " + at + " ORDER BY 1"},
      };
      for (const auto& [rollup, reference] : reads) {
        ASSERT_EQ(canonical(db, rollup, true), canonical(db, reference, true)) << "seed " << seed << " step " << step << "\n" << rollup;
      }
    }
  }
}

int seeds() {
  const char* text = std::getenv("STRATA_ROLLUP_SEEDS");
  return text != nullptr ? std::max(1, std::atoi(text)) : 6;
}

INSTANTIATE_TEST_SUITE_P(Seeds, RollupDifferential, ::testing::Range(1u, 1u + static_cast<uint32_t>(seeds())));

}  // namespace
}  // namespace strata
