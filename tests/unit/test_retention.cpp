// Retention of columnar tables partitioned by time (docs/tiering.md): the retention= option,
// tier_expire('t', partition) and tier_expire('t'), tier_flush('t') applying the whole policy,
// and the time arithmetic behind them (vtab/columnar/partition.h).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "ext/str_cat.h"
#include "tests/unit/test_database.h"
#include "tests/unit/tiering_fixture.h"
#include "vtab/columnar/partition.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;
using columnar::PartitionSpec;
using columnar::PartitionUnit;
using columnar::Retention;

constexpr int64_t kDay = 86400;
constexpr int64_t kJan1 = 1767225600;  // 2026-01-01T00:00:00Z

Value text(const char* value) { return Value(ValueView::of_text(value)); }

PartitionSpec spec_of(PartitionUnit unit) {
  PartitionSpec spec;
  spec.unit = unit;
  return spec;
}

TEST(RetentionTime, PartitionsEndWhereTheNextOneStarts) {
  using columnar::partition_end;
  EXPECT_EQ(partition_end(spec_of(PartitionUnit::kDay), text("2026-01-01")), kJan1 + kDay);
  EXPECT_EQ(partition_end(spec_of(PartitionUnit::kHour), text("2026-01-01T23")), kJan1 + kDay);
  EXPECT_EQ(partition_end(spec_of(PartitionUnit::kMonth), text("2025-12")), kJan1);
  EXPECT_EQ(partition_end(spec_of(PartitionUnit::kMonth), text("2024-02")), 1709251200);  // 2024-03-01
  EXPECT_EQ(partition_end(spec_of(PartitionUnit::kYear), text("2025")), kJan1);
  EXPECT_EQ(partition_end(spec_of(PartitionUnit::kDay), text("1969-12-31")), 0);
  // Every partition partition_key writes ends where partition_key says the next one starts.
  for (PartitionUnit unit : {PartitionUnit::kHour, PartitionUnit::kDay, PartitionUnit::kMonth, PartitionUnit::kYear}) {
    const PartitionSpec spec = spec_of(unit);
    for (int64_t t = -3 * 366 * kDay; t < 3 * 366 * kDay; t += 7919) {
      const Value partition = columnar::partition_key(spec, ValueView::of_integer(t));
      const std::optional<int64_t> end = partition_end(spec, partition);
      ASSERT_TRUE(end) << partition.bytes;
      EXPECT_GT(*end, t) << partition.bytes;
      EXPECT_NE(columnar::partition_key(spec, ValueView::of_integer(*end)).bytes, partition.bytes);
      EXPECT_EQ(columnar::partition_key(spec, ValueView::of_integer(*end - 1)).bytes, partition.bytes);
    }
  }
  // Not time partitions: never expired.
  EXPECT_FALSE(partition_end(spec_of(PartitionUnit::kValue), text("2026-01-01")));
  EXPECT_FALSE(partition_end(spec_of(PartitionUnit::kDay), Value()));
  EXPECT_FALSE(partition_end(spec_of(PartitionUnit::kDay), text("2026-01")));
  EXPECT_FALSE(partition_end(spec_of(PartitionUnit::kDay), text("2026-13-01")));
  EXPECT_FALSE(partition_end(spec_of(PartitionUnit::kDay), Value(ValueView::of_integer(5))));
}

