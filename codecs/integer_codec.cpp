// integers: columns of integers (and NULLs) as offsets from a frame of reference, bit-packed;
// for increasing columns (ids, timestamps) the offsets are taken between neighbours (deltas),
// which makes a timestamp that grows by 100 each row cost 7 bits instead of 64.
#include <algorithm>
#include <span>

#include "codecs/bit_packing.h"
#include "codecs/codecs.h"
#include "codecs/value_encoding.h"

namespace strata {

namespace {

constexpr uint8_t kHasNulls = 1;
constexpr uint8_t kDeltas = 2;

struct IntegerPlan {
  bool has_nulls = false;
  bool deltas = false;
  std::span<const int64_t> numbers;  // the non-null values, in row order
  std::vector<int64_t> gathered;     // what `numbers` views when there are NULLs or codes
  int64_t base = 0;              // first value (deltas) or smallest value (frame of reference)
  int64_t smallest_delta = 0;
  int width = 0;
};

// Wrapping arithmetic: offsets of any int64 from any other fit in 64 bits.
uint64_t offset(int64_t value, int64_t base) { return static_cast<uint64_t>(value) - static_cast<uint64_t>(base); }

IntegerPlan plan_for(const ColumnVector& values) {
  IntegerPlan plan;
  plan.has_nulls = values.has_nulls();
  if (!plan.has_nulls && !values.is_coded()) {
    plan.numbers = values.payloads();  // an integer's payload is the integer
  } else {
    plan.gathered.reserve(values.size());
    for (size_t row = 0; row < values.size(); ++row) {
      if (values.type(row) != ValueType::kNull) plan.gathered.push_back(values.integer(row));
    }
    plan.numbers = plan.gathered;
  }
  if (plan.numbers.empty()) return plan;
  auto [smallest_at, largest_at] = std::minmax_element(plan.numbers.begin(), plan.numbers.end());
  int64_t smallest = *smallest_at;
  int64_t largest = *largest_at;
  int frame_width = bit_width(offset(largest, smallest));
  int delta_width = 64;
  int64_t smallest_delta = 0;
  if (plan.numbers.size() > 1) {
    smallest_delta = INT64_MAX;
    int64_t largest_delta = INT64_MIN;
    for (size_t i = 1; i < plan.numbers.size(); ++i) {
      auto delta = static_cast<int64_t>(offset(plan.numbers[i], plan.numbers[i - 1]));
      smallest_delta = std::min(smallest_delta, delta);
      largest_delta = std::max(largest_delta, delta);
    }
    delta_width = bit_width(offset(largest_delta, smallest_delta));
  }
  if (delta_width < frame_width) {
    plan.deltas = true;
    plan.base = plan.numbers.front();
    plan.smallest_delta = smallest_delta;
    plan.width = delta_width;
  } else {
    plan.base = smallest;
    plan.width = frame_width;
  }
  return plan;
}

}  // namespace

bool integers_apply(const ColumnVector& values) { return values.only(ValueType::kInteger); }

size_t integers_encoded_size(const ColumnVector& values) {
  IntegerPlan plan = plan_for(values);
  size_t count = plan.numbers.size();
  size_t size = 1 + (plan.has_nulls ? (values.size() + 7) / 8 : 0) + varint_size(count);
  if (count == 0) return size;
  size += 10 + (plan.deltas ? 10 : 0) + 1;
  return size + packed_size(plan.deltas ? count - 1 : count, plan.width);
}

std::string encode_integers(const ColumnVector& values) {
  IntegerPlan plan = plan_for(values);
  std::string payload;
  payload.push_back(static_cast<char>((plan.has_nulls ? kHasNulls : 0) | (plan.deltas ? kDeltas : 0)));
  if (plan.has_nulls) {
    std::string bitmap((values.size() + 7) / 8, '\0');
    for (size_t row = 0; row < values.size(); ++row) {
      if (values.type(row) == ValueType::kNull) bitmap[row / 8] = static_cast<char>(bitmap[row / 8] | (1 << (row % 8)));
    }
    payload += bitmap;
  }
  put_varint(payload, plan.numbers.size());
  if (plan.numbers.empty()) return payload;
  put_varint(payload, zigzag_encode(plan.base));
  std::vector<uint64_t> offsets;
  if (plan.deltas) {
    put_varint(payload, zigzag_encode(plan.smallest_delta));
    offsets.reserve(plan.numbers.size() - 1);
    for (size_t i = 1; i < plan.numbers.size(); ++i) {
      auto delta = static_cast<int64_t>(offset(plan.numbers[i], plan.numbers[i - 1]));
      offsets.push_back(offset(delta, plan.smallest_delta));
    }
  } else {
    offsets.reserve(plan.numbers.size());
    for (int64_t number : plan.numbers) offsets.push_back(offset(number, plan.base));
  }
  payload.push_back(static_cast<char>(plan.width));
  pack_bits(offsets, plan.width, payload);
  return payload;
}

std::optional<int64_t> integer_run_start(std::string_view payload, uint64_t rows) {
  ByteReader reader(payload);
  std::optional<uint8_t> flags = reader.byte();
  if (!flags || (*flags & ~kDeltas) != 0 || rows == 0) return std::nullopt;  // NULLs, or unknown flags
  std::optional<uint64_t> count = reader.varint();
  std::optional<uint64_t> base = reader.varint();
  if (!count || *count != rows || !base) return std::nullopt;
  if (*flags & kDeltas) {
    std::optional<uint64_t> smallest_delta = reader.varint();
    if (!smallest_delta || zigzag_decode(*smallest_delta) != 1) return std::nullopt;
  } else if (rows != 1) {
    return std::nullopt;
  }
  std::optional<uint8_t> width = reader.byte();
  if (!width || *width != 0 || !reader.at_end()) return std::nullopt;
  return zigzag_decode(*base);
}

Result<ColumnVector> decode_integers(std::string_view payload, uint64_t rows) {
  if (rows > (uint64_t{1} << 32)) return codec_damage("implausible row count");
  ByteReader reader(payload);
  std::optional<uint8_t> flags = reader.byte();
  if (!flags || (*flags & ~(kHasNulls | kDeltas)) != 0) return codec_damage("malformed integer flags");
  std::string_view bitmap;
  if (*flags & kHasNulls) {
    std::optional<std::string_view> bytes = reader.bytes((rows + 7) / 8);
    if (!bytes) return codec_damage("null bitmap runs past the end");
    bitmap = *bytes;
  }
  auto is_null = [&](uint64_t row) {
    return !bitmap.empty() && (static_cast<unsigned char>(bitmap[row / 8]) >> (row % 8)) & 1;
  };
  uint64_t nulls = 0;
  for (uint64_t row = 0; row < rows && !bitmap.empty(); ++row) nulls += is_null(row) ? 1 : 0;
  std::optional<uint64_t> count = reader.varint();
  if (!count || *count != rows - nulls) return codec_damage("integer count disagrees with the null bitmap");
  ColumnVector::Payloads numbers;
  if (*count > 0) {
    std::optional<uint64_t> base = reader.varint();
    if (!base) return codec_damage("malformed integer base");
    std::optional<uint64_t> smallest_delta;
    if (*flags & kDeltas) {
      smallest_delta = reader.varint();
      if (!smallest_delta) return codec_damage("malformed smallest delta");
    }
    std::optional<uint8_t> width = reader.byte();
    if (!width || *width > 64) return codec_damage("malformed integer width");
    const bool deltas = *flags & kDeltas;
    size_t packed_count = static_cast<size_t>(deltas ? *count - 1 : *count);
    if (reader.remaining() != packed_size(packed_count, *width)) return codec_damage("packed integers run past the end or are followed by other bytes");
    numbers.resize(static_cast<size_t>(*count));  // every one written below
    // Unpacked in place: the offsets land where their numbers go (after the first, for deltas),
    // then each becomes its number. (Unsigned and signed forms of one type may alias.)
    auto* offsets = reinterpret_cast<uint64_t*>(numbers.data()) + (deltas ? 1 : 0);
    if (!unpack_bits_into(reader.rest(), packed_count, *width, offsets)) return codec_damage("packed integers run past the end");
    int64_t first = zigzag_decode(*base);
    if (deltas) {
      const auto delta_base = static_cast<uint64_t>(zigzag_decode(*smallest_delta));
      uint64_t previous = static_cast<uint64_t>(first);
      numbers[0] = first;
      for (size_t i = 0; i < packed_count; ++i) {
        previous += offsets[i] + delta_base;
        offsets[i] = previous;
      }
    } else {
      for (size_t i = 0; i < packed_count; ++i) offsets[i] += static_cast<uint64_t>(first);
    }
  } else if (!reader.at_end()) {
    return codec_damage("trailing bytes after an all-NULL integer column");
  }
  return ColumnVector::of_numbers(ValueType::kInteger, std::move(numbers), static_cast<size_t>(rows),
                                  bitmap.empty() ? nullptr : reinterpret_cast<const unsigned char*>(bitmap.data()));
}

}  // namespace strata
