// Zone maps: per column chunk, what a filter needs to skip the chunk without decoding it —
// row and NULL counts, the storage classes present, and the smallest and largest non-NULL
// value in SQLite's order with BINARY collation (docs/format-columnar.md, "Zone maps").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "codecs/column_vector.h"
#include "ext/status.h"

namespace strata {

struct ZoneMap {
  uint64_t rows = 0;
  uint64_t nulls = 0;
  uint8_t types = 0;  // bit (1 << ValueType) for each storage class present
  std::optional<Value> min;  // absent when every value is NULL
  std::optional<Value> max;

  bool has_type(ValueType type) const { return (types >> static_cast<int>(type)) & 1; }
};

ZoneMap compute_zone_map(const ColumnVector& values);
// Version 2, with a trailing checksum (docs/format-columnar.md).
std::string encode_zone_map(const ZoneMap& zone);
// Reads either version; version 1 (no checksum) only when `require_checksum` is false (tables
// of format 1 that have not been upgraded yet).
Result<ZoneMap> decode_zone_map(std::string_view stored, bool require_checksum = true);

}  // namespace strata
