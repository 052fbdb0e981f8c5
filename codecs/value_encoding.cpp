#include "codecs/value_encoding.h"

#include <bit>
#include <functional>

#include "ext/str_cat.h"

namespace strata {

namespace {


}  // namespace

void put_value(std::string& out, const ValueView& value) {
  out.push_back(static_cast<char>(value.type));
  switch (value.type) {
    case ValueType::kNull: break;
    case ValueType::kInteger: put_varint(out, zigzag_encode(value.integer)); break;
    case ValueType::kReal: put_fixed64(out, std::bit_cast<uint64_t>(value.real)); break;
    case ValueType::kText:
    case ValueType::kBlob:
      put_varint(out, value.bytes.size());
      out.append(value.bytes);
      break;
  }
}

size_t encoded_value_size(const ValueView& value) {
  switch (value.type) {
    case ValueType::kNull: return 1;
    case ValueType::kInteger: return 1 + varint_size(zigzag_encode(value.integer));
    case ValueType::kReal: return 9;
    default: return 1 + varint_size(value.bytes.size()) + value.bytes.size();
  }
}

bool read_value_view(ByteReader& reader, ValueView& out) {
  std::optional<uint8_t> tag = reader.byte();
  if (!tag) return false;
  switch (static_cast<ValueType>(*tag)) {
    case ValueType::kNull: out = ValueView::null(); return true;
    case ValueType::kInteger: {
      std::optional<uint64_t> encoded = reader.varint();
      if (!encoded) return false;
      out = ValueView::of_integer(zigzag_decode(*encoded));
      return true;
    }
    case ValueType::kReal: {
      std::optional<uint64_t> bits = reader.fixed64();
      if (!bits) return false;
      out = ValueView::of_real(std::bit_cast<double>(*bits));
      return true;
    }
    case ValueType::kText:
    case ValueType::kBlob: {
      std::optional<uint64_t> length = reader.varint();
      if (!length) return false;
      std::optional<std::string_view> bytes = reader.bytes(*length);
      if (!bytes) return false;
      out = *tag == static_cast<uint8_t>(ValueType::kText) ? ValueView::of_text(*bytes) : ValueView::of_blob(*bytes);
      return true;
    }
    default: return false;
  }
}

bool read_value(ByteReader& reader, ColumnVector& out) {
  ValueView value;
  if (!read_value_view(reader, value)) return false;
  out.append(value);
  return true;
}

bool same_value(const ValueView& a, const ValueView& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case ValueType::kNull: return true;
    case ValueType::kInteger: return a.integer == b.integer;
    case ValueType::kReal: return std::bit_cast<uint64_t>(a.real) == std::bit_cast<uint64_t>(b.real);
    default: return a.bytes == b.bytes;
  }
}

size_t ValueViewHash::operator()(const ValueView& value) const {
  size_t seed = static_cast<size_t>(value.type) * 0x9e3779b97f4a7c15ULL;
  switch (value.type) {
    case ValueType::kNull: return seed;
    case ValueType::kInteger: return seed ^ std::hash<int64_t>()(value.integer);
    case ValueType::kReal: return seed ^ std::hash<uint64_t>()(std::bit_cast<uint64_t>(value.real));
    default: return seed ^ std::hash<std::string_view>()(value.bytes);
  }
}

Status codec_damage(std::string_view what) { return Status::corruption(str_cat("column chunk: ", what)); }

}  // namespace strata
