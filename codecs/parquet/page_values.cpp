#include "codecs/parquet/page_values.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "codecs/byte_io.h"
#include "codecs/parquet/rle_hybrid.h"
#include "ext/str_cat.h"

namespace strata::parquet {

void DecodedValues::own_bytes() {
  size_t total = 0;
  for (std::string_view v : bytes) total += v.size();
  std::string owned;
  owned.reserve(total);
  for (std::string_view v : bytes) owned.append(v);
  std::deque<std::string> blocks;
  std::string_view arena = blocks.emplace_back(std::move(owned));
  size_t offset = 0;
  for (std::string_view& v : bytes) {
    v = arena.substr(offset, v.size());
    offset += v.size();
  }
  arenas = std::move(blocks);
}

bool is_decimal(const SchemaElement& e) {
  return e.logical_type.kind == LogicalType::Kind::kDecimal ||
         (e.converted_type && *e.converted_type == static_cast<int32_t>(ConvertedType::kDecimal));
}

bool is_unsigned_int32(const SchemaElement& e) {
  return e.type == PhysicalType::kInt32 && e.converted_type && *e.converted_type >= 11 && *e.converted_type <= 13;
}

namespace {

int32_t decimal_scale(const SchemaElement& e) {
  if (e.logical_type.kind == LogicalType::Kind::kDecimal) return e.logical_type.scale;
  return e.scale.value_or(0);
}

bool is_text(const SchemaElement& e) {
  using K = LogicalType::Kind;
  const K kind = e.logical_type.kind;
  if (kind == K::kString || kind == K::kEnum || kind == K::kJson) return true;
  if (!e.converted_type) return false;
  const auto converted = static_cast<ConvertedType>(*e.converted_type);
  return converted == ConvertedType::kUtf8 || converted == ConvertedType::kEnum || converted == ConvertedType::kJson;
}

double power_of_ten(int32_t exponent) { return std::pow(10.0, exponent); }

// A big-endian two's-complement integer of up to 16 bytes, as a double.
bool big_endian_decimal(std::string_view bytes, int32_t scale, double& out) {
  if (bytes.empty()) {
    out = 0;
    return true;
  }
  if (bytes.size() > 16) return false;
  __int128 value = static_cast<int8_t>(bytes[0]) < 0 ? -1 : 0;
  for (char c : bytes) value = static_cast<__int128>(static_cast<unsigned __int128>(value) << 8) | static_cast<uint8_t>(c);
  out = static_cast<double>(value) / power_of_ten(scale);
  return true;
}

double half_to_double(uint16_t half) {
  const int exponent = (half >> 10) & 0x1f;
  const int mantissa = half & 0x3ff;
  double value;
  if (exponent == 0) value = std::ldexp(mantissa, -24);
  else if (exponent == 31) value = mantissa == 0 ? INFINITY : NAN;
  else value = std::ldexp(mantissa + 1024, exponent - 25);
  return (half & 0x8000) ? -value : value;
}

// The day of 1970-01-01 in the Julian day numbering INT96 timestamps use.
constexpr int64_t kJulianDayOfUnixEpoch = 2440588;
constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000 * 1000;

// Turns physical integers into the leaf's values (integers, or reals for decimals).
void emit_integers(const SchemaElement& e, ValueType type, std::vector<int64_t>& raw, DecodedValues& out) {
  if (type == ValueType::kReal) {
    const double divisor = power_of_ten(decimal_scale(e));
    out.reals.reserve(out.reals.size() + raw.size());
    for (int64_t v : raw) out.reals.push_back(static_cast<double>(v) / divisor);
    return;
  }
  if (is_unsigned_int32(e)) {
    for (int64_t& v : raw) v = static_cast<int64_t>(static_cast<uint32_t>(v));
  }
  if (out.integers.empty()) {
    out.integers = std::move(raw);
  } else {
    out.integers.insert(out.integers.end(), raw.begin(), raw.end());
  }
}

// Turns one physical byte string into the leaf's value (text, blob, or a real).
Status emit_bytes(const SchemaElement& e, ValueType type, std::string_view bytes, DecodedValues& out) {
  if (type != ValueType::kReal) {
    out.bytes.push_back(bytes);
    return Status::ok();
  }
  if (e.logical_type.kind == LogicalType::Kind::kFloat16) {
    if (bytes.size() != 2) return Status::corruption("parquet: a FLOAT16 value is not 2 bytes");
    out.reals.push_back(half_to_double(static_cast<uint16_t>(static_cast<uint8_t>(bytes[0]) |
                                                             (static_cast<uint8_t>(bytes[1]) << 8))));
    return Status::ok();
  }
  double value = 0;
  if (!big_endian_decimal(bytes, decimal_scale(e), value)) {
    return Status::unsupported(str_cat("parquet: column '", e.name, "' holds a DECIMAL wider than 16 bytes"));
  }
  out.reals.push_back(value);
  return Status::ok();
}

uint64_t load_le(const char* p, size_t width) {
  uint64_t v = 0;
  std::memcpy(&v, p, width);  // little-endian host (x86-64, aarch64)
  return v;
}

size_t fixed_width(const SchemaElement& e) {
  switch (*e.type) {
    case PhysicalType::kInt32:
    case PhysicalType::kFloat: return 4;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble: return 8;
    case PhysicalType::kInt96: return 12;
    case PhysicalType::kFixedLenByteArray: return static_cast<size_t>(e.type_length.value_or(0));
    default: return 0;
  }
}

Status too_short(std::string_view encoding) {
  return Status::corruption(str_cat("parquet: a page's ", encoding, " values are shorter than its value count"));
}

// Values of fixed width, one after another (PLAIN) or split into byte streams (BYTE_STREAM_SPLIT):
// each value's bytes are gathered into `scratch` and handed to `take`.
template <class Take>
Status for_each_fixed(std::string_view data, size_t count, size_t width, bool split, std::string_view encoding,
                      Take&& take, DecodedValues* keeper = nullptr) {
  if (width == 0) return Status::corruption("parquet: a fixed-width column has width 0");
  if (count > data.size() / width) return too_short(encoding);
  if (!split) {
    for (size_t i = 0; i < count; ++i) STRATA_RETURN_IF_ERROR(take(data.data() + i * width));
    return Status::ok();
  }
  if (data.size() != count * width) {
    return Status::corruption("parquet: a BYTE_STREAM_SPLIT page's size is not its value count times the width");
  }
  // The values are put back together in one block; `keeper` keeps it when `take` keeps views of
  // the values (FIXED_LEN_BYTE_ARRAY values read as BLOB), so they outlive this call.
  std::string joined(count * width, '\0');
  for (size_t i = 0; i < count; ++i) {
    for (size_t b = 0; b < width; ++b) joined[i * width + b] = data[b * count + i];
  }
  std::string_view values = keeper != nullptr ? keeper->keep(std::move(joined)) : std::string_view(joined);
  for (size_t i = 0; i < count; ++i) STRATA_RETURN_IF_ERROR(take(values.data() + i * width));
  return Status::ok();
}

Status decode_fixed(const Leaf& leaf, std::string_view data, size_t count, bool split, DecodedValues& out) {
  const SchemaElement& e = leaf.element;
  const ValueType type = leaf.sqlite_type;
  const size_t width = fixed_width(e);
  const std::string_view encoding = split ? "BYTE_STREAM_SPLIT" : "PLAIN";
  switch (*e.type) {
    case PhysicalType::kInt32:
    case PhysicalType::kInt64: {
      std::vector<int64_t> raw;
      raw.reserve(count);
      STRATA_RETURN_IF_ERROR(for_each_fixed(data, count, width, split, encoding, [&](const char* p) {
        raw.push_back(width == 4 ? static_cast<int32_t>(load_le(p, 4)) : static_cast<int64_t>(load_le(p, 8)));
        return Status::ok();
      }));
      emit_integers(e, type, raw, out);
      return Status::ok();
    }
    case PhysicalType::kInt96:
      // Microseconds since 1970, as DuckDB reads them: nanoseconds would wrap after 2262, and
      // Spark writes 9999-12-31 for "open-ended". A value outside int64 microseconds (about
      // ±292,000 years) is an error, never a wrong date.
      return for_each_fixed(data, count, width, split, encoding, [&](const char* p) {
        const auto nanos = static_cast<int64_t>(load_le(p, 8));
        const auto julian_day = static_cast<int32_t>(load_le(p + 8, 4));
        const int64_t days = static_cast<int64_t>(julian_day) - kJulianDayOfUnixEpoch;
        int64_t micros = 0;
        if (__builtin_mul_overflow(days, kMicrosPerDay, &micros) || __builtin_add_overflow(micros, nanos / 1000, &micros)) {
          return Status::corruption(str_cat("parquet: column '", e.name, "' holds an INT96 timestamp outside the range of"
                                            " 64-bit microseconds (Julian day ", std::to_string(julian_day), ")"));
        }
        out.integers.push_back(micros);
        return Status::ok();
      });
    case PhysicalType::kFloat:
      return for_each_fixed(data, count, width, split, encoding, [&](const char* p) {
        out.reals.push_back(std::bit_cast<float>(static_cast<uint32_t>(load_le(p, 4))));
        return Status::ok();
      });
    case PhysicalType::kDouble:
      return for_each_fixed(data, count, width, split, encoding, [&](const char* p) {
        out.reals.push_back(std::bit_cast<double>(load_le(p, 8)));
        return Status::ok();
      });
    case PhysicalType::kFixedLenByteArray:
      return for_each_fixed(
          data, count, width, split, encoding,
          [&](const char* p) { return emit_bytes(e, type, std::string_view(p, width), out); }, &out);
    default:
      return Status::internal("parquet: decode_fixed on a variable-width type");
  }
}

Status decode_plain(const Leaf& leaf, std::string_view data, size_t count, DecodedValues& out) {
  const SchemaElement& e = leaf.element;
  if (e.type == PhysicalType::kBoolean) {
    if ((count + 7) / 8 > data.size()) return too_short("PLAIN");
    for (size_t i = 0; i < count; ++i) out.integers.push_back((static_cast<uint8_t>(data[i / 8]) >> (i % 8)) & 1);
    return Status::ok();
  }
  if (e.type != PhysicalType::kByteArray) return decode_fixed(leaf, data, count, false, out);
  ByteReader reader(data);
  for (size_t i = 0; i < count; ++i) {
    const auto length = reader.fixed32();
    if (!length) return too_short("PLAIN");
    const auto bytes = reader.bytes(*length);
    if (!bytes) return Status::corruption("parquet: a PLAIN byte array runs past the end of its page");
    STRATA_RETURN_IF_ERROR(emit_bytes(e, leaf.sqlite_type, *bytes, out));
  }
  return Status::ok();
}

Status decode_rle_booleans(std::string_view data, size_t count, DecodedValues& out) {
  ByteReader reader(data);
  const auto length = reader.fixed32();
  if (!length || *length > reader.remaining()) return too_short("RLE");
  std::vector<uint32_t> bits(count);
  STRATA_RETURN_IF_ERROR(decode_rle_hybrid(reader.rest().substr(0, *length), 1, bits));
  out.integers.insert(out.integers.end(), bits.begin(), bits.end());
  return Status::ok();
}

Status decode_dictionary_indices(const Leaf& leaf, std::string_view data, size_t count,
                                 const DecodedValues* dictionary, DecodedValues& out) {
  if (dictionary == nullptr) {
    return Status::corruption("parquet: a dictionary-encoded page comes without a dictionary page");
  }
  if (count == 0) return Status::ok();
  const ValueType type = leaf.sqlite_type;
  std::vector<uint32_t> indices;
  STRATA_RETURN_IF_ERROR(decode_dictionary_codes(data, count, dictionary->size(type), indices));
  switch (type) {
    case ValueType::kInteger:
      for (uint32_t index : indices) out.integers.push_back(dictionary->integers[index]);
      break;
    case ValueType::kReal:
      for (uint32_t index : indices) out.reals.push_back(dictionary->reals[index]);
      break;
    default:
      for (uint32_t index : indices) out.bytes.push_back(dictionary->bytes[index]);
      break;
  }
  return Status::ok();
}

Status decode_delta_length(const Leaf& leaf, std::string_view data, size_t count, DecodedValues& out,
                           size_t* consumed_total) {
  std::vector<int64_t> lengths;
  size_t consumed = 0;
  STRATA_RETURN_IF_ERROR(decode_delta_binary_packed(data, count, true, lengths, consumed));
  size_t offset = consumed;
  for (int64_t length : lengths) {
    if (length < 0 || static_cast<uint64_t>(length) > data.size() - offset) {
      return Status::corruption("parquet: a DELTA_LENGTH_BYTE_ARRAY value runs past the end of its page");
    }
    STRATA_RETURN_IF_ERROR(emit_bytes(leaf.element, leaf.sqlite_type, data.substr(offset, length), out));
    offset += static_cast<size_t>(length);
  }
  if (consumed_total) *consumed_total = offset;
  return Status::ok();
}

Status decode_delta_byte_array(const Leaf& leaf, std::string_view data, size_t count, DecodedValues& out) {
  std::vector<int64_t> prefixes;
  size_t consumed = 0;
  STRATA_RETURN_IF_ERROR(decode_delta_binary_packed(data, count, true, prefixes, consumed));
  DecodedValues suffixes;
  Leaf as_blob = leaf;
  as_blob.sqlite_type = ValueType::kBlob;
  STRATA_RETURN_IF_ERROR(decode_delta_length(as_blob, data.substr(consumed), count, suffixes, nullptr));
  // Each value is a prefix of the previous one plus its suffix; build them all in one arena.
  std::string arena;
  std::vector<std::pair<size_t, size_t>> spans;  // offset, length in arena
  spans.reserve(count);
  size_t previous_offset = 0, previous_length = 0;
  for (size_t i = 0; i < count; ++i) {
    const int64_t prefix = prefixes[i];
    if (prefix < 0 || static_cast<uint64_t>(prefix) > previous_length) {
      return Status::corruption("parquet: a DELTA_BYTE_ARRAY prefix is longer than the previous value");
    }
    const size_t offset = arena.size();
    arena.append(arena, previous_offset, static_cast<size_t>(prefix));
    arena.append(suffixes.bytes[i]);
    previous_offset = offset;
    previous_length = arena.size() - offset;
    spans.emplace_back(offset, previous_length);
  }
  if (leaf.sqlite_type == ValueType::kReal) {
    for (auto [offset, length] : spans) {
      STRATA_RETURN_IF_ERROR(emit_bytes(leaf.element, leaf.sqlite_type, std::string_view(arena).substr(offset, length), out));
    }
    return Status::ok();
  }
  // The values live in the arena, which `out` keeps.
  std::string_view kept = out.keep(std::move(arena));
  for (auto [offset, length] : spans) out.bytes.push_back(kept.substr(offset, length));
  return Status::ok();
}

}  // namespace

Status decode_dictionary_codes(std::string_view data, size_t count, size_t entries, std::vector<uint32_t>& codes) {
  codes.resize(count);
  if (count == 0) return Status::ok();
  if (data.empty()) return too_short("RLE_DICTIONARY");
  const int width = static_cast<uint8_t>(data[0]);
  if (width > 32) return Status::corruption("parquet: a dictionary index bit width is above 32");
  STRATA_RETURN_IF_ERROR(decode_rle_hybrid(data.substr(1), width, codes));
  for (uint32_t index : codes) {
    if (index >= entries) {
      return Status::corruption(str_cat("parquet: dictionary index ", std::to_string(index), " is past the ",
                                        std::to_string(entries), " entries of the dictionary"));
    }
  }
  return Status::ok();
}

Status decode_delta_binary_packed(std::string_view data, size_t count, bool int32, std::vector<int64_t>& out,
                                  size_t& consumed) {
  ByteReader reader(data);
  const auto block_size = reader.varint();
  const auto miniblocks = reader.varint();
  const auto total = reader.varint();
  const auto first = reader.varint();
  if (!block_size || !miniblocks || !total || !first) return too_short("DELTA_BINARY_PACKED");
  if (*block_size == 0 || *block_size % 128 != 0 || *block_size > (1u << 20) || *miniblocks == 0 ||
      *block_size % *miniblocks != 0 || (*block_size / *miniblocks) % 32 != 0) {
    return Status::corruption("parquet: a DELTA_BINARY_PACKED header has an invalid block layout");
  }
  if (*total < count) return too_short("DELTA_BINARY_PACKED");
  const uint64_t per_miniblock = *block_size / *miniblocks;
  out.clear();
  out.reserve(count);
  uint64_t value = static_cast<uint64_t>(zigzag_decode(*first));
  auto push = [&](uint64_t v) { out.push_back(int32 ? static_cast<int32_t>(static_cast<uint32_t>(v)) : static_cast<int64_t>(v)); };
  if (count > 0) push(value);
  // The encoded stream holds `total` values; all of them must be walked to find where it ends.
  uint64_t remaining = *total > 0 ? *total - 1 : 0;
  std::vector<uint8_t> widths;
  while (remaining > 0) {
    const auto min_delta = reader.varint();
    if (!min_delta) return too_short("DELTA_BINARY_PACKED");
    const auto width_bytes = reader.bytes(*miniblocks);
    if (!width_bytes) return too_short("DELTA_BINARY_PACKED");
    const auto delta_base = static_cast<uint64_t>(zigzag_decode(*min_delta));
    for (uint64_t m = 0; m < *miniblocks && remaining > 0; ++m) {
      const int width = static_cast<uint8_t>((*width_bytes)[m]);
      if (width > 64) return Status::corruption("parquet: a DELTA_BINARY_PACKED bit width is above 64");
      const auto packed = reader.bytes(per_miniblock * width / 8);
      if (!packed) return too_short("DELTA_BINARY_PACKED");
      const uint64_t take = std::min<uint64_t>(per_miniblock, remaining);
      uint64_t bit = 0;
      for (uint64_t i = 0; i < take; ++i, bit += width) {
        uint64_t delta = 0;
        for (int b = 0; b < width; ++b) {
          const uint64_t at = bit + b;
          delta |= static_cast<uint64_t>((static_cast<uint8_t>((*packed)[at / 8]) >> (at % 8)) & 1) << b;
        }
        value += delta_base + delta;
        if (out.size() < count) push(value);
      }
      remaining -= take;
    }
  }
  consumed = reader.position();
  return Status::ok();
}

Status decode_page_values(const Leaf& leaf, int32_t encoding, std::string_view data, size_t count,
                          const DecodedValues* dictionary, DecodedValues& out) {
  const SchemaElement& e = leaf.element;
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::kPlain:
      return decode_plain(leaf, data, count, out);
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary:
      return decode_dictionary_indices(leaf, data, count, dictionary, out);
    case Encoding::kRle:
      if (e.type != PhysicalType::kBoolean) break;
      return decode_rle_booleans(data, count, out);
    case Encoding::kDeltaBinaryPacked: {
      if (e.type != PhysicalType::kInt32 && e.type != PhysicalType::kInt64) break;
      std::vector<int64_t> raw;
      size_t consumed = 0;
      STRATA_RETURN_IF_ERROR(decode_delta_binary_packed(data, count, e.type == PhysicalType::kInt32, raw, consumed));
      emit_integers(e, leaf.sqlite_type, raw, out);
      return Status::ok();
    }
    case Encoding::kDeltaLengthByteArray:
      if (e.type != PhysicalType::kByteArray) break;
      return decode_delta_length(leaf, data, count, out, nullptr);
    case Encoding::kDeltaByteArray:
      if (e.type != PhysicalType::kByteArray && e.type != PhysicalType::kFixedLenByteArray) break;
      return decode_delta_byte_array(leaf, data, count, out);
    case Encoding::kByteStreamSplit:
      if (e.type == PhysicalType::kBoolean || e.type == PhysicalType::kByteArray || e.type == PhysicalType::kInt96) break;
      return decode_fixed(leaf, data, count, true, out);
    default:
      return Status::unsupported(str_cat("parquet: column '", leaf.name, "' uses the ", encoding_name(encoding),
                                         " encoding, which strata does not read"));
  }
  return Status::corruption(str_cat("parquet: column '", leaf.name, "' uses ", encoding_name(encoding),
                                    ", which is not valid for ", physical_type_name(*e.type)));
}

