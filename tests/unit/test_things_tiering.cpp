// Tiering of things tables (docs/tiering.md, "things"): the same answers as an ordinary twin
// through random writes, flushes, restores, new path indexes and reopening; requests counted
// (a cold lookup by id or indexed path ≤ 1 ranged GET, 0 when cached or absent, traversal 0);
// every failed store call losing nothing; a process killed during flushes and restores losing
// nothing; errors; DuckDB reading exactly the cold things.
#include <gtest/gtest.h>
#include <sqlite3.h>


#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ext/civil_time.h"
#include "tiering/s3_store.h"
#include "tests/unit/duckdb_peer.h"
#include "tests/unit/kill_rounds.h"
#include "tests/unit/s3_test_server.h"
#include "tests/unit/test_database.h"
#include "tests/unit/tiering_fixture.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

// The first millisecond of the month `months_back` months before this one (UTC).
int64_t month_start_ms(int months_back) {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const CivilDate today = civil_from_days(floor_div(now_ms, 86'400'000));
  const CivilDate month = add_months(CivilDate{today.year, today.month, 1}, -months_back);
  return days_from_civil(month.year, month.month, 1) * 86'400'000;
}

const char* const kTwin =
    "CREATE TABLE twin(id TEXT PRIMARY KEY, type TEXT NOT NULL, data TEXT, embedding BLOB, created_at INTEGER);"
    "CREATE TABLE twin_rel(from_id TEXT, to_id TEXT, type TEXT, data TEXT, created_at INTEGER, UNIQUE (from_id, to_id, type));";

// The answers compared after every step: every read path of a things table.
std::vector<std::string> queries_for(const std::string& table, bool things) {
  auto path_query = [&](const std::string& path, const std::string& condition) {
    if (things) {
      return "SELECT id, json_value FROM kb WHERE json_path = '" + path + "'" + (condition.empty() ? "" : " AND json_value " + condition) +
             " ORDER BY id";
    }
    return "SELECT id, json_extract(data, '" + path + "') FROM twin" +
           (condition.empty() ? "" : " WHERE json_extract(data, '" + path + "') " + condition) + " ORDER BY id";
  };
  const std::string rel = things ? "kb_rel" : "twin_rel";
  return {
      "SELECT id, type, data, hex(embedding), typeof(embedding), created_at FROM " + table + " ORDER BY id",
      "SELECT id, data FROM " + table + " WHERE id IN ('t3', 't17', 't40', 't77', 'nope') ORDER BY id",
      "SELECT id, hex(embedding) FROM " + table + " WHERE type = 'User' ORDER BY id",
      "SELECT count(*), sum(length(data)) FROM " + table + " WHERE type = 'Doc'",
      "SELECT id FROM " + table + " WHERE json_extract(data, '$.age') > 40 ORDER BY id",
      path_query("$.email", "= 'e7@x.io'"),
      path_query("$.email", ">= 'e5'"),
      path_query("$.age", "< 30"),
      path_query("$.age", "= 33"),
      path_query("$.name", "= 'n4'"),  // indexed only later, if at all
      path_query("$.age", ""),
      "SELECT from_id, to_id, type, data, created_at FROM " + rel + " ORDER BY 1, 2, 3",
      "SELECT from_id, data FROM " + rel + " WHERE type = 'likes' AND json_extract(data, '$.w') > 3 ORDER BY 1, 2",
  };
}

class ThingsTiering : public ::testing::Test {
 protected:
  ThingsTiering() : scratch_("things_tiering"), path_(scratch_.path("kb.db")), lake_(scratch_.path("lake")) {}

  void create(TestDatabase& db, int things, int hot_months = 2, const std::string& tier = "file:lake") {
    db.exec("CREATE VIRTUAL TABLE kb USING things(tier='" + tier + "', hot_months=" + std::to_string(hot_months) + ")");
    db.exec("CREATE VIRTUAL TABLE kb_rel USING relationships(things=kb)");
    db.exec("SELECT things_index('kb', '$.email'), things_index('kb', '$.age')");
    db.exec(kTwin);
    for (int i = 0; i < things; ++i) insert(db, "t" + std::to_string(i), i, false);
    for (int i = 0; i + 3 < things; i += 3) relate(db, "t" + std::to_string(i), "t" + std::to_string(i + 3), "next", i / 3);
  }

