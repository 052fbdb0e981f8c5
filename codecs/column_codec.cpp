#include "codecs/column_codec.h"

#include <xxhash.h>
#include <zstd.h>

#include <bit>

#include "codecs/byte_io.h"
#include "codecs/codecs.h"
#include "codecs/value_encoding.h"
#include "ext/str_cat.h"

namespace strata {

namespace {

constexpr uint8_t kFlagZstd = 1;
// A header claiming more than this is damage, not data: SQLite blobs are at most 2 GiB.
constexpr uint64_t kMaxRawSize = uint64_t{1} << 31;

Status damaged(std::string_view what) { return codec_damage(what); }

struct ParsedHeader {
  ColumnBlobInfo info;
  std::string_view payload;
};

Result<ParsedHeader> parse_header(std::string_view blob, bool verify_checksum = true) {
  ByteReader reader(blob);
  std::optional<uint8_t> codec = reader.byte();
  std::optional<uint8_t> flags = reader.byte();
  if (!codec || !flags) return damaged("header too short");
  if (*codec < static_cast<uint8_t>(CodecId::kPlain) || *codec > static_cast<uint8_t>(CodecId::kReals)) {
    return damaged(str_cat("unknown codec ", std::to_string(*codec)));
  }
  if ((*flags & ~kFlagZstd) != 0) return damaged(str_cat("unknown flags ", std::to_string(*flags)));
  std::optional<uint64_t> rows = reader.varint();
  std::optional<uint64_t> raw_size = reader.varint();
  std::optional<uint32_t> checksum = reader.fixed32();
  if (!rows || !raw_size || !checksum) return damaged("header too short");
  if (*raw_size > kMaxRawSize) return damaged("implausible size");
  std::string_view payload = reader.rest();
  if (verify_checksum && static_cast<uint32_t>(XXH32(payload.data(), payload.size(), 0)) != *checksum) {
    return damaged("checksum mismatch");
  }
  ParsedHeader header;
  header.info.codec = *codec;
  header.info.zstd = (*flags & kFlagZstd) != 0;
  header.info.rows = *rows;
  header.info.raw_size = *raw_size;
  header.info.stored_size = blob.size();
  header.payload = payload;
  if (verify_checksum && !header.info.zstd && payload.size() != *raw_size) return damaged("size mismatch");
  return header;
}

}  // namespace

std::string encode_column(const ColumnVector& values, const Compression& compression) {
  CodecId codec = choose_codec(analyze_column(values));
  std::string raw = encode_with(codec, values);
  std::string compressed;
  bool use_zstd = false;
  if (compression.zstd && !raw.empty()) {
    compressed.resize(ZSTD_compressBound(raw.size()));
    size_t size = ZSTD_compress(compressed.data(), compressed.size(), raw.data(), raw.size(),
                                compression.level);
    if (!ZSTD_isError(size) && size < raw.size()) {
      compressed.resize(size);
      use_zstd = true;
    }
  }
  const std::string& payload = use_zstd ? compressed : raw;
  std::string blob;
  blob.reserve(payload.size() + 24);
  blob.push_back(static_cast<char>(codec));
  blob.push_back(static_cast<char>(use_zstd ? kFlagZstd : 0));
  put_varint(blob, values.size());
  put_varint(blob, raw.size());
  put_fixed32(blob, static_cast<uint32_t>(XXH32(payload.data(), payload.size(), 0)));
  blob.append(payload);
  return blob;
}

Result<ColumnBlobInfo> inspect_column(std::string_view blob) {
  STRATA_ASSIGN_OR_RETURN(ParsedHeader header, parse_header(blob));
  return header.info;
}

Result<ColumnBlobInfo> inspect_column_prefix(std::string_view prefix, uint64_t stored_size) {
  STRATA_ASSIGN_OR_RETURN(ParsedHeader header, parse_header(prefix, false));
  header.info.stored_size = stored_size;
  return header.info;
}

Result<ColumnVector> decode_column(std::string_view blob, std::optional<uint64_t> expected_rows) {
  STRATA_ASSIGN_OR_RETURN(ParsedHeader header, parse_header(blob));
  if (expected_rows && header.info.rows != *expected_rows) {
    return damaged(str_cat("holds ", std::to_string(header.info.rows), " rows, expected ",
                           std::to_string(*expected_rows)));
  }
  if (header.info.rows > kMaxColumnRows) return damaged("implausible row count");
  auto codec = static_cast<CodecId>(header.info.codec);
  if (!header.info.zstd) return decode_with(codec, header.payload, header.info.rows);
  unsigned long long content_size =
      ZSTD_getFrameContentSize(header.payload.data(), header.payload.size());
  if (content_size == ZSTD_CONTENTSIZE_ERROR || content_size == ZSTD_CONTENTSIZE_UNKNOWN ||
      content_size != header.info.raw_size) {
    return damaged("bad zstd frame");
  }
  // The decompressed bytes live only while they are decoded (the vector copies what it keeps):
  // one buffer per thread, reused, saves a fresh allocation's page faults for every chunk. A
  // buffer beyond kKeptBytes is not kept.
  constexpr size_t kKeptBytes = size_t{16} << 20;
  thread_local std::string kept;
  std::string own;
  const auto raw_size = static_cast<size_t>(header.info.raw_size);
  std::string& buffer = raw_size <= kKeptBytes ? kept : own;
  if (buffer.size() < raw_size) buffer.resize(raw_size);
  size_t size = ZSTD_decompress(buffer.data(), raw_size, header.payload.data(), header.payload.size());
  if (ZSTD_isError(size) || size != raw_size) return damaged("zstd frame does not decompress");
  return decode_with(codec, std::string_view(buffer.data(), raw_size), header.info.rows);
}

Result<std::optional<int64_t>> column_run_start(std::string_view blob, uint64_t expected_rows) {
  STRATA_ASSIGN_OR_RETURN(ParsedHeader header, parse_header(blob));
  if (header.info.rows != expected_rows) {
    return damaged(str_cat("holds ", std::to_string(header.info.rows), " rows, expected ", std::to_string(expected_rows)));
  }
  if (header.info.zstd || static_cast<CodecId>(header.info.codec) != CodecId::kIntegers) return std::optional<int64_t>();
  return integer_run_start(header.payload, expected_rows);
}

std::string encoding_name(const ColumnBlobInfo& info) {
  std::string name(codec_name(static_cast<CodecId>(info.codec)));
  if (info.zstd) name += "+zstd";
  return name;
}

}  // namespace strata
