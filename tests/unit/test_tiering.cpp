// Tiering of columnar tables (docs/tiering.md) on the file: store: the same answers hot, cold,
// reopened and restored; requests counted exactly; writes into cold partitions; errors; every
// call of flush, restore and GC failed in turn; DuckDB reading the lake.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/duckdb_peer.h"
#include "tests/unit/kill_rounds.h"
#include "tests/unit/s3_test_server.h"
#include "tests/unit/silent_server.h"
#include "tests/unit/test_database.h"
#include "tests/unit/tiering_fixture.h"
#include "codecs/parquet/parquet_reader.h"
#include "tiering/digest.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDay = 86400;
constexpr int64_t kStart = 1767225600;  // 2026-01-01T00:00:00Z

// Values of every storage class in one column (m), text that is not UTF-8, blobs, NULLs, -0.0,
// the extremes of INTEGER, and a UNIQUE column and an index.
const char* const kCreate =
    "CREATE VIRTUAL TABLE t USING columnar(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, s TEXT, v REAL, b BLOB, m,"
    " u TEXT UNIQUE, k INTEGER, partition_by='day(ts)', tier='file:lake', chunk_rows=300, bloom='s', index='k')";
const char* const kColumns = "id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, s TEXT, v REAL, b BLOB, m, u TEXT UNIQUE, k INTEGER";

std::string fill_sql(const std::string& table, int rows, int first = 1) {
  return "WITH RECURSIVE n(i) AS (SELECT " + std::to_string(first) + " UNION ALL SELECT i + 1 FROM n WHERE i < " +
         std::to_string(first + rows - 1) + ") INSERT INTO " + table +
         "(id, ts, s, v, b, m, u, k) SELECT i, " + std::to_string(kStart) + " + i * 97, "
         "CASE WHEN i % 17 = 0 THEN NULL WHEN i % 19 = 0 THEN CAST(x'ff00fe' AS TEXT) ELSE 's' || (i % 41) END, "
         "CASE i % 7 WHEN 0 THEN -0.0 WHEN 1 THEN NULL ELSE i / 3.0 END, "
         "CASE WHEN i % 5 = 0 THEN CAST(x'0001' || i AS BLOB) END, "
         "CASE i % 6 WHEN 0 THEN i WHEN 1 THEN i * 1.5 WHEN 2 THEN 'm' || i WHEN 3 THEN CAST(i AS BLOB) "
         "WHEN 4 THEN NULL ELSE 9223372036854775807 - i END, "
         "CASE WHEN i % 3 = 0 THEN 'u' || i END, i % 23 FROM n";
}

// The queries compared: every pushdown path of the columnar table.
const std::vector<std::string> kQueries = {
    "SELECT * FROM t ORDER BY id",
    "SELECT * FROM t ORDER BY id DESC LIMIT 50",
    "SELECT count(*) FROM t",
    "SELECT id, s, v FROM t WHERE ts >= 1767225600 + 86400 AND ts < 1767225600 + 2 * 86400 ORDER BY id",
    "SELECT id, m FROM t WHERE s IN ('s3', 's7', 's40') ORDER BY id",
    "SELECT id FROM t WHERE s = 's11' ORDER BY id DESC",
    "SELECT * FROM t WHERE u = 'u300'",
    "SELECT id, u FROM t WHERE u IN ('u3', 'u999', 'u2400', 'nope') ORDER BY id",
    "SELECT count(*), sum(v), min(m), max(m) FROM t WHERE k = 5",
    "SELECT s, count(*), sum(v) FROM t GROUP BY s ORDER BY s",
    "SELECT typeof(m), count(*) FROM t GROUP BY 1 ORDER BY 1",
    "SELECT id, hex(s), hex(b) FROM t WHERE id BETWEEN 700 AND 760 ORDER BY id",
    "SELECT id FROM t WHERE v > 500 AND v < 520 ORDER BY v DESC, id",
    "SELECT * FROM t WHERE rowid IN (1, 299, 300, 301, 1500, 2999) ORDER BY id",
};

std::vector<std::vector<std::string>> answers(const TestDatabase& db) {
  std::vector<std::vector<std::string>> all;
  for (const std::string& query : kQueries) all.push_back(db.exact_rows(query));
  return all;
}

void expect_same_answers(const TestDatabase& db, const std::vector<std::vector<std::string>>& expected,
                         const std::string& when) {
  std::vector<std::vector<std::string>> got = answers(db);
  for (size_t q = 0; q < kQueries.size(); ++q) {
    EXPECT_EQ(got[q], expected[q]) << when << ": " << kQueries[q];
  }
}

std::string query_plan(const TestDatabase& db, const std::string& query) {
  std::string text;
  for (const std::string& row : db.rows("EXPLAIN QUERY PLAN " + query)) text += row + "\n";
  return text;
}

int64_t total_requests(const TestDatabase& db) {
  return std::stoll(db.scalar("SELECT coalesce(sum(requests), 0) FROM tier_partitions WHERE tbl = 't'"));
}
int64_t total_cache_hits(const TestDatabase& db) {
  return std::stoll(db.scalar("SELECT coalesce(sum(cache_hits), 0) FROM tier_partitions WHERE tbl = 't'"));
}

class Tiering : public ::testing::Test {
 protected:
  Tiering() : scratch_("tiering"), path_(scratch_.path("t.db")), lake_(scratch_.path("lake")) {}

  // A table of 3,000 rows over 4 days (3 of them flushed by default) and its ordinary twin.
  void create(TestDatabase& db) {
    db.exec(kCreate);
    db.exec(fill_sql("t", 3000));
    db.exec(std::string("CREATE TABLE twin(") + kColumns + ")");
    db.exec(fill_sql("twin", 3000));
  }

  ScratchDirectory scratch_;
  std::string path_;
  std::string lake_;
};

