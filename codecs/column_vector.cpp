#include "codecs/column_vector.h"

#include <bit>
#include <stdexcept>

namespace strata {

void ColumnVector::clear() {
  types_.clear();
  payload_.clear();
  lengths_.clear();
  bytes_.clear();
}

void ColumnVector::append_real(double value) {
  push(ValueType::kReal, std::bit_cast<int64_t>(value), 0);
}

void ColumnVector::push_bytes(ValueType type, std::string_view value) {
  if (value.size() > UINT32_MAX) throw std::length_error("value larger than 4 GiB");
  push(type, static_cast<int64_t>(bytes_.size()), static_cast<uint32_t>(value.size()));
  bytes_.append(value);
}

void ColumnVector::append(const ValueView& value) {
  switch (value.type) {
    case ValueType::kNull: append_null(); break;
    case ValueType::kInteger: append_integer(value.integer); break;
    case ValueType::kReal: append_real(value.real); break;
    case ValueType::kText: append_text(value.bytes); break;
    case ValueType::kBlob: append_blob(value.bytes); break;
  }
}

namespace {
bool bit_set(const unsigned char* bits, size_t row) { return bits != nullptr && ((bits[row / 8] >> (row % 8)) & 1); }
}  // namespace

void ColumnVector::append_numbers(ValueType type, const int64_t* payloads, size_t rows, const unsigned char* nulls) {
  size_t start = types_.size();
  types_.resize(start + rows, type);
  payload_.resize(start + rows, 0);
  lengths_.resize(start + rows, 0);
  size_t next = 0;
  for (size_t row = 0; row < rows; ++row) {
    if (bit_set(nulls, row)) {
      types_[start + row] = ValueType::kNull;
    } else {
      payload_[start + row] = payloads[next++];
    }
  }
}

void ColumnVector::append_integers(const int64_t* values, size_t rows, const unsigned char* nulls) {
  append_numbers(ValueType::kInteger, values, rows, nulls);
}

void ColumnVector::append_reals(const double* values, size_t rows, const unsigned char* nulls) {
  // A double's bits are its payload (see append_real).
  static_assert(sizeof(double) == sizeof(int64_t));
  append_numbers(ValueType::kReal, reinterpret_cast<const int64_t*>(values), rows, nulls);
}

ValueView ColumnVector::get(size_t row) const {
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
