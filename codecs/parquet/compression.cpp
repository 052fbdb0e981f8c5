#include "codecs/parquet/compression.h"

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

Status inflate_gzip(std::string_view compressed, std::string& out) {
  z_stream stream{};
  // 15 + 32: a zlib or gzip header, detected automatically.
  if (inflateInit2(&stream, 15 + 32) != Z_OK) return Status::no_memory();
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&stream, Z_FINISH);
  const size_t produced = out.size() - stream.avail_out;
  inflateEnd(&stream);
  if (rc != Z_STREAM_END) {
    if (rc == Z_BUF_ERROR && stream.avail_out == 0) return size_mismatch("GZIP", out.size() + 1, out.size());
    return Status::corruption("parquet: a GZIP page is corrupt");
  }
  if (produced != out.size()) return size_mismatch("GZIP", produced, out.size());
  return Status::ok();
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
    default:
      return Status::unsupported(str_cat("parquet: pages compressed with ", compression_name(codec),
                                         " are not supported (strata reads UNCOMPRESSED, SNAPPY, GZIP and ZSTD)"));
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
