// The columnar table on real database files: durability, concurrency with other connections,
// damaged storage, write cost, chunk management, rename/drop, and the SQL functions' errors.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "tests/unit/test_database.h"

namespace {

using strata::testing::TestDatabase;

class ColumnarFile : public ::testing::Test {
 protected:
  strata::testing::ScratchDirectory directory_{"columnar"};
  std::string path_ = directory_.path("test.db");
};

TEST_F(ColumnarFile, PersistsAcrossReopen) {
  {
    TestDatabase db(path_);
    db.exec("CREATE VIRTUAL TABLE t USING columnar(id INTEGER PRIMARY KEY, v TEXT, n REAL, chunk_rows=100)");
    db.exec("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 1000) "
            "INSERT INTO t(v, n) SELECT 'v' || n, n / 4.0 FROM c");
    db.exec("DELETE FROM t WHERE id % 10 = 0");
    db.exec("UPDATE t SET v = 'updated' WHERE id = 7");
  }
  TestDatabase reopened(path_);
  EXPECT_EQ(reopened.scalar("SELECT count(*) FROM t"), "900");
  EXPECT_EQ(reopened.scalar("SELECT v FROM t WHERE id = 7"), "updated");
  EXPECT_EQ(reopened.scalar("SELECT sum(n) FROM t"), "112500.0");
  EXPECT_EQ(reopened.scalar("SELECT columnar_check('t')"), "ok");
}

// A full write buffer is encoded on a helper thread while the INSERT goes on (a "sealed"
// chunk). Its rows must stay visible to everything that reads the table: conflict checks in the
// same statement, OR REPLACE, statement rollback, scans, checks and ROLLBACK.
TEST_F(ColumnarFile, RowsBeingEncodedStayVisibleToEveryRead) {
  TestDatabase db(path_);
  db.exec("CREATE VIRTUAL TABLE t USING columnar(id INTEGER PRIMARY KEY, v TEXT, chunk_rows=100)");
  db.exec("BEGIN");
  // 1001..1150 seals 1001..1100; then 1005 again meets the sealed copy.
  const char* rows = "WITH RECURSIVE c(n) AS (SELECT 1001 UNION ALL SELECT n+1 FROM c WHERE n < 1150) "
                     "SELECT n, 'v' || n FROM c UNION ALL SELECT 1005, 'again'";
  EXPECT_EQ(db.error_of(std::string("INSERT INTO t(id, v) ") + rows), "UNIQUE constraint failed: t.id");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t"), "0");  // the failed statement left nothing behind
  db.exec(std::string("INSERT OR REPLACE INTO t(id, v) ") + rows);
  EXPECT_EQ(db.scalar("SELECT count(*) || ' ' || min(id) || ' ' || max(id) FROM t"), "150 1001 1150");
  EXPECT_EQ(db.scalar("SELECT v FROM t WHERE id = 1005"), "again");
  EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");
  // Sealed again, then read by a SELECT in the same transaction, then updated.
  db.exec("INSERT INTO t(id, v) SELECT id + 1000, v FROM t");
  EXPECT_EQ(db.scalar("SELECT count(*) || ' ' || max(id) FROM t"), "300 2150");
  db.exec("UPDATE t SET v = 'u' WHERE id IN (1050, 2050)");
  EXPECT_EQ(db.scalar("SELECT group_concat(v) FROM t WHERE id IN (1050, 2050)"), "u,u");
  db.exec("ROLLBACK");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t"), "0");
  EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");
  db.exec(std::string("INSERT OR REPLACE INTO t(id, v) ") + rows);
  TestDatabase reopened(path_);
  EXPECT_EQ(reopened.scalar("SELECT count(*) || ' ' || sum(id) FROM t"), "150 161325");
}

TEST_F(ColumnarFile, TwoConnectionsSeeEachOthersCommitsOnly) {
  TestDatabase a(path_);
  a.exec("CREATE VIRTUAL TABLE t USING columnar(k INTEGER PRIMARY KEY, v)");
  TestDatabase b(path_);
  a.exec("INSERT INTO t VALUES (1, 'a')");
  EXPECT_EQ(b.scalar("SELECT group_concat(v) FROM t"), "a");
  b.exec("INSERT INTO t VALUES (2, 'b'); UPDATE t SET v = 'A' WHERE k = 1");
  EXPECT_EQ(a.scalar("SELECT group_concat(v) FROM t"), "A,b");
  a.exec("BEGIN; INSERT INTO t VALUES (3, 'uncommitted')");
  EXPECT_EQ(a.scalar("SELECT count(*) FROM t"), "3");  // a sees its own buffered row
  EXPECT_EQ(b.scalar("SELECT count(*) FROM t"), "2");  // b does not
  a.exec("ROLLBACK");
  EXPECT_EQ(a.scalar("SELECT count(*) FROM t"), "2");
  EXPECT_EQ(b.scalar("SELECT columnar_check('t')"), "ok");
}

// Connection a caches decoded chunks; b drops a chunk and writes a new one under the same id.
// a must notice (SQLite's data version) and not serve the old rows.
TEST_F(ColumnarFile, CachedChunksAreDroppedWhenAnotherConnectionCommits) {
  TestDatabase a(path_);
  a.exec("CREATE VIRTUAL TABLE t USING columnar(k INTEGER PRIMARY KEY, v)");
  a.exec("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  a.exec("INSERT INTO t VALUES (4, 'd'), (5, 'e'), (6, 'f')");
  EXPECT_EQ(a.scalar("SELECT group_concat(v, '') FROM t"), "abcdef");
  EXPECT_EQ(a.scalar("SELECT max(chunk_id) FROM columnar_chunks"), "2");
  TestDatabase b(path_);
  b.exec("DELETE FROM t WHERE k >= 4");
  b.exec("INSERT INTO t VALUES (7, 'x'), (8, 'y')");
  EXPECT_EQ(b.scalar("SELECT max(chunk_id) FROM columnar_chunks"), "2");  // the id was reused
  EXPECT_EQ(a.scalar("SELECT group_concat(v, '') FROM t"), "abcxy");
  EXPECT_EQ(a.scalar("SELECT v FROM t WHERE k = 8"), "y");
  a.exec("INSERT INTO t VALUES (9, 'z')");
  EXPECT_EQ(b.scalar("SELECT group_concat(v, '') FROM t"), "abcxyz");
  EXPECT_EQ(a.scalar("SELECT columnar_check('t')"), "ok");
}

TEST_F(ColumnarFile, BusyWhileAnotherConnectionWritesAndNothingHalfWritten) {
  TestDatabase a(path_);
  a.exec("CREATE VIRTUAL TABLE t USING columnar(k INTEGER PRIMARY KEY, v UNIQUE)");
  a.exec("INSERT INTO t VALUES (1, 'one')");
  TestDatabase b(path_);
  a.exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (2, 'two')");
  EXPECT_EQ(b.result_code_of("INSERT INTO t VALUES (3, 'three')") & 0xff, SQLITE_BUSY);
  EXPECT_EQ(b.result_code_of("DELETE FROM t") & 0xff, SQLITE_BUSY);
  a.exec("COMMIT");
  EXPECT_EQ(b.scalar("SELECT group_concat(k) FROM t"), "1,2");
  b.exec("INSERT INTO t VALUES (3, 'three')");
  EXPECT_EQ(a.scalar("SELECT group_concat(v) FROM t"), "one,two,three");
  EXPECT_EQ(a.scalar("SELECT columnar_check('t')"), "ok");
}

TEST_F(ColumnarFile, DamagedChunksAreCorruptionErrorsNotCrashes) {
  TestDatabase db(path_);
  db.exec("CREATE VIRTUAL TABLE t USING columnar(a INTEGER, b TEXT)");
  db.exec("INSERT INTO t VALUES (1, 'x'), (2, 'y')");
  EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");

  // Column a of chunk 1 is cell 1 * 4096 + 0 + 1.
  db.exec("UPDATE t_columns SET data = x'01000203' WHERE cell = 4097");
  EXPECT_EQ(db.result_code_of("SELECT * FROM t"), SQLITE_CORRUPT_VTAB);
  EXPECT_NE(db.error_of("SELECT sum(a) FROM t").find("columnar: table t: chunk 1 column 0: column chunk:"),
            std::string::npos);
  EXPECT_EQ(db.scalar("SELECT count(b) FROM t"), "2");  // column b is intact and still readable
  EXPECT_NE(db.scalar("SELECT columnar_check('t')").find("chunk 1 column 0"), std::string::npos);

  db.exec("DELETE FROM t_columns WHERE cell = 4098");  // column b's blob is gone
  EXPECT_EQ(db.result_code_of("SELECT b FROM t"), SQLITE_CORRUPT_VTAB);
  db.exec("UPDATE t_columns SET data = 'text, not a blob' WHERE cell = 4096");
  EXPECT_EQ(db.result_code_of("SELECT rowid FROM t"), SQLITE_CORRUPT_VTAB);
  db.exec("UPDATE t_chunks SET row_count = 5");
  EXPECT_NE(db.scalar("SELECT columnar_check('t')"), "ok");
}

TEST_F(ColumnarFile, NewerFormatVersionIsRefused) {
  {
    TestDatabase db(path_);
    db.exec("CREATE VIRTUAL TABLE t USING columnar(a)");
    db.exec("UPDATE t_meta SET value = 99 WHERE key = 'format_version'");
  }
  TestDatabase reopened(path_);
  EXPECT_EQ(reopened.error_of("SELECT * FROM t"),
            "columnar: table t uses storage format 99; this strata reads format 3 — upgrade strata");
}

// The seed's promise: rows committed together cost about one row write per column.
TEST_F(ColumnarFile, ThousandRowCommitCostsColumnsPlusTwoRowWrites) {
  TestDatabase db(path_);
  db.exec("CREATE VIRTUAL TABLE t USING columnar(ts INTEGER, user_id INTEGER, kind TEXT, amount REAL, note)");
  db.exec("CREATE TABLE numbers(n INTEGER)");
  db.exec("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 1000) "
          "INSERT INTO numbers SELECT n FROM c");
  for (int commit = 0; commit < 3; ++commit) {
    int64_t before = sqlite3_total_changes64(db.get());
    db.exec("BEGIN; INSERT INTO t SELECT n, n % 7, 'k' || (n % 3), n * 1.5, NULL FROM numbers; COMMIT");
    int64_t shadow_writes = sqlite3_total_changes64(db.get()) - before - 1000;
    RecordProperty("shadow_row_writes_per_1000_row_commit_" + std::to_string(commit), std::to_string(shadow_writes));
    EXPECT_LE(shadow_writes, 5 + 2) << "commit " << commit;
  }
  // The same 1,000 rows as 1,000 single-row statements in one transaction: still one chunk.
  int64_t before = sqlite3_total_changes64(db.get());
  db.exec("BEGIN");
  for (int i = 0; i < 1000; ++i) db.exec("INSERT INTO t VALUES (" + std::to_string(i) + ", 1, 'k', 2.5, NULL)");
  db.exec("COMMIT");
  EXPECT_LE(sqlite3_total_changes64(db.get()) - before - 1000, 5 + 2);
}

TEST_F(ColumnarFile, ManySmallCommitsDoNotLeaveThousandsOfChunks) {
  TestDatabase db(path_);
  db.exec("PRAGMA synchronous=OFF");
  db.exec("CREATE VIRTUAL TABLE t USING columnar(id INTEGER PRIMARY KEY, v TEXT)");
  for (int i = 0; i < 3000; ++i) db.exec("INSERT INTO t(v) VALUES ('row " + std::to_string(i) + "')");
  int chunks = std::stoi(db.scalar("SELECT count(*) FROM columnar_chunks WHERE tbl = 't'"));
  RecordProperty("chunks_after_3000_single_row_commits", std::to_string(chunks));
  EXPECT_LE(chunks, 60);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t"), "3000");
  EXPECT_EQ(db.scalar("SELECT v FROM t WHERE id = 2999"), "row 2998");
  EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");
  // Compaction leaves one partial chunk and keeps every rowid.
  db.exec("DELETE FROM t WHERE id % 3 = 0");
  std::string before = db.scalar("SELECT group_concat(id || ':' || v) FROM t");
  EXPECT_NE(db.scalar("SELECT columnar_compact('t')"), "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM columnar_chunks WHERE tbl = 't'"), "1");
  EXPECT_EQ(db.scalar("SELECT sum(deleted_rows) FROM columnar_chunks WHERE tbl = 't'"), "0");
  EXPECT_EQ(db.scalar("SELECT group_concat(id || ':' || v) FROM t"), before);
  EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok");
}

TEST_F(ColumnarFile, RenameAndDropHandleEveryShadowTable) {
  TestDatabase db(path_);
  db.exec("CREATE VIRTUAL TABLE t USING columnar(id INTEGER PRIMARY KEY, u TEXT UNIQUE, w, UNIQUE(w, u))");
  db.exec("INSERT INTO t VALUES (1, 'a', 'b')");
  EXPECT_EQ(db.scalar("SELECT group_concat(name) FROM (SELECT name FROM sqlite_schema WHERE name LIKE 't%' ORDER BY name)"),
            "t,t_chunks,t_chunks_rowids,t_cold,t_columns,t_meta,t_objects,t_unique0,t_unique0_key,t_unique1,t_unique1_key");
  db.exec("ALTER TABLE t RENAME TO renamed");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name LIKE 'renamed%'"), "8");
  EXPECT_EQ(db.scalar("SELECT u FROM renamed WHERE id = 1"), "a");
  db.exec("INSERT INTO renamed VALUES (2, 'c', 'd')");
  EXPECT_EQ(db.error_of("INSERT INTO renamed VALUES (3, 'a', 'x')"), "UNIQUE constraint failed: renamed.u");
  EXPECT_EQ(db.scalar("SELECT columnar_check('renamed')"), "ok");
  db.exec("DROP TABLE renamed");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema"), "0");
}

TEST_F(ColumnarFile, FunctionErrorsSayWhatIsWrong) {
  TestDatabase db(path_);
  db.exec("CREATE TABLE plain(a); CREATE VIRTUAL TABLE t USING columnar(a)");
  EXPECT_EQ(db.error_of("SELECT columnar_check('nope')"), "columnar_check: no such table: \"nope\"");
  EXPECT_EQ(db.error_of("SELECT columnar_check('plain')"), "columnar_check: \"plain\" is not a columnar table");
  EXPECT_EQ(db.error_of("SELECT columnar_compact(42)"), "columnar_compact: expects a table name as text");
  EXPECT_EQ(db.error_of("SELECT columnar_check()"), "wrong number of arguments to function columnar_check()");
  EXPECT_EQ(db.scalar("SELECT columnar_check('main.t')"), "ok");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE bad USING columnar(a, chunk_rows=-1)"),
            "columnar: option 'chunk_rows' must be an integer from 1 to 4194304, got '-1'");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'bad%'"), "0");
  EXPECT_EQ(db.error_of("CREATE INDEX i ON t(a)"), "virtual tables may not be indexed");
}

