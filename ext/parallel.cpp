#include "ext/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace strata {

size_t parallel_helpers() {
  static const size_t helpers = [] {
    unsigned hardware = std::thread::hardware_concurrency();
    return hardware <= 1 ? size_t{0} : std::min<size_t>(hardware - 1, 3);
  }();
  return helpers;
}

void parallel_for(size_t count, const std::function<void(size_t)>& work) {
  std::atomic<size_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  auto drain = [&] {
    for (size_t i; (i = next.fetch_add(1)) < count;) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next.store(count);  // stop handing out work
      }
    }
  };
  std::vector<std::thread> helpers;
  size_t wanted = std::min(parallel_helpers(), count > 0 ? count - 1 : 0);
  for (size_t h = 0; h < wanted; ++h) {
    try {
      helpers.emplace_back(drain);
    } catch (const std::system_error&) {
      break;  // no thread to be had: fewer helpers, the same result
    }
  }
  drain();
  for (std::thread& helper : helpers) helper.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace strata
