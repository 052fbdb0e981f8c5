// constant: one value stands for every row (all NULL, a single status, a fixed version…).
#include "codecs/codecs.h"
#include "codecs/value_encoding.h"

namespace strata {

std::string encode_constant(const ColumnVector& values) {
  std::string payload;
  if (!values.empty()) put_value(payload, values.get(0));
  return payload;
}

Result<ColumnVector> decode_constant(std::string_view payload, uint64_t rows) {
  ColumnVector values;
  if (rows == 0) {
    if (!payload.empty()) return codec_damage("constant column without rows has a value");
    return values;
  }
  ByteReader reader(payload);
  ValueView value;
  if (!read_value_view(reader, value) || !reader.at_end()) return codec_damage("malformed constant");
  // The header's row count is checked against the chunk's by the caller; still refuse absurd
  // counts before allocating for them.
  if (rows > (uint64_t{1} << 32)) return codec_damage("implausible row count");
  values.reserve(static_cast<size_t>(rows));
  for (uint64_t row = 0; row < rows; ++row) values.append(value);
  return values;
}

}  // namespace strata
