#include "codecs/bit_packing.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace strata {

int bit_width(uint64_t value) {
  int width = 0;
  while (value != 0) {
    ++width;
    value >>= 1;
  }
  return width;
}

size_t packed_size(size_t count, int width) {
  return (count * static_cast<size_t>(width) + 7) / 8;
}

void pack_bits(const std::vector<uint64_t>& values, int width, std::string& out) {
  if (width == 0) return;
  size_t start = out.size();
  out.resize(start + packed_size(values.size(), width), '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data() + start);
  // Values go into a 64-bit accumulator, least significant bit first; each full accumulator is
  // written as 8 little-endian bytes, which is the same bit order as value-by-value packing.
  const uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  uint64_t accumulator = 0;
  int filled = 0;  // bits of the accumulator in use, 0..63
  size_t written = 0;
  auto store = [&](uint64_t word, size_t count) {
    for (size_t i = 0; i < count; ++i) bytes[written + i] = static_cast<unsigned char>(word >> (8 * i));
    written += count;
  };
  for (uint64_t value : values) {
    value &= mask;
    accumulator |= value << filled;
    if (filled + width >= 64) {
      store(accumulator, 8);
      // The bits of `value` that did not fit (none when it ended exactly at bit 64).
      accumulator = filled == 0 ? 0 : value >> (64 - filled);
      filled = filled + width - 64;
    } else {
      filled += width;
    }
  }
  if (filled > 0) store(accumulator, static_cast<size_t>((filled + 7) / 8));
}

template <class Unsigned>
bool unpack_bits_into(std::string_view packed, size_t count, int width, Unsigned* values) {
  if (width < 0 || width > static_cast<int>(8 * sizeof(Unsigned))) return false;
  if (width == 0) {
    std::fill(values, values + count, Unsigned{0});
    return true;
  }
  size_t needed = packed_size(count, width);
  if (packed.size() < needed) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(packed.data());
  const uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  size_t i = 0;
  // Fast path: one unaligned 8-byte little-endian load per value while 8 bytes remain; a value
  // of up to 56 bits starting anywhere in its first byte fits in it.
  if (width <= 56) {
    for (; i < count; ++i) {
      size_t bit = i * static_cast<size_t>(width);
      size_t byte = bit / 8;
      if (byte + 8 > packed.size()) break;
      uint64_t word;
      std::memcpy(&word, bytes + byte, 8);
      if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
      values[i] = static_cast<Unsigned>((word >> (bit % 8)) & mask);
    }
  }
  // The rest (and widths above 56) bit by bit.
  for (; i < count; ++i) {
    size_t bit = i * static_cast<size_t>(width);
    uint64_t value = 0;
    for (int read = 0; read < width;) {
      size_t byte = bit / 8;
      int offset = static_cast<int>(bit % 8);
      int take = std::min(8 - offset, width - read);
      value |= static_cast<uint64_t>((bytes[byte] >> offset) & ((1u << take) - 1)) << read;
      read += take;
      bit += static_cast<size_t>(take);
    }
    values[i] = static_cast<Unsigned>(value);
  }
  return true;
}

template bool unpack_bits_into<uint64_t>(std::string_view, size_t, int, uint64_t*);
template bool unpack_bits_into<uint32_t>(std::string_view, size_t, int, uint32_t*);

std::optional<std::vector<uint64_t>> unpack_bits(std::string_view packed, size_t count, int width) {
  std::vector<uint64_t> values(count);
  if (!unpack_bits_into(packed, count, width, values.data())) return std::nullopt;
  return values;
}

}  // namespace strata
