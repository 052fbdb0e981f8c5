// Choosing a codec: one pass over the values estimates the encoded size under each codec that
// applies, and the smallest wins (ties go to the simpler one, in CodecId order).
#include <string>
#include <unordered_set>

#include "codecs/bit_packing.h"
#include "codecs/codecs.h"
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

ColumnAnalysis analyze_column(const ColumnVector& values) {
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
