// reals: columns of reals (and NULLs) as raw IEEE 754 doubles, 8 little-endian bytes each, after
// an optional NULL bitmap — decoded with one copy instead of a type byte per value.
#include <bit>
#include <cstring>
#include <span>

#include "codecs/byte_io.h"
#include "codecs/codecs.h"
#include "codecs/value_encoding.h"

namespace strata {

namespace {
constexpr uint8_t kHasNulls = 1;
}

bool reals_apply(const ColumnVector& values) { return values.only(ValueType::kReal); }

std::string encode_reals(const ColumnVector& values) {
  std::string payload;
  bool has_nulls = values.has_nulls();
  if (!has_nulls && !values.is_coded() && std::endian::native == std::endian::little) {
    // A double's payload is its bits: the array is the encoding.
    payload.push_back(0);
    std::span<const int64_t> bits = values.payloads();
    payload.append(reinterpret_cast<const char*>(bits.data()), bits.size() * sizeof(int64_t));
    return payload;
  }
  payload.push_back(static_cast<char>(has_nulls ? kHasNulls : 0));
  if (has_nulls) {
    std::string bitmap((values.size() + 7) / 8, '\0');
    for (size_t row = 0; row < values.size(); ++row) {
      if (values.type(row) == ValueType::kNull) bitmap[row / 8] = static_cast<char>(bitmap[row / 8] | (1 << (row % 8)));
    }
    payload += bitmap;
  }
  for (size_t row = 0; row < values.size(); ++row) {
    if (values.type(row) != ValueType::kNull) put_fixed64(payload, std::bit_cast<uint64_t>(values.get(row).real));
  }
  return payload;
}

Result<ColumnVector> decode_reals(std::string_view payload, uint64_t rows) {
  if (rows > (uint64_t{1} << 32)) return codec_damage("implausible row count");
  ByteReader reader(payload);
  std::optional<uint8_t> flags = reader.byte();
  if (!flags || (*flags & ~kHasNulls) != 0) return codec_damage("malformed reals flags");
  const unsigned char* bitmap = nullptr;
  uint64_t nulls = 0;
  if (*flags & kHasNulls) {
    std::optional<std::string_view> bytes = reader.bytes((rows + 7) / 8);
    if (!bytes) return codec_damage("null bitmap runs past the end");
    bitmap = reinterpret_cast<const unsigned char*>(bytes->data());
    for (uint64_t row = 0; row < rows; ++row) nulls += (bitmap[row / 8] >> (row % 8)) & 1;
  }
  uint64_t count = rows - nulls;
  if (reader.remaining() != count * 8) return codec_damage("reals payload has the wrong size");
  // The doubles' bits are the payloads (ColumnVector::append_real).
  ColumnVector::Payloads payloads(static_cast<size_t>(count));  // every one written below
  std::string_view raw = reader.rest();
  if constexpr (std::endian::native == std::endian::little) {
    if (count > 0) std::memcpy(payloads.data(), raw.data(), static_cast<size_t>(count) * 8);
  } else {
    ByteReader words(raw);
    for (int64_t& payload : payloads) payload = static_cast<int64_t>(*words.fixed64());
  }
  return ColumnVector::of_numbers(ValueType::kReal, std::move(payloads), static_cast<size_t>(rows), bitmap);
}

}  // namespace strata
