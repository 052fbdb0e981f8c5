// The flush state machine (tiering/partition_mover.h) driven without SQLite: an in-memory
// catalog and the file store with injected faults. Whatever step fails, no object is left that
// no intent names, and a committed partition's object is never removed.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/unit/test_database.h"
#include "tiering/fault_injecting_store.h"
#include "tiering/file_store.h"
#include "tiering/partition_mover.h"

namespace strata::tiering {
namespace {

// A catalog in memory: intents, one live object per partition, retired ones, and the calls made.
class MemoryCatalog : public PartitionCatalog {
 public:
  struct Object {
    std::string key;
    std::string state;  // writing, live, retired
  };

  Result<int64_t> record_intent(const std::string& key) override {
    calls.push_back("record_intent");
    if (fail_intent) return Status::io_error("catalog: injected failure");
    objects[next_id] = {key, "writing"};
    return next_id++;
  }
  Result<bool> write_rows(PartitionObject& object) override {
    calls.push_back("write_rows");
    if (fail_rows) return Status::io_error("catalog: injected failure");
    for (int chunk = 0; chunk < chunks; ++chunk) {
      std::vector<ColumnVector> columns(2);
      for (int row = 0; row < 100; ++row) {
        columns[0].append_integer(chunk * 100 + row);
        columns[1].append_text("value " + std::to_string(row % 7));
      }
      STRATA_RETURN_IF_ERROR(object.append_chunk(std::move(columns)));
    }
    return chunks > 0;
  }
  Status commit(int64_t intent, const ObjectInfo& stored, const PartitionObject& object) override {
    calls.push_back("commit");
    if (fail_commit) return Status::busy("catalog: the partition changed");
    EXPECT_EQ(stored.size, object.size());
    for (auto& [id, entry] : objects) {
      if (entry.state == "live") entry.state = "retired";
    }
    objects[intent].state = "live";
    return Status::ok();
  }
  Status forget_intent(int64_t intent) override {
    calls.push_back("forget_intent");
    EXPECT_EQ(objects[intent].state, "writing");
    objects.erase(intent);
    return Status::ok();
  }
  Result<std::vector<std::pair<int64_t, std::string>>> retired_objects() override {
    std::vector<std::pair<int64_t, std::string>> retired;
    for (const auto& [id, entry] : objects) {
      if (entry.state == "retired") retired.emplace_back(id, entry.key);
    }
    return retired;
  }
  Status forget_object(int64_t object_id) override {
    objects.erase(object_id);
    return Status::ok();
  }

  std::map<int64_t, Object> objects;
  int64_t next_id = 1;
  int chunks = 3;
  bool fail_intent = false, fail_rows = false, fail_commit = false;
  std::vector<std::string> calls;
};

FlushPlan plan_for(const std::string& key) {
  FlushPlan plan;
  plan.key = key;
  plan.columns = {{"id", ValueType::kInteger}, {"label", ValueType::kText}};
  plan.what = "test: partition p";
  return plan;
}

class PartitionMover : public ::testing::Test {
 protected:
  PartitionMover() : scratch_("partition_mover") {
    auto opened = FileStore::open(scratch_.path("lake"));
    EXPECT_TRUE(opened.is_ok());
    files_ = std::move(opened).value();
  }
  // The keys the store holds.
  std::vector<std::string> keys() {
    auto listed = files_->list("");
    EXPECT_TRUE(listed.is_ok());
    std::vector<std::string> out;
    for (const ObjectInfo& info : *listed) out.push_back(info.key);
    return out;
  }

