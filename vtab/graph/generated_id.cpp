#include "vtab/graph/generated_id.h"

#include <chrono>
#include <mutex>
#include <random>

namespace strata::graph {

namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct IdClock {
  std::mutex mutex;
  uint64_t last_ms = 0;
  uint16_t high = 0;
  uint64_t low = 0;
  std::mt19937_64 random{std::random_device{}()};
};

IdClock& id_clock() {
  static IdClock clock;
  return clock;
}

}  // namespace

std::string format_generated_id(uint64_t unix_ms, uint16_t sequence_high, uint64_t sequence_low) {
  // 128 bits: 48 of time, 80 of sequence; 26 base-32 digits hold 130, the top two are zero.
  std::string id(kGeneratedIdLength, '0');
  uint64_t top = (unix_ms << 16) | sequence_high;  // bits 127..64
  uint64_t bottom = sequence_low;                  // bits 63..0
  for (size_t i = 0; i < kGeneratedIdLength; ++i) {
    id[kGeneratedIdLength - 1 - i] = kCrockford[bottom & 31];
    bottom = (bottom >> 5) | (top << 59);
    top >>= 5;
  }
  return id;
}

std::string next_generated_id() {
  IdClock& clock = id_clock();
  uint64_t now = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  std::lock_guard lock(clock.mutex);
  if (now > clock.last_ms) {
    clock.last_ms = now;
    clock.high = static_cast<uint16_t>(clock.random() & 0x7fff);  // room to count up within the millisecond
    clock.low = clock.random();
  } else if (++clock.low == 0) {
    if (++clock.high == 0) ++clock.last_ms;  // 2^80 ids in one millisecond: borrow the next one
  }
  return format_generated_id(clock.last_ms, clock.high, clock.low);
}

}  // namespace strata::graph