TEST_F(Tiering, QueriesGiveTheSameRowsHotColdReopenedAndRestored) {
  std::vector<std::vector<std::string>> expected;
  {
    TestDatabase db(path_);
    create(db);
    expected = answers(db);
    EXPECT_EQ(db.scalar("SELECT group_concat(partition || ':' || tier, ' ') FROM tier_partitions WHERE tbl = 't'"),
              "2026-01-01:hot 2026-01-02:hot 2026-01-03:hot 2026-01-04:hot");
    EXPECT_EQ(db.scalar("SELECT tier_flush('t')"), "3");
    EXPECT_EQ(db.scalar("SELECT tier_flush('t')"), "0");  // idempotent
    EXPECT_EQ(db.scalar("SELECT group_concat(partition || ':' || tier, ' ') FROM tier_partitions WHERE tbl = 't'"),
              "2026-01-01:cold 2026-01-02:cold 2026-01-03:cold 2026-01-04:hot");
    EXPECT_EQ(lake_files(lake_).size(), 3u);
    for (const std::string& file : lake_files(lake_)) EXPECT_TRUE(file.starts_with("t/ts_day=2026-01-0")) << file;
    expect_same_answers(db, expected, "after tier_flush");
    EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");
    // Cold partitions keep no column data hot.
    EXPECT_EQ(db.scalar("SELECT count(*) FROM t_columns JOIN t_chunks ON cell / 4096 = chunk_id "
                        "WHERE tier IS NOT NULL AND length(data) > 0 AND cell % 4096 <> 0"),
              "0");
  }
  {
    TestDatabase db(path_);
    expect_same_answers(db, expected, "reopened");
    EXPECT_EQ(db.scalar("SELECT tier_restore('t', '2026-01-02')"), "1");
    EXPECT_EQ(db.scalar("SELECT tier_restore('t', '2026-01-02')"), "0");
    EXPECT_EQ(db.scalar("SELECT tier_restore('t', '2031-01-01')"), "0");
    EXPECT_EQ(lake_files(lake_).size(), 2u);
    expect_same_answers(db, expected, "one partition restored");
    EXPECT_EQ(db.scalar("SELECT tier_restore('t', '2026-01-01') + tier_restore('t', '2026-01-03')"), "2");
    EXPECT_EQ(lake_files(lake_).size(), 0u);
    EXPECT_EQ(db.scalar("SELECT group_concat(tier, ' ') FROM tier_partitions WHERE tbl = 't'"), "hot hot hot hot");
    expect_same_answers(db, expected, "all restored");
    EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");
    EXPECT_EQ(db.scalar("SELECT count(*) FROM t_objects"), "0");
    // And once more, one partition by name; a partition named by a number's text works too.
    EXPECT_EQ(db.scalar("SELECT tier_flush('t', '2026-01-04')"), "1");
    EXPECT_EQ(db.scalar("SELECT tier_flush('t', '2026-01-04')"), "0");
    expect_same_answers(db, expected, "newest flushed by name");
  }
}

TEST_F(Tiering, RequestsAreCountedExactly) {
  StoreCalls calls;
  TestDatabase db(path_);
  create(db);
  ASSERT_EQ(db.scalar("SELECT tier_flush('t')"), "3");
  const int chunks_per_day = std::stoi(db.scalar(
      "SELECT count(*) FROM t_chunks WHERE partition_key = '2026-01-02'"));
  ASSERT_GT(chunks_per_day, 1);
  calls.reset();
  // count(*) and anything the hot metadata rules out: no request.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t"), "3000");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t WHERE ts >= 1767225600 + 3 * 86400"),
            db.scalar("SELECT count(*) FROM twin WHERE ts >= 1767225600 + 3 * 86400"));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t WHERE s = 'never there'"), "0");
  EXPECT_EQ(db.scalar("SELECT max(id), min(id) FROM t"), db.scalar("SELECT max(id), min(id) FROM twin"));  // hot rowids
  EXPECT_EQ(calls.total(), 0);
  EXPECT_EQ(total_requests(db), 0);
  // A UNIQUE lookup: the index is hot; the row it names is checked to hold the key, which reads
  // that one column of that one chunk.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t WHERE u = 'u300'"), "1");
  EXPECT_EQ(calls.count(StoreCall::kGetRange), 1);
  calls.reset();

  // One REAL column of one day: one ranged GET per chunk, no footer read.
  const std::string one_day = "SELECT sum(v) FROM t WHERE ts >= 1767225600 + 86400 AND ts < 1767225600 + 2 * 86400";
  const std::string twin_day = "SELECT sum(v) FROM twin WHERE ts >= 1767225600 + 86400 AND ts < 1767225600 + 2 * 86400";
  // ts is read too (the filter is checked row by row): two leaves per chunk of the day.
  EXPECT_EQ(db.scalar(one_day), db.scalar(twin_day));
  EXPECT_EQ(calls.count(StoreCall::kGetRange), 2 * chunks_per_day);
  EXPECT_EQ(calls.total(), 2 * chunks_per_day);
  EXPECT_EQ(total_requests(db), 2 * chunks_per_day + 1);  // and the UNIQUE lookup's
  const int64_t fetched = std::stoll(db.scalar("SELECT sum(bytes_fetched) FROM tier_partitions WHERE tbl = 't'"));
  EXPECT_GT(fetched, 0);

  // Again on a new connection: the decoded chunks are gone, the local cache serves every range.
  TestDatabase again(path_);
  calls.reset();
  EXPECT_EQ(again.scalar(one_day), db.scalar(twin_day));
  EXPECT_EQ(calls.total(), 0);
  EXPECT_EQ(total_requests(again), 0);
  EXPECT_EQ(total_cache_hits(again), 2 * chunks_per_day);

  // A damaged cache file is noticed and fetched again, never returned.
  for (const auto& entry : fs::directory_iterator(path_ + "-tiercache")) {
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(0);
    file.put('\x7f');
  }
  TestDatabase third(path_);
  calls.reset();
  EXPECT_EQ(third.scalar(one_day), db.scalar(twin_day));
  EXPECT_EQ(calls.count(StoreCall::kGetRange), 2 * chunks_per_day);
}

