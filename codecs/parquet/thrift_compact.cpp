#include "codecs/parquet/thrift_compact.h"

#include <bit>
#include <cstring>

#include "codecs/byte_io.h"
#include "ext/str_cat.h"

namespace strata::thrift {

// ---- Writer ----------------------------------------------------------------------------------

void Writer::varint(uint64_t value) { put_varint(out_, value); }

void Writer::field_header(int16_t id, Type type) {
  int16_t& last = last_ids_.back();
  const int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    out_.push_back(static_cast<char>(type));
    varint(zigzag_encode(id));
  }
  last = id;
}

void Writer::field_i16(int16_t id, int16_t value) {
  field_header(id, Type::kI16);
  varint(zigzag_encode(value));
}

void Writer::field_i32(int16_t id, int32_t value) {
  field_header(id, Type::kI32);
  varint(zigzag_encode(value));
}

void Writer::field_i64(int16_t id, int64_t value) {
  field_header(id, Type::kI64);
  varint(zigzag_encode(value));
}

void Writer::field_binary(int16_t id, std::string_view value) {
  field_header(id, Type::kBinary);
  element_binary(value);
}

void Writer::field_bool(int16_t id, bool value) {
  field_header(id, value ? Type::kBoolTrue : Type::kBoolFalse);
}

void Writer::field_double(int16_t id, double value) {
  field_header(id, Type::kDouble);
  put_fixed64(out_, std::bit_cast<uint64_t>(value));
}

void Writer::begin_struct_field(int16_t id) {
  field_header(id, Type::kStruct);
  last_ids_.push_back(0);
}

void Writer::empty_struct_field(int16_t id) {
  begin_struct_field(id);
  end_struct();
}

void Writer::end_struct() {
  out_.push_back(static_cast<char>(Type::kStop));
  if (last_ids_.size() > 1) last_ids_.pop_back();
}

void Writer::begin_list_field(int16_t id, Type element_type, size_t size) {
  field_header(id, Type::kList);
  if (size < 15) {
    out_.push_back(static_cast<char>((size << 4) | static_cast<int>(element_type)));
  } else {
    out_.push_back(static_cast<char>(0xf0 | static_cast<int>(element_type)));
    varint(size);
  }
}

void Writer::element_i32(int32_t value) { varint(zigzag_encode(value)); }
void Writer::element_i64(int64_t value) { varint(zigzag_encode(value)); }

void Writer::element_binary(std::string_view value) {
  varint(value.size());
  out_.append(value);
}

void Writer::begin_struct_element() { last_ids_.push_back(0); }

// ---- Reader ----------------------------------------------------------------------------------

Status Reader::status(std::string_view what) const {
  if (ok()) return Status::ok();
  return Status::corruption(str_cat(what, ": ", error_));
}

void Reader::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  pos_ = data_.size();
}

uint8_t Reader::byte() {
  if (pos_ >= data_.size()) {
    fail("truncated Thrift data");
    return 0;
  }
  return static_cast<uint8_t>(data_[pos_++]);
}

uint64_t Reader::varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const uint8_t b = byte();
    if (!ok()) return 0;
    value |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return value;
  }
  fail("a Thrift varint is longer than 10 bytes");
  return 0;
}

void Reader::begin_struct() {
  if (last_ids_.size() >= kMaxDepth) {
    fail("Thrift structs nested too deeply");
    return;
  }
  last_ids_.push_back(0);
}

FieldHeader Reader::next_field() {
  if (!ok() || last_ids_.empty()) return {};
  const uint8_t header = byte();
  if (!ok()) return {};
  const auto type = static_cast<Type>(header & 0x0f);
  if (type == Type::kStop) return {};
  if (static_cast<uint8_t>(type) > static_cast<uint8_t>(Type::kStruct)) {
    fail(str_cat("unknown Thrift field type ", std::to_string(header & 0x0f)));
    return {};
  }
  int16_t& last = last_ids_.back();
  const int delta = header >> 4;
  int64_t id = 0;
  if (delta != 0) {
    id = last + delta;
  } else {
    id = zigzag_decode(varint());
  }
  if (!ok()) return {};
  if (id < INT16_MIN || id > INT16_MAX) {
    fail("a Thrift field id is out of range");
    return {};
  }
  last = static_cast<int16_t>(id);
  return {static_cast<int16_t>(id), type};
}

void Reader::end_struct() {
  if (!last_ids_.empty()) last_ids_.pop_back();
}

int64_t Reader::read_i64() { return zigzag_decode(varint()); }

