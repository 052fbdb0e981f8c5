#include "vtab/hnsw/vector.h"

#include <bit>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "ext/str_cat.h"

namespace strata::hnsw {

std::string_view element_type_name(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return "float";
    case ElementType::kInt8: return "int8";
    case ElementType::kBit: return "bit";
  }
  return "float";
}

size_t vector_bytes(ElementType type, size_t dimensions) {
  switch (type) {
    case ElementType::kFloat32: return dimensions * 4;
    case ElementType::kInt8: return dimensions;
    case ElementType::kBit: return (dimensions + 7) / 8;
  }
  return dimensions * 4;
}

namespace {

// The whitespace JSON allows (sqlite-vec skips the same four before the '[').
bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// sqlite-vec's reading of a JSON vector, for numbers of one kind: whitespace, then '['; then
// numbers as `parse_number` reads them, each followed by any run of whitespace and commas, up to
// a ']' or the end of the text (what follows the ']' is ignored). `parse_number(at, &end)` returns
// false when the number at `at` is out of range, and leaves `end == at` when there is none.
template <class Number, class Parse>
Result<std::vector<Number>> parse_json_numbers(std::string_view who, std::string_view json, std::string_view kind, Parse&& parse_number) {
  const std::string text(json);  // NUL-terminated for strtod/strtol, which stop there anyway
  auto malformed = [&](std::string_view problem) {
    return Status::error(str_cat(who, ": ", problem, "; expected a JSON array of ", kind, " such as '[0.1, 0.2]'"));
  };
  size_t at = 0;
  while (at < text.size() && is_json_space(text[at])) ++at;
  if (at == text.size() || text[at] != '[') return malformed("the vector does not start with '['");
  ++at;
  std::vector<Number> numbers;
  while (at < text.size()) {
    const char* begin = text.c_str() + at;
    char* end = nullptr;
    Number value{};
    if (!parse_number(begin, &end, value)) {
      return malformed(str_cat("the number at offset ", std::to_string(at), " is out of range"));
    }
    if (end == begin) {
      if (*begin == ']') break;
      return malformed(str_cat("no number at offset ", std::to_string(at)));
    }
    numbers.push_back(value);
    at += static_cast<size_t>(end - begin);
    while (at < text.size() && (is_json_space(text[at]) || text[at] == ',')) ++at;
    if (at < text.size() && text[at] == ']') break;
  }
  if (numbers.empty()) return Status::error(str_cat(who, ": a vector needs at least one element, got none"));
  return numbers;
}

}  // namespace

Result<FloatVector> parse_json_vector(std::string_view who, std::string_view json) {
  return parse_json_numbers<float>(who, json, "numbers", [](const char* at, char** end, float& value) {
    errno = 0;
    const double number = std::strtod(at, end);
    // sqlite-vec's limits: an underflow to zero and an overflow of double are errors; a double
    // too large for float32 becomes an infinity.
    if ((errno != 0 && number == 0) || (errno == ERANGE && (number == HUGE_VAL || number == -HUGE_VAL))) return false;
    value = static_cast<float>(number);
    return true;
  });
}

Result<std::vector<int8_t>> parse_json_int8_vector(std::string_view who, std::string_view json) {
  bool in_range = true;
  auto parsed = parse_json_numbers<int8_t>(who, json, "integers from -128 to 127", [&](const char* at, char** end, int8_t& value) {
    errno = 0;
    const long number = std::strtol(at, end, 10);
    if ((errno != 0 && number == 0) || (errno == ERANGE && (number == LONG_MAX || number == LONG_MIN))) return false;
    if (number < INT8_MIN || number > INT8_MAX) {
      in_range = false;
      return false;
    }
    value = static_cast<int8_t>(number);
    return true;
  });
  if (!parsed.is_ok() && !in_range) return Status::error(str_cat(who, ": an element is out of range; int8 vectors hold integers from -128 to 127"));
  return parsed;
}

Result<FloatVector> floats_from_blob(std::string_view who, std::string_view blob) {
  if (blob.size() % 4 != 0) {
    return Status::error(str_cat(who, ": a float32 vector BLOB must be a multiple of 4 bytes long, got ",
                                 std::to_string(blob.size()), " bytes"));
  }
  FloatVector vector(blob.size() / 4);
  for (size_t i = 0; i < vector.size(); ++i) {
    uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) bits |= static_cast<uint32_t>(static_cast<unsigned char>(blob[i * 4 + b])) << (8 * b);
    vector[i] = std::bit_cast<float>(bits);
  }
  return vector;
}