// Rowid and key lookups of cold rows read only the rows asked for (the column chunks are fetched
// whole, but only the pages holding the rows are decoded); a chunk looked into again and again
// is then decoded whole into the chunk cache. Answers are the ordinary table's throughout.
TEST_F(Tiering, PointLookupsOfColdRowsDecodeOnlyTheirRows) {
  TestDatabase db(path_);
  db.exec(std::string(kCreate).replace(std::string(kCreate).find("chunk_rows=300"), 14, "chunk_rows=1000"));
  db.exec(fill_sql("t", 3000));
  db.exec(std::string("CREATE TABLE twin(") + kColumns + ")");
  db.exec(fill_sql("twin", 3000));
  db.exec("DELETE FROM t WHERE id IN (101, 102, 1500)");
  db.exec("DELETE FROM twin WHERE id IN (101, 102, 1500)");
  ASSERT_EQ(db.scalar("SELECT tier_flush('t')"), "3");
  db.exec("DELETE FROM t WHERE id IN (103, 1501)");  // deleted after the flush: hot bitmaps of cold chunks
  db.exec("DELETE FROM twin WHERE id IN (103, 1501)");
  auto stats = [&](const char* field) {
    return std::stoll(db.scalar(std::string("SELECT json_extract(columnar_scan_stats('t'), '$.") + field + "')"));
  };
  const std::vector<std::string> lookups = {
      "SELECT * FROM # WHERE id = 100", "SELECT * FROM # WHERE id = 101", "SELECT * FROM # WHERE id = 103",
      "SELECT * FROM # WHERE rowid IN (99, 100, 101, 104, 1499, 1500, 1502, 2999) ORDER BY id",
      "SELECT id, s, m FROM # WHERE id BETWEEN 1495 AND 1505 ORDER BY id", "SELECT * FROM # WHERE u = 'u900'",
      "SELECT id, b FROM # WHERE u IN ('u3', 'u1503', 'u102', 'nope') ORDER BY id",
      "SELECT * FROM # WHERE id = 1200 AND s IS NOT NULL", "SELECT count(*), sum(v) FROM # WHERE id IN (5, 6, 7)"};
  auto on = [](std::string sql, const std::string& table) {
    for (size_t at = sql.find('#'); at != std::string::npos; at = sql.find('#', at)) sql.replace(at, 1, table);
    return sql;
  };
  for (const std::string& lookup : lookups) {
    TestDatabase fresh(path_);  // an empty chunk cache each time
    EXPECT_EQ(fresh.exact_rows(on(lookup, "t")), fresh.exact_rows(on(lookup, "twin"))) << lookup;
  }
  // Random lookups of every kind, some connections fresh, some not.
  std::mt19937 random(17);
  for (int round = 0; round < 8; ++round) {
    TestDatabase fresh(path_);
    for (int i = 0; i < 40; ++i) {
      const int id = static_cast<int>(random() % 3100);
      std::string lookup;
      switch (random() % 5) {
        case 0: lookup = "SELECT * FROM # WHERE id = " + std::to_string(id); break;
        case 1: lookup = "SELECT * FROM # WHERE id BETWEEN " + std::to_string(id) + " AND " + std::to_string(id + random() % 70) + " ORDER BY id"; break;
        case 2:
          lookup = "SELECT id, m, s FROM # WHERE rowid IN (" + std::to_string(id) + ", " + std::to_string(id + 1) + ", " +
                   std::to_string((id * 7) % 3000) + ") ORDER BY id";
          break;
        case 3: lookup = "SELECT * FROM # WHERE u = 'u" + std::to_string(id) + "'"; break;
        default: lookup = "SELECT id, v FROM # WHERE k = " + std::to_string(id % 23) + " AND id > " + std::to_string(id) + " ORDER BY id"; break;
      }
      EXPECT_EQ(fresh.exact_rows(on(lookup, "t")), fresh.exact_rows(on(lookup, "twin"))) << lookup;
    }
  }

  // The first lookups into a chunk read only their rows.
  EXPECT_EQ(db.exact_rows("SELECT * FROM t WHERE id = 2100"), db.exact_rows("SELECT * FROM twin WHERE id = 2100"));
  EXPECT_EQ(stats("columns_read_in_part"), 7);  // every column but the rowid alias
  EXPECT_EQ(stats("columns_decoded"), 0);
  for (int id : {2101, 2102}) EXPECT_EQ(db.exact_rows("SELECT * FROM t WHERE id = " + std::to_string(id)).size(), 1u);
  EXPECT_EQ(stats("columns_read_in_part"), 7);
  // The fourth decodes the chunk whole into the cache, and the fifth finds it there.
  EXPECT_EQ(db.exact_rows("SELECT * FROM t WHERE id = 2103"), db.exact_rows("SELECT * FROM twin WHERE id = 2103"));
  EXPECT_EQ(stats("columns_read_in_part"), 0);
  EXPECT_EQ(stats("columns_decoded"), 7);
  EXPECT_EQ(db.exact_rows("SELECT * FROM t WHERE id = 2104"), db.exact_rows("SELECT * FROM twin WHERE id = 2104"));
  EXPECT_EQ(stats("columns_read_in_part") + stats("columns_decoded"), 0);
  // A scan reads chunks whole, as before.
  EXPECT_EQ(db.exact_rows("SELECT * FROM t ORDER BY id"), db.exact_rows("SELECT * FROM twin ORDER BY id"));
  EXPECT_EQ(stats("columns_read_in_part"), 0);

  // Columns from 63 on (read when first asked for) of a point read's rows.
  std::string columns = "ts INTEGER", values = "1767225600 + i * 50";
  for (int c = 1; c < 70; ++c) {
    columns += ", c" + std::to_string(c);
    values += ", i * " + std::to_string(c);
  }
  db.exec("CREATE VIRTUAL TABLE w USING columnar(" + columns + ", partition_by='day(ts)', tier='file:lake', chunk_rows=1000)");
  db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO w SELECT " + values + " FROM n");
  ASSERT_EQ(db.scalar("SELECT tier_flush('w')"), "1");
  TestDatabase fresh(path_);
  EXPECT_EQ(fresh.exact_rows("SELECT c69, c2, c64 FROM w WHERE rowid IN (7, 900)"),
            fresh.exact_rows("SELECT 7 * 69, 7 * 2, 7 * 64 UNION ALL SELECT 900 * 69, 900 * 2, 900 * 64"));
  EXPECT_GT(std::stoll(fresh.scalar("SELECT json_extract(columnar_scan_stats('w'), '$.columns_read_in_part')")), 0);
}