TEST_F(ColumnarFile, ChunkListing) {
  TestDatabase db(path_);
  db.exec("CREATE VIRTUAL TABLE t USING columnar(id INTEGER PRIMARY KEY, kind TEXT, ts INTEGER, "
          "partition_by='day(ts)', chunk_rows=2)");
  db.exec("INSERT INTO t(kind, ts) VALUES ('a', 0), ('b', 86400), ('c', 86401), ('d', '1970-01-02T05:00:00')");
  EXPECT_EQ(db.scalar("SELECT group_concat(partition || '=' || rows, ' ') FROM columnar_chunks WHERE tbl = 't'"),
            "1970-01-01=1 1970-01-02=1 1970-01-02=2");  // the buffer flushes every 2 rows
  EXPECT_EQ(db.scalar("SELECT count(*) FROM columnar_chunks WHERE tbl = 't' AND json_valid(encodings) "
                      "AND tier = 'hot' AND stored_bytes > 0 AND raw_bytes > 0"),
            "3");
  // The first chunk holds one row: every column of it is a constant.
  EXPECT_EQ(db.scalar("SELECT json_extract(encodings, '$.kind') || ' ' || json_extract(encodings, '$.rowid') "
                      "FROM columnar_chunks WHERE tbl = 't' LIMIT 1"),
            "constant constant");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM columnar_chunks"), "3");  // every columnar table
}

}  // namespace