Result<FloatVector> elements_from_blob(std::string_view who, ElementType type, size_t dimensions, std::string_view blob) {
  if (blob.size() != vector_bytes(type, dimensions)) {
    return Status::error(str_cat(who, ": expected ", std::to_string(dimensions), " ",
                                 type == ElementType::kFloat32 ? "float32" : element_type_name(type), " values (",
                                 std::to_string(vector_bytes(type, dimensions)), " bytes), got ", std::to_string(blob.size()),
                                 " bytes"));
  }
  switch (type) {
    case ElementType::kFloat32: {
      STRATA_ASSIGN_OR_RETURN(FloatVector vector, floats_from_blob(who, blob));
      STRATA_RETURN_IF_ERROR(check_finite(who, vector));
      return vector;
    }
    case ElementType::kInt8: {
      FloatVector vector(dimensions);
      for (size_t i = 0; i < dimensions; ++i) vector[i] = static_cast<float>(static_cast<int8_t>(blob[i]));
      return vector;
    }
    case ElementType::kBit: {
      FloatVector vector(dimensions);
      for (size_t i = 0; i < dimensions; ++i) vector[i] = (static_cast<unsigned char>(blob[i / 8]) >> (i % 8)) & 1 ? 1.0f : 0.0f;
      return vector;
    }
  }
  return FloatVector();
}

Status check_elements(std::string_view who, ElementType type, const FloatVector& vector) {
  for (size_t i = 0; i < vector.size(); ++i) {
    float x = vector[i];
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", static_cast<double>(x));
    if (type == ElementType::kInt8 && (x != std::floor(x) || x < -128 || x > 127)) {
      return Status::error(str_cat(who, ": element ", std::to_string(i), " is ", shown,
                                   "; int8 vectors hold integers from -128 to 127"));
    }
    if (type == ElementType::kBit && x != 0 && x != 1) {
      return Status::error(str_cat(who, ": element ", std::to_string(i), " is ", shown, "; bit vectors hold 0 or 1"));
    }
  }
  return Status::ok();
}

std::string elements_blob(ElementType type, const FloatVector& vector) {
  switch (type) {
    case ElementType::kFloat32: return float_blob(vector);
    case ElementType::kInt8: {
      std::string blob(vector.size(), '\0');
      for (size_t i = 0; i < vector.size(); ++i) blob[i] = static_cast<char>(static_cast<int8_t>(vector[i]));
      return blob;
    }
    case ElementType::kBit: return quantize_binary(vector);
  }
  return std::string();
}

Status check_finite(std::string_view who, const FloatVector& vector) {
  for (size_t i = 0; i < vector.size(); ++i) {
    if (!std::isfinite(vector[i])) {
      return Status::error(str_cat(who, ": element ", std::to_string(i), " is ", std::isnan(vector[i]) ? "NaN" : "infinite",
                                   "; vectors must hold finite numbers"));
    }
  }
  return Status::ok();
}

std::string float_blob(const FloatVector& vector) {
  std::string blob(vector.size() * 4, '\0');
  for (size_t i = 0; i < vector.size(); ++i) {
    auto bits = std::bit_cast<uint32_t>(vector[i]);
    for (int b = 0; b < 4; ++b) blob[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  return blob;
}

std::vector<int8_t> quantize_int8_unit(const float* values, size_t n) {
  // sqlite-vec's steps of 2/255 from -1, counted in float32, truncated toward zero and clamped;
  // NaN comes out as 127 there, and so here.
  const float step = 2.0f / 255.0f;
  std::vector<int8_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const double level = (static_cast<double>(values[i]) + 1.0) / step - 128.0;
    const double high = level < 127.0 ? level : 127.0;
    out[i] = static_cast<int8_t>(high > -128.0 ? high : -128.0);
  }
  return out;
}

std::string quantize_binary(const FloatVector& vector) {
  std::string bits((vector.size() + 7) / 8, '\0');
  for (size_t i = 0; i < vector.size(); ++i) {
    if (vector[i] > 0) bits[i / 8] = static_cast<char>(bits[i / 8] | (1 << (i % 8)));
  }
  return bits;
}

void normalize(float* values, size_t n) {
  double squares = 0;
  for (size_t i = 0; i < n; ++i) squares += static_cast<double>(values[i]) * values[i];
  if (squares <= 0) return;
  auto scale = static_cast<float>(1.0 / std::sqrt(squares));
  for (size_t i = 0; i < n; ++i) values[i] *= scale;
}


}  // namespace strata::hnsw
