#include "ext/interrupt.h"

#include <chrono>
#include <memory>

namespace strata {

std::function<bool()> interrupt_check(sqlite3* db) {
  struct Probe {
    sqlite3* db = nullptr;
    sqlite3_stmt* statement = nullptr;
    std::chrono::steady_clock::time_point next_look{};
    bool interrupted = false;
    ~Probe() { sqlite3_finalize(statement); }
  };
  auto probe = std::make_shared<Probe>();
  probe->db = db;
  return [probe]() {
    if (probe->interrupted) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now < probe->next_look) return false;
    probe->next_look = now + std::chrono::milliseconds(50);
    if (probe->statement == nullptr) {
      int rc = sqlite3_prepare_v2(probe->db, "SELECT 1", -1, &probe->statement, nullptr);
      if (rc != SQLITE_OK) {
        probe->interrupted = (rc & 0xff) == SQLITE_INTERRUPT;
        return probe->interrupted;
      }
    }
    const int rc = sqlite3_step(probe->statement);
    sqlite3_reset(probe->statement);
    probe->interrupted = (rc & 0xff) == SQLITE_INTERRUPT;
    return probe->interrupted;
  };
}

}  // namespace strata
