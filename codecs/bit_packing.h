// Fixed-width bit packing of unsigned integers, little-endian within 64-bit words: value i
// occupies bits [i*width, (i+1)*width) of the packed stream. Width 0 packs nothing (every value
// is 0); width 64 is the values themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

// Bits needed for `value` (0 for 0).
int bit_width(uint64_t value);

// Bytes pack_bits writes for `count` values of `width` bits.
size_t packed_size(size_t count, int width);

void pack_bits(const std::vector<uint64_t>& values, int width, std::string& out);

// Unpacks `count` values of `width` bits from the start of `packed`; nullopt when `packed` is
// shorter than packed_size(count, width) or width is out of range.
std::optional<std::vector<uint64_t>> unpack_bits(std::string_view packed, size_t count, int width);
// The same into `values` (room for `count`; uint64_t or uint32_t); false where unpack_bits gives
// nullopt, or where `width` does not fit the output type.
template <class Unsigned>
bool unpack_bits_into(std::string_view packed, size_t count, int width, Unsigned* values);

}  // namespace strata