  // A thing created in one of the last 7 months, with data and an embedding of every kind.
  void insert(TestDatabase& db, const std::string& id, int seed, bool replace) {
    static const char* const kTypes[] = {"User", "Doc", "Team"};
    const std::string type = kTypes[seed % 3];
    const int64_t created = month_start_ms(seed % 7) + (seed % 13) * 3'600'000;
    std::string data;
    switch (seed % 5) {
      case 0: data = "NULL"; break;
      case 1: data = "'{\"email\":\"e" + std::to_string(seed % 11) + "@x.io\",\"age\":" + std::to_string(20 + seed % 37) + "}'"; break;
      case 2: data = "'{\"name\":\"n" + std::to_string(seed % 9) + "\",\"age\":" + std::to_string(25 + seed % 20) + ".5}'"; break;
      case 3: data = "'[1,2,{\"email\":\"nested\"}]'"; break;
      default: data = "'{\"email\":\"e" + std::to_string(seed % 7) + "@x.io\",\"tags\":[\"a\",\"b\"]}'"; break;
    }
    std::string embedding;
    switch (seed % 4) {
      case 0: embedding = "NULL"; break;
      case 1: embedding = "x'" + std::string(8, "0123456789abcdef"[seed % 16]) + "'"; break;
      case 2: embedding = "'as text " + std::to_string(seed) + "'"; break;
      default: embedding = std::to_string(seed * 1.25); break;
    }
    const std::string values = "('" + id + "', '" + type + "', " + data + ", " + embedding + ", " + std::to_string(created) + ")";
    const std::string verb = replace ? "INSERT OR REPLACE INTO " : "INSERT INTO ";
    db.exec(verb + "kb(id, type, data, embedding, created_at) VALUES " + values);
    db.exec(verb + "twin(id, type, data, embedding, created_at) VALUES " + values);
  }