TEST(RetentionTime, CutoffsCountCalendarMonthsAndYears) {
  auto cutoff = [](int64_t count, PartitionUnit unit, int64_t now) {
    Retention retention;
    retention.count = count;
    retention.unit = unit;
    return columnar::retention_cutoff(retention, now);
  };
  const int64_t noon_mar31 = 1774958400;  // 2026-03-31T12:00:00Z
  EXPECT_EQ(cutoff(36, PartitionUnit::kHour, noon_mar31), noon_mar31 - 36 * 3600);
  EXPECT_EQ(cutoff(400, PartitionUnit::kDay, noon_mar31), noon_mar31 - 400 * kDay);
  EXPECT_EQ(cutoff(1, PartitionUnit::kMonth, noon_mar31), 1772280000);   // 2026-02-28T12:00:00Z (clamped)
  EXPECT_EQ(cutoff(3, PartitionUnit::kMonth, noon_mar31), 1767182400);   // 2025-12-31T12:00:00Z
  EXPECT_EQ(cutoff(25, PartitionUnit::kMonth, noon_mar31), 1709208000);  // 2024-02-29T12:00:00Z (leap)
  EXPECT_EQ(cutoff(2, PartitionUnit::kYear, noon_mar31), 1711886400);    // 2024-03-31T12:00:00Z
  EXPECT_EQ(cutoff(1, PartitionUnit::kYear, 1709208000), 1677585600);    // 2024-02-29 -> 2023-02-28T12:00:00Z
}

class RetentionTable : public ::testing::Test {
 protected:
  RetentionTable() : scratch_("retention"), path_(scratch_.path("t.db")), lake_(scratch_.path("lake")) {}

  // Rows at noon (UTC) of the day `days_ago` days before now for each entry, `per_day` rows each
  // (so each entry is one partition whatever the time of day), in t (columnar, options
  // `options`) and in twin (ordinary); ids from 1, u UNIQUE, k indexed.
  void fill(TestDatabase& db, const std::string& options, const std::vector<int>& days_ago, int per_day = 40) {
    db.exec("CREATE VIRTUAL TABLE t USING columnar(id INTEGER PRIMARY KEY, ts INTEGER, u TEXT UNIQUE, k INTEGER, v REAL,"
            " partition_by='day(ts)', index='k', chunk_rows=16" + options + ")");
    db.exec("CREATE TABLE twin(id INTEGER PRIMARY KEY, ts INTEGER, u TEXT UNIQUE, k INTEGER, v REAL)");
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    int id = 0;
    for (int ago : days_ago) {
      for (int i = 0; i < per_day; ++i) {
        ++id;
        const std::string values = str_cat("(", std::to_string(id), ", ", std::to_string((now - ago * kDay) / kDay * kDay + kDay / 2 + i),
                                           ", 'u", std::to_string(id), "', ", std::to_string(id % 7), ", ", std::to_string(id), " / 4.0)");
        db.exec("INSERT INTO t VALUES " + values);
        db.exec("INSERT INTO twin VALUES " + values);
      }
    }
  }

  void expect_same_rows(const TestDatabase& db, const std::string& when) {
    for (const std::string& query :
         {std::string("SELECT * FROM # ORDER BY id"), std::string("SELECT count(*), sum(v) FROM #"),
          std::string("SELECT id FROM # WHERE k = 3 ORDER BY id"), std::string("SELECT id FROM # WHERE u IN ('u1', 'u41', 'u200') ORDER BY id"),
          std::string("SELECT * FROM # WHERE rowid IN (1, 40, 41, 120, 199) ORDER BY id")}) {
      auto on = [&](std::string_view table) {
        const size_t at = query.find('#');
        return db.exact_rows(str_cat(query.substr(0, at), table, query.substr(at + 1)));
      };
      EXPECT_EQ(on("t"), on("twin")) << when << ": " << query;
    }
    EXPECT_EQ(db.scalar("SELECT columnar_check('t')"), "ok") << when;
  }

  std::string partitions(const TestDatabase& db) {
    return db.scalar("SELECT group_concat(tier, ' ') FROM (SELECT tier FROM tier_partitions WHERE tbl = 't' ORDER BY partition)");
  }

  ScratchDirectory scratch_;
  std::string path_;
  std::string lake_;
};

