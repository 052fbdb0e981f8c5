#include "codecs/column_vector.h"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace strata {

ColumnVector ColumnVector::coded(ColumnVector dictionary, Codes codes) {
  ColumnVector result;
  result.coded_ = true;
  result.codes_ = std::move(codes);
  result.dictionary_ = std::make_shared<const ColumnVector>(std::move(dictionary));
  return result;
}

namespace {
bool bit_set(const unsigned char* bits, size_t row) { return bits != nullptr && ((bits[row / 8] >> (row % 8)) & 1); }
}  // namespace

ColumnVector ColumnVector::of_numbers(ValueType type, Payloads payloads, size_t rows, const unsigned char* nulls) {
  ColumnVector result;
  const size_t present = std::min(payloads.size(), rows);
  payloads.resize(rows, 0);  // grows only when some rows are NULL
  result.types_.assign(rows, type);
  if (nulls != nullptr) {
    // Each value moves to its row, from the last one down, so none is overwritten before it moved.
    size_t next = present;
    for (size_t row = rows; row-- > 0;) {
      if (bit_set(nulls, row)) {
        payloads[row] = 0;
        result.types_[row] = ValueType::kNull;
        result.types_present_ |= 1u << static_cast<int>(ValueType::kNull);
      } else {
        payloads[row] = next > 0 ? payloads[--next] : 0;
      }
    }
  }
  if (present > 0) result.types_present_ |= 1u << static_cast<int>(type);
  result.payload_ = std::move(payloads);
  return result;
}

void ColumnVector::reserve(size_t rows) {
  if (coded_) expand();
  types_.reserve(rows);
  payload_.reserve(rows);
}

void ColumnVector::clear() {
  types_.clear();
  payload_.clear();
  lengths_.clear();
  bytes_.clear();
  types_present_ = 0;
  coded_ = false;
  codes_.clear();
  dictionary_.reset();
}

void ColumnVector::expand() {
  Codes codes = std::move(codes_);
  std::shared_ptr<const ColumnVector> dictionary = std::move(dictionary_);
  codes_.clear();
  coded_ = false;
  types_.reserve(codes.size());
  payload_.reserve(codes.size());
  for (uint32_t code : codes) append(dictionary->get(code));
}

size_t ColumnVector::memory_bytes() const {
  if (coded_) return codes_.capacity() * sizeof(uint32_t) + dictionary_->memory_bytes();
  return types_.capacity() + payload_.capacity() * sizeof(int64_t) + lengths_.capacity() * sizeof(uint32_t) +
         bytes_.capacity();
}

void ColumnVector::append_real(double value) {
  push(ValueType::kReal, std::bit_cast<int64_t>(value), 0);
}

void ColumnVector::push_bytes(ValueType type, std::string_view value) {
  if (value.size() > UINT32_MAX) throw std::length_error("value larger than 4 GiB");
  if (coded_) expand();  // before taking the offset into bytes_
  push(type, static_cast<int64_t>(bytes_.size()), static_cast<uint32_t>(value.size()));
  bytes_.append(value);
}

ColumnVector ColumnVector::gather(std::span<const uint32_t> rows) const {
  ColumnVector some;
  some.reserve(rows.size());
  for (uint32_t row : rows) some.append(get(row));
  return some;
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

void ColumnVector::append_numbers(ValueType type, const int64_t* payloads, size_t rows, const unsigned char* nulls) {
  if (coded_) expand();
  size_t start = types_.size();
  types_.resize(start + rows, type);
  if (!lengths_.empty()) lengths_.resize(start + rows, 0);
  if (nulls == nullptr) {
    payload_.insert(payload_.end(), payloads, payloads + rows);  // copied once, not zeroed first
    if (rows > 0) types_present_ |= 1u << static_cast<int>(type);
    return;
  }
  payload_.resize(start + rows, 0);
  size_t next = 0;
  for (size_t row = 0; row < rows; ++row) {
    if (bit_set(nulls, row)) {
      types_[start + row] = ValueType::kNull;
      types_present_ |= 1u << static_cast<int>(ValueType::kNull);
    } else {
      payload_[start + row] = payloads[next++];
    }
  }
  if (next > 0) types_present_ |= 1u << static_cast<int>(type);
}

void ColumnVector::append_integers(const int64_t* values, size_t rows, const unsigned char* nulls) {
  append_numbers(ValueType::kInteger, values, rows, nulls);
}

void ColumnVector::append_reals(const double* values, size_t rows, const unsigned char* nulls) {
  // A double's bits are its payload (see append_real).
  static_assert(sizeof(double) == sizeof(int64_t));
  append_numbers(ValueType::kReal, reinterpret_cast<const int64_t*>(values), rows, nulls);
}

}  // namespace strata
