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

// Reads a JSON vector as sqlite-vec 0.1.9 does, so that what vec0 takes strata takes: '[' after
// optional whitespace, numbers (as strtod reads them: "1e3", ".5", "inf" and "nan" included)
// separated by commas and/or whitespace, up to ']' or the end of the text; at least one number.
// Doubles beyond float32 become infinities; callers that need finite numbers check. `who`
// starts the error messages.
Result<FloatVector> parse_json_vector(std::string_view who, std::string_view json);
// The same for int8 vectors: base-10 integers from -128 to 127 (strtol's reading).
Result<std::vector<int8_t>> parse_json_int8_vector(std::string_view who, std::string_view json);

// Reads a float32 BLOB (its size must be a multiple of 4); any float, NaN included.
Result<FloatVector> floats_from_blob(std::string_view who, std::string_view blob);

// A vector of `type` from its BLOB form (which must be vector_bytes(type, dimensions) long) as
// floats: int8 elements as their values, bits as 0 and 1; float32 elements must be finite.
Result<FloatVector> elements_from_blob(std::string_view who, ElementType type, size_t dimensions, std::string_view blob);
// Checks that JSON-given elements fit `type` (int8: integers from -128 to 127; bit: 0 or 1).
Status check_elements(std::string_view who, ElementType type, const FloatVector& vector);
// The BLOB form of a vector of `type` (whose elements check_elements accepted).
std::string elements_blob(ElementType type, const FloatVector& vector);

// Checks every element is finite (NaN and infinities have no place in a distance).
Status check_finite(std::string_view who, const FloatVector& vector);

std::string float_blob(const FloatVector& vector);

// sqlite-vec's "unit" int8 quantization: [-1, 1] in 255 steps onto -128..127, truncated toward
// zero, out-of-range values clamped (1.0 gives 126, 2.0 gives 127; NaN gives 127).
std::vector<int8_t> quantize_int8_unit(const float* values, size_t n);
// One bit per element, set when the element is > 0.
std::string quantize_binary(const FloatVector& vector);

// Scales n floats to length 1 in place (all zeros stay zeros).
void normalize(float* values, size_t n);

}  // namespace strata::hnsw
