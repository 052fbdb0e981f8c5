// Crash safety of the hnsw table: a child process runs transactions that insert, update and
// delete vectors and is killed (SIGKILL) at random moments. After each kill the database is
// reopened: hnsw_check() must say 'ok', the table must hold exactly the rows of the last
// committed transaction (an ordinary table replaying the same transactions says which), and KNN
// queries must find them.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/unit/kill_rounds.h"
#include "tests/unit/test_database.h"

namespace {

using strata::testing::TestDatabase;

std::string vector_sql(const std::string& x, const std::string& n) {
  return "json_array(sin(" + x + " + " + n + "), cos(" + x + " * " + n + " % 17), sin(" + x + " * 0.3), cos(" + x +
         " * 0.7 + " + n + "), sin(" + x + " * 1.1), cos(" + n + " + " + x + " * 0.2), sin(" + x + " % 29), cos(" + x + " - " +
         n + "))";
}

// Transaction i on `table` (the hnsw table v, or the ordinary replay t).
std::string transaction_sql(int i, const std::string& table) {
  std::string n = std::to_string(i);
  std::string embed = table == "v" ? "" : "vec_f32";
  return "INSERT INTO " + table + "(rowid, embedding) "
         "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300) "
         "SELECT " + n + " * 1000 + x, " + embed + "(" + vector_sql("x", n) + ") FROM c;"
         "UPDATE " + table + " SET embedding = " + embed + "(" + vector_sql("rowid", n) + ") WHERE rowid % 13 = " +
         std::to_string(i % 13) + ";"
         "DELETE FROM " + table + " WHERE rowid % 7 = " + std::to_string(i % 7) + " AND rowid < " + n + " * 1000;"
         "UPDATE progress SET committed = " + n + ";";
}

std::vector<std::string> content(const TestDatabase& db, const std::string& table) {
  return db.rows("SELECT rowid, hex(embedding) FROM " + table + " ORDER BY rowid");
}

[[noreturn]] void run_child(const std::string& path, bool wal) {
  TestDatabase db(path);
  // The parent peeks at the progress table between kills; a commit waits for its read lock
  // instead of failing with SQLITE_BUSY.
  sqlite3_busy_timeout(db.get(), 30000);
  if (wal) db.exec("PRAGMA journal_mode=WAL");
  int next = std::stoi(db.scalar("SELECT committed FROM progress")) + 1;
  for (int i = next;; ++i) {
    std::string sql = "BEGIN;" + transaction_sql(i, "v") + "COMMIT;";
    if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(3);
  }
}

void crash_rounds(const std::string& path, bool wal, int rounds, uint32_t seed) {
  {
    TestDatabase db(path);
    db.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[8], m=8, ef_construction=64)");
    db.exec("CREATE TABLE progress(committed INTEGER); INSERT INTO progress VALUES (0)");
  }
  TestDatabase replay;
  replay.exec("CREATE TABLE t(rowid INTEGER PRIMARY KEY, embedding BLOB)");
  replay.exec("CREATE TABLE progress(committed INTEGER); INSERT INTO progress VALUES (0)");
  int replayed = 0;
  // A round starts its random wait once the child has committed something new.
  auto committed_now = [&]() -> int {
    sqlite3* peek = nullptr;
    int committed = -1;
    if (sqlite3_open_v2(path.c_str(), &peek, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(peek, 1000);
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(peek, "SELECT committed FROM progress", -1, &stmt, nullptr) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW) {
        committed = sqlite3_column_int(stmt, 0);
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close(peek);
    return committed;
  };
  auto progressed = [&] { return committed_now() > replayed; };
  strata::testing::kill_rounds(rounds, seed, [&] { run_child(path, wal); }, [&](int round) {
    TestDatabase reopened(path);
    ASSERT_EQ(reopened.scalar("SELECT hnsw_check('v')"), "ok") << "after kill " << round;
    int committed = std::stoi(reopened.scalar("SELECT committed FROM progress"));
    ASSERT_GE(committed, replayed);
    for (; replayed < committed; ++replayed) replay.exec("BEGIN;" + transaction_sql(replayed + 1, "t") + "COMMIT;");
    ASSERT_EQ(content(reopened, "v"), content(replay, "t")) << "after kill " << round;
    // Every row is found by its own vector.
    std::string misses = reopened.scalar(
        "SELECT count(*) FROM v AS outer_row WHERE outer_row.rowid NOT IN "
        "(SELECT rowid FROM v WHERE embedding MATCH outer_row.embedding AND k = 3 AND ef_search = 64)");
    EXPECT_EQ(misses, "0") << "after kill " << round;
  }, progressed);
  ::testing::Test::RecordProperty(wal ? "wal_transactions_committed" : "transactions_committed", std::to_string(replayed));
  EXPECT_GT(replayed, 0) << "no transaction committed: the kills came too early to test anything";
}

class HnswCrash : public ::testing::Test {
 protected:
  strata::testing::ScratchDirectory directory_{"hnsw_crash"};
};

TEST_F(HnswCrash, KilledMidTransactionLeavesTheLastCommittedState) {
  crash_rounds(directory_.path("rollback.db"), false, 6, 4321);
}

TEST_F(HnswCrash, KilledMidTransactionInWalMode) {
  crash_rounds(directory_.path("wal.db"), true, 5, 8765);
}

}  // namespace
