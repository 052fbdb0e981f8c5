// Shared by the tiering tests: a store interposer that counts and fails chosen object-store
// calls of every store strata opens (tiering/store_url.h), and a listing of a file: tier.
#pragma once

#include <algorithm>
#include <array>
#include <filesystem>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "ext/str_cat.h"
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

}  // namespace strata::testing