ValueType sqlite_type_of(const SchemaElement& e, std::string& unsupported) {
  unsupported.clear();
  if (e.logical_type.kind == LogicalType::Kind::kUnknown) return ValueType::kNull;
  const bool decimal = is_decimal(e);
  if (decimal && (decimal_scale(e) < 0 || decimal_scale(e) > 76)) {
    unsupported = str_cat("column '", e.name, "' has a DECIMAL scale strata cannot apply");
  }
  switch (*e.type) {
    case PhysicalType::kBoolean:
    case PhysicalType::kInt96:
      return ValueType::kInteger;
    case PhysicalType::kInt32:
    case PhysicalType::kInt64:
      return decimal ? ValueType::kReal : ValueType::kInteger;
    case PhysicalType::kFloat:
    case PhysicalType::kDouble:
      return ValueType::kReal;
    case PhysicalType::kByteArray:
      if (decimal) return ValueType::kReal;
      return is_text(e) ? ValueType::kText : ValueType::kBlob;
    case PhysicalType::kFixedLenByteArray:
      if (!e.type_length || *e.type_length <= 0) {
        unsupported = str_cat("column '", e.name, "' is FIXED_LEN_BYTE_ARRAY without a positive type_length");
      }
      if (decimal) return ValueType::kReal;
      if (e.logical_type.kind == LogicalType::Kind::kFloat16) {
        if (e.type_length != 2) unsupported = str_cat("column '", e.name, "' is a FLOAT16 that is not 2 bytes");
        return ValueType::kReal;
      }
      return ValueType::kBlob;
  }
  return ValueType::kBlob;
}

}  // namespace strata::parquet