  // A relationship created in one of the last 7 months, with a payload two times in three.
  void relate(TestDatabase& db, const std::string& from, const std::string& to, const std::string& type, int seed) {
    const std::string data = seed % 3 == 0 ? "NULL" : "'{\"w\":" + std::to_string(seed % 9) + "}'";
    const std::string values = "('" + from + "', '" + to + "', '" + type + "', " + data + ", " +
                               std::to_string(month_start_ms(seed % 7) + seed * 60'000) + ")";
    db.exec("INSERT OR IGNORE INTO kb_rel(from_id, to_id, type, data, created_at) VALUES " + values);
    db.exec("INSERT OR IGNORE INTO twin_rel(from_id, to_id, type, data, created_at) VALUES " + values);
  }

  void expect_same(const TestDatabase& db, const std::string& when) {
    const std::vector<std::string> mine = queries_for("kb", true);
    const std::vector<std::string> theirs = queries_for("twin", false);
    for (size_t q = 0; q < mine.size(); ++q) EXPECT_EQ(db.exact_rows(mine[q]), db.exact_rows(theirs[q])) << when << ": " << mine[q];
    EXPECT_EQ(db.scalar("SELECT things_check('kb')"), "ok") << when;
  }

  ScratchDirectory scratch_;
  std::string path_;
  std::string lake_;
};

// Seeds: STRATA_THINGS_TIERING_SEEDS (default 4); each seed also picks hot_months (0 to 3).
class ThingsTieringSeeds : public ThingsTiering, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(ThingsTieringSeeds, RandomWritesFlushesRestoresAndReopensGiveTheOrdinaryAnswers) {
  auto db = std::make_unique<TestDatabase>(path_);
  const uint32_t seed_of_run = 20261205 + GetParam();
  create(*db, 120, static_cast<int>(GetParam() % 4));
  expect_same(*db, "before any flush");
  std::mt19937 random(seed_of_run);
  int flushes = 0, restores = 0, cold_writes = 0;
  bool name_indexed = false;
  for (int step = 0; step < 160; ++step) {
    const int action = static_cast<int>(random() % 12);
    const int seed = static_cast<int>(random() % 500);
    std::string id = "t" + std::to_string(random() % 140);
    const bool cold = db->scalar("SELECT count(*) FROM kb_things WHERE id = '" + id + "' AND cold_object IS NOT NULL") == "1";
    std::string what;
    switch (action) {
      case 0:
      case 1:
        what = "insert or replace " + id;
        insert(*db, id, seed, true);
        break;
      case 2:
        what = "update data of " + id;
        db->exec("UPDATE kb SET data = json_set(coalesce(data, '{}'), '$.age', " + std::to_string(seed % 60) + ") WHERE id = '" + id + "'");
        db->exec("UPDATE twin SET data = json_set(coalesce(data, '{}'), '$.age', " + std::to_string(seed % 60) + ") WHERE id = '" + id + "'");
        break;
      case 3: {
        what = "update type and month of " + id;  // moves it to another partition
        // Now and then a time no month can hold (it stays hot).
        const std::string created = seed % 10 == 0 ? "9223372036854775807 - " + std::to_string(seed) : "created_at - 2678400000";
        db->exec("UPDATE kb SET type = 'Team', created_at = " + created + " WHERE id = '" + id + "'");
        db->exec("UPDATE twin SET type = 'Team', created_at = " + created + " WHERE id = '" + id + "'");
        break;
      }
      case 4:
        what = "update embedding of " + id;  // data unchanged: read from the object when cold
        db->exec("UPDATE kb SET embedding = x'ff" + std::to_string(seed % 10) + "0' WHERE id = '" + id + "'");
        db->exec("UPDATE twin SET embedding = x'ff" + std::to_string(seed % 10) + "0' WHERE id = '" + id + "'");
        break;
      case 5:
        what = "delete " + id;
        db->exec("DELETE FROM kb WHERE id = '" + id + "'");
        db->exec("DELETE FROM twin WHERE id = '" + id + "'; DELETE FROM twin_rel WHERE from_id = '" + id + "' OR to_id = '" + id + "'");
        break;
      case 6: {
        what = "insert existing " + id;
        const bool exists = db->scalar("SELECT count(*) FROM twin WHERE id = '" + id + "'") == "1";
        if (exists) {
          EXPECT_EQ(db->result_code_of("INSERT INTO kb(id, type) VALUES ('" + id + "', 'User')"), SQLITE_CONSTRAINT_UNIQUE) << id;
        } else {
          insert(*db, id, seed, false);
        }
        break;
      }
      case 7:
        if (seed % 2 == 0) {  // half the time, from a thing with a cold relationship (if any)
          const std::string cold_from = db->scalar("SELECT t.id FROM kb_rel_edges e JOIN kb_things t ON t.node = e.from_node"
                                                   " WHERE e.cold_object IS NOT NULL ORDER BY e.edge LIMIT 1 OFFSET " + std::to_string(seed % 5));
          if (!cold_from.empty()) id = cold_from;
        }
        if (db->scalar("SELECT count(*) FROM kb_rel_edges e JOIN kb_things t ON t.node = e.from_node WHERE t.id = '" + id +
                       "' AND e.cold_object IS NOT NULL") != "0") {
          ++cold_writes;
        }
        if (seed % 3 == 0) {
          what = "relate";
          if (db->scalar("SELECT count(*) FROM twin WHERE id IN ('" + id + "', 't" + std::to_string(seed % 140) + "')") == "2") {
            relate(*db, id, "t" + std::to_string(seed % 140), seed % 2 ? "likes" : "next", seed);
          }
        } else if (seed % 3 == 1) {
          what = "update relationship payloads from " + id;  // cold ones become hot
          db->exec("UPDATE kb_rel SET data = json_set(coalesce(data, '{}'), '$.w', " + std::to_string(seed % 7) + ") WHERE from_id = '" + id + "'");
          db->exec("UPDATE twin_rel SET data = json_set(coalesce(data, '{}'), '$.w', " + std::to_string(seed % 7) + ") WHERE from_id = '" + id + "'");
        } else {
          what = "move relationships from " + id + " a day back";  // data unchanged: read from the object when cold
          db->exec("UPDATE kb_rel SET created_at = created_at - 86400000 WHERE from_id = '" + id + "'");
          db->exec("UPDATE twin_rel SET created_at = created_at - 86400000 WHERE from_id = '" + id + "'");
        }
        break;
      case 8:
      case 9:
        what = "tier_flush";
        db->exec("SELECT tier_flush('kb')");
        ++flushes;
        break;
      case 10: {
        const std::vector<std::string> partitions = db->rows("SELECT partition FROM tier_partitions WHERE tbl = 'kb' AND tier <> 'hot'");
        if (partitions.empty()) break;
        const std::string partition = partitions[static_cast<size_t>(seed) % partitions.size()];
        what = "tier_restore " + partition;
        EXPECT_EQ(db->scalar("SELECT tier_restore('kb', '" + partition + "')"), "1") << partition;
        ++restores;
        break;
      }
      default:
        what = "reopen";
        db.reset();
        db = std::make_unique<TestDatabase>(path_);
        if (!name_indexed && seed % 2 == 0) {
          what = "reopen, then index $.name";
          db->exec("SELECT things_index('kb', '$.name')");  // some things are cold: entries from the objects
          name_indexed = true;
        }
        break;
    }
    if (cold && action >= 2 && action <= 5) ++cold_writes;
    expect_same(*db, "step " + std::to_string(step) + " (" + what + ")");
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GE(flushes, 15);
  EXPECT_GE(restores, 5);
  EXPECT_GE(cold_writes, 10);
  // After a flush the lake holds exactly the cold things: one object per cold partition.
  db->exec("SELECT tier_flush('kb')");
  expect_same(*db, "after the last flush");
  for (const std::string table : {"kb", "kb_rel"}) {
    EXPECT_EQ(lake_files(lake_ + "/" + table).size(),
              std::stoul(db->scalar("SELECT count(*) FROM tier_partitions WHERE tbl = '" + table + "' AND tier = 'cold'"))) << table;
    EXPECT_EQ(db->scalar("SELECT count(*) FROM tier_partitions WHERE tbl = '" + table + "' AND tier = 'mixed'"), "0") << table;
  }
  EXPECT_GT(std::stoi(db->scalar("SELECT count(*) FROM kb_things WHERE cold_object IS NOT NULL")), 40);
  EXPECT_GT(std::stoi(db->scalar("SELECT count(*) FROM kb_rel_edges WHERE cold_object IS NOT NULL")), 5);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ThingsTieringSeeds, ::testing::Range(0u, [] {
                           const char* text = std::getenv("STRATA_THINGS_TIERING_SEEDS");
                           return text != nullptr && std::atoi(text) > 0 ? static_cast<uint32_t>(std::atoi(text)) : 4u;
                         }()),
                         [](const auto& info) { return "seed" + std::to_string(info.param); });

TEST_F(ThingsTiering, RequestsAreCounted) {
  StoreCalls calls;
  TestDatabase db(path_);
  create(db, 300);
  ASSERT_GT(std::stoi(db.scalar("SELECT tier_flush('kb')")), 5);
  const std::string cold_id = db.scalar("SELECT id FROM kb_things WHERE cold_object IS NOT NULL AND data IS NULL ORDER BY node LIMIT 1");
  ASSERT_NE(cold_id, "");
  calls.reset();
  // What the hot rows answer: ids, types, timestamps, counts, traversal, absent ids.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM kb"), "300");
  EXPECT_EQ(db.scalar("SELECT type FROM kb WHERE id = '" + cold_id + "'"), db.scalar("SELECT type FROM twin WHERE id = '" + cold_id + "'"));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM kb WHERE id = 'absent'"), "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM kb WHERE json_path = '$.email' AND json_value = 'nobody@x.io'"), "0");
  EXPECT_EQ(db.rows("SELECT node FROM graph_traverse('kb_rel', 't0', 50, 'next')").size(), 51u);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM graph_neighbors('kb_rel', 't3', NULL, 'both')"), "2");
  EXPECT_EQ(calls.total(), 0);
  // A cold thing's data: one ranged GET (data and embedding together); again: none.
  EXPECT_EQ(db.scalar("SELECT data FROM kb WHERE id = '" + cold_id + "'"), db.scalar("SELECT data FROM twin WHERE id = '" + cold_id + "'"));
  EXPECT_EQ(db.scalar("SELECT hex(embedding) FROM kb WHERE id = '" + cold_id + "'"),
            db.scalar("SELECT hex(embedding) FROM twin WHERE id = '" + cold_id + "'"));
  EXPECT_EQ(calls.count(StoreCall::kGetRange), 1);
  EXPECT_EQ(calls.total(), 1);
  // A cold relationship's payload: its ends and type are hot; its data one ranged GET.
  const std::string edge_id = db.scalar("SELECT id FROM kb_rel_edges WHERE cold_object IS NOT NULL ORDER BY edge LIMIT 1");
  ASSERT_NE(edge_id, "");
  calls.reset();
  const std::string ends = db.scalar("SELECT from_id || ' ' || to_id || ' ' || type FROM kb_rel WHERE id = '" + edge_id + "'");
  EXPECT_EQ(calls.total(), 0);
  EXPECT_EQ(db.scalar("SELECT data FROM kb_rel WHERE id = '" + edge_id + "'"),
            db.scalar("SELECT data FROM twin_rel WHERE from_id || ' ' || to_id || ' ' || type = '" + ends + "'"));
  EXPECT_EQ(calls.total(), 1);
  calls.reset();
  // By indexed path: at most one ranged GET per row group holding a match.
  calls.reset();
  const std::string email_query = "SELECT id, data FROM kb WHERE json_path = '$.email' AND json_value = 'e3@x.io' ORDER BY id";
  const std::vector<std::string> expected =
      db.rows("SELECT id, data FROM twin WHERE json_extract(data, '$.email') = 'e3@x.io' ORDER BY id");
  ASSERT_GT(expected.size(), 3u);
  EXPECT_EQ(db.rows(email_query), expected);
  const int groups = std::stoi(db.scalar(
      "SELECT count(DISTINCT cold_object || ':' || (cold_row / 1024)) FROM kb_things t JOIN kb_cold_paths c ON c.node = t.node"
      " WHERE c.path = '$.email' AND c.value = 'e3@x.io'"));
  EXPECT_LE(calls.count(StoreCall::kGetRange), groups);
  EXPECT_EQ(calls.total(), calls.count(StoreCall::kGetRange));
  // A new connection: the local cache serves the same ranges.
  TestDatabase again(path_);
  calls.reset();
  EXPECT_EQ(again.rows(email_query), expected);
  EXPECT_EQ(again.scalar("SELECT data FROM kb WHERE id = '" + cold_id + "'"), db.scalar("SELECT data FROM twin WHERE id = '" + cold_id + "'"));
  EXPECT_EQ(calls.total(), 0);
  EXPECT_GT(std::stoi(again.scalar("SELECT sum(cache_hits) FROM tier_partitions WHERE tbl = 'kb'")), 0);
  EXPECT_EQ(again.scalar("SELECT sum(requests) FROM tier_partitions WHERE tbl = 'kb'"), "0");
  // The store down: what needs no cold data still works; what does fails naming table, partition
  // and object.
  calls.go_down();
  fs::remove_all(path_ + "-tiercache");
  TestDatabase third(path_);
  EXPECT_EQ(third.scalar("SELECT count(*) FROM kb WHERE type = 'User'"), third.scalar("SELECT count(*) FROM twin WHERE type = 'User'"));
  const std::string error = third.error_of("SELECT data FROM kb WHERE id = '" + cold_id + "'");
  EXPECT_NE(error.find("things: table kb: partition type="), std::string::npos) << error;
  EXPECT_NE(error.find(".parquet"), std::string::npos) << error;
  EXPECT_NE(error.find("injected failure"), std::string::npos) << error;
}

// The same on S3 (s3rver behind the strict SigV4 front): flush, answers, the server stopped,
// restore, GC, and the objects listed in the bucket.
TEST_F(ThingsTiering, FlushQueryStopRestoreOnS3) {
  S3TestServer server;
  ASSERT_TRUE(server.problem().empty()) << server.problem();
  ScopedAwsEnvironment environment(server);
  setenv("STRATA_S3_TIMEOUT_MS", "3000", 1);
  TestDatabase db(path_);
  create(db, 200, 2, "s3://strata-test/lake");
  const int moved = std::stoi(db.scalar("SELECT tier_flush('kb')"));
  ASSERT_GT(moved, 5);
  expect_same(db, "on S3");
  auto list = [&](const std::string& prefix) {
    auto store = tiering::S3Store::open("s3://strata-test/lake", server.settings());
    EXPECT_TRUE(store.is_ok()) << store.status().message();
    auto listed = (*store)->list(prefix);
    EXPECT_TRUE(listed.is_ok()) << listed.status().message();
    std::vector<std::string> keys;
    for (const auto& object : *listed) keys.push_back(object.key);
    std::sort(keys.begin(), keys.end());
    return keys;
  };
  EXPECT_EQ(list("kb/"), db.rows("SELECT object_key FROM kb_objects WHERE state = 'live' ORDER BY object_key"));
  EXPECT_EQ(list("kb_rel/"), db.rows("SELECT object_key FROM kb_rel_objects WHERE state = 'live' ORDER BY object_key"));
  EXPECT_GT(std::stoi(db.scalar("SELECT sum(requests) FROM tier_partitions WHERE tbl = 'kb'")), 0);

  // The server stopped: what needs no cold data works; a cold read fails naming the object.
  fs::remove_all(path_ + "-tiercache");
  TestDatabase fresh(path_);
  server.stop();
  EXPECT_EQ(fresh.scalar("SELECT count(*) FROM kb"), "200");
  EXPECT_EQ(fresh.rows("SELECT node FROM graph_traverse('kb_rel', 't0', 10, 'next')").size(), 11u);
  const std::string cold_id = fresh.scalar("SELECT id FROM kb_things WHERE cold_object IS NOT NULL AND id IN (SELECT id FROM twin WHERE data IS NOT NULL) LIMIT 1");
  const std::string error = fresh.error_of("SELECT data FROM kb WHERE id = '" + cold_id + "'");
  EXPECT_NE(error.find("things: table kb: partition type="), std::string::npos) << error;
  EXPECT_NE(error.find(".parquet"), std::string::npos) << error;
  server.start();
  ASSERT_TRUE(server.problem().empty()) << server.problem();
  ScopedAwsEnvironment restarted(server);  // a new port
  expect_same(fresh, "after the server came back");
  const std::string partition = fresh.scalar("SELECT partition FROM tier_partitions WHERE tbl = 'kb' AND tier = 'cold' LIMIT 1");
  EXPECT_EQ(fresh.scalar("SELECT tier_restore('kb', '" + partition + "')"), "1");
  expect_same(fresh, "after a restore from S3");
  fresh.exec("DELETE FROM kb WHERE id IN (SELECT id FROM kb_things WHERE cold_object IS NOT NULL LIMIT 20)");
  fresh.exec("DELETE FROM twin WHERE id NOT IN (SELECT id FROM kb)");
  fresh.exec("DELETE FROM twin_rel WHERE from_id NOT IN (SELECT id FROM kb) OR to_id NOT IN (SELECT id FROM kb)");
  EXPECT_GE(std::stoi(fresh.scalar("SELECT tier_flush('kb')")), 1);
  expect_same(fresh, "after deletes and a flush");
  EXPECT_EQ(list("kb/"), fresh.rows("SELECT object_key FROM kb_objects WHERE state = 'live' ORDER BY object_key"));
  unsetenv("STRATA_S3_TIMEOUT_MS");
}

TEST_F(ThingsTiering, EveryFailedStoreCallLosesNothing) {
  StoreCalls calls;
  TestDatabase db(path_);
  create(db, 200);
  const std::string partition = "type=User/dt=" + db.scalar("SELECT strftime('%Y-%m', " + std::to_string(month_start_ms(4)) +
                                                            " / 1000, 'unixepoch')");
  int failures = 0;
  for (StoreCall call : {StoreCall::kPut, StoreCall::kHead, StoreCall::kGetRange}) {
    calls.reset();
    calls.fail(call, 1);
    EXPECT_NE(db.error_of("SELECT tier_flush('kb', '" + partition + "')"), "");
    calls.reset();
    ++failures;
    expect_same(db, "after a failed flush");
    EXPECT_EQ(db.scalar("SELECT tier FROM tier_partitions WHERE partition = '" + partition + "'"), "hot");
  }
  EXPECT_EQ(lake_files(lake_).size(), 0u);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM kb_objects"), "0");
  // Verification fails and the object cannot be removed: the intent stays; tier_gc collects it.
  calls.fail(StoreCall::kHead, 1);
  calls.fail(StoreCall::kRemove, 1, /*and_after=*/true);
  EXPECT_NE(db.error_of("SELECT tier_flush('kb', '" + partition + "')"), "");
  calls.reset();
  EXPECT_EQ(lake_files(lake_).size(), 1u);
  EXPECT_EQ(db.scalar("SELECT state FROM kb_objects"), "writing");
  EXPECT_EQ(db.scalar("SELECT tier_gc('kb')"), "1");
  EXPECT_EQ(lake_files(lake_).size(), 0u);
  ASSERT_EQ(db.scalar("SELECT tier_flush('kb', '" + partition + "')"), "1");
  ASSERT_EQ(db.scalar("SELECT tier_flush('kb', '" + partition + "')"), "0");  // idempotent
  expect_same(db, "after the flush");
  // Restore: a failed read leaves the partition cold and whole.
  fs::remove_all(path_ + "-tiercache");
  TestDatabase fresh(path_);  // nothing decoded yet
  calls.reset();
  calls.fail(StoreCall::kGetRange, 1);
  EXPECT_NE(fresh.error_of("SELECT tier_restore('kb', '" + partition + "')"), "");
  calls.reset();
  ++failures;
  EXPECT_EQ(fresh.scalar("SELECT tier FROM tier_partitions WHERE partition = '" + partition + "'"), "cold");
  expect_same(fresh, "after a failed restore");
  // The object cannot be removed after the restore committed: it stays retired for tier_gc.
  calls.fail(StoreCall::kRemove, 1, /*and_after=*/true);
  EXPECT_EQ(fresh.scalar("SELECT tier_restore('kb', '" + partition + "')"), "1");
  calls.reset();
  EXPECT_EQ(fresh.scalar("SELECT state FROM kb_objects"), "retired");
  expect_same(fresh, "after a restore");
  EXPECT_EQ(fresh.scalar("SELECT tier_gc('kb')"), "1");
  EXPECT_EQ(lake_files(lake_).size(), 0u);
  EXPECT_EQ(fresh.scalar("SELECT tier_restore('kb', '" + partition + "')"), "0");  // idempotent
  EXPECT_GE(failures, 4);
}

// Another connection writes to the partition while its object is being uploaded: the flush gives
// up (SQLITE_BUSY, run it again) rather than make the old version cold, and the write stands.
TEST_F(ThingsTiering, AFlushRacedByAWriterGivesUp) {
  StoreCalls calls;
  TestDatabase db(path_);
  create(db, 120);
  const std::string partition = "type=Doc/dt=" + db.scalar("SELECT strftime('%Y-%m', " + std::to_string(month_start_ms(4)) +
                                                           " / 1000, 'unixepoch')");
  const std::string id = db.scalar("SELECT id FROM kb WHERE type = 'Doc' AND created_at >= " + std::to_string(month_start_ms(4)) +
                                   " AND created_at < " + std::to_string(month_start_ms(3)) + " LIMIT 1");
  ASSERT_NE(id, "");
  TestDatabase other(path_);
  calls.before_next_put([&] {
    other.exec("UPDATE kb SET data = '{\"raced\":true}' WHERE id = '" + id + "'");
    other.exec("UPDATE twin SET data = '{\"raced\":true}' WHERE id = '" + id + "'");
  });
  const std::string error = db.error_of("SELECT tier_flush('kb', '" + partition + "')");
  EXPECT_NE(error.find("changed while it was being flushed"), std::string::npos) << error;
  EXPECT_EQ(db.scalar("SELECT data FROM kb WHERE id = '" + id + "'"), "{\"raced\":true}");
  EXPECT_EQ(lake_files(lake_).size(), 0u);  // the abandoned object is removed
  expect_same(db, "after the raced flush");
  EXPECT_EQ(db.scalar("SELECT tier_flush('kb', '" + partition + "')"), "1");
  expect_same(db, "after flushing again");
  EXPECT_EQ(db.scalar("SELECT data FROM kb WHERE id = '" + id + "'"), "{\"raced\":true}");
}

TEST_F(ThingsTiering, ErrorsNameWhatIsWrong) {
  TestDatabase db(path_);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING things(tier='ftp://x')").find("option 'tier' must be 'file:DIR'"), std::string::npos);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING things(hot_months=2)").find("hot_months= needs tier="), std::string::npos);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING things(tier='file:x', hot_months=-1)").find("hot_months"), std::string::npos);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING things(x TEXT)").find("takes no column definitions"), std::string::npos);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING things(colour='red')").find("unknown option 'colour'"), std::string::npos);
  db.exec("CREATE VIRTUAL TABLE plain USING things");
  EXPECT_EQ(db.scalar("SELECT value FROM plain_config WHERE key = 'format_version'"), "1");  // untiered tables keep format 1
  EXPECT_NE(db.error_of("SELECT tier_flush('plain')").find("things table plain has no tier= option"), std::string::npos);
  db.exec("CREATE VIRTUAL TABLE plain_rel USING relationships(things=plain)");
  EXPECT_EQ(db.scalar("SELECT value FROM plain_rel_config WHERE key = 'format_version'"), "1");
  EXPECT_NE(db.error_of("SELECT tier_flush('plain_rel')").find("which has no tier= option"), std::string::npos);
  create(db, 30);
  EXPECT_EQ(db.scalar("SELECT value FROM kb_config WHERE key = 'format_version'"), "2");
  EXPECT_EQ(db.scalar("SELECT value FROM kb_rel_config WHERE key = 'format_version'"), "2");
  EXPECT_EQ(db.scalar("SELECT tier_restore('kb_rel', 'type=User/dt=2024-01')"), "0");  // a things partition's name
  EXPECT_EQ(db.scalar("SELECT tier_restore('kb_rel', 'dt=1999-01')"), "0");
  EXPECT_NE(db.error_of("SELECT tier_restore('kb', 5)").find("'type=<type>/dt=<YYYY-MM>'"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT tier_expire('kb')").find("has no retention"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT tier_flush('twin')").find("is not a columnar or things table"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT tier_flush('nothing')").find("no such table"), std::string::npos);
  EXPECT_NE(db.error_of("BEGIN; SELECT tier_flush('kb')").find("cannot run inside a transaction"), std::string::npos);
  db.exec("ROLLBACK");
  EXPECT_EQ(db.scalar("SELECT tier_restore('kb', 'type=User/dt=1999-01')"), "0");
  EXPECT_EQ(db.scalar("SELECT tier_flush('kb', 'type=User/dt=1999-01')"), "0");
}

TEST_F(ThingsTiering, RenamedAndDroppedWithTheirShadowTables) {
  TestDatabase db(path_);
  create(db, 60);
  ASSERT_GT(std::stoi(db.scalar("SELECT tier_flush('kb')")), 0);
  const std::vector<std::string> before = db.exact_rows("SELECT id, data, hex(embedding) FROM kb ORDER BY id");
  const std::vector<std::string> edges = db.exact_rows("SELECT id, data FROM kb_rel ORDER BY id");
  ASSERT_GT(std::stoi(db.scalar("SELECT count(*) FROM kb_rel_edges WHERE cold_object IS NOT NULL")), 0);
  db.exec("ALTER TABLE kb_rel RENAME TO r2");
  EXPECT_EQ(db.exact_rows("SELECT id, data FROM r2 ORDER BY id"), edges);
  EXPECT_EQ(db.scalar("SELECT things_check('kb')"), "ok");
  EXPECT_GT(std::stoi(db.scalar("SELECT count(*) FROM tier_partitions WHERE tbl = 'r2' AND tier = 'cold'")), 0);
  db.exec("DROP TABLE r2");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE tbl_name LIKE 'r2%'"), "0");
  db.exec("ALTER TABLE kb RENAME TO kb2");
  EXPECT_EQ(db.exact_rows("SELECT id, data, hex(embedding) FROM kb2 ORDER BY id"), before);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM kb2_objects WHERE state = 'live'"),
            db.scalar("SELECT count(*) FROM tier_partitions WHERE tbl = 'kb2' AND tier <> 'hot'"));
  EXPECT_EQ(db.scalar("SELECT things_check('kb2')"), "ok");
  db.exec("DROP TABLE kb2");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'kb2%'"), "0");
}

