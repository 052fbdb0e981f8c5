// run-length: (length, value) pairs; for sorted or clustered columns (a partition key, a date).
#include "codecs/codecs.h"
#include "codecs/value_encoding.h"

namespace strata {

std::string encode_run_length(const ColumnVector& values) {
  std::string payload;
  size_t row = 0;
  while (row < values.size()) {
    ValueView value = values.get(row);
    size_t end = row + 1;
    while (end < values.size() && same_value(values.get(end), value)) ++end;
    put_varint(payload, end - row);
    put_value(payload, value);
    row = end;
  }
  return payload;
}

Result<ColumnVector> decode_run_length(std::string_view payload, uint64_t rows) {
  if (rows > (uint64_t{1} << 32)) return codec_damage("implausible row count");
  ColumnVector values;
  values.reserve(static_cast<size_t>(rows));
  ByteReader reader(payload);
  uint64_t produced = 0;
  while (produced < rows) {
    std::optional<uint64_t> length = reader.varint();
    ValueView value;
    if (!length || *length == 0 || !read_value_view(reader, value)) return codec_damage("malformed run");
    if (*length > rows - produced) return codec_damage("runs cover more rows than the chunk has");
    for (uint64_t i = 0; i < *length; ++i) values.append(value);
    produced += *length;
  }
  if (!reader.at_end()) return codec_damage("trailing bytes after the last run");
  return values;
}

}  // namespace strata
