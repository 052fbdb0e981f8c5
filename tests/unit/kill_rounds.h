// The loop of the crash tests: a forked child writes until it is killed (SIGKILL) at a random
// moment, then the parent checks what the database holds; repeated `rounds` times.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <thread>

namespace strata::testing {

// `child` runs in the forked process and must never return (it loops over transactions);
// `check(round)` runs in this process after each kill. `ready`, when given, is polled before the
// random wait starts (every 20 ms, for at most 60 s): so that a slow build (sanitizers, a busy
// machine) still gets at least one commit into every round instead of killing the child before
// it has done anything.
inline void kill_rounds(int rounds, uint32_t seed, const std::function<void()>& child,
                        const std::function<void(int round)>& check, const std::function<bool()>& ready = {}) {
  std::mt19937 random(seed);
  for (int round = 0; round < rounds; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      child();
      _exit(4);  // child() returned: the parent sees a status, not a kill
    }
    int status = 0;
    bool exited = false;
    if (ready) {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!ready() && std::chrono::steady_clock::now() < give_up) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
          exited = true;  // a child that failed does not make the parent wait out the minute
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (!exited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 400));
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself (status " << status << ")";
    check(round);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace strata::testing
