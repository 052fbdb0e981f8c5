// The Thrift compact protocol, by hand: just what Parquet's footer, page headers and bloom filter
// headers need (structs, lists, i16/i32/i64, binary, bool, double), no generated code.
//
// Wire format (thrift/doc/specs/thrift-compact-protocol.md):
//   field header  one byte (id delta << 4 | type) when the id is 1..15 above the previous field's,
//                 else the type byte followed by the id as a zigzag varint; type 0 ends a struct
//   bool field    the value is the type: 1 true, 2 false (no payload)
//   i16/i32/i64   zigzag varint;  double  8 bytes little-endian;  binary  varint length + bytes
//   list          (size << 4 | element type) when size < 15, else (0xf0 | type) + varint size;
//                 bool elements are one byte each
//   map           varint size, then (key type << 4 | value type) when size > 0
//
// ThriftReader keeps the first error and from then on reads zeros and ends every struct and
// list, so parsing code reads fields in a plain loop and checks ok() once. It never reads past
// its input, bounds nesting, and refuses list sizes the remaining bytes cannot hold.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ext/status.h"

namespace strata::thrift {

enum class Type : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void field_i16(int16_t id, int16_t value);
  void field_i32(int16_t id, int32_t value);
  void field_i64(int16_t id, int64_t value);
  void field_binary(int16_t id, std::string_view value);
  void field_bool(int16_t id, bool value);
  void field_double(int16_t id, double value);
  // A struct field: the fields written next belong to it until end_struct().
  void begin_struct_field(int16_t id);
  // An empty struct field (Parquet's unions of empty structs: logical types, column orders).
  void empty_struct_field(int16_t id);
  void end_struct();  // also ends the top-level struct when called with no struct field open

  void begin_list_field(int16_t id, Type element_type, size_t size);
  void element_i32(int32_t value);
  void element_i64(int64_t value);
  void element_binary(std::string_view value);
  void begin_struct_element();  // ended by end_struct()

 private:
  void field_header(int16_t id, Type type);
  void varint(uint64_t value);

  std::string& out_;
  std::vector<int16_t> last_ids_{0};  // the previous field id of each open struct
};

struct FieldHeader {
  int16_t id = 0;
  Type type = Type::kStop;
  bool is_bool_true() const { return type == Type::kBoolTrue; }
};

struct ListHeader {
  Type element_type = Type::kStop;
  uint32_t size = 0;
};

class Reader {
 public:
  static constexpr int kMaxDepth = 32;

  explicit Reader(std::string_view data) : data_(data) {}

  bool ok() const { return error_.empty(); }
  // The first error as a Status, `what` naming the structure being read.
  Status status(std::string_view what) const;
  size_t position() const { return pos_; }

  // Struct fields: call next_field() until it returns kStop, reading or skipping each field.
  void begin_struct();
  FieldHeader next_field();
  void end_struct();

  int32_t read_i32();
  int64_t read_i64();
  int16_t read_i16();
  double read_double();
  std::string_view read_binary();
  bool read_bool(const FieldHeader& field);  // bool fields carry the value in their type
  bool read_bool_element();
  ListHeader read_list_header();
  // Skips one value of `type` (fields, elements) including nested structs and containers.
  void skip(Type type);
  // Marks the input bad (e.g. a field of the wrong type, an enum value out of range).
  void fail(std::string message);

 private:
  uint64_t varint();
  uint8_t byte();

  std::string_view data_;
  size_t pos_ = 0;
  std::vector<int16_t> last_ids_;
  std::string error_;
};

}  // namespace strata::thrift
