// Page compression for Parquet: strata writes zstd (or nothing); it reads zstd, snappy, gzip,
// LZ4 (Hadoop-framed or bare), LZ4_RAW, brotli and uncompressed pages. LZO is an error naming
// the codec.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ext/status.h"

namespace strata::parquet {

// Decompresses one page body of `codec` (CompressionCodec) that must come out at exactly
// `uncompressed_size` bytes, replacing `out`.
Status decompress_page(int32_t codec, std::string_view compressed, size_t uncompressed_size, std::string& out);

// A reusable zstd compression context (one per writer).
class ZstdCompressor {
 public:
  explicit ZstdCompressor(int level);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // Appends the zstd frame of `input` to `out`.
  Status compress(std::string_view input, std::string& out);

 private:
  struct Context;
  std::unique_ptr<Context> context_;
  int level_;
};

}  // namespace strata::parquet
