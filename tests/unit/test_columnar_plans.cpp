// Plans a user can read: EXPLAIN QUERY PLAN describes what a columnar scan does, and
// columnar_scan_stats() counts what the last scan read and skipped.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/test_database.h"

namespace {

using strata::testing::TestDatabase;

std::string plan_of(const TestDatabase& db, const std::string& query) {
  std::string text;
  for (const std::string& row : db.rows("EXPLAIN QUERY PLAN " + query)) text += row + "\n";
  return text;
}

class ColumnarPlans : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.exec("CREATE VIRTUAL TABLE t USING columnar(id INTEGER PRIMARY KEY, k INTEGER UNIQUE, ts INTEGER, kind TEXT, s TEXT,"
             " chunk_rows=1000, bloom='s', index='kind')");
    db_.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) "
             "INSERT INTO t SELECT i, i * 3, 1000 + i, 'kind' || (i % 4), 's' || i FROM n");
  }
  TestDatabase db_;
};

TEST_F(ColumnarPlans, ExplainSaysWhatTheScanDoes) {
  std::string plan = plan_of(db_, "SELECT kind FROM t WHERE k IN (3, 6) AND ts >= 5");
  EXPECT_NE(plan.find("read k, ts, kind"), std::string::npos) << plan;
  EXPECT_NE(plan.find("k IN (…) via unique index"), std::string::npos) << plan;
  EXPECT_NE(plan.find("ts >= ?"), std::string::npos) << plan;
  plan = plan_of(db_, "SELECT count(*) FROM t WHERE s = 's5'");
  EXPECT_NE(plan.find("s = ? with bloom filter (narrows; SQLite re-checks)"), std::string::npos) << plan;
  plan = plan_of(db_, "SELECT kind, count(*) FROM t GROUP BY kind ORDER BY kind DESC");
  EXPECT_NE(plan.find("by kind desc"), std::string::npos) << plan;
  plan = plan_of(db_, "SELECT * FROM t WHERE id BETWEEN 10 AND 20");
  EXPECT_NE(plan.find("rowid >= ?; rowid <= ?"), std::string::npos) << plan;
  // The description does not change what the scan returns.
  EXPECT_EQ(db_.scalar("SELECT group_concat(kind) FROM t WHERE k IN (3, 6) AND ts >= 5"), "kind1,kind2");
}

TEST_F(ColumnarPlans, ScanStatsCountWhatTheLastScanSkipped) {
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM t WHERE ts BETWEEN 1100 AND 1200"), "101");
  EXPECT_EQ(db_.scalar("SELECT json_extract(columnar_scan_stats('t'), '$.chunks') || ',' ||"
                       " json_extract(columnar_scan_stats('t'), '$.skipped_by_zone_map') || ',' ||"
                       " json_extract(columnar_scan_stats('t'), '$.chunks_read')"),
            "10,9,1");
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM t WHERE s = 's4321'"), "1");
  // Text zone maps rule out the chunks whose range cannot hold 's4321'; bloom filters the others
  // but the one that holds it.
  EXPECT_EQ(db_.scalar("SELECT json_extract(columnar_scan_stats('t'), '$.chunks_read') || ',' ||"
                       " (json_extract(columnar_scan_stats('t'), '$.skipped_by_zone_map') +"
                       "  json_extract(columnar_scan_stats('t'), '$.skipped_by_bloom_filter'))"),
            "1,9");
  EXPECT_GE(std::stoi(db_.scalar("SELECT json_extract(columnar_scan_stats('t'), '$.skipped_by_bloom_filter')")), 1);
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM t WHERE k = 300"), "1");
  EXPECT_EQ(db_.scalar("SELECT json_extract(columnar_scan_stats('t'), '$.skipped_by_key_index')"), "9");
  EXPECT_NE(db_.error_of("SELECT columnar_scan_stats('nope')").find("no such table"), std::string::npos);
}

// colUsed has one bit for every column from 63 on: a scan decodes such a column when a row first
// asks for it, so reading one of them decodes one column per chunk, not all of them.
TEST(ColumnarWideTables, ColumnsFrom63OnAreDecodedOnlyWhenRead) {
  TestDatabase db;
  std::string columns = "id INTEGER PRIMARY KEY";
  std::string values = "i";
  for (int c = 1; c < 70; ++c) {
    columns += ", c" + std::to_string(c) + " TEXT";
    values += ", 'v" + std::to_string(c) + "-' || i";
  }
  db.exec("CREATE VIRTUAL TABLE w USING columnar(" + columns + ", chunk_rows=100)");
  db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO w SELECT " + values + " FROM n");
  db.exec("SELECT columnar_check('w')");  // leaves the decoded-column cache empty
  EXPECT_EQ(db.scalar("SELECT c65 FROM w WHERE id = 777"), "v65-777");
  EXPECT_EQ(db.scalar("SELECT count(DISTINCT c66) FROM w"), "1000");
  EXPECT_EQ(db.scalar("SELECT json_extract(columnar_scan_stats('w'), '$.columns_decoded')"), "10");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM w WHERE c68 = 'v68-5'"), "1");  // a filter from 63 on
  EXPECT_EQ(db.scalar("SELECT c69 FROM w GROUP BY c69 ORDER BY c69 DESC LIMIT 1"), "v69-999");
}

}  // namespace