int32_t Reader::read_i32() {
  const int64_t value = read_i64();
  if (value < INT32_MIN || value > INT32_MAX) {
    fail("a Thrift i32 is out of range");
    return 0;
  }
  return static_cast<int32_t>(value);
}

int16_t Reader::read_i16() {
  const int64_t value = read_i64();
  if (value < INT16_MIN || value > INT16_MAX) {
    fail("a Thrift i16 is out of range");
    return 0;
  }
  return static_cast<int16_t>(value);
}

double Reader::read_double() {
  if (data_.size() - pos_ < 8) {
    fail("truncated Thrift double");
    return 0;
  }
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
  pos_ += 8;
  return std::bit_cast<double>(bits);
}

std::string_view Reader::read_binary() {
  const uint64_t length = varint();
  if (!ok()) return {};
  if (length > data_.size() - pos_) {
    fail("a Thrift string runs past the end of its data");
    return {};
  }
  std::string_view value = data_.substr(pos_, length);
  pos_ += length;
  return value;
}

bool Reader::read_bool(const FieldHeader& field) {
  if (field.type != Type::kBoolTrue && field.type != Type::kBoolFalse) {
    fail("a Thrift field that should be a bool is not");
    return false;
  }
  return field.type == Type::kBoolTrue;
}

bool Reader::read_bool_element() {
  const uint8_t value = byte();
  return value == static_cast<uint8_t>(Type::kBoolTrue);
}

ListHeader Reader::read_list_header() {
  const uint8_t header = byte();
  if (!ok()) return {};
  ListHeader list;
  list.element_type = static_cast<Type>(header & 0x0f);
  uint64_t size = header >> 4;
  if (size == 15) size = varint();
  if (!ok()) return {};
  // Every element takes at least one byte, so a size the rest of the input cannot hold is a lie
  // (and must not become an allocation).
  if (size > data_.size() - pos_) {
    fail("a Thrift list is longer than its data");
    return {};
  }
  if (static_cast<uint8_t>(list.element_type) > static_cast<uint8_t>(Type::kStruct) ||
      list.element_type == Type::kStop) {
    if (size > 0) {
      fail("a Thrift list has an unknown element type");
      return {};
    }
  }
  list.size = static_cast<uint32_t>(size);
  return list;
}

void Reader::skip(Type type) {
  if (!ok()) return;
  switch (type) {
    case Type::kBoolTrue:
    case Type::kBoolFalse:
      return;  // a bool field's value is its type; list elements use skip_element below
    case Type::kByte:
      byte();
      return;
    case Type::kI16:
    case Type::kI32:
    case Type::kI64:
      varint();
      return;
    case Type::kDouble:
      read_double();
      return;
    case Type::kBinary:
      read_binary();
      return;
    case Type::kStruct: {
      begin_struct();
      for (FieldHeader field = next_field(); ok() && field.type != Type::kStop; field = next_field()) {
        skip(field.type);
      }
      end_struct();
      return;
    }
    case Type::kList:
    case Type::kSet: {
      const ListHeader list = read_list_header();
      if (last_ids_.size() >= kMaxDepth) {
        fail("Thrift containers nested too deeply");
        return;
      }
      last_ids_.push_back(0);  // counts toward the nesting bound
      for (uint32_t i = 0; ok() && i < list.size; ++i) {
        if (list.element_type == Type::kBoolTrue || list.element_type == Type::kBoolFalse) {
          byte();
        } else {
          skip(list.element_type);
        }
      }
      last_ids_.pop_back();
      return;
    }
    case Type::kMap: {
      const uint64_t size = varint();
      if (size == 0 || !ok()) return;
      if (size > data_.size() - pos_) {
        fail("a Thrift map is longer than its data");
        return;
      }
      const uint8_t types = byte();
      const auto key_type = static_cast<Type>(types >> 4);
      const auto value_type = static_cast<Type>(types & 0x0f);
      if (last_ids_.size() >= kMaxDepth) {
        fail("Thrift containers nested too deeply");
        return;
      }
      last_ids_.push_back(0);
      for (uint64_t i = 0; ok() && i < size; ++i) {
        for (Type element : {key_type, value_type}) {
          if (element == Type::kBoolTrue || element == Type::kBoolFalse) {
            byte();
          } else if (element == Type::kStop || static_cast<uint8_t>(element) > static_cast<uint8_t>(Type::kStruct)) {
            fail("a Thrift map has an unknown element type");
          } else {
            skip(element);
          }
        }
      }
      last_ids_.pop_back();
      return;
    }
    case Type::kStop:
      fail("unexpected Thrift stop");
      return;
  }
  fail("unknown Thrift type");
}

}  // namespace strata::thrift
