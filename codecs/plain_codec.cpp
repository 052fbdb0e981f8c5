// plain: every value, one after the other. Always applies; the fallback for mixed columns.
#include "codecs/codecs.h"
#include "codecs/value_encoding.h"

namespace strata {

std::string encode_plain(const ColumnVector& values) {
  std::string payload;
  payload.reserve(values.size() * 3 + values.byte_size());
  for (size_t row = 0; row < values.size(); ++row) put_value(payload, values.get(row));
  return payload;
}

Result<ColumnVector> decode_plain(std::string_view payload, uint64_t rows) {
  // Every value takes at least one byte, so more rows than bytes is damage.
  if (rows > payload.size()) return codec_damage("more rows than payload bytes");
  ColumnVector values;
  values.reserve(static_cast<size_t>(rows));
  ByteReader reader(payload);
  for (uint64_t row = 0; row < rows; ++row) {
    if (!read_value(reader, values)) return codec_damage("malformed plain value");
  }
  if (!reader.at_end()) return codec_damage("trailing bytes after the last value");
  return values;
}

}  // namespace strata
