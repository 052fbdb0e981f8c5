#include "vtab/columnar/values.h"

#include <cmath>

#include "ext/sqlite_handles.h"

namespace strata::columnar {

namespace {

// sqlite3VdbeIntegerAffinity: a real becomes an integer when the round trip is exact and the
// integer is not one of the two extremes.
std::optional<int64_t> integral_real(double real) {
  if (std::isnan(real)) return std::nullopt;
  int64_t integer;
  if (real <= -9223372036854775808.0) {
    integer = INT64_MIN;
  } else if (real >= 9223372036854775807.0) {
    integer = INT64_MAX;
  } else {
    integer = static_cast<int64_t>(real);
  }
  if (real == static_cast<double>(integer) && integer > INT64_MIN && integer < INT64_MAX) {
    return integer;
  }
  return std::nullopt;
}

// Numeric affinity on any value: text that looks like a number becomes one; integral reals
// become integers. Other values are returned unchanged.
Value numeric_value(sqlite3_value* value) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_INTEGER: return Value(ValueView::of_integer(sqlite3_value_int64(value)));
    case SQLITE_FLOAT: {
      double real = sqlite3_value_double(value);
      if (std::isnan(real)) return Value();
      if (std::optional<int64_t> integer = integral_real(real)) return Value(ValueView::of_integer(*integer));
      return Value(ValueView::of_real(real));
    }
    case SQLITE_TEXT: {
      // sqlite3_value_numeric_type applies SQLite's own text-to-number rules, on a copy so the
      // caller's value is untouched.
      sqlite3_value* copy = sqlite3_value_dup(value);
      if (copy == nullptr) throw std::bad_alloc();
      Value result;
      switch (sqlite3_value_numeric_type(copy)) {
        case SQLITE_INTEGER: result = Value(ValueView::of_integer(sqlite3_value_int64(copy))); break;
        case SQLITE_FLOAT: {
          double real = sqlite3_value_double(copy);
          if (std::optional<int64_t> integer = integral_real(real)) {
            result = Value(ValueView::of_integer(*integer));
          } else {
            result = Value(ValueView::of_real(real));
          }
          break;
        }
        default: result = Value(ValueView::of_text(value_text(value))); break;
      }
      sqlite3_value_free(copy);
      return result;
    }
    default: return value_from_sqlite(value);
  }
}

}  // namespace

ValueView value_view_of(sqlite3_value* value) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_INTEGER: return ValueView::of_integer(sqlite3_value_int64(value));
    case SQLITE_FLOAT: {
      double real = sqlite3_value_double(value);
      return std::isnan(real) ? ValueView{} : ValueView::of_real(real);
    }
    case SQLITE_TEXT: return ValueView::of_text(value_text(value));
    case SQLITE_BLOB: return ValueView::of_blob(value_blob(value));
    default: return ValueView{};
  }
}

Value value_from_sqlite(sqlite3_value* value) { return Value(value_view_of(value)); }

Value value_with_affinity(sqlite3_value* value, Affinity affinity) {
  switch (affinity) {
    case Affinity::kBlob: return value_from_sqlite(value);
    case Affinity::kText: {
      int type = sqlite3_value_type(value);
      if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
        if (type == SQLITE_FLOAT && std::isnan(sqlite3_value_double(value))) return Value();
        // sqlite3_value_text renders numbers exactly as SQLite's own affinity conversion does.
        sqlite3_value* copy = sqlite3_value_dup(value);
        if (copy == nullptr) throw std::bad_alloc();
        Value text(ValueView::of_text(value_text(copy)));
        sqlite3_value_free(copy);
        return text;
      }
      return value_from_sqlite(value);
    }
    case Affinity::kNumeric:
    case Affinity::kInteger: return numeric_value(value);
    case Affinity::kReal: {
      Value number = numeric_value(value);
      if (number.type == ValueType::kInteger) {
        return Value(ValueView::of_real(static_cast<double>(number.integer)));
      }
      return number;
    }
  }
  return value_from_sqlite(value);
}

void assign_with_affinity(Value& out, sqlite3_value* value, Affinity affinity) {
  // The cases a typical INSERT hits, where the value already has the column's type.
  switch (sqlite3_value_type(value)) {
    case SQLITE_INTEGER:
      if (affinity == Affinity::kInteger || affinity == Affinity::kNumeric || affinity == Affinity::kBlob) {
        out.type = ValueType::kInteger;
        out.integer = sqlite3_value_int64(value);
        out.bytes.clear();
        return;
      }
      break;
    case SQLITE_FLOAT:
      if (affinity == Affinity::kReal || affinity == Affinity::kBlob) {
        double real = sqlite3_value_double(value);
        out.type = std::isnan(real) ? ValueType::kNull : ValueType::kReal;
        // As value_with_affinity: REAL affinity stores an integral real as an integer and reads
        // it back as a real (which turns -0.0 into 0.0).
        if (affinity == Affinity::kReal) {
          if (std::optional<int64_t> integer = integral_real(real)) real = static_cast<double>(*integer);
        }
        out.real = real;
        out.bytes.clear();
        return;
      }
      break;
    case SQLITE_TEXT:
      if (affinity == Affinity::kText || affinity == Affinity::kBlob) {
        out.type = ValueType::kText;
        out.bytes.assign(value_text(value));
        return;
      }
      break;
    case SQLITE_NULL:
      out.type = ValueType::kNull;
      out.bytes.clear();
      return;
    default: break;
  }
  out = value_with_affinity(value, affinity);
}

std::optional<int64_t> integer_under_affinity(sqlite3_value* value) {
  Value number = numeric_value(value);
  if (number.type == ValueType::kInteger) return number.integer;
  return std::nullopt;
}

void set_result(sqlite3_context* context, const ValueView& value) {
  switch (value.type) {
    case ValueType::kNull: sqlite3_result_null(context); break;
    case ValueType::kInteger: sqlite3_result_int64(context, value.integer); break;
    case ValueType::kReal: sqlite3_result_double(context, value.real); break;
    case ValueType::kText:
      sqlite3_result_text64(context, value.bytes.data(), value.bytes.size(), SQLITE_TRANSIENT,
                            SQLITE_UTF8);
      break;
    case ValueType::kBlob:
      sqlite3_result_blob64(context, value.bytes.data(), value.bytes.size(), SQLITE_TRANSIENT);
      break;
  }
}

}  // namespace strata::columnar