TEST_F(RetentionTable, OptionIsCheckedWhenTheTableIsCreated) {
  TestDatabase db(path_);
  for (const char* bad : {"'400'", "'days'", "'0 days'", "'5 weeks'", "'1.5 days'", "'-3 days'", "'10 days ago'", "''"}) {
    const std::string error = db.error_of(std::string("CREATE VIRTUAL TABLE x USING columnar(ts, partition_by='day(ts)', retention=") + bad + ")");
    EXPECT_NE(error.find("columnar: option 'retention' must be a whole number and a unit, e.g. '400 days'"), std::string::npos)
        << bad << ": " << error;
  }
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE x USING columnar(ts, retention='3 days')").find("needs partition_by on a time"),
            std::string::npos);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE x USING columnar(p, partition_by='p', retention='3 days')").find("needs partition_by on a time"),
            std::string::npos);
  for (const char* good : {"'1 hour'", "'36 HOURS'", "'400 days'", "' 1 Day '", "'13 months'", "'2 years'"}) {
    EXPECT_EQ(db.error_of(std::string("CREATE VIRTUAL TABLE ok USING columnar(ts, partition_by='hour_ms(ts)', retention=") + good + ")"), "")
        << good;
    db.exec("DROP TABLE ok");
  }
  // tier_expire needs partitions, a partition or a retention, and no open transaction.
  db.exec("CREATE VIRTUAL TABLE plain USING columnar(a)");
  db.exec("CREATE VIRTUAL TABLE days USING columnar(ts, partition_by='day(ts)')");
  EXPECT_NE(db.error_of("SELECT tier_expire('plain', 1)").find("tier_expire: table plain has no partition_by= option"), std::string::npos);
  EXPECT_NE(db.error_of("SELECT tier_expire('days')").find("tier_expire: table days has no retention= option; name the partition"),
            std::string::npos);
  db.exec("BEGIN");
  EXPECT_NE(db.error_of("SELECT tier_expire('days', '2026-01-01')").find("cannot run inside a transaction"), std::string::npos);
  db.exec("ROLLBACK");
}

TEST_F(RetentionTable, ExpiringDropsAPartitionHotColdOrMixedAndItsObject) {
  TestDatabase db(path_);
  fill(db, ", tier='file:lake'", {40, 30, 20, 10});
  EXPECT_EQ(db.scalar("SELECT tier_flush('t')"), "3");
  ASSERT_EQ(lake_files(lake_).size(), 3u);
  auto day_of = [&](int row_id) { return db.scalar("SELECT date(ts, 'unixepoch') FROM twin WHERE id = " + std::to_string(row_id)); };

  // A cold partition: its rows, key entries and object go.
  const std::string oldest = day_of(1);
  EXPECT_EQ(db.scalar("SELECT tier_expire('t', '" + oldest + "')"), "1");
  EXPECT_EQ(db.scalar("SELECT tier_expire('t', '" + oldest + "')"), "0");  // idempotent
  db.exec("DELETE FROM twin WHERE date(ts, 'unixepoch') = '" + oldest + "'");
  EXPECT_EQ(lake_files(lake_).size(), 2u);
  EXPECT_EQ(partitions(db), "cold cold hot");
  expect_same_rows(db, "a cold partition expired");
  // Its UNIQUE values are free again.
  db.exec("INSERT INTO t(id, ts, u, k) VALUES (1000, 0, 'u1', 3)");
  db.exec("INSERT INTO twin(id, ts, u, k) VALUES (1000, 0, 'u1', 3)");
  expect_same_rows(db, "a freed UNIQUE value reused");

  // A mixed partition (cold rows, one of them updated hot, one deleted): all of it goes.
  db.exec("UPDATE t SET v = -1 WHERE id = 45");
  db.exec("DELETE FROM t WHERE id = 46");
  const std::string mixed = day_of(45);
  EXPECT_EQ(db.scalar("SELECT tier FROM tier_partitions WHERE tbl = 't' AND partition = '" + mixed + "'"), "mixed");
  EXPECT_EQ(db.scalar("SELECT tier_expire('t', '" + mixed + "')"), "1");
  db.exec("DELETE FROM twin WHERE date(ts, 'unixepoch') = '" + mixed + "'");
  EXPECT_EQ(lake_files(lake_).size(), 1u);
  expect_same_rows(db, "a mixed partition expired");

  // The hot newest partition, with rows still in the insert buffer of this connection.
  const std::string newest = day_of(121);
  db.exec("INSERT INTO t(id, ts, u, k) SELECT 2000 + id, ts, 'again' || id, k FROM twin WHERE id BETWEEN 121 AND 125");
  db.exec("INSERT INTO twin(id, ts, u, k) SELECT 2000 + id, ts, 'again' || id, k FROM twin WHERE id BETWEEN 121 AND 125");
  EXPECT_EQ(db.scalar("SELECT tier_expire('t', '" + newest + "')"), "1");
  db.exec("DELETE FROM twin WHERE date(ts, 'unixepoch') = '" + newest + "'");
  expect_same_rows(db, "the hot partition expired");
  // The 1970 partition of row 1000, named by its text; a partition that is not there.
  EXPECT_EQ(db.scalar("SELECT tier_expire('t', '1970-01-01') + tier_expire('t', '1999-01-01') + tier_expire('t', NULL)"), "1");
  db.exec("DELETE FROM twin WHERE id = 1000");
  expect_same_rows(db, "the 1970 partition expired");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t_objects WHERE state <> 'live'"), "0");
}