TEST_F(ThingsTiering, DuckDBReadsExactlyTheColdThings) {
  TestDatabase db(path_);
  create(db, 150);
  auto check = [&](const std::string& when) {
    const std::string strata_sql =
        "SELECT id, type, data, embedding, created_at FROM kb WHERE rowid IN (SELECT node FROM kb_things WHERE cold_object IS NOT NULL)"
        " ORDER BY id";
    expect_duckdb_reads(db.get(), strata_sql,
                        "SELECT id, type, data, embedding, created_at FROM read_parquet('" + lake_ +
                            "/kb/**/*.parquet', hive_partitioning=true) ORDER BY id",
                        scratch_.path("duckdb.json"), when);
  };
  // Embeddings only as blobs or NULL here: a column of several storage classes is split into one
  // Parquet column per class (docs/format-parquet.md), which this check does not follow.
  db.exec("UPDATE kb SET embedding = CAST(embedding AS BLOB) WHERE typeof(embedding) NOT IN ('blob', 'null')");
  db.exec("UPDATE twin SET embedding = CAST(embedding AS BLOB) WHERE typeof(embedding) NOT IN ('blob', 'null')");
  ASSERT_GT(std::stoi(db.scalar("SELECT tier_flush('kb')")), 3);
  check("after the first flush");
  db.exec("DELETE FROM kb WHERE id IN ('t4', 't9', 't33'); UPDATE kb SET data = '{\"v\":1}' WHERE id IN ('t5', 't61')");
  ASSERT_GT(std::stoi(db.scalar("SELECT tier_flush('kb')")), 0);
  check("after writes and a second flush");
  const std::string partition = db.scalar("SELECT partition FROM tier_partitions WHERE tbl = 'kb' AND tier = 'cold' LIMIT 1");
  ASSERT_EQ(db.scalar("SELECT tier_restore('kb', '" + partition + "')"), "1");
  check("after a restore");
  // The relationships' payloads: every edge with data that is cold, whole, by month.
  expect_duckdb_reads(db.get(),
                      "SELECT id, from_id, to_id, type, data, created_at FROM kb_rel WHERE rowid IN"
                      " (SELECT edge FROM kb_rel_edges WHERE cold_object IS NOT NULL) ORDER BY id",
                      "SELECT id, from_id, to_id, type, data, created_at FROM read_parquet('" + lake_ +
                          "/kb_rel/**/*.parquet', hive_partitioning=true) ORDER BY id",
                      scratch_.path("duckdb.json"), "relationships");
  EXPECT_GT(std::stoi(db.scalar("SELECT count(*) FROM kb_rel_edges WHERE cold_object IS NOT NULL")), 10);
}

