// ColumnVector: the decoded values of one column of one chunk, in row order.
//
// SQLite is dynamically typed, so any value of any storage class may appear in any column; a
// ColumnVector keeps one type tag per row and the payload in flat arrays (no allocation per
// value), which is what codecs decode into and what scans read from.
//
// A dictionary-decoded column can instead stay coded: one 32-bit code per row into a small
// vector of distinct values. That keeps a decoded 'type' column at 4 bytes a row in the chunk
// cache instead of tag + payload + length + bytes, and lets grouping work on codes. Appending to
// a coded vector first expands it (rare: only the write path appends, and it builds plain ones).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ext/default_init_allocator.h"

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
  // A coded vector: row i is dictionary.get(codes[i]). Every code must be < dictionary.size().
  using Codes = std::vector<uint32_t, DefaultInitAllocator<uint32_t>>;  // resize() leaves them unset
  static ColumnVector coded(ColumnVector dictionary, Codes codes);
  // `rows` integers (or reals: a double's bits) taking the memory of `payloads`, which holds the
  // values of the rows that are not NULL in order. Where `nulls` is given, rows with a set bit
  // (bit i % 8 of byte i / 8, as the codecs' NULL bitmaps) are NULL. A decoder's output becomes
  // the vector without another copy.
  using Payloads = std::vector<int64_t, DefaultInitAllocator<int64_t>>;  // resize() leaves them unset
  static ColumnVector of_numbers(ValueType type, Payloads payloads, size_t rows,
                                 const unsigned char* nulls = nullptr);

  size_t size() const { return coded_ ? codes_.size() : types_.size(); }
  bool empty() const { return size() == 0; }
  void reserve(size_t rows);
  void clear();

  void append_null() { push(ValueType::kNull, 0, 0); }
  void append_integer(int64_t value) { push(ValueType::kInteger, value, 0); }
  void append_real(double value);
  void append_text(std::string_view value) { push_bytes(ValueType::kText, value); }
  void append_blob(std::string_view value) { push_bytes(ValueType::kBlob, value); }
  void append(const ValueView& value);
  // The values of rows `rows` (each below size()), in that order, as a plain vector.
  ColumnVector gather(std::span<const uint32_t> rows) const;
  // Appends many integers (or reals) at once; where `nulls` is given, rows with a set bit
  // (bit i % 8 of byte i / 8, as the codecs' NULL bitmaps) are NULL and take no value.
  void append_integers(const int64_t* values, size_t rows, const unsigned char* nulls = nullptr);
  void append_reals(const double* values, size_t rows, const unsigned char* nulls = nullptr);

  ValueType type(size_t row) const { return coded_ ? dictionary_->type(codes_[row]) : types_[row]; }
  ValueView get(size_t row) const { return coded_ ? dictionary_->get(codes_[row]) : plain_get(row); }
  int64_t integer(size_t row) const {  // for kInteger rows
    return coded_ ? dictionary_->integer(codes_[row]) : payload_[row];
  }

  // Bit (1 << type) is set for each storage class that may occur (exactly those that do, except
  // in a coded vector, whose dictionary may hold values no row uses).
  unsigned type_mask() const { return coded_ ? dictionary_->type_mask() : types_present_; }
  // Whether every value is of `type` or NULL.
  bool only(ValueType type) const {
    return (type_mask() & ~((1u << static_cast<int>(type)) | (1u << static_cast<int>(ValueType::kNull)))) == 0;
  }
  bool has_nulls() const { return (type_mask() >> static_cast<int>(ValueType::kNull)) & 1; }
  // The payload of each row of a plain vector: the integer, the double's bits, or (text, blob)
  // an offset; 0 for NULL.
  std::span<const int64_t> payloads() const { return payload_; }

  bool is_coded() const { return coded_; }
  uint32_t code(size_t row) const { return codes_[row]; }   // coded vectors only
  const ColumnVector& dictionary() const { return *dictionary_; }  // coded vectors only

  // Total bytes of text and blob values (for encoders' size estimates).
  size_t byte_size() const { return coded_ ? dictionary_->byte_size() : bytes_.size(); }
  // Heap bytes held, for the chunk cache's accounting.
  size_t memory_bytes() const;

 private:
  void push(ValueType type, int64_t payload, uint32_t length) {
    if (coded_) expand();
    types_present_ |= 1u << static_cast<int>(type);
    types_.push_back(type);
    payload_.push_back(payload);
    // Lengths are kept only once a text or blob value arrived: numbers need none.
    if (type == ValueType::kText || type == ValueType::kBlob) {
      if (lengths_.size() < types_.size() - 1) lengths_.resize(types_.size() - 1, 0);
      lengths_.push_back(length);
    } else if (!lengths_.empty()) {
      lengths_.push_back(0);
    }
  }
  ValueView plain_get(size_t row) const;
  void expand();  // a coded vector becomes a plain one
  void push_bytes(ValueType type, std::string_view value);
  void append_numbers(ValueType type, const int64_t* payloads, size_t rows, const unsigned char* nulls);

  std::vector<ValueType> types_;
  Payloads payload_;               // the integer, the double's bits, or the offset into bytes_
  std::vector<uint32_t> lengths_;  // text/blob length; empty while the vector holds no text or blob
  std::string bytes_;
  unsigned types_present_ = 0;
  bool coded_ = false;
  Codes codes_;
  std::shared_ptr<const ColumnVector> dictionary_;
};

inline ValueView ColumnVector::plain_get(size_t row) const {
  ValueView view;
  view.type = types_[row];
  switch (view.type) {
    case ValueType::kNull: break;
    case ValueType::kInteger: view.integer = payload_[row]; break;
    case ValueType::kReal: view.real = std::bit_cast<double>(payload_[row]); break;
    case ValueType::kText:
    case ValueType::kBlob:
      view.bytes = std::string_view(bytes_).substr(static_cast<size_t>(payload_[row]), lengths_[row]);
      break;
  }
  return view;
}

}  // namespace strata
