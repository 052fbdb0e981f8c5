// The plain encoding of one value (docs/format-columnar.md): a type byte — 1 integer, 2 real,
// 3 text, 4 blob, 5 null (SQLite's numbering) — then a zigzag LEB128 varint (integer), the 8
// bytes of the IEEE 754 double, little-endian (real), or a LEB128 length and the bytes (text,
// blob). Every codec stores its values (or dictionary entries, or run values) this way.
#pragma once

#include <string>
#include <string_view>

#include "codecs/byte_io.h"
#include "codecs/column_vector.h"
#include "ext/status.h"

namespace strata {

void put_value(std::string& out, const ValueView& value);

// Reads one value into `out`; false on malformed or truncated input.
bool read_value(ByteReader& reader, ColumnVector& out);

// Reads one value as a view into the reader's buffer; false on malformed or truncated input.
bool read_value_view(ByteReader& reader, ValueView& out);

// Bytes put_value writes for `value`.
size_t encoded_value_size(const ValueView& value);

bool same_value(const ValueView& a, const ValueView& b);  // same type and same bits/bytes

// Hash and equality for ValueViews as unordered_map keys (same_value semantics).
struct ValueViewHash {
  size_t operator()(const ValueView& value) const;
};
struct ValueViewEqual {
  bool operator()(const ValueView& a, const ValueView& b) const { return same_value(a, b); }
};

Status codec_damage(std::string_view what);  // Status::corruption("column chunk: …")

}  // namespace strata