// A process killed (SIGKILL) at random moments while it writes things and runs tier_flush,
// tier_restore and tier_gc loses nothing: after each kill the table equals an ordinary table that
// replayed the committed writes, things_check is ok, and after tier_gc the lake holds exactly the
// live objects.
TEST(ThingsTieringCrash, KilledDuringFlushesAndRestoresLosesNothing) {
  ScratchDirectory scratch("things_tiering_crash");
  const std::string path = scratch.path("kb.db");
  const std::string lake = scratch.path("lake");
  const int64_t base = month_start_ms(6);
  auto write_sql = [&](int i, const std::string& table) {
    const std::string n = std::to_string(i);
    auto id = [&](int k) { return "'t" + std::to_string((i * k) % 200) + "'"; };
    return "UPDATE " + table + " SET data = json_set(coalesce(data, '{}'), '$.n', " + n + ") WHERE id = " + id(7) + ";"
           "DELETE FROM " + table + " WHERE id = " + id(13) + ";"
           "INSERT OR REPLACE INTO " + table + "(id, type, data, embedding, created_at) VALUES (" + id(17) + ", '" +
           (i % 2 ? "User" : "Doc") + "', '{\"w\":" + n + "}', x'" + std::string(6, "0123456789abcdef"[i % 16]) + "', " +
           std::to_string(base + (i % 6) * 2'678'400'000LL) + ");";
  };
  const std::string fill =
      "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199) INSERT INTO %T(id, type, data, embedding, created_at)"
      " SELECT 't' || i, CASE i % 3 WHEN 0 THEN 'User' WHEN 1 THEN 'Doc' ELSE 'Team' END, json_object('email', 'e' || (i % 9), 'i', i),"
      " CASE WHEN i % 2 THEN CAST('b' || i AS BLOB) END, " + std::to_string(base) + " + (i % 6) * 2678400000 FROM n";
  auto fill_for = [&](const std::string& table) {
    std::string sql = fill;
    sql.replace(sql.find("%T"), 2, table);
    return sql;
  };
  {
    TestDatabase db(path);
    db.exec("CREATE VIRTUAL TABLE kb USING things(tier='file:lake', hot_months=1)");
    db.exec("SELECT things_index('kb', '$.email')");
    db.exec(fill_for("kb"));
    db.exec("CREATE TABLE progress(committed INTEGER); INSERT INTO progress VALUES (0)");
  }
  TestDatabase replay;
  replay.exec("CREATE TABLE twin(id TEXT PRIMARY KEY, type TEXT NOT NULL, data TEXT, embedding BLOB, created_at INTEGER)");
  replay.exec(fill_for("twin"));
  const std::string compared = "SELECT id, type, data, hex(embedding), created_at FROM %T ORDER BY id";
  auto compared_for = [&](const std::string& table) {
    std::string sql = compared;
    sql.replace(sql.find("%T"), 2, table);
    return sql;
  };
  int replayed = 0;
  int objects_seen = 0;
  kill_rounds(
      60, 1205,
      [&] {
        TestDatabase db(path);
        for (int i = std::stoi(db.scalar("SELECT committed FROM progress")) + 1;; ++i) {
          const std::string sql = "BEGIN;" + write_sql(i, "kb") + "UPDATE progress SET committed = " + std::to_string(i) + "; COMMIT;";
          if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(3);
          const std::string restored = db.scalar("SELECT partition FROM tier_partitions WHERE tbl = 'kb' AND tier <> 'hot' LIMIT 1 OFFSET " +
                                                 std::to_string(i % 3));
          for (const std::string& tiering : {std::string("SELECT tier_flush('kb')"),
                                             restored.empty() ? std::string("SELECT 1") : "SELECT tier_restore('kb', '" + restored + "')",
                                             std::string(i % 5 == 0 ? "SELECT tier_gc('kb')" : "SELECT 1")}) {
            if (sqlite3_exec(db.get(), tiering.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(3);
          }
        }
      },
      [&](int round) {
        TestDatabase reopened(path);
        ASSERT_EQ(reopened.scalar("SELECT things_check('kb')"), "ok") << "after kill " << round;
        const int committed = std::stoi(reopened.scalar("SELECT committed FROM progress"));
        ASSERT_GE(committed, replayed);
        for (; replayed < committed; ++replayed) replay.exec("BEGIN;" + write_sql(replayed + 1, "twin") + "COMMIT;");
        ASSERT_EQ(reopened.exact_rows(compared_for("kb")), replay.exact_rows(compared_for("twin")))
            << "after kill " << round << ", " << committed << " writes committed";
        ASSERT_EQ(reopened.rows("SELECT id FROM kb WHERE json_path = '$.email' AND json_value = 'e4' ORDER BY id"),
                  replay.rows("SELECT id FROM twin WHERE json_extract(data, '$.email') = 'e4' ORDER BY id"));
        objects_seen += std::stoi(reopened.scalar("SELECT count(*) FROM kb_objects"));
        reopened.exec("SELECT tier_gc('kb')");
        EXPECT_EQ(lake_files(lake), reopened.rows("SELECT object_key FROM kb_objects WHERE state = 'live' ORDER BY object_key"))
            << "after kill " << round << " and tier_gc";
      },
      [&] { return fs::exists(lake) && !lake_files(lake).empty(); });
  RecordProperty("writes_committed", std::to_string(replayed));
  EXPECT_GT(replayed, 0);
  EXPECT_GT(objects_seen, 0);
}

}  // namespace
}  // namespace strata::testing
