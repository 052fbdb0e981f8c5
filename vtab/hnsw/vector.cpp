#include "vtab/hnsw/vector.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <bit>
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

Result<FloatVector> parse_json_vector(std::string_view who, std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError()) {
    return Status::error(str_cat(who, ": the vector is not valid JSON (", rapidjson::GetParseError_En(document.GetParseError()),
                                 " at offset ", std::to_string(document.GetErrorOffset()),
                                 "); expected a JSON array of numbers such as '[0.1, 0.2]' or a float32 BLOB"));
  }
  if (!document.IsArray()) {
    return Status::error(str_cat(who, ": the vector must be a JSON array of numbers such as '[0.1, 0.2]' or a float32 BLOB"));
  }
  FloatVector vector;
  vector.reserve(document.Size());
  for (rapidjson::SizeType i = 0; i < document.Size(); ++i) {
    const rapidjson::Value& element = document[i];
    if (!element.IsNumber()) {
      return Status::error(str_cat(who, ": element ", std::to_string(i), " of the JSON vector is not a number"));
    }
    vector.push_back(static_cast<float>(element.GetDouble()));
  }
  STRATA_RETURN_IF_ERROR(check_finite(who, vector));
  return vector;
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
  STRATA_RETURN_IF_ERROR(check_finite(who, vector));
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
    case ElementType::kFloat32: return floats_from_blob(who, blob);
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

std::string to_json(const FloatVector& vector) {
  std::string json = "[";
  char number[32];
  for (size_t i = 0; i < vector.size(); ++i) {
    // %.9g round-trips every float32 exactly.
    std::snprintf(number, sizeof number, "%.9g", static_cast<double>(vector[i]));
    if (i > 0) json += ',';
    json += number;
  }
  json += ']';
  return json;
}

std::vector<int8_t> quantize_int8(const FloatVector& vector) {
  std::vector<int8_t> out(vector.size());
  for (size_t i = 0; i < vector.size(); ++i) {
    float clamped = std::fmin(1.0f, std::fmax(-1.0f, vector[i]));
    out[i] = static_cast<int8_t>(std::lround(clamped * 127.0f));
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

FloatVector normalized(FloatVector vector) {
  normalize(vector.data(), vector.size());
  return vector;
}

}  // namespace strata::hnsw
