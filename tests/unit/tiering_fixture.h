// Shared by the tiering tests: a store interposer that counts and fails chosen object-store
// calls of every store strata opens (tiering/store_url.h), a listing of a file: tier, and the
// check that DuckDB reads from the lake what strata answers.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sqlite3.h>

#include <fstream>

#include <algorithm>
#include <array>
#include <filesystem>
#include <atomic>
#include <functional>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include "ext/str_cat.h"
#include "tests/unit/duckdb_peer.h"
#include "tiering/object_store.h"
#include "tiering/store_url.h"

namespace strata::testing {

enum class StoreCall { kPut, kGet, kGetRange, kHead, kList, kRemove, kCount };

// Counts the calls of each kind made through every store opened while it is installed, and fails
// the call of a kind whose number (from 1, counted since install or reset) is `fail_at`.
class StoreCalls {
 public:
  StoreCalls() {
    tiering::set_store_interposer([this](std::unique_ptr<tiering::ObjectStore> inner) {
      return std::unique_ptr<tiering::ObjectStore>(new Counted(std::move(inner), this));
    });
  }
  ~StoreCalls() { tiering::set_store_interposer({}); }
  StoreCalls(const StoreCalls&) = delete;
  StoreCalls& operator=(const StoreCalls&) = delete;

  int count(StoreCall call) const { return counts_[static_cast<size_t>(call)].load(); }
  int total() const {
    int sum = 0;
    for (const auto& count : counts_) sum += count.load();
    return sum;
  }
  // Counts from zero again, and no call fails any more.
  void reset() {
    for (auto& count : counts_) count = 0;
    rules_.clear();
    down_ = false;
    paused_ = false;
  }
  // Also fails the `number`th call of `kind` (counted since the last reset), and every later one
  // when `and_after`.
  void fail(StoreCall kind, int number, bool and_after = false) { rules_.push_back({kind, number, and_after}); }
  // While paused, calls are neither counted nor failed (a test's own checks).
  void pause() { paused_ = true; }
  void resume() { paused_ = false; }
  // Runs `action` (once) when the next put begins: another writer acting while an upload is on
  // its way.
  void before_next_put(std::function<void()> action) { before_put_ = std::move(action); }
  // Fails every call of every kind (a store that is down).
  void go_down() { down_ = true; }
  void come_back() { down_ = false; }

 private:
  Status note(StoreCall call, std::string_view key) {
    if (paused_) return Status::ok();
    const int number = ++counts_[static_cast<size_t>(call)];
    bool fails = down_;
    for (const Rule& rule : rules_) {
      if (rule.kind == call && (number == rule.number || (rule.and_after && number > rule.number))) fails = true;
    }
    if (fails) return Status::io_error(str_cat("object store: injected failure on '", key, "'"));
    return Status::ok();
  }

  class Counted : public tiering::ObjectStore {
   public:
    Counted(std::unique_ptr<tiering::ObjectStore> inner, StoreCalls* calls) : inner_(std::move(inner)), calls_(calls) {}
    std::string location() const override { return inner_->location(); }
    Result<tiering::ObjectInfo> put(std::string_view key, const tiering::ByteSource& body, tiering::WriteMode mode) override {
      STRATA_RETURN_IF_ERROR(calls_->note(StoreCall::kPut, key));
      if (calls_->before_put_) std::exchange(calls_->before_put_, {})();
      return inner_->put(key, body, mode);
    }
    Result<std::string> get(std::string_view key) override {
      STRATA_RETURN_IF_ERROR(calls_->note(StoreCall::kGet, key));
      return inner_->get(key);
    }
    Result<std::string> get_range(std::string_view key, uint64_t offset, uint64_t length) override {
      STRATA_RETURN_IF_ERROR(calls_->note(StoreCall::kGetRange, key));
      return inner_->get_range(key, offset, length);
    }
    Result<tiering::ObjectInfo> head(std::string_view key) override {
      STRATA_RETURN_IF_ERROR(calls_->note(StoreCall::kHead, key));
      return inner_->head(key);
    }
    Result<std::vector<tiering::ObjectInfo>> list(std::string_view prefix) override {
      STRATA_RETURN_IF_ERROR(calls_->note(StoreCall::kList, prefix));
      return inner_->list(prefix);
    }
    Status remove(std::string_view key) override {
      STRATA_RETURN_IF_ERROR(calls_->note(StoreCall::kRemove, key));
      return inner_->remove(key);
    }
    Status tidy(std::string_view prefix) override { return inner_->tidy(prefix); }

   private:
    std::unique_ptr<tiering::ObjectStore> inner_;
    StoreCalls* calls_;
  };

  std::array<std::atomic<int>, static_cast<size_t>(StoreCall::kCount)> counts_{};
  struct Rule {
    StoreCall kind;
    int number;
    bool and_after;
  };
  std::vector<Rule> rules_;
  bool down_ = false;
  bool paused_ = false;
  std::function<void()> before_put_;
};

// The files under `root` (a file: tier), relative to it, sorted.
inline std::vector<std::string> lake_files(const std::string& root) {
  std::vector<std::string> files;
  if (!std::filesystem::exists(root)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files.push_back(std::filesystem::relative(entry.path(), root).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// DuckDB (the peer, @duckdb/node-api) running `duckdb_sql` over the lake gives, column by column,
// the values strata's `strata_sql` gives (each column's canonical digest, and the row count).
// `request_file`: where the peer's request is written.
inline void expect_duckdb_reads(sqlite3* db, const std::string& strata_sql, const std::string& duckdb_sql,
                                const std::string& request_file, const std::string& when) {
  const std::vector<std::string> expected = column_digests(db, strata_sql);
  int64_t rows = -1;
  {
    sqlite3_stmt* count = nullptr;
    if (sqlite3_prepare_v2(db, ("SELECT count(*) FROM (" + strata_sql + ")").c_str(), -1, &count, nullptr) == SQLITE_OK &&
        sqlite3_step(count) == SQLITE_ROW) {
      rows = sqlite3_column_int64(count, 0);
    }
    sqlite3_finalize(count);
  }
  std::ofstream(request_file) << "{\"sql\": \"" << duckdb_sql << "\"}";
  const PeerRun run = run_duckdb_peer("query", request_file);
  ASSERT_TRUE(run.succeeded) << "the DuckDB peer failed (scripts/install-test-peers.sh installs it): " << run.output;
  rapidjson::Document document;
  document.Parse(run.output.c_str());
  ASSERT_TRUE(document.IsObject() && document.HasMember("columns")) << run.output.substr(0, 500);
  const auto& columns = document["columns"];
  ASSERT_EQ(columns.Size(), expected.size()) << when;
  EXPECT_EQ(columns[0]["rows"].GetInt64(), rows) << when;
  for (rapidjson::SizeType c = 0; c < columns.Size(); ++c) {
    EXPECT_EQ(std::string(columns[c]["sha256"].GetString()), expected[c]) << when << ": column " << columns[c]["name"].GetString();
  }
}

}  // namespace strata::testing