TEST_F(RetentionTable, TierFlushAppliesTheWholePolicy) {
  {
    TestDatabase db(path_);
    // Days 30, 20 and 11 ago are wholly older than 10 days; day 10 ago is not, whatever the hour.
    fill(db, ", tier='file:lake', hot_partitions=2, retention='10 days'", {30, 20, 11, 10, 5, 1, 0});
    EXPECT_EQ(db.scalar("SELECT tier_flush('t', (SELECT min(partition) FROM tier_partitions WHERE tbl = 't'))"), "1");
    ASSERT_EQ(lake_files(lake_).size(), 1u);
    // Expire 3 (one of them cold, its object removed), move 2, keep the newest 2 hot.
    EXPECT_EQ(db.scalar("SELECT tier_flush('t')"), "2");
    db.exec("DELETE FROM twin WHERE id <= 120");
    EXPECT_EQ(partitions(db), "cold cold hot hot");
    EXPECT_EQ(lake_files(lake_).size(), 2u);
    expect_same_rows(db, "after the policy");
    EXPECT_EQ(db.scalar("SELECT tier_flush('t')"), "0");
    EXPECT_EQ(db.scalar("SELECT tier_expire('t')"), "0");
  }
  {
    // Without a tier, tier_expire('t') applies the retention alone.
    fs::remove(path_);
    TestDatabase db(path_);
    fill(db, ", retention='10 days'", {30, 11, 10, 0});
    EXPECT_NE(db.error_of("SELECT tier_flush('t')").find("has no tier= option"), std::string::npos);
    EXPECT_EQ(db.scalar("SELECT tier_expire('t')"), "2");
    db.exec("DELETE FROM twin WHERE id <= 80");
    expect_same_rows(db, "retention without a tier");
    EXPECT_EQ(db.scalar("SELECT tier_expire('t')"), "0");
  }
}

TEST_F(RetentionTable, AnObjectThatCannotBeRemovedIsLeftForTierGc) {
  StoreCalls calls;
  TestDatabase db(path_);
  fill(db, ", tier='file:lake'", {3, 2, 1});
  ASSERT_EQ(db.scalar("SELECT tier_flush('t')"), "2");
  const std::string oldest = db.scalar("SELECT min(partition) FROM tier_partitions WHERE tbl = 't'");
  calls.reset();
  calls.fail(StoreCall::kRemove, 1);
  // The rows go with the commit; the object stays, retired.
  EXPECT_EQ(db.scalar("SELECT tier_expire('t', '" + oldest + "')"), "1");
  db.exec("DELETE FROM twin WHERE id <= 40");
  expect_same_rows(db, "expired, its object not removed");
  EXPECT_EQ(lake_files(lake_).size(), 2u);
  EXPECT_EQ(db.scalar("SELECT state FROM t_objects WHERE partition_key = '" + oldest + "'"), "retired");
  calls.reset();
  EXPECT_EQ(db.scalar("SELECT tier_gc('t')"), "1");
  EXPECT_EQ(lake_files(lake_).size(), 1u);
  expect_same_rows(db, "after tier_gc");
}

}  // namespace
}  // namespace strata::testing
