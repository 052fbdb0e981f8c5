// dictionary: the distinct values once, then a bit-packed index per row; for low-cardinality
// columns (event types, countries, app versions) of any storage class.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "codecs/bit_packing.h"
#include "codecs/codecs.h"
#include "codecs/value_encoding.h"

namespace strata {

std::string encode_dictionary(const ColumnVector& values) {
  // Entries are told apart by storage class and exact bits/bytes (same_value).
  std::unordered_map<ValueView, uint64_t, ValueViewHash, ValueViewEqual> index_of;
  std::vector<ValueView> entries;
  std::vector<uint64_t> indexes;
  indexes.reserve(values.size());
  for (size_t row = 0; row < values.size(); ++row) {
    ValueView value = values.get(row);
    auto [found, inserted] = index_of.try_emplace(value, entries.size());
    if (inserted) entries.push_back(value);
    indexes.push_back(found->second);
  }
  std::string payload;
  put_varint(payload, entries.size());
  for (const ValueView& entry : entries) put_value(payload, entry);
  int width = entries.size() <= 1 ? 0 : bit_width(entries.size() - 1);
  payload.push_back(static_cast<char>(width));
  pack_bits(indexes, width, payload);
  return payload;
}

Result<ColumnVector> decode_dictionary(std::string_view payload, uint64_t rows) {
  if (rows > (uint64_t{1} << 32)) return codec_damage("implausible row count");
  ByteReader reader(payload);
  std::optional<uint64_t> count = reader.varint();
  if (!count || *count > payload.size()) return codec_damage("malformed dictionary size");
  if (rows > 0 && *count == 0) return codec_damage("empty dictionary for a non-empty column");
  std::vector<ValueView> entries;
  entries.reserve(static_cast<size_t>(*count));
  for (uint64_t i = 0; i < *count; ++i) {
    ValueView entry;
    if (!read_value_view(reader, entry)) return codec_damage("malformed dictionary entry");
    entries.push_back(entry);
  }
  std::optional<uint8_t> width = reader.byte();
  if (!width || *width > 64) return codec_damage("malformed index width");
  if (reader.remaining() != packed_size(static_cast<size_t>(rows), *width)) {
    return codec_damage(reader.remaining() < packed_size(static_cast<size_t>(rows), *width)
                            ? "dictionary indexes run past the end"
                            : "trailing bytes after the dictionary indexes");
  }
  // Decoded coded: the cache then holds 4 bytes a row plus the entries (column_vector.h), the
  // indexes unpacked straight into the codes.
  ColumnVector::Codes codes;
  codes.resize(static_cast<size_t>(rows));
  if (*width <= 32) {
    if (!unpack_bits_into(reader.rest(), codes.size(), *width, codes.data())) return codec_damage("malformed dictionary indexes");
    uint32_t largest = 0;
    for (uint32_t code : codes) largest = std::max(largest, code);
    if (!codes.empty() && largest >= entries.size()) return codec_damage("dictionary index out of range");
  } else {
    // Wider than any index strata writes; read as written.
    std::optional<std::vector<uint64_t>> indexes = unpack_bits(reader.rest(), codes.size(), *width);
    if (!indexes) return codec_damage("dictionary indexes run past the end");
    for (size_t i = 0; i < codes.size(); ++i) {
      if ((*indexes)[i] >= entries.size()) return codec_damage("dictionary index out of range");
      codes[i] = static_cast<uint32_t>((*indexes)[i]);
    }
  }
  ColumnVector dictionary;
  dictionary.reserve(entries.size());
  for (const ValueView& entry : entries) dictionary.append(entry);
  return ColumnVector::coded(std::move(dictionary), std::move(codes));
}

}  // namespace strata
