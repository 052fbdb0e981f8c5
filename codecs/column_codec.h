// Column chunk blobs: how one column of one chunk is stored (docs/format-columnar.md, v1).
//
//   u8     codec      which codec wrote the payload (codecs.h): 1 plain, 2 constant,
//                     3 run-length, 4 dictionary, 5 integers (delta / frame of reference)
//   u8     flags      bit 0: the payload is a zstd frame
//   varint rows       number of values
//   varint raw_size   size of the uncompressed payload
//   u32    checksum   XXH32 (seed 0) of the payload bytes as stored
//   …      payload
//
// The codec is chosen per column chunk by analysing the values (codecs.h); zstd at the table's
// level is applied over the codec's payload when that makes it smaller.
//
// decode_column() validates everything (codec, sizes, checksum, every length against the
// remaining input) and returns Status::corruption for damaged input; it never reads out of
// bounds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "codecs/column_vector.h"
#include "ext/status.h"

namespace strata {

struct Compression {
  bool zstd = true;
  int level = 3;  // zstd level; ignored when !zstd
};

struct ColumnBlobInfo {
  uint8_t codec = 0;
  bool zstd = false;
  uint64_t rows = 0;
  uint64_t raw_size = 0;     // payload bytes before compression
  uint64_t stored_size = 0;  // the whole blob
};

// Encodes `values`; compresses with zstd when asked and when that makes it smaller.
std::string encode_column(const ColumnVector& values, const Compression& compression);

// Decodes a blob written by encode_column, or explains why it cannot. With `expected_rows`
// (the chunk's row count), a header that claims another count is damage, found before any
// allocation; without it, counts above kMaxColumnRows are.
inline constexpr uint64_t kMaxColumnRows = uint64_t{1} << 22;
Result<ColumnVector> decode_column(std::string_view blob, std::optional<uint64_t> expected_rows = std::nullopt);
// The first value of a column blob of integers first, first + 1, … (no NULL) stored as such
// (integer_run_start), found from its header without decoding; nullopt for any other column.
// The header and checksum are validated as decode_column does.
Result<std::optional<int64_t>> column_run_start(std::string_view blob, uint64_t expected_rows);

// Reads and checks the header only (no decompression).
Result<ColumnBlobInfo> inspect_column(std::string_view blob);
// Reads the header from the first bytes of a blob of `stored_size` bytes, without the checksum
// (which needs the whole payload): for listings that must not read every blob in full.
Result<ColumnBlobInfo> inspect_column_prefix(std::string_view prefix, uint64_t stored_size);

// A short name for `info`'s encoding, as columnar_chunks shows it: "dictionary+zstd", "plain" …
std::string encoding_name(const ColumnBlobInfo& info);

}  // namespace strata
