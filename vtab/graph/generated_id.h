// Ids for things and relationships inserted with a NULL id: 26 characters, sortable and unique.
//
// The layout is ULID's (https://github.com/ulid/spec): 48 bits of unix milliseconds, then 80
// bits that start random and count up within a millisecond, in Crockford's base 32. Ids made
// later in a process sort after earlier ones (the clock is never allowed to run backwards), so
// generated ids are appended at the end of the id index instead of scattered across it.
#pragma once

#include <cstdint>
#include <string>

namespace strata::graph {

inline constexpr size_t kGeneratedIdLength = 26;

// The next id for the current time.
std::string next_generated_id();
// The id for a given time and 80-bit sequence (high 16 bits, low 64 bits); for tests.
std::string format_generated_id(uint64_t unix_ms, uint16_t sequence_high, uint64_t sequence_low);

}  // namespace strata::graph
