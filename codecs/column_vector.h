// ColumnVector: the decoded values of one column of one chunk, in row order.
//
// SQLite is dynamically typed, so any value of any storage class may appear in any column; a
// ColumnVector keeps one type tag per row and the payload in flat arrays (no allocation per
// value), which is what codecs decode into and what scans read from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

// SQLite's storage classes, with the numbering of SQLITE_INTEGER … SQLITE_NULL.
enum class ValueType : uint8_t { kInteger = 1, kReal = 2, kText = 3, kBlob = 4, kNull = 5 };

// A non-owning view of one value (bytes point into the ColumnVector or the caller's buffer).
struct ValueView {
  ValueType type = ValueType::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string_view bytes;  // text (UTF-8) or blob

  static ValueView null() { return {}; }
  static ValueView of_integer(int64_t v) { return {ValueType::kInteger, v, 0, {}}; }
  static ValueView of_real(double v) { return {ValueType::kReal, 0, v, {}}; }
  static ValueView of_text(std::string_view v) { return {ValueType::kText, 0, 0, v}; }
  static ValueView of_blob(std::string_view v) { return {ValueType::kBlob, 0, 0, v}; }
};

// An owning value, for rows buffered in memory.
struct Value {
  ValueType type = ValueType::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string bytes;

  Value() = default;
  explicit Value(const ValueView& view)
      : type(view.type), integer(view.integer), real(view.real), bytes(view.bytes) {}
  ValueView view() const { return {type, integer, real, bytes}; }
  bool is_null() const { return type == ValueType::kNull; }
};

class ColumnVector {
 public:
  size_t size() const { return types_.size(); }
  bool empty() const { return types_.empty(); }
  void reserve(size_t rows) {
    types_.reserve(rows);
    payload_.reserve(rows);
    lengths_.reserve(rows);
  }
  void clear();

  void append_null() { push(ValueType::kNull, 0, 0); }
  void append_integer(int64_t value) { push(ValueType::kInteger, value, 0); }
  void append_real(double value);
  void append_text(std::string_view value) { push_bytes(ValueType::kText, value); }
  void append_blob(std::string_view value) { push_bytes(ValueType::kBlob, value); }
  void append(const ValueView& value);
  // Appends many integers (or reals) at once; where `nulls` is given, rows with a set bit
  // (bit i % 8 of byte i / 8, as the codecs' NULL bitmaps) are NULL and take no value.
  void append_integers(const int64_t* values, size_t rows, const unsigned char* nulls = nullptr);
  void append_reals(const double* values, size_t rows, const unsigned char* nulls = nullptr);

  ValueType type(size_t row) const { return types_[row]; }
  ValueView get(size_t row) const;
  int64_t integer(size_t row) const { return payload_[row]; }  // for kInteger rows

  // Total bytes of text and blob values (for size accounting).
  size_t byte_size() const { return bytes_.size(); }

 private:
  void push(ValueType type, int64_t payload, uint32_t length) {
    types_.push_back(type);
    payload_.push_back(payload);
    lengths_.push_back(length);
  }
  void push_bytes(ValueType type, std::string_view value);
  void append_numbers(ValueType type, const int64_t* payloads, size_t rows, const unsigned char* nulls);

  std::vector<ValueType> types_;
  std::vector<int64_t> payload_;   // the integer, the double's bits, or the offset into bytes_
  std::vector<uint32_t> lengths_;  // text/blob length
  std::string bytes_;
};

}  // namespace strata
