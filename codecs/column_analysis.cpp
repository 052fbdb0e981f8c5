// Choosing a codec: one pass over the values estimates the encoded size under each codec that
// applies, and the smallest wins (ties go to the simpler one, in CodecId order).
#include <span>
#include <string>
#include <utility>
#include <unordered_set>

#include "codecs/bit_packing.h"
#include "codecs/codecs.h"
#include "codecs/byte_io.h"
#include "codecs/value_encoding.h"

namespace strata {

std::string_view codec_name(CodecId codec) {
  switch (codec) {
    case CodecId::kPlain: return "plain";
    case CodecId::kConstant: return "constant";
    case CodecId::kRunLength: return "rle";
    case CodecId::kDictionary: return "dictionary";
    case CodecId::kIntegers: return "delta-for";
    case CodecId::kReals: return "reals";
  }
  return "unknown";
}

namespace {

// analyze_column for a plain vector of integers or of reals (and NULLs): two values are the
// same when their types and payloads are (a double's payload is its bits), so the pass reads
// the payload array instead of building a view per row.
ColumnAnalysis analyze_numbers(const ColumnVector& values, ValueType type) {
  ColumnAnalysis analysis;
  analysis.rows = values.size();
  const std::span<const int64_t> payloads = values.payloads();
  const bool has_nulls = values.has_nulls();
  const bool integers = type == ValueType::kInteger;
  const size_t rows = payloads.size();
  auto is_null = [&](size_t row) { return has_nulls && values.type(row) == ValueType::kNull; };
  auto value_size = [&](size_t row) -> size_t {
    if (is_null(row)) return 1;
    return integers ? 1 + varint_size(zigzag_encode(payloads[row])) : 9;
  };
  const size_t distinct_limit = std::min<size_t>(rows / 2 + 1, 1 << 16);
  std::unordered_set<int64_t> distinct;
  bool dictionary_possible = true;
  constexpr size_t kSample = 2048;
  if (rows > kSample) {
    size_t step = rows / kSample;
    for (size_t row = 0; row < rows && distinct.size() <= kSample / 2; row += step) distinct.insert(payloads[row]);
    dictionary_possible = distinct.size() <= kSample / 2;
    distinct.clear();
  }
  bool null_seen = false;
  size_t dictionary_entry_bytes = 0;
  size_t nulls = 0;
  for (size_t row = 0; row < rows; ++row) {
    size_t size = value_size(row);
    analysis.plain_bytes += size;
    bool null = is_null(row);
    nulls += null ? 1 : 0;
    if (row == 0 || payloads[row] != payloads[row - 1] || (has_nulls && null != is_null(row - 1))) {
      ++analysis.runs;
      analysis.run_length_bytes += 2 + size;
    }
    if (dictionary_possible) {
      bool added = null ? !std::exchange(null_seen, true) : distinct.insert(payloads[row]).second;
      if (added) {
        dictionary_entry_bytes += size;
        if (distinct.size() + (null_seen ? 1 : 0) > distinct_limit) dictionary_possible = false;
      }
    }
  }
  size_t entries = distinct.size() + (null_seen ? 1 : 0);
  if (dictionary_possible && entries > 0) {
    int width = entries <= 1 ? 0 : bit_width(entries - 1);
    analysis.dictionary_bytes = 4 + dictionary_entry_bytes + 1 + packed_size(rows, width);
  } else {
    analysis.dictionary_bytes = SIZE_MAX;
  }
  if (integers) {
    analysis.integer_bytes = integers_encoded_size(values);
  } else if (rows > 0) {
    analysis.real_bytes = 1 + (nulls ? (rows + 7) / 8 : 0) + (rows - nulls) * 8;
  }
  return analysis;
}

}  // namespace

ColumnAnalysis analyze_column(const ColumnVector& values) {
  if (!values.is_coded() && !values.empty()) {
    if (values.only(ValueType::kInteger)) return analyze_numbers(values, ValueType::kInteger);
    if (values.only(ValueType::kReal)) return analyze_numbers(values, ValueType::kReal);
  }
  ColumnAnalysis analysis;
  analysis.rows = values.size();
  // Dictionaries pay off only for repeated values; past this many distinct ones, stop counting.
  const size_t distinct_limit = std::min<size_t>(values.size() / 2 + 1, 1 << 16);
  std::unordered_set<ValueView, ValueViewHash, ValueViewEqual> distinct;
  size_t dictionary_entry_bytes = 0;
  // A sample first: when most of its values differ, a dictionary cannot win, and counting every
  // distinct value of a high-cardinality column would cost more than encoding it.
  constexpr size_t kSample = 2048;
  if (values.size() > kSample) {
    size_t step = values.size() / kSample;
    for (size_t row = 0; row < values.size() && distinct.size() <= kSample / 2; row += step) {
      distinct.insert(values.get(row));
    }
  }
  bool dictionary_possible = distinct.size() <= kSample / 2;
  distinct.clear();
  for (size_t row = 0; row < values.size(); ++row) {
    ValueView value = values.get(row);
    size_t size = encoded_value_size(value);
    analysis.plain_bytes += size;
    if (row == 0 || !same_value(value, values.get(row - 1))) {
      ++analysis.runs;
      analysis.run_length_bytes += 2 + size;
    }
    if (dictionary_possible) {
      if (distinct.insert(value).second) {
        dictionary_entry_bytes += size;
        if (distinct.size() > distinct_limit) dictionary_possible = false;
      }
    }
  }
  if (dictionary_possible && !distinct.empty()) {
    int width = distinct.size() <= 1 ? 0 : bit_width(distinct.size() - 1);
    analysis.dictionary_bytes = 4 + dictionary_entry_bytes + 1 + packed_size(values.size(), width);
  } else {
    analysis.dictionary_bytes = SIZE_MAX;
  }
  if (integers_apply(values)) analysis.integer_bytes = integers_encoded_size(values);
  if (!values.empty() && reals_apply(values)) {
    size_t nulls = 0;
    for (size_t row = 0; row < values.size(); ++row) nulls += values.type(row) == ValueType::kNull ? 1 : 0;
    analysis.real_bytes = 1 + (nulls ? (values.size() + 7) / 8 : 0) + (values.size() - nulls) * 8;
  }
  return analysis;
}

CodecId choose_codec(const ColumnAnalysis& analysis) {
  if (analysis.rows > 0 && analysis.runs == 1) return CodecId::kConstant;
  CodecId best = CodecId::kPlain;
  size_t best_bytes = analysis.plain_bytes;
  auto consider = [&](CodecId codec, size_t bytes) {
    if (bytes < best_bytes) {
      best = codec;
      best_bytes = bytes;
    }
  };
  consider(CodecId::kRunLength, analysis.run_length_bytes);
  consider(CodecId::kDictionary, analysis.dictionary_bytes);
  consider(CodecId::kIntegers, analysis.integer_bytes);
  consider(CodecId::kReals, analysis.real_bytes);
  return best;
}

std::string encode_with(CodecId codec, const ColumnVector& values) {
  switch (codec) {
    case CodecId::kConstant: return encode_constant(values);
    case CodecId::kRunLength: return encode_run_length(values);
    case CodecId::kDictionary: return encode_dictionary(values);
    case CodecId::kIntegers: return encode_integers(values);
    case CodecId::kReals: return encode_reals(values);
    case CodecId::kPlain: break;
  }
  return encode_plain(values);
}

Result<ColumnVector> decode_with(CodecId codec, std::string_view payload, uint64_t rows) {
  switch (codec) {
    case CodecId::kPlain: return decode_plain(payload, rows);
    case CodecId::kConstant: return decode_constant(payload, rows);
    case CodecId::kRunLength: return decode_run_length(payload, rows);
    case CodecId::kDictionary: return decode_dictionary(payload, rows);
    case CodecId::kIntegers: return decode_integers(payload, rows);
    case CodecId::kReals: return decode_reals(payload, rows);
  }
  return codec_damage("unknown codec");
}

}  // namespace strata
