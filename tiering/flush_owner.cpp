#include "tiering/flush_owner.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <set>

namespace strata::tiering {

namespace {

std::mutex running_mutex;
std::set<std::string>& running() {
  static auto* owners = new std::set<std::string>();
  return *owners;
}

}  // namespace

FlushOwner::FlushOwner() {
  static std::atomic<uint64_t> counter{0};
  name_ = std::to_string(::getpid()) + ":" + std::to_string(++counter) + ":" + std::to_string(reinterpret_cast<uintptr_t>(this));
  std::lock_guard lock(running_mutex);
  running().insert(name_);
}

FlushOwner::~FlushOwner() {
  std::lock_guard lock(running_mutex);
  running().erase(name_);
}

bool flush_owner_gone(const std::string& owner) {
  const size_t colon = owner.find(':');
  if (colon == std::string::npos) return true;
  const long pid = std::strtol(owner.substr(0, colon).c_str(), nullptr, 10);
  if (pid <= 0) return true;
  if (pid == static_cast<long>(::getpid())) {
    std::lock_guard lock(running_mutex);
    return !running().contains(owner);
  }
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace strata::tiering
