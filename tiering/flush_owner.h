// Who is writing an object: a flush records its owner with its intent, so that tier_gc (on any
// connection, in any process) can tell an intent whose flush is still running from one a failed
// or killed flush left behind.
//
//   FlushOwner owner;                        // registered in this process while it lives
//   catalog.record_intent(key, owner.name());
//   ...
//   if (flush_owner_gone(recorded_owner)) ... // the object is an orphan
#pragma once

#include <string>

namespace strata::tiering {

class FlushOwner {
 public:
  // "<pid>:<counter>:<address>", registered as running until destroyed.
  FlushOwner();
  ~FlushOwner();
  FlushOwner(const FlushOwner&) = delete;
  FlushOwner& operator=(const FlushOwner&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// Whether the flush that recorded `owner` is gone: its process has ended, or it is this process
// and no FlushOwner of that name lives any more.
bool flush_owner_gone(const std::string& owner);

}  // namespace strata::tiering
