// Vectors as SQL values: parsing, checking and formatting, shared by the hnsw table and the
// vec_* functions (docs/hnsw.md).
//
// A float32 vector is a BLOB of little-endian IEEE 754 floats (4 bytes per element, sqlite-vec's
// layout) or JSON text '[1, 2.5, …]'. An int8 vector is a BLOB of one signed byte per element or
// JSON integers from -128 to 127. A bit vector is a BLOB of ceil(N / 8) bytes, element i being
// bit i % 8 (least significant first) of byte i / 8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ext/status.h"

namespace strata::hnsw {

enum class ElementType { kFloat32, kInt8, kBit };

inline constexpr size_t kMaxDimensions = 8192;

std::string_view element_type_name(ElementType type);  // "float", "int8", "bit"

// The bytes a BLOB of `dimensions` elements takes.
size_t vector_bytes(ElementType type, size_t dimensions);

// A vector's elements as floats (int8 elements as their values, bits as 0 and 1).
using FloatVector = std::vector<float>;

// Parses JSON text holding an array of numbers. `who` starts the error messages.
Result<FloatVector> parse_json_vector(std::string_view who, std::string_view json);

// Reads a float32 BLOB (its size must be a multiple of 4).
Result<FloatVector> floats_from_blob(std::string_view who, std::string_view blob);

// A vector of `type` from its BLOB form (which must be vector_bytes(type, dimensions) long) as
// floats: int8 elements as their values, bits as 0 and 1.
Result<FloatVector> elements_from_blob(std::string_view who, ElementType type, size_t dimensions, std::string_view blob);
// Checks that JSON-given elements fit `type` (int8: integers from -128 to 127; bit: 0 or 1).
Status check_elements(std::string_view who, ElementType type, const FloatVector& vector);
// The BLOB form of a vector of `type` (whose elements check_elements accepted).
std::string elements_blob(ElementType type, const FloatVector& vector);

// Checks every element is finite (NaN and infinities have no place in a distance).
Status check_finite(std::string_view who, const FloatVector& vector);

std::string float_blob(const FloatVector& vector);
std::string to_json(const FloatVector& vector);

// sqlite-vec's "unit" int8 quantization: each element clamped to [-1, 1] and scaled to
// [-127, 127], rounding to nearest.
std::vector<int8_t> quantize_int8(const FloatVector& vector);
// One bit per element, set when the element is > 0.
std::string quantize_binary(const FloatVector& vector);

// Scales n floats to length 1 in place (all zeros stay zeros); normalized() on a copy.
void normalize(float* values, size_t n);
FloatVector normalized(FloatVector vector);

}  // namespace strata::hnsw
