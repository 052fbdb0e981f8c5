// Decoding the values section of Parquet data and dictionary pages into SQLite-typed values
// (internal to the reader; parquet_reader.h lists the encodings and the type mapping).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/parquet/parquet_reader.h"
#include "ext/status.h"

namespace strata::parquet {

// The non-NULL values of a page or a dictionary, in one of three forms by the leaf's SQLite type.
struct DecodedValues {
  std::vector<int64_t> integers;
  std::vector<double> reals;
  std::vector<std::string_view> bytes;  // into the page, or into one of `arenas`
  // Bytes decoding had to build (unsplit BYTE_STREAM_SPLIT values, DELTA_BYTE_ARRAY values): one
  // block per page, never changed once `bytes` point into it, so a new block moves nothing.
  std::deque<std::string> arenas;

  void clear() {
    integers.clear();
    reals.clear();
    bytes.clear();
    arenas.clear();
  }
  size_t size(ValueType type) const {
    return type == ValueType::kInteger ? integers.size() : type == ValueType::kReal ? reals.size() : bytes.size();
  }
  // Copies the bytes values into one arena block, so they outlive the page they point into.
  void own_bytes();
  // Keeps `block` and returns a view of it that stays valid as long as this object.
  std::string_view keep(std::string block) { return arenas.emplace_back(std::move(block)); }
};

// The `count` dictionary indices of an RLE_DICTIONARY / PLAIN_DICTIONARY page (a bit-width byte,
// then RLE/bit-packed runs), each checked to be below `entries`.
Status decode_dictionary_codes(std::string_view data, size_t count, size_t entries, std::vector<uint32_t>& codes);

// Decodes `count` values of `encoding` from `data` for `leaf`, appending to `out`.
// `dictionary` is needed for the dictionary encodings (an error when absent).
Status decode_page_values(const Leaf& leaf, int32_t encoding, std::string_view data, size_t count,
                          const DecodedValues* dictionary, DecodedValues& out);

// DELTA_BINARY_PACKED: decodes `count` values (wrapping at 32 bits when `int32`), and the bytes
// the encoded block took (data may follow it).
Status decode_delta_binary_packed(std::string_view data, size_t count, bool int32, std::vector<int64_t>& out,
                                  size_t& consumed);

// The SQLite type a leaf's values become, and the reason it cannot be read ("" when it can).
ValueType sqlite_type_of(const SchemaElement& element, std::string& unsupported);

// DECIMAL (logical or converted type), read as value / 10^scale.
bool is_decimal(const SchemaElement& element);
// UINT_8/16/32 (ConvertedType 11..13) stored as INT32, read zero-extended.
bool is_unsigned_int32(const SchemaElement& element);

}  // namespace strata::parquet