TEST_F(Tiering, WritesIntoColdPartitionsAndTheNextFlushRewritesThem) {
  TestDatabase db(path_);
  create(db);
  ASSERT_EQ(db.scalar("SELECT tier_flush('t')"), "3");
  const std::string writes =
      "DELETE FROM # WHERE id % 10 = 3;"
      "UPDATE # SET s = 'changed', v = v * 2 WHERE id % 50 = 7;"
      "INSERT INTO #(id, ts, s, v, u, k) VALUES (5000, 1767225600 + 100, 'late', 1.5, 'u-late', 1);"
      "UPDATE # SET id = id + 10000 WHERE id = 2500;"
      "DELETE FROM # WHERE ts < 1767225600 + 86400 AND k = 4;";
  auto on = [&](const std::string& table) {
    std::string sql = writes;
    for (size_t at = sql.find('#'); at != std::string::npos; at = sql.find('#', at)) sql.replace(at, 1, table);
    return sql;
  };
  db.exec(on("t"));
  db.exec(on("twin"));
  EXPECT_EQ(db.exact_rows("SELECT * FROM t ORDER BY id"), db.exact_rows("SELECT * FROM twin ORDER BY id"));
  // An UPDATE is a deletion and an insertion: every cold partition now has hot rows too.
  EXPECT_EQ(db.scalar("SELECT group_concat(partition || ':' || tier, ' ') FROM tier_partitions WHERE tbl = 't'"),
            "2026-01-01:mixed 2026-01-02:mixed 2026-01-03:mixed 2026-01-04:hot");
  // UNIQUE holds across hot and cold rows.
  EXPECT_NE(db.error_of("INSERT INTO t(ts, u) VALUES (1767225600, 'u300')"), "");
  EXPECT_EQ(db.scalar("SELECT tier_flush('t')"), "3");  // every cold partition had changes
  EXPECT_EQ(db.scalar("SELECT group_concat(partition || ':' || tier, ' ') FROM tier_partitions WHERE tbl = 't'"),
            "2026-01-01:cold 2026-01-02:cold 2026-01-03:cold 2026-01-04:hot");
  EXPECT_EQ(lake_files(lake_).size(), 3u);  // the replaced objects are gone
  EXPECT_EQ(db.exact_rows("SELECT * FROM t ORDER BY id"), db.exact_rows("SELECT * FROM twin ORDER BY id"));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t_chunks WHERE tier IS NOT NULL AND deleted_count > 0"), "0");
  EXPECT_EQ(db.scalar("SELECT sum(rows) FROM t_objects WHERE state = 'live'"),
            db.scalar("SELECT count(*) FROM twin WHERE ts < 1767225600 + 3 * 86400"));
  EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");
}

