#include "codecs/parquet/compression.h"

#include <brotli/decode.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "codecs/parquet/parquet_format.h"
#include "ext/str_cat.h"

namespace strata::parquet {

namespace {

// A page bigger than this is refused rather than allocated: no writer produces one, and a
// corrupt header must not become a multi-gigabyte allocation.
constexpr size_t kMaxPageBytes = size_t{1} << 30;

Status size_mismatch(std::string_view codec, size_t got, size_t expected) {
  return Status::corruption(str_cat("parquet: a ", codec, " page decompressed to ", std::to_string(got),
                                    " bytes, its header says ", std::to_string(expected)));
}

// A page may hold several gzip members one after the other (as `cat a.gz b.gz` makes, and some
// writers do): each is inflated in turn, as gzip itself reads such a file.
Status inflate_gzip(std::string_view compressed, std::string& out) {
  z_stream stream{};
  // 15 + 32: a zlib or gzip header, detected automatically.
  if (inflateInit2(&stream, 15 + 32) != Z_OK) return Status::no_memory();
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int rc = Z_OK;
  while (true) {
    rc = inflate(&stream, Z_FINISH);
    if (rc != Z_STREAM_END || stream.avail_in == 0) break;
    // Another member follows (trailing zero bytes are padding, not a member).
    bool only_padding = true;
    for (uInt i = 0; i < stream.avail_in && only_padding; ++i) only_padding = stream.next_in[i] == 0;
    if (only_padding || inflateReset(&stream) != Z_OK) break;
  }
  const size_t produced = out.size() - stream.avail_out;
  inflateEnd(&stream);
  if (rc != Z_STREAM_END) {
    if (rc == Z_BUF_ERROR && stream.avail_out == 0) return size_mismatch("GZIP", out.size() + 1, out.size());
    return Status::corruption("parquet: a GZIP page is corrupt");
  }
  if (produced != out.size()) return size_mismatch("GZIP", produced, out.size());
  return Status::ok();
}

// One LZ4 block, which must fill `out` exactly.
bool lz4_block(std::string_view compressed, char* out, size_t size) {
  if (compressed.size() > static_cast<size_t>(INT32_MAX) || size > static_cast<size_t>(INT32_MAX)) return false;
  const int got = LZ4_decompress_safe(compressed.data(), out, static_cast<int>(compressed.size()), static_cast<int>(size));
  return got >= 0 && static_cast<size_t>(got) == size;
}

// The deprecated LZ4 codec: Hadoop's framing (blocks of a big-endian uncompressed size, a
// big-endian compressed size, then the LZ4 block), which parquet-mr wrote; older writers put a
// bare LZ4 block there instead, so that is tried when the framing does not add up.
bool lz4_hadoop(std::string_view compressed, std::string& out) {
  auto big_endian = [](const char* p) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) | (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
           (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) | static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
  };
  size_t produced = 0;
  while (!compressed.empty()) {
    if (compressed.size() < 8) return false;
    const uint32_t raw = big_endian(compressed.data());
    const uint32_t packed = big_endian(compressed.data() + 4);
    compressed.remove_prefix(8);
    if (packed > compressed.size() || raw > out.size() - produced) return false;
    if (!lz4_block(compressed.substr(0, packed), out.data() + produced, raw)) return false;
    produced += raw;
    compressed.remove_prefix(packed);
  }
  return produced == out.size();
}

}  // namespace

