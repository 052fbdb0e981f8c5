// Crash safety: a child process runs large INSERT/UPDATE/DELETE transactions against a columnar
// table and is killed (SIGKILL) at random moments. After each kill the database is reopened:
// columnar_check() must say 'ok' and the table must hold exactly the state of the last committed
// transaction — which an ordinary table, replaying the same transactions, provides.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/unit/kill_rounds.h"
#include "tests/unit/test_database.h"

namespace {

using strata::testing::TestDatabase;

constexpr const char* kColumns = "id INTEGER PRIMARY KEY, k INTEGER, label TEXT, amount REAL, tag UNIQUE";

// Transaction i, the same for the columnar table and for the ordinary replay.
std::string transaction_sql(int i) {
  std::string n = std::to_string(i);
  return "INSERT INTO t(k, label, amount, tag) "
         "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500) "
         "SELECT x % 97, 'txn " + n + " row ' || x, x * " + n + " / 7.0, "
         "CASE WHEN x % 5 = 0 THEN 'tag-" + n + "-' || x END FROM c;"
         "UPDATE t SET label = label || ' updated by " + n + "', amount = -amount "
         "WHERE id % 11 = " + std::to_string(i % 11) + ";"
         "DELETE FROM t WHERE id % 13 = " + std::to_string(i % 13) + " AND k < 50;"
         "UPDATE progress SET committed = " + n + ";";
}

std::vector<std::string> content(const TestDatabase& db) {
  return db.rows("SELECT id, k, label, quote(amount), quote(tag) FROM t ORDER BY id");
}

[[noreturn]] void run_child(const std::string& path, bool wal) {
  TestDatabase db(path);
  if (wal) db.exec("PRAGMA journal_mode=WAL");
  int next = std::stoi(db.scalar("SELECT committed FROM progress")) + 1;
  for (int i = next;; ++i) {
    std::string sql = "BEGIN;" + transaction_sql(i) + "COMMIT;";
    if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(3);
  }
}

void crash_rounds(const std::string& path, bool wal, int rounds, uint32_t seed) {
  {
    TestDatabase db(path);
    db.exec(std::string("CREATE VIRTUAL TABLE t USING columnar(") + kColumns + ", chunk_rows=700)");
    db.exec("CREATE TABLE progress(committed INTEGER); INSERT INTO progress VALUES (0)");
  }
  TestDatabase replay;
  replay.exec(std::string("CREATE TABLE t(") + kColumns + ")");
  replay.exec("CREATE TABLE progress(committed INTEGER); INSERT INTO progress VALUES (0)");
  int replayed = 0;
  int kills_mid_transaction = 0;
  strata::testing::kill_rounds(rounds, seed, [&] { run_child(path, wal); }, [&](int round) {
    // A hot rollback journal left by the kill means it struck mid-transaction.
    if (!wal && std::filesystem::exists(path + "-journal")) ++kills_mid_transaction;
    TestDatabase reopened(path);
    ASSERT_EQ(reopened.scalar("SELECT columnar_check('t')"), "ok") << "after kill " << round;
    int committed = std::stoi(reopened.scalar("SELECT committed FROM progress"));
    ASSERT_GE(committed, replayed);
    for (; replayed < committed; ++replayed) replay.exec("BEGIN;" + transaction_sql(replayed + 1) + "COMMIT;");
    ASSERT_EQ(content(reopened), content(replay))
        << "after kill " << round << ", " << committed << " transactions committed";
  });
  ::testing::Test::RecordProperty(wal ? "wal_transactions_committed" : "transactions_committed",
                                  std::to_string(replayed));
  if (!wal) ::testing::Test::RecordProperty("kills_with_a_hot_journal", std::to_string(kills_mid_transaction));
  EXPECT_GT(replayed, 0) << "no transaction committed: the kills came too early to test anything";
}

class ColumnarCrash : public ::testing::Test {
 protected:
  strata::testing::ScratchDirectory directory_{"columnar_crash"};
};

TEST_F(ColumnarCrash, KilledMidTransactionLeavesTheLastCommittedState) {
  crash_rounds(directory_.path("rollback.db"), false, 8, 1234);
}

TEST_F(ColumnarCrash, KilledMidTransactionInWalMode) {
  crash_rounds(directory_.path("wal.db"), true, 6, 5678);
}

}  // namespace
