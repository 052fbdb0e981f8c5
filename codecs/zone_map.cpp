#include "codecs/zone_map.h"

#include <algorithm>
#include <bit>
#include <span>

#include "codecs/byte_io.h"
#include "codecs/checksum.h"
#include "codecs/value_compare.h"
#include "codecs/value_encoding.h"

namespace strata {

namespace {
// Version 1 had no checksum; version 2 is version 1's bytes followed by their XXH32.
constexpr uint8_t kZoneVersionUnchecked = 1;
constexpr uint8_t kZoneVersion = 2;
}

namespace {

// compute_zone_map for a plain vector of integers or of reals (and NULLs): a pass over the
// payload array.
ZoneMap number_zone_map(const ColumnVector& values, ValueType type) {
  ZoneMap zone;
  zone.rows = values.size();
  const std::span<const int64_t> payloads = values.payloads();
  const bool has_nulls = values.has_nulls();
  bool any = false;
  int64_t integer_min = INT64_MAX, integer_max = INT64_MIN;
  double real_min = 0, real_max = 0;
  for (size_t row = 0; row < payloads.size(); ++row) {
    if (has_nulls && values.type(row) == ValueType::kNull) {
      ++zone.nulls;
      continue;
    }
    if (type == ValueType::kInteger) {
      integer_min = std::min(integer_min, payloads[row]);
      integer_max = std::max(integer_max, payloads[row]);
    } else {
      double v = std::bit_cast<double>(payloads[row]);
      if (!any || v < real_min) real_min = v;
      if (!any || v > real_max) real_max = v;
    }
    any = true;
  }
  if (zone.nulls > 0) zone.types = static_cast<uint8_t>(zone.types | (1 << static_cast<int>(ValueType::kNull)));
  if (any) {
    zone.types = static_cast<uint8_t>(zone.types | (1 << static_cast<int>(type)));
    zone.min = Value(type == ValueType::kInteger ? ValueView::of_integer(integer_min) : ValueView::of_real(real_min));
    zone.max = Value(type == ValueType::kInteger ? ValueView::of_integer(integer_max) : ValueView::of_real(real_max));
  }
  return zone;
}

}  // namespace

ZoneMap compute_zone_map(const ColumnVector& values) {
  if (!values.is_coded() && !values.empty()) {
    if (values.only(ValueType::kInteger)) return number_zone_map(values, ValueType::kInteger);
    if (values.only(ValueType::kReal)) return number_zone_map(values, ValueType::kReal);
  }
  // One pass keeping the extremes per storage class (cheap comparisons), combined at the end
  // in SQLite's order: numbers < text < blobs.
  ZoneMap zone;
  zone.rows = values.size();
  bool have_integer = false, have_real = false;
  int64_t integer_min = 0, integer_max = 0;
  double real_min = 0, real_max = 0;
  std::optional<std::string_view> text_min, text_max, blob_min, blob_max;
  for (size_t row = 0; row < values.size(); ++row) {
    ValueType type = values.type(row);
    zone.types = static_cast<uint8_t>(zone.types | (1 << static_cast<int>(type)));
    switch (type) {
      case ValueType::kNull: ++zone.nulls; break;
      case ValueType::kInteger: {
        int64_t v = values.integer(row);
        if (!have_integer || v < integer_min) integer_min = v;
        if (!have_integer || v > integer_max) integer_max = v;
        have_integer = true;
        break;
      }
      case ValueType::kReal: {
        double v = values.get(row).real;
        if (!have_real || v < real_min) real_min = v;
        if (!have_real || v > real_max) real_max = v;
        have_real = true;
        break;
      }
      case ValueType::kText:
      case ValueType::kBlob: {
        auto& low = type == ValueType::kText ? text_min : blob_min;
        auto& high = type == ValueType::kText ? text_max : blob_max;
        std::string_view v = values.get(row).bytes;
        if (!low || v < *low) low = v;
        if (!high || v > *high) high = v;
        break;
      }
    }
  }
  std::optional<ValueView> low, high;
  if (have_integer || have_real) {
    ValueView integer_low = ValueView::of_integer(integer_min), integer_high = ValueView::of_integer(integer_max);
    ValueView real_low = ValueView::of_real(real_min), real_high = ValueView::of_real(real_max);
    if (have_integer && have_real) {
      low = compare_values(integer_low, real_low, Collation::kBinary) <= 0 ? integer_low : real_low;
      high = compare_values(integer_high, real_high, Collation::kBinary) >= 0 ? integer_high : real_high;
    } else {
      low = have_integer ? integer_low : real_low;
      high = have_integer ? integer_high : real_high;
    }
  }
  if (!low && text_min) low = ValueView::of_text(*text_min);
  if (!low && blob_min) low = ValueView::of_blob(*blob_min);
  if (blob_max) high = ValueView::of_blob(*blob_max);
  else if (text_max) high = ValueView::of_text(*text_max);
  if (low) {
    zone.min = Value(*low);
    zone.max = Value(*high);
  }
  return zone;
}

std::string encode_zone_map(const ZoneMap& zone) {
  std::string bytes;
  bytes.push_back(static_cast<char>(kZoneVersion));
  put_varint(bytes, zone.rows);
  put_varint(bytes, zone.nulls);
  bytes.push_back(static_cast<char>(zone.types));
  if (zone.min && zone.max) {
    put_value(bytes, zone.min->view());
    put_value(bytes, zone.max->view());
  }
  return with_checksum(bytes);
}

Result<ZoneMap> decode_zone_map(std::string_view stored, bool require_checksum) {
  if (stored.empty()) return codec_damage("empty zone map");
  std::string_view bytes = stored;
  const auto version = static_cast<uint8_t>(stored[0]);
  if (version == kZoneVersion) {
    std::optional<std::string_view> checked = without_checksum(stored);
    if (!checked) return codec_damage("zone map checksum mismatch");
    bytes = *checked;
  } else if (version != kZoneVersionUnchecked) {
    return codec_damage("unknown zone map version");
  } else if (require_checksum) {
    return codec_damage("zone map has no checksum");
  }
  ByteReader reader(bytes.substr(1));
  std::optional<uint64_t> rows = reader.varint();
  std::optional<uint64_t> nulls = reader.varint();
  std::optional<uint8_t> types = reader.byte();
  if (!rows || !nulls || !types || *nulls > *rows) return codec_damage("malformed zone map");
  ZoneMap zone;
  zone.rows = *rows;
  zone.nulls = *nulls;
  zone.types = *types;
  if (!reader.at_end()) {
    ValueView min, max;
    if (!read_value_view(reader, min) || !read_value_view(reader, max) || !reader.at_end()) {
      return codec_damage("malformed zone map bounds");
    }
    zone.min = Value(min);
    zone.max = Value(max);
  } else if (zone.nulls < zone.rows) {
    return codec_damage("zone map without bounds for non-NULL values");
  }
  return zone;
}

}  // namespace strata
