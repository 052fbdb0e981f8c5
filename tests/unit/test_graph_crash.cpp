// Crash safety of things/relationships: a child process runs transactions that insert things
// and relationships and delete things (cascading to their relationships), and is killed
// (SIGKILL) at random moments. After each kill the database is reopened: things_check() must say
// 'ok', both tables must hold exactly the rows of the last committed transaction (ordinary
// tables replaying the same transactions say which), and traversals must agree with a
// recursive CTE over the replay.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <string>

#include "tests/unit/kill_rounds.h"
#include "tests/unit/test_database.h"

namespace {

using strata::testing::TestDatabase;

// Transaction i against things table `things` and relationships table `rel`.
std::string transaction_sql(int i, const std::string& things, const std::string& rel) {
  std::string n = std::to_string(i);
  auto id = [&](const std::string& transaction, const std::string& index) { return "'t' || (" + transaction + ") || '_' || (" + index + ")"; };
  std::string numbers = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 40) ";
  return "INSERT INTO " + things + "(id, type, data, created_at, updated_at) " + numbers + "SELECT " + id(n, "x") +
         ", 'T' || (x % 3), json_object('x', x, 'i', " + n + "), 0, 0 FROM c;" +
         // Links to earlier transactions' things, and back, so that there are cycles.
         "INSERT OR IGNORE INTO " + rel + "(from_id, to_id, type, created_at) " + numbers + "SELECT " + id(n, "x") + ", " +
         id(n + " - 1 - x % 3", "(x * 7 + " + n + ") % 40 + 1") + ", 'r' || (x % 3), 0 FROM c WHERE EXISTS (SELECT 1 FROM " + things +
         " WHERE id = " + id(n + " - 1 - x % 3", "(x * 7 + " + n + ") % 40 + 1") + ");" +
         "INSERT OR IGNORE INTO " + rel + "(from_id, to_id, type, created_at) " + numbers + "SELECT " + id(n + " - 1", "x") + ", " +
         id(n, "(x * 3) % 40 + 1") + ", 'r0', 0 FROM c WHERE x % 4 = 0 AND EXISTS (SELECT 1 FROM " + things + " WHERE id = " +
         id(n + " - 1", "x") + ");" +
         "DELETE FROM " + things + " WHERE id IN (" + id(n + " - 2", std::to_string(i % 40 + 1)) + ", " +
         id(n + " - 3", std::to_string((i * 3) % 40 + 1)) + ");" + "UPDATE progress SET committed = " + n + ";";
}

[[noreturn]] void run_child(const std::string& path, bool wal) {
  TestDatabase db(path);
  if (wal) db.exec("PRAGMA journal_mode=WAL");
  int next = std::stoi(db.scalar("SELECT committed FROM progress")) + 1;
  for (int i = next;; ++i) {
    // A traversal now and then, so the adjacency is built and kept in step while writing.
    std::string sql = "BEGIN;" + transaction_sql(i, "kb", "kb_rel") +
                      "SELECT count(*) FROM graph_traverse('kb_rel', (SELECT id FROM kb ORDER BY rowid DESC LIMIT 1), 3, NULL, 'both');COMMIT;";
    if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(3);
  }
}

void crash_rounds(const std::string& path, bool wal, int rounds, uint32_t seed) {
  {
    TestDatabase db(path);
    db.exec("CREATE VIRTUAL TABLE kb USING things; CREATE VIRTUAL TABLE kb_rel USING relationships(things=kb);"
            "CREATE TABLE progress(committed INTEGER); INSERT INTO progress VALUES (0)");
  }
  TestDatabase replay;
  replay.exec("PRAGMA foreign_keys = ON; CREATE TABLE t(id TEXT PRIMARY KEY, type TEXT NOT NULL, data, created_at, updated_at);"
              "CREATE TABLE r(from_id TEXT NOT NULL REFERENCES t(id) ON DELETE CASCADE, to_id TEXT NOT NULL REFERENCES t(id) ON DELETE CASCADE,"
              " type TEXT NOT NULL, created_at, UNIQUE (from_id, to_id, type));"
              "CREATE TABLE progress(committed INTEGER); INSERT INTO progress VALUES (0)");
  int replayed = 0;
  strata::testing::kill_rounds(rounds, seed, [&] { run_child(path, wal); }, [&](int round) {
    TestDatabase reopened(path);
    ASSERT_EQ(reopened.scalar("SELECT things_check('kb')"), "ok") << "after kill " << round;
    int committed = std::stoi(reopened.scalar("SELECT committed FROM progress"));
    ASSERT_GE(committed, replayed);
    for (; replayed < committed; ++replayed) replay.exec("BEGIN;" + transaction_sql(replayed + 1, "t", "r") + "COMMIT;");
    ASSERT_EQ(reopened.rows("SELECT id, type, data FROM kb ORDER BY id"), replay.rows("SELECT id, type, data FROM t ORDER BY id"))
        << "after kill " << round;
    ASSERT_EQ(reopened.rows("SELECT from_id, to_id, type FROM kb_rel ORDER BY 1, 2, 3"),
              replay.rows("SELECT from_id, to_id, type FROM r ORDER BY 1, 2, 3"))
        << "after kill " << round;
    if (committed > 0) {
      std::string start = "'t" + std::to_string(committed) + "_1'";
      EXPECT_EQ(reopened.rows("SELECT node, depth FROM graph_traverse('kb_rel', " + start + ", 4, NULL, 'both') ORDER BY node"),
                replay.rows("WITH RECURSIVE e AS (SELECT from_id AS node, to_id AS next FROM r UNION ALL SELECT to_id, from_id FROM r),"
                                      " w(node, depth) AS (SELECT " + start + ", 0 UNION SELECT e.next, w.depth + 1 FROM w JOIN e ON e.node = w.node"
                                      " WHERE w.depth < 4) SELECT node, min(depth) FROM w GROUP BY node ORDER BY node"))
          << "after kill " << round;
    }
  });
  ::testing::Test::RecordProperty(wal ? "wal_transactions_committed" : "transactions_committed", std::to_string(replayed));
  EXPECT_GT(replayed, 0) << "no transaction committed: the kills came too early to test anything";
}

class GraphCrash : public ::testing::Test {
 protected:
  strata::testing::ScratchDirectory directory_{"graph_crash"};
};

TEST_F(GraphCrash, KilledMidTransactionLeavesTheLastCommittedState) { crash_rounds(directory_.path("rollback.db"), false, 6, 1234); }

TEST_F(GraphCrash, KilledMidTransactionInWalMode) { crash_rounds(directory_.path("wal.db"), true, 5, 5678); }

}  // namespace
