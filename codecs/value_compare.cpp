#include "codecs/value_compare.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "codecs/value_encoding.h"

namespace strata {

namespace {

int storage_rank(ValueType type) {
  switch (type) {
    case ValueType::kNull: return 0;
    case ValueType::kInteger:
    case ValueType::kReal: return 1;
    case ValueType::kText: return 2;
    case ValueType::kBlob: return 3;
  }
  return 4;
}

int memcmp_then_length(std::string_view a, std::string_view b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

unsigned char fold(unsigned char c) { return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c; }

// NOCASE folds ASCII letters only, as SQLite's does.
int compare_nocase(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int c = fold(static_cast<unsigned char>(a[i])) - fold(static_cast<unsigned char>(b[i]));
    if (c != 0) return c;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

std::string_view rtrim(std::string_view text) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// Exactly, as sqlite3IntFloatCompare: an 80-bit long double holds every int64.
int compare_integer_real(int64_t i, double r) {
  long double x = static_cast<long double>(i);
  long double y = static_cast<long double>(r);
  return x < y ? -1 : (x > y ? 1 : 0);
}

}  // namespace

int compare_values(const ValueView& a, const ValueView& b, Collation collation) {
  int rank_a = storage_rank(a.type);
  int rank_b = storage_rank(b.type);
  if (rank_a != rank_b) return rank_a < rank_b ? -1 : 1;
  switch (rank_a) {
    case 0: return 0;
    case 1:
      if (a.type == ValueType::kInteger && b.type == ValueType::kInteger) {
        return a.integer < b.integer ? -1 : (a.integer > b.integer ? 1 : 0);
      }
      if (a.type == ValueType::kReal && b.type == ValueType::kReal) {
        return a.real < b.real ? -1 : (a.real > b.real ? 1 : 0);
      }
      if (a.type == ValueType::kInteger) return compare_integer_real(a.integer, b.real);
      return -compare_integer_real(b.integer, a.real);
    case 2:
      switch (collation) {
        case Collation::kNoCase: return compare_nocase(a.bytes, b.bytes);
        case Collation::kRtrim: return memcmp_then_length(rtrim(a.bytes), rtrim(b.bytes));
        case Collation::kBinary: break;
      }
      return memcmp_then_length(a.bytes, b.bytes);
    default: return memcmp_then_length(a.bytes, b.bytes);
  }
}

std::string equality_key(const ValueView& value, Collation collation) {
  std::string out;
  // Every double in [-2^63, 2^63) with no fraction is exactly one int64, which compares equal.
  if (value.type == ValueType::kReal && value.real == std::floor(value.real) && value.real >= -9223372036854775808.0 &&
      value.real < 9223372036854775808.0) {
    put_value(out, ValueView::of_integer(static_cast<int64_t>(value.real)));
    return out;
  }
  if (value.type != ValueType::kText || collation == Collation::kBinary) {
    put_value(out, value);
    return out;
  }
  std::string text(collation == Collation::kRtrim ? rtrim(value.bytes) : value.bytes);
  if (collation == Collation::kNoCase) {
    for (char& c : text) c = static_cast<char>(fold(static_cast<unsigned char>(c)));
  }
  put_value(out, ValueView::of_text(text));
  return out;
}

}  // namespace strata
