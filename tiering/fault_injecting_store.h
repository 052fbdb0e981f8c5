// FaultInjectingStore: an ObjectStore that forwards to another and fails the operations a test
// chooses, so that everything above the interface (flush, restore, export, the parquet table)
// can be tested against stores that break at any step.
//
//   FaultInjectingStore store(inner.get());
//   store.fail(StoreOperation::kPut, /*times=*/1, /*after=*/2);   // the third put fails
//   ...
//   EXPECT_EQ(store.calls(StoreOperation::kGetRange), 2);
//
// A failed put() never reaches the inner store (as a real store's failed upload leaves
// nothing); a failed read returns an I/O error as an unreachable store would.
#pragma once

#include <array>
#include <string>

#include "ext/str_cat.h"
#include "tiering/object_store.h"

namespace strata::tiering {

enum class StoreOperation { kPut, kGet, kGetRange, kHead, kList, kRemove };

class FaultInjectingStore : public ObjectStore {
 public:
  explicit FaultInjectingStore(ObjectStore* inner) : inner_(inner) {}

  // The `times` calls of `operation` that follow the next `after` ones fail.
  void fail(StoreOperation operation, int times = 1, int after = 0) {
    Plan& plan = plans_[index(operation)];
    plan.pass = after;
    plan.fail = times;
  }
  int calls(StoreOperation operation) const { return plans_[index(operation)].calls; }

  std::string location() const override { return inner_->location(); }
  Result<ObjectInfo> put(std::string_view key, const ByteSource& body, WriteMode mode = WriteMode::kOverwrite) override {
    STRATA_RETURN_IF_ERROR(maybe_fail(StoreOperation::kPut, key));
    return inner_->put(key, body, mode);
  }
  Result<std::string> get(std::string_view key) override {
    STRATA_RETURN_IF_ERROR(maybe_fail(StoreOperation::kGet, key));
    return inner_->get(key);
  }
  Result<std::string> get_range(std::string_view key, uint64_t offset, uint64_t length) override {
    STRATA_RETURN_IF_ERROR(maybe_fail(StoreOperation::kGetRange, key));
    return inner_->get_range(key, offset, length);
  }
  Result<ObjectInfo> head(std::string_view key) override {
    STRATA_RETURN_IF_ERROR(maybe_fail(StoreOperation::kHead, key));
    return inner_->head(key);
  }
  Result<std::vector<ObjectInfo>> list(std::string_view prefix) override {
    STRATA_RETURN_IF_ERROR(maybe_fail(StoreOperation::kList, prefix));
    return inner_->list(prefix);
  }
  Status remove(std::string_view key) override {
    STRATA_RETURN_IF_ERROR(maybe_fail(StoreOperation::kRemove, key));
    return inner_->remove(key);
  }
  Status tidy(std::string_view prefix) override { return inner_->tidy(prefix); }

 private:
  struct Plan {
    int pass = 0;
    int fail = 0;
    int calls = 0;
  };
  static size_t index(StoreOperation operation) { return static_cast<size_t>(operation); }

  Status maybe_fail(StoreOperation operation, std::string_view key) {
    Plan& plan = plans_[index(operation)];
    ++plan.calls;
    if (plan.pass > 0) {
      --plan.pass;
      return Status::ok();
    }
    if (plan.fail == 0) return Status::ok();
    --plan.fail;
    return Status::io_error(str_cat("object store ", location(), ": injected failure on '", printable_key(key), "'"));
  }

  ObjectStore* inner_;
  std::array<Plan, 6> plans_{};
};

}  // namespace strata::tiering
