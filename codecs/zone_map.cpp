#include "codecs/zone_map.h"

#include "codecs/byte_io.h"
#include "codecs/value_compare.h"
#include "codecs/value_encoding.h"

namespace strata {

namespace {
constexpr uint8_t kZoneVersion = 1;
}

ZoneMap compute_zone_map(const ColumnVector& values) {
  ZoneMap zone;
  zone.rows = values.size();
  std::optional<size_t> min_row;
  std::optional<size_t> max_row;
  for (size_t row = 0; row < values.size(); ++row) {
    ValueType type = values.type(row);
    zone.types = static_cast<uint8_t>(zone.types | (1 << static_cast<int>(type)));
    if (type == ValueType::kNull) {
      ++zone.nulls;
      continue;
    }
    ValueView value = values.get(row);
    if (!min_row || compare_values(value, values.get(*min_row), Collation::kBinary) < 0) min_row = row;
    if (!max_row || compare_values(value, values.get(*max_row), Collation::kBinary) > 0) max_row = row;
  }
  if (min_row) {
    zone.min = Value(values.get(*min_row));
    zone.max = Value(values.get(*max_row));
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
  return bytes;
}

Result<ZoneMap> decode_zone_map(std::string_view bytes) {
  ByteReader reader(bytes);
  std::optional<uint8_t> version = reader.byte();
  if (!version || *version != kZoneVersion) return codec_damage("unknown zone map version");
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
