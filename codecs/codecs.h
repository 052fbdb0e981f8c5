// The column codecs (docs/format-columnar.md, "Codecs"): one file each, with the same three
// parts — when it applies (from an Analysis of the values), encode, decode. Every decoder
// validates its input completely and returns Status::corruption on damage.
//
//   id  codec        payload
//   1   plain        every value in the plain value encoding (value_encoding.h)
//   2   constant     one plain value: every row holds it
//   3   run-length   (varint run length, plain value)* covering every row
//   4   dictionary   varint entries, the entries as plain values, u8 width, bit-packed indexes
//   5   integers     u8 flags (1: null bitmap follows, 2: deltas), [null bitmap],
//                    varint count of non-null values, zigzag varint base, [zigzag varint
//                    smallest delta], u8 width, bit-packed offsets (frame of reference)
//   6   reals        u8 flags (1: null bitmap follows), [null bitmap], the non-NULL values as
//                    8-byte little-endian IEEE 754 doubles
//
// Any mix of storage classes round-trips through plain, constant, run-length and dictionary;
// integers takes columns whose values are all integers or NULL, reals those all reals or NULL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "codecs/column_vector.h"
#include "ext/status.h"

namespace strata {

enum class CodecId : uint8_t {
  kPlain = 1, kConstant = 2, kRunLength = 3, kDictionary = 4, kIntegers = 5, kReals = 6
};

std::string_view codec_name(CodecId codec);

// What the codecs need to know about a column's values to choose among themselves.
struct ColumnAnalysis {
  size_t rows = 0;
  size_t plain_bytes = 0;       // encoded size under plain
  size_t runs = 0;              // maximal runs of equal values
  size_t run_length_bytes = 0;  // encoded size under run-length
  size_t dictionary_bytes = 0;  // encoded size under dictionary; SIZE_MAX when too many distinct
  size_t integer_bytes = SIZE_MAX;  // encoded size under integers; SIZE_MAX when not applicable
  size_t real_bytes = SIZE_MAX;     // encoded size under reals; SIZE_MAX when not applicable
};

ColumnAnalysis analyze_column(const ColumnVector& values);

// The codec with the smallest encoding for `analysis`.
CodecId choose_codec(const ColumnAnalysis& analysis);

std::string encode_with(CodecId codec, const ColumnVector& values);
Result<ColumnVector> decode_with(CodecId codec, std::string_view payload, uint64_t rows);

// Per codec.
std::string encode_plain(const ColumnVector& values);
Result<ColumnVector> decode_plain(std::string_view payload, uint64_t rows);

std::string encode_constant(const ColumnVector& values);  // values must all be the same
Result<ColumnVector> decode_constant(std::string_view payload, uint64_t rows);

std::string encode_run_length(const ColumnVector& values);
Result<ColumnVector> decode_run_length(std::string_view payload, uint64_t rows);

std::string encode_dictionary(const ColumnVector& values);
Result<ColumnVector> decode_dictionary(std::string_view payload, uint64_t rows);

// Applies when every value is an integer or NULL.
bool integers_apply(const ColumnVector& values);
size_t integers_encoded_size(const ColumnVector& values);
std::string encode_integers(const ColumnVector& values);
Result<ColumnVector> decode_integers(std::string_view payload, uint64_t rows);
// The first value when the integers payload holds `rows` values first, first + 1, … with no
// NULL (deltas of exactly 1, nothing packed), read without decoding; nullopt otherwise.
std::optional<int64_t> integer_run_start(std::string_view payload, uint64_t rows);

// Applies when every value is a real or NULL.
bool reals_apply(const ColumnVector& values);
std::string encode_reals(const ColumnVector& values);
Result<ColumnVector> decode_reals(std::string_view payload, uint64_t rows);

}  // namespace strata