  testing::ScratchDirectory scratch_;
  std::unique_ptr<FileStore> files_;
};

TEST_F(PartitionMover, AFlushWritesVerifiesCommitsAndRemovesWhatItReplaced) {
  MemoryCatalog catalog;
  ASSERT_TRUE(flush_partition(*files_, catalog, plan_for("t/p=1/a.parquet")).value());
  EXPECT_EQ(catalog.calls, (std::vector<std::string>{"record_intent", "write_rows", "commit"}));
  EXPECT_EQ(keys(), std::vector<std::string>{"t/p=1/a.parquet"});
  ASSERT_TRUE(flush_partition(*files_, catalog, plan_for("t/p=1/b.parquet")).value());
  EXPECT_EQ(keys(), std::vector<std::string>{"t/p=1/b.parquet"});  // the replaced object is gone
  ASSERT_EQ(catalog.objects.size(), 1u);
  EXPECT_EQ(catalog.objects.begin()->second.state, "live");
  // A key that exists is never overwritten.
  EXPECT_FALSE(flush_partition(*files_, catalog, plan_for("t/p=1/b.parquet")).is_ok());
  EXPECT_EQ(keys(), std::vector<std::string>{"t/p=1/b.parquet"});
  EXPECT_EQ(catalog.objects.size(), 1u);
}

TEST_F(PartitionMover, NoRowsMeansNoObjectAndNoIntent) {
  MemoryCatalog catalog;
  catalog.chunks = 0;
  EXPECT_FALSE(flush_partition(*files_, catalog, plan_for("t/p=1/a.parquet")).value());
  EXPECT_TRUE(keys().empty());
  EXPECT_TRUE(catalog.objects.empty());
}

// Every store call a flush makes fails in turn, and each catalog step: the store holds nothing
// the catalog does not name, and nothing is committed.
TEST_F(PartitionMover, AFailureAtAnyStepLeavesNoUnnamedObject) {
  int rounds = 0;
  for (StoreOperation operation : {StoreOperation::kPut, StoreOperation::kHead, StoreOperation::kGetRange}) {
    FaultInjectingStore store(files_.get());
    store.fail(operation, 1);
    MemoryCatalog catalog;
    const std::string key = "t/p=1/" + std::to_string(rounds) + ".parquet";
    EXPECT_FALSE(flush_partition(store, catalog, plan_for(key)).is_ok());
    EXPECT_TRUE(catalog.objects.empty()) << "the intent is forgotten once its object is removed";
    EXPECT_TRUE(keys().empty());
    ++rounds;
  }
  for (int step = 0; step < 3; ++step) {
    MemoryCatalog catalog;
    catalog.fail_intent = step == 0;
    catalog.fail_rows = step == 1;
    catalog.fail_commit = step == 2;
    EXPECT_FALSE(flush_partition(*files_, catalog, plan_for("t/p=1/step" + std::to_string(step) + ".parquet")).is_ok());
    EXPECT_TRUE(catalog.objects.empty());
    EXPECT_TRUE(keys().empty());
  }
  // The upload cannot be verified and the object cannot be removed: its intent stays, naming it.
  FaultInjectingStore store(files_.get());
  store.fail(StoreOperation::kHead, 1);
  store.fail(StoreOperation::kRemove, 1);
  MemoryCatalog catalog;
  EXPECT_FALSE(flush_partition(store, catalog, plan_for("t/p=1/orphan.parquet")).is_ok());
  ASSERT_EQ(catalog.objects.size(), 1u);
  EXPECT_EQ(catalog.objects.begin()->second.state, "writing");
  EXPECT_EQ(keys(), std::vector<std::string>{"t/p=1/orphan.parquet"});
  // A committed object stays when removing the replaced one fails; it is retired, and removed later.
  MemoryCatalog committed;
  ASSERT_TRUE(flush_partition(*files_, committed, plan_for("t/p=2/a.parquet")).value());
  FaultInjectingStore failing_removes(files_.get());
  failing_removes.fail(StoreOperation::kRemove, 1);
  ASSERT_TRUE(flush_partition(failing_removes, committed, plan_for("t/p=2/b.parquet")).value());
  EXPECT_EQ(committed.retired_objects().value().size(), 1u);
  EXPECT_TRUE(remove_retired(*files_, committed).is_ok());
  EXPECT_TRUE(committed.retired_objects().value().empty());
  EXPECT_EQ(keys(), (std::vector<std::string>{"t/p=1/orphan.parquet", "t/p=2/b.parquet"}));
}

}  // namespace
}  // namespace strata::tiering
