// parallel_for: runs work(0) … work(count - 1) on the calling thread plus a few helper threads.
//
// Used for pure computation only (encoding a chunk's columns): `work` must not call SQLite,
// whose connection belongs to the calling thread. The first exception any call throws is
// rethrown on the calling thread after every thread has finished, so callers keep the usual
// "nothing throws across the C ABI" shims. When no helper thread can be started, the calling
// thread does all the work.
#pragma once

#include <cstddef>
#include <functional>

namespace strata {

// Helper threads parallel_for starts at most: one less than the machine's hardware threads,
// capped at 3 (a chunk has tens of columns; more threads would mostly wait).
size_t parallel_helpers();

void parallel_for(size_t count, const std::function<void(size_t)>& work);

}  // namespace strata
