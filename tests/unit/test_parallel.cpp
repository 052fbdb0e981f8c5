// parallel_for: every index runs exactly once, whatever the thread count, and an exception
// thrown on a helper thread reaches the caller.
#include "ext/parallel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace strata {
namespace {

TEST(ParallelFor, RunsEveryIndexOnce) {
  for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{21}, size_t{1000}}) {
    std::vector<std::atomic<int>> runs(count);
    parallel_for(count, [&](size_t i) { runs[i].fetch_add(1); });
    for (size_t i = 0; i < count; ++i) EXPECT_EQ(runs[i].load(), 1) << "index " << i << " of " << count;
  }
}

TEST(ParallelFor, RethrowsTheFirstFailureAfterAllThreadsStop) {
  std::atomic<int> started{0};
  EXPECT_THROW(parallel_for(200,
                            [&](size_t i) {
                              started.fetch_add(1);
                              if (i == 7) throw std::runtime_error("column 7 failed");
                            }),
               std::runtime_error);
  EXPECT_GE(started.load(), 8);
  // A bad_alloc stays a bad_alloc (the shims turn it into SQLITE_NOMEM).
  EXPECT_THROW(parallel_for(3, [](size_t) { throw std::bad_alloc(); }), std::bad_alloc);
}

TEST(ParallelFor, UsesHelperThreadsWhenTheMachineHasThem) {
  std::mutex mutex;
  std::vector<std::thread::id> seen;
  parallel_for(64, [&](size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard lock(mutex);
    if (std::find(seen.begin(), seen.end(), std::this_thread::get_id()) == seen.end()) {
      seen.push_back(std::this_thread::get_id());
    }
  });
  EXPECT_LE(seen.size(), parallel_helpers() + 1);
  if (parallel_helpers() > 0) {
    EXPECT_GT(seen.size(), 1u);
  }
}

}  // namespace
}  // namespace strata