Status decompress_page(int32_t codec, std::string_view compressed, size_t uncompressed_size, std::string& out) {
  if (uncompressed_size > kMaxPageBytes) {
    return Status::corruption(str_cat("parquet: a page claims ", std::to_string(uncompressed_size),
                                      " bytes uncompressed, above the 1 GiB strata reads"));
  }
  switch (static_cast<Compression>(codec)) {
    case Compression::kUncompressed:
      if (compressed.size() != uncompressed_size) return size_mismatch("uncompressed", compressed.size(), uncompressed_size);
      out.assign(compressed);
      return Status::ok();
    case Compression::kZstd: {
      out.resize(uncompressed_size);
      if (uncompressed_size == 0 && compressed.empty()) return Status::ok();
      const size_t got = ZSTD_decompress(out.data(), out.size(), compressed.data(), compressed.size());
      if (ZSTD_isError(got)) {
        return Status::corruption(str_cat("parquet: a ZSTD page is corrupt (", ZSTD_getErrorName(got), ")"));
      }
      if (got != uncompressed_size) return size_mismatch("ZSTD", got, uncompressed_size);
      return Status::ok();
    }
    case Compression::kSnappy: {
      if (compressed.empty() && uncompressed_size == 0) {
        out.clear();
        return Status::ok();
      }
      size_t length = 0;
      if (snappy_uncompressed_length(compressed.data(), compressed.size(), &length) != SNAPPY_OK) {
        return Status::corruption("parquet: a SNAPPY page is corrupt");
      }
      if (length != uncompressed_size) return size_mismatch("SNAPPY", length, uncompressed_size);
      out.resize(length);
      if (snappy_uncompress(compressed.data(), compressed.size(), out.data(), &length) != SNAPPY_OK ||
          length != uncompressed_size) {
        return Status::corruption("parquet: a SNAPPY page is corrupt");
      }
      return Status::ok();
    }
    case Compression::kGzip:
      out.resize(uncompressed_size);
      if (compressed.empty() && uncompressed_size == 0) return Status::ok();
      return inflate_gzip(compressed, out);
    case Compression::kLz4Raw:
      out.resize(uncompressed_size);
      if (compressed.empty() && uncompressed_size == 0) return Status::ok();
      if (!lz4_block(compressed, out.data(), out.size())) return Status::corruption("parquet: an LZ4_RAW page is corrupt");
      return Status::ok();
    case Compression::kLz4:
      out.resize(uncompressed_size);
      if (compressed.empty() && uncompressed_size == 0) return Status::ok();
      if (!lz4_hadoop(compressed, out) && !lz4_block(compressed, out.data(), out.size())) {
        return Status::corruption("parquet: an LZ4 page is corrupt");
      }
      return Status::ok();
    case Compression::kBrotli: {
      out.resize(uncompressed_size);
      if (compressed.empty() && uncompressed_size == 0) return Status::ok();
      size_t decoded = out.size();
      if (BrotliDecoderDecompress(compressed.size(), reinterpret_cast<const uint8_t*>(compressed.data()), &decoded,
                                  reinterpret_cast<uint8_t*>(out.data())) != BROTLI_DECODER_RESULT_SUCCESS) {
        return Status::corruption("parquet: a BROTLI page is corrupt, or longer than its header says");
      }
      if (decoded != uncompressed_size) return size_mismatch("BROTLI", decoded, uncompressed_size);
      return Status::ok();
    }
    default:
      return Status::unsupported(str_cat("parquet: pages compressed with ", compression_name(codec),
                                         " are not supported (strata reads UNCOMPRESSED, SNAPPY, GZIP, LZ4, LZ4_RAW,"
                                         " BROTLI and ZSTD)"));
  }
}

struct ZstdCompressor::Context {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~Context() { ZSTD_freeCCtx(cctx); }
};

ZstdCompressor::ZstdCompressor(int level) : context_(std::make_unique<Context>()), level_(level) {}
ZstdCompressor::~ZstdCompressor() = default;

Status ZstdCompressor::compress(std::string_view input, std::string& out) {
  if (context_->cctx == nullptr) return Status::no_memory();
  const size_t start = out.size();
  out.resize(start + ZSTD_compressBound(input.size()));
  const size_t written =
      ZSTD_compressCCtx(context_->cctx, out.data() + start, out.size() - start, input.data(), input.size(), level_);
  if (ZSTD_isError(written)) {
    out.resize(start);
    return Status::internal(str_cat("parquet: zstd compression failed (", ZSTD_getErrorName(written), ")"));
  }
  out.resize(start + written);
  return Status::ok();
}

}  // namespace strata::parquet