TEST_F(Tiering, ErrorsNameWhatIsWrong) {
  TestDatabase db(path_);
  create(db);
  db.exec("CREATE VIRTUAL TABLE plain USING columnar(a, b)");
  db.exec("CREATE VIRTUAL TABLE untiered USING columnar(a, ts, partition_by='day(ts)')");
  EXPECT_NE(db.error_of("SELECT tier_flush('plain')").find("has no partition_by= option"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT tier_flush('untiered')").find("has no tier= option"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT tier_flush('nope')").find("no such table"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT tier_flush('twin')").find("is not a columnar or things table"), std::string::npos);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE x USING columnar(a, hot_partitions=2)").find("needs both"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT tier_cache('/tmp/x', 'lots')").find("the size must be"), std::string::npos);
  db.exec("BEGIN");
  EXPECT_NE(db.error_of("SELECT tier_flush('t')").find("cannot run inside a transaction"), std::string::npos);
  db.exec("ROLLBACK");
  ASSERT_EQ(db.scalar("SELECT tier_flush('t')"), "3");

  // The store gone: queries that need cold data fail naming table, partition and object; the
  // others keep working.
  fs::rename(lake_, scratch_.path("lake-away"));
  TestDatabase fresh(path_);
  EXPECT_EQ(fresh.scalar("SELECT count(*) FROM t"), "3000");
  EXPECT_EQ(fresh.scalar("SELECT count(*) FROM t WHERE ts >= 1767225600 + 3 * 86400"),
            fresh.scalar("SELECT count(*) FROM twin WHERE ts >= 1767225600 + 3 * 86400"));
  EXPECT_EQ(fresh.exact_rows("SELECT * FROM t WHERE ts >= 1767225600 + 3 * 86400 ORDER BY id"),
            fresh.exact_rows("SELECT * FROM twin WHERE ts >= 1767225600 + 3 * 86400 ORDER BY id"));
  const std::string error = fresh.error_of("SELECT sum(v) FROM t");
  EXPECT_NE(error.find("columnar: table t: partition '2026-01-0"), std::string::npos) << error;
  EXPECT_NE(error.find("object t/ts_day=2026-01-0"), std::string::npos) << error;
  EXPECT_NE(fresh.scalar("SELECT columnar_check('t')"), "ok");
  fs::rename(scratch_.path("lake-away"), lake_);
  EXPECT_EQ(fresh.exact_rows("SELECT * FROM t ORDER BY id"), fresh.exact_rows("SELECT * FROM twin ORDER BY id"));
  EXPECT_EQ(fresh.scalar("SELECT columnar_check('t')"), "ok");
}

// Every store call of a flush, a restore and a GC fails in turn: the content stays the last
// committed one, columnar_check stays ok, and what is left behind is collected by tier_gc.
TEST_F(Tiering, EveryFailedStoreCallLosesNothing) {
  StoreCalls calls;
  TestDatabase db(path_);
  create(db);
  const std::vector<std::string> expected = db.exact_rows("SELECT * FROM twin ORDER BY id");
  struct Step {
    const char* sql;
    StoreCall call;
  };
  int failures = 0;
  for (const Step& step : {Step{"SELECT tier_flush('t', '2026-01-02')", StoreCall::kPut},
                           Step{"SELECT tier_flush('t', '2026-01-02')", StoreCall::kHead},
                           Step{"SELECT tier_flush('t', '2026-01-02')", StoreCall::kGetRange}}) {
    calls.reset();
    calls.fail(step.call, 1);
    std::string error = db.error_of(step.sql);
    EXPECT_NE(error, "") << step.sql;
    ++failures;
    calls.reset();
    EXPECT_EQ(db.exact_rows("SELECT * FROM t ORDER BY id"), expected);
    EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");
    EXPECT_EQ(db.scalar("SELECT tier FROM tier_partitions WHERE partition = '2026-01-02'"), "hot");
  }
  EXPECT_EQ(lake_files(lake_).size(), 0u);  // each failed flush removed what it had uploaded
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t_objects"), "0");

  // The upload cannot be verified and the uploaded object cannot be removed either: the
  // intent stays, with its orphan; the next whole-table flush collects it first.
  calls.fail(StoreCall::kHead, 1);
  calls.fail(StoreCall::kRemove, 1, /*and_after=*/true);
  EXPECT_NE(db.error_of("SELECT tier_flush('t', '2026-01-02')"), "");
  calls.reset();
  ++failures;
  EXPECT_EQ(lake_files(lake_).size(), 1u);
  EXPECT_EQ(db.scalar("SELECT state FROM t_objects"), "writing");
  EXPECT_EQ(db.exact_rows("SELECT * FROM t ORDER BY id"), expected);
  EXPECT_EQ(db.scalar("SELECT tier_gc('t')"), "1");  // its flush is over: an orphan
  EXPECT_EQ(lake_files(lake_).size(), 0u);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t_objects"), "0");

  calls.reset();
  ASSERT_EQ(db.scalar("SELECT tier_flush('t', '2026-01-02')"), "1");
  ASSERT_EQ(db.scalar("SELECT tier_flush('t', '2026-01-03')"), "1");
  // Restore: a failed ranged read leaves the partition cold and whole.
  for (int number = 1; number <= 3; ++number) {
    fs::remove_all(path_ + "-tiercache");  // else the local cache answers without a request
    calls.reset();
    calls.fail(StoreCall::kGetRange, number);
    EXPECT_NE(db.error_of("SELECT tier_restore('t', '2026-01-02')"), "");
    calls.reset();
    EXPECT_EQ(db.scalar("SELECT tier FROM tier_partitions WHERE partition = '2026-01-02'"), "cold");
    EXPECT_EQ(db.exact_rows("SELECT * FROM t ORDER BY id"), expected);
    EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");
    ++failures;
  }
  // The restore commits, then removing the object fails: it stays recorded as retired, and
  // tier_gc removes it later.
  calls.reset();
  calls.fail(StoreCall::kRemove, 1);
  EXPECT_EQ(db.scalar("SELECT tier_restore('t', '2026-01-02')"), "1");
  calls.reset();
  EXPECT_EQ(db.scalar("SELECT state FROM t_objects WHERE partition_key = '2026-01-02'"), "retired");
  EXPECT_EQ(lake_files(lake_).size(), 2u);
  EXPECT_EQ(db.exact_rows("SELECT * FROM t ORDER BY id"), expected);
  calls.reset();
  calls.fail(StoreCall::kRemove, 1);
  EXPECT_NE(db.error_of("SELECT tier_gc('t')"), "");
  calls.reset();
  EXPECT_EQ(db.scalar("SELECT tier_gc('t')"), "1");
  EXPECT_EQ(lake_files(lake_).size(), 1u);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t_objects"), "1");
  EXPECT_EQ(db.scalar("SELECT tier_gc('t')"), "0");
  EXPECT_EQ(db.exact_rows("SELECT * FROM t ORDER BY id"), expected);
  EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");
  EXPECT_GE(failures, 6);
}

// DuckDB (@duckdb/node-api) reads the lake after flushes, writes into cold partitions, a reflush
// and a restore: exactly the table's cold rows each time.
// The planner judges a column's cardinality from the table's first chunk: from its codec when
// hot, from the Parquet footer kept hot when cold (no request). Grouping by a column of few
// values is planned alike either way (W1's q3 was sorted, 1.8x slower, once its oldest day was cold).
TEST_F(Tiering, GroupingIsPlannedAlikeHotAndCold) {
  StoreCalls calls;
  TestDatabase db(path_);
  create(db);
  const std::string few_values = "SELECT s, count(*), sum(v) FROM t GROUP BY s ORDER BY s";
  const std::string many_values = "SELECT u, count(*) FROM t GROUP BY u ORDER BY u";
  auto plan = [&](const std::string& query) { return query_plan(db, query); };
  EXPECT_NE(plan(few_values).find("grouped by s"), std::string::npos) << plan(few_values);
  EXPECT_NE(plan(many_values).find("sorted by u"), std::string::npos) << plan(many_values);
  const std::vector<std::string> few_answer = db.exact_rows(few_values);
  const std::vector<std::string> many_answer = db.exact_rows(many_values);
  ASSERT_EQ(db.scalar("SELECT tier_flush('t')"), "3");
  calls.reset();
  TestDatabase reopened(path_);
  auto cold_plan = [&](const std::string& query) { return query_plan(reopened, query); };
  EXPECT_NE(cold_plan(few_values).find("grouped by s"), std::string::npos) << cold_plan(few_values);
  EXPECT_NE(cold_plan(many_values).find("sorted by u"), std::string::npos) << cold_plan(many_values);
  EXPECT_EQ(calls.total(), 0) << "planning made a request";
  EXPECT_EQ(reopened.exact_rows(few_values), few_answer);
  EXPECT_EQ(reopened.exact_rows(many_values), many_answer);
}

TEST_F(Tiering, DuckDBReadsExactlyTheColdRows) {
  TestDatabase db(path_);
  create(db);
  auto check = [&](bool restored, const std::string& when) {
    // The rows of the cold days (2026-01-02 is hot again once restored).
    const std::string strata_sql =
        std::string("SELECT id, ts, v, u, k FROM t WHERE ts < 1767225600 + 3 * 86400 "
                    "AND NOT (ts >= 1767225600 + 86400 AND ts < 1767225600 + 2 * 86400 AND ") +
        (restored ? "1" : "0") + ") ORDER BY id";
    expect_duckdb_reads(db.get(), strata_sql,
                        "SELECT id, ts, v, u, k FROM read_parquet('" + lake_ + "/t/**/*.parquet', hive_partitioning=false) ORDER BY id",
                        scratch_.path("duckdb.json"), when);
  };
  ASSERT_EQ(db.scalar("SELECT tier_flush('t')"), "3");
  check(false, "after the first flush");
  db.exec("DELETE FROM t WHERE id % 10 = 3; UPDATE t SET v = -v WHERE id % 50 = 7;"
          "INSERT INTO t(id, ts, v, u, k) VALUES (7000, 1767225600 + 100, 2.5, 'u-late', 1)");
  ASSERT_EQ(db.scalar("SELECT tier_flush('t')"), "3");
  check(false, "after writes and a second flush");
  ASSERT_EQ(db.scalar("SELECT tier_restore('t', '2026-01-02')"), "1");
  check(true, "after a restore");
}

// The same on S3 (s3rver behind the strict SigV4 front): answers, requests, the server stopped
// during queries, restore.
TEST(TieringS3, FlushQueryStopRestore) {
  S3TestServer server;
  ASSERT_TRUE(server.problem().empty()) << server.problem();
  ScopedAwsEnvironment environment(server);
  setenv("STRATA_S3_TIMEOUT_MS", "3000", 1);
  ScratchDirectory scratch("tiering_s3");
  TestDatabase db(scratch.path("t.db"));
  std::string create = kCreate;
  create.replace(create.find("tier='file:lake'"), 16, "tier='s3://strata-test/lake'");
  db.exec(create);
  db.exec(fill_sql("t", 3000));
  db.exec(std::string("CREATE TABLE twin(") + kColumns + ")");
  db.exec(fill_sql("twin", 3000));
  const std::vector<std::vector<std::string>> expected = answers(db);
  ASSERT_EQ(db.scalar("SELECT tier_flush('t')"), "3");
  EXPECT_EQ(db.scalar("SELECT object_key LIKE 't/ts_day=2026-01-01/%.parquet' FROM tier_partitions WHERE partition = '2026-01-01'"), "1");
  auto store = tiering::S3Store::open("s3://strata-test/lake", server.settings());
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  auto listed = (*store)->list("t/");
  ASSERT_TRUE(listed.is_ok()) << listed.status().message();
  EXPECT_EQ(listed->size(), 3u);
  expect_same_answers(db, expected, "on S3");
  EXPECT_GT(total_requests(db), 0);
  EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");

  // The server stopped: what needs no cold data still works; what does fails, naming the object.
  TestDatabase fresh(scratch.path("t.db"));
  fs::remove_all(scratch.path("t.db-tiercache"));
  server.stop();
  EXPECT_EQ(fresh.scalar("SELECT count(*) FROM t"), "3000");
  EXPECT_EQ(fresh.exact_rows("SELECT * FROM t WHERE ts >= 1767225600 + 3 * 86400 ORDER BY id"),
            fresh.exact_rows("SELECT * FROM twin WHERE ts >= 1767225600 + 3 * 86400 ORDER BY id"));
  const std::string error = fresh.error_of("SELECT sum(v) FROM t");
  EXPECT_NE(error.find("object t/ts_day=2026-01-0"), std::string::npos) << error;
  EXPECT_NE(fresh.error_of("SELECT tier_restore('t', '2026-01-01')"), "");
  server.start();
  ASSERT_TRUE(server.problem().empty()) << server.problem();
  ScopedAwsEnvironment restarted(server);  // a new port
  expect_same_answers(fresh, expected, "after the server came back");
  EXPECT_EQ(fresh.scalar("SELECT tier_restore('t', '2026-01-01')"), "1");
  expect_same_answers(fresh, expected, "after a restore from S3");
  auto store_again = tiering::S3Store::open("s3://strata-test/lake", server.settings());
  ASSERT_TRUE(store_again.is_ok());
  auto left = (*store_again)->list("t/");
  ASSERT_TRUE(left.is_ok()) << left.status().message();
  EXPECT_EQ(left->size(), 2u);
  unsetenv("STRATA_S3_TIMEOUT_MS");
}

// The keys of the objects the table records as live, sorted.
std::vector<std::string> live_keys(const TestDatabase& db) {
  std::vector<std::string> keys = db.rows("SELECT object_key FROM t_objects WHERE state = 'live' ORDER BY object_key");
  return keys;
}

// What a sequence of flushes, writes, restores and GCs leaves, with the n-th call of one kind of
// store call failing: the rows are the ordinary twin's, columnar_check is ok, and after a clean
// tier_gc the lake holds exactly the live objects.
TEST_F(Tiering, EachCallOfFlushRestoreAndGcFailsInTurn) {
  StoreCalls calls;
  TestDatabase db(path_);
  // One chunk per day, so that the calls are few enough to fail each of them in turn.
  std::string create_one_chunk_per_day = kCreate;
  create_one_chunk_per_day.replace(create_one_chunk_per_day.find("chunk_rows=300"), 14, "chunk_rows=2000");
  db.exec(create_one_chunk_per_day);
  db.exec(fill_sql("t", 3000));
  db.exec(std::string("CREATE TABLE twin(") + kColumns + ")");
  db.exec(fill_sql("twin", 3000));
  const std::vector<std::string> script = {
      "SELECT tier_flush('t')",
      "DELETE FROM # WHERE id % 9 = 1; UPDATE # SET v = v + 1 WHERE id % 13 = 2",
      "SELECT tier_flush('t', '2026-01-02')",
      "SELECT tier_restore('t', '2026-01-01')",
      "SELECT tier_flush('t')",
      "SELECT tier_gc('t')",
      "SELECT tier_restore('t', '2026-01-03')",
  };
  int rounds = 0;
  int statement_number = 0;
  for (StoreCall kind : {StoreCall::kPut, StoreCall::kHead, StoreCall::kGetRange, StoreCall::kRemove}) {
    for (int number = 1;; ++number) {
      // A clean start: everything hot, nothing in the lake.
      calls.reset();
      db.exec("SELECT tier_gc('t')");
      db.exec("SELECT count(tier_restore('t', partition)) FROM tier_partitions WHERE tbl = 't'");
      ASSERT_EQ(db.scalar("SELECT count(*) FROM t_objects"), "0");
      ASSERT_TRUE(lake_files(lake_ + "/t").empty());
      calls.reset();
      calls.fail(kind, number);
      bool failed_any = false;
      for (const std::string& step : script) {
        std::string sql = step;
        for (size_t at = sql.find('#'); at != std::string::npos; at = sql.find('#', at)) sql.replace(at, 1, "t");
        fs::remove_all(path_ + "-tiercache");  // every read goes to the store
        if (sql.starts_with("SELECT tier_")) calls.resume();  // the writes between are not under test
        const std::string error = db.error_of(sql);
        calls.pause();
        if (!error.empty()) {
          failed_any = true;
          EXPECT_NE(error.find("injected failure"), std::string::npos) << sql << ": " << error;
        }
        if (sql.starts_with("DELETE")) {
          std::string twin = step;
          for (size_t at = twin.find('#'); at != std::string::npos; at = twin.find('#', at)) twin.replace(at, 1, "twin");
          db.exec(twin);
        }
        ++statement_number;
        ASSERT_EQ(db.exact_rows("SELECT * FROM t ORDER BY id"), db.exact_rows("SELECT * FROM twin ORDER BY id"))
            << "failing call " << number << " of kind " << static_cast<int>(kind) << ", after: " << sql;
      }
      const int made = calls.count(kind);
      calls.reset();  // (and resumed)
      EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok") << "failing call " << number;
      db.exec("SELECT tier_gc('t')");
      std::vector<std::string> expected_files;
      for (const std::string& key : live_keys(db)) expected_files.push_back(key);
      EXPECT_EQ(lake_files(lake_), expected_files) << "failing call " << number << " of kind " << static_cast<int>(kind);
      ++rounds;
      // Put the deleted rows back, so that the next round starts from the same content.
      db.exec("DELETE FROM t; DELETE FROM twin");
      db.exec(fill_sql("t", 3000));
      db.exec(fill_sql("twin", 3000));
      if (!failed_any || number > made) break;  // every call of this kind has failed once
    }
  }
  RecordProperty("rounds", rounds);
  std::fprintf(stderr, "%d rounds, each failing one store call\n", rounds);
  EXPECT_GT(rounds, 20);
}

// SIGKILL at random points of flushes, restores and GCs running in a loop with writes between
// them: after each kill the rows are those of the last committed write, columnar_check is ok,
// and tier_gc leaves the lake holding exactly the live objects.
TEST(TieringCrash, KilledDuringFlushesAndRestoresLosesNothing) {
  ScratchDirectory scratch("tiering_crash");
  const std::string path = scratch.path("t.db");
  const std::string lake = scratch.path("lake");
  auto write_sql = [](int i, const std::string& table) {
    const std::string n = std::to_string(i);
    return "UPDATE " + table + " SET v = coalesce(v, 0) + " + n + " WHERE id % 7 = " + std::to_string(i % 7) + ";"
           "DELETE FROM " + table + " WHERE id % 31 = " + std::to_string(i % 31) + " AND k = " + std::to_string(i % 23) + ";"
           "INSERT INTO " + table + "(ts, s, v, k) VALUES (1767225600 + " + std::to_string((i * 7919) % 345600) + ", 'w" + n + "', " + n + ".5, " +
           std::to_string(i % 23) + ");";
  };
  {
    TestDatabase db(path);
    db.exec(kCreate);
    db.exec(fill_sql("t", 3000));
    db.exec("CREATE TABLE progress(committed INTEGER); INSERT INTO progress VALUES (0)");
  }
  TestDatabase replay;
  replay.exec(std::string("CREATE TABLE t(") + kColumns + ")");
  replay.exec(fill_sql("t", 3000));
  int replayed = 0;
  int objects_seen = 0;
  kill_rounds(
      150, 4242,
      [&] {
        TestDatabase db(path);
        const std::vector<std::string> days = {"2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"};
        for (int i = std::stoi(db.scalar("SELECT committed FROM progress")) + 1;; ++i) {
          const std::string sql = "BEGIN;" + write_sql(i, "t") + "UPDATE progress SET committed = " + std::to_string(i) + "; COMMIT;";
          if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(3);
          for (const std::string& tiering : {std::string("SELECT tier_flush('t')"),
                                             "SELECT tier_restore('t', '" + days[static_cast<size_t>(i) % 3] + "')",
                                             "SELECT tier_flush('t', '" + days[static_cast<size_t>(i + 1) % 3] + "')",
                                             std::string(i % 5 == 0 ? "SELECT tier_gc('t')" : "SELECT 1")}) {
            if (sqlite3_exec(db.get(), tiering.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(3);
          }
        }
      },
      [&](int round) {
        TestDatabase reopened(path);
        ASSERT_EQ(reopened.scalar("SELECT columnar_check('t')"), "ok") << "after kill " << round;
        const int committed = std::stoi(reopened.scalar("SELECT committed FROM progress"));
        ASSERT_GE(committed, replayed);
        for (; replayed < committed; ++replayed) replay.exec("BEGIN;" + write_sql(replayed + 1, "t") + "COMMIT;");
        ASSERT_EQ(reopened.exact_rows("SELECT * FROM t ORDER BY id"), replay.exact_rows("SELECT * FROM t ORDER BY id"))
            << "after kill " << round << ", " << committed << " writes committed";
        objects_seen += std::stoi(reopened.scalar("SELECT count(*) FROM t_objects"));
        reopened.exec("SELECT tier_gc('t')");
        std::vector<std::string> live = reopened.rows("SELECT object_key FROM t_objects WHERE state = 'live' ORDER BY object_key");
        EXPECT_EQ(lake_files(lake), live) << "after kill " << round << " and tier_gc";
      },
      [&] { return fs::exists(lake) && !lake_files(lake).empty(); });
  RecordProperty("writes_committed", std::to_string(replayed));
  EXPECT_GT(replayed, 0);
  EXPECT_GT(objects_seen, 0);
}

// A cold chunk's Parquet bloom filter is the very bitset kept hot (without its checksum), so
// strata and other engines prune with the same filter.
TEST_F(Tiering, TheParquetBloomFiltersAreTheHotOnes) {
  TestDatabase db(path_);
  create(db);
  ASSERT_EQ(db.scalar("SELECT tier_flush('t', '2026-01-02')"), "1");
  const std::string key = db.scalar("SELECT object_key FROM t_objects WHERE state = 'live'");
  const std::string footer = db.scalar("SELECT hex(footer) FROM t_objects WHERE state = 'live'");
  std::string footer_bytes;
  for (size_t i = 0; i + 1 < footer.size(); i += 2) footer_bytes += static_cast<char>(std::stoi(footer.substr(i, 2), nullptr, 16));
  const std::string file = read_file_bytes(lake_ + "/" + key);
  auto reader = parquet::FileReader::from_metadata(footer_bytes, file.size());
  ASSERT_TRUE(reader.is_ok()) << reader.status().message();
  size_t s_leaf = SIZE_MAX;
  for (const parquet::Column& column : reader->columns()) {
    if (column.name == "s") s_leaf = column.leaves.front();
  }
  ASSERT_NE(s_leaf, SIZE_MAX);
  const std::vector<std::string> hot = db.rows(
      "SELECT hex(substr(c.bloom, 1, length(c.bloom) - 4)) FROM t_cold d JOIN t_columns c ON c.cell = d.chunk_id * 4096 + 3 "
      "ORDER BY d.row_group");
  ASSERT_EQ(hot.size(), reader->row_groups());
  for (size_t group = 0; group < reader->row_groups(); ++group) {
    auto bloom = reader->read_bloom_filter(parquet::memory_range_reader(file), group, s_leaf);
    ASSERT_TRUE(bloom.is_ok() && bloom->has_value()) << "row group " << group;
    std::string hex;
    static const char* digits = "0123456789ABCDEF";
    for (unsigned char byte : (*bloom)->bytes()) {
      hex += digits[byte >> 4];
      hex += digits[byte & 15];
    }
    EXPECT_EQ(hex, hot[group]) << "row group " << group;
  }
}

// Partitions by value: integers named by number or text, NULL, text that needs %-encoding in the
// object key, and a value too long for any key (a clear error, nothing written).
TEST_F(Tiering, PartitionValuesOfEveryKind) {
  TestDatabase db(path_);
  db.exec("CREATE VIRTUAL TABLE p USING columnar(k, v, partition_by='k', tier='file:lake', hot_partitions=0)");
  db.exec("CREATE TABLE twin(k, v)");
  const std::string rows =
      "VALUES (5, 'five'), (5, 'cinq'), (NULL, 'none'), ('a b/c=d%', 'odd'), (1.5, 'real'), (x'00ff', 'blob'), "
      "(-7, 'negative'), ('2026-01-02', 'day')";
  db.exec("INSERT INTO p " + rows);
  db.exec("INSERT INTO twin " + rows);
  auto same = [&](const std::string& when) {
    EXPECT_EQ(db.exact_rows("SELECT k, v FROM p ORDER BY v"), db.exact_rows("SELECT k, v FROM twin ORDER BY v")) << when;
  };
  EXPECT_EQ(db.scalar("SELECT tier_flush('p', '5')"), "1");  // the integer partition 5, named as text
  EXPECT_EQ(db.scalar("SELECT tier_flush('p', 5)"), "0");
  EXPECT_EQ(db.scalar("SELECT tier_flush('p', NULL)"), "1");
  EXPECT_EQ(db.scalar("SELECT tier_flush('p', 'a b/c=d%')"), "1");
  EXPECT_EQ(db.scalar("SELECT tier_flush('p', 1.5)"), "1");
  same("after flushing some");
  EXPECT_EQ(db.scalar("SELECT tier_flush('p')"), "3");  // hot_partitions=0: every other one
  same("after flushing all");
  std::vector<std::string> files = lake_files(lake_);
  ASSERT_EQ(files.size(), 7u);
  auto has_directory = [&](const std::string& directory) {
    return std::any_of(files.begin(), files.end(), [&](const std::string& f) { return f.starts_with("p/" + directory + "/"); });
  };
  EXPECT_TRUE(has_directory("k=5"));
  EXPECT_TRUE(has_directory("k=-7"));
  EXPECT_TRUE(has_directory("k=1.5"));
  EXPECT_TRUE(has_directory("k=__HIVE_DEFAULT_PARTITION__"));
  EXPECT_TRUE(has_directory("k=a%20b%2Fc%3Dd%25"));
  EXPECT_TRUE(has_directory("k=2026-01-02"));
  EXPECT_TRUE(has_directory("k=%00%FF"));
  TestDatabase reopened(path_);
  EXPECT_EQ(reopened.exact_rows("SELECT k, v FROM p ORDER BY v"), reopened.exact_rows("SELECT k, v FROM twin ORDER BY v"));
  EXPECT_EQ(reopened.scalar("SELECT count(tier_restore('p', partition)) FROM tier_partitions WHERE tbl = 'p'"), "7");
  EXPECT_EQ(lake_files(lake_).size(), 0u);
  same("after restoring all");
  // A value whose key would pass the stores' limit of 1,024 bytes.
  db.exec("INSERT INTO p VALUES (printf('%.2000c', 'x'), 'long'); INSERT INTO twin VALUES (printf('%.2000c', 'x'), 'long')");
  const std::string error = db.error_of("SELECT tier_flush('p')");
  EXPECT_NE(error.find("1024"), std::string::npos) << error;
  // Partitions move one at a time in partition order: those before the long one did, it did not.
  EXPECT_EQ(db.scalar("SELECT tier FROM tier_partitions WHERE tbl = 'p' AND length(partition) = 2000"), "hot");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM p_objects WHERE state = 'live'"),
            db.scalar("SELECT count(*) FROM tier_partitions WHERE tbl = 'p' AND tier = 'cold'"));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM p_objects WHERE state <> 'live'"), "0");
  same("after a flush stopped by the long value");
}

// sqlite3_interrupt ends a query whose cold read waits on a store that never answers, promptly
// and with SQLITE_INTERRUPT; the hot partition still reads.
TEST(TieringS3, InterruptEndsAColdReadWaitingOnTheStore) {
  S3TestServer server;
  ASSERT_TRUE(server.problem().empty()) << server.problem();
  ScratchDirectory scratch("tiering_interrupt");
  {
    ScopedAwsEnvironment environment(server);
    TestDatabase db(scratch.path("t.db"));
    std::string create = kCreate;
    create.replace(create.find("tier='file:lake'"), 16, "tier='s3://strata-test/lake'");
    db.exec(create);
    db.exec(fill_sql("t", 3000));
    ASSERT_EQ(db.scalar("SELECT tier_flush('t')"), "3");
  }
  SilentServer silent;
  ASSERT_GT(silent.port(), 0);
  ScopedAwsEnvironment environment(server);
  ::setenv("AWS_ENDPOINT_URL", silent.endpoint().c_str(), 1);
  ::setenv("STRATA_S3_TIMEOUT_MS", "60000", 1);
  fs::remove_all(scratch.path("t.db-tiercache"));
  TestDatabase db(scratch.path("t.db"));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t WHERE ts >= 1767225600 + 3 * 86400"), "328");  // hot: no request
  std::thread interrupter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    sqlite3_interrupt(db.get());
  });
  const auto start = std::chrono::steady_clock::now();
  const int rc = db.result_code_of("SELECT sum(v) FROM t");
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  interrupter.join();
  ::unsetenv("STRATA_S3_TIMEOUT_MS");
  EXPECT_EQ(rc, SQLITE_INTERRUPT);
  EXPECT_LT(waited, 2.5) << "libcurl asks at least once a second";
}

}  // namespace
}  // namespace strata::testing
