#include "codecs/column_codec.h"

#include <xxhash.h>
#include <zstd.h>

#include <bit>

#include "codecs/byte_io.h"
#include "ext/str_cat.h"

namespace strata {

namespace {

constexpr uint8_t kFlagZstd = 1;
// A header claiming more than this is damage, not data: SQLite blobs are at most 2 GiB.
constexpr uint64_t kMaxRawSize = uint64_t{1} << 31;

std::string encode_plain_payload(const ColumnVector& values) {
  std::string payload;
  payload.reserve(values.size() * 3 + values.byte_size());
  for (size_t row = 0; row < values.size(); ++row) {
    ValueView value = values.get(row);
    payload.push_back(static_cast<char>(value.type));
    switch (value.type) {
      case ValueType::kNull: break;
      case ValueType::kInteger: put_varint(payload, zigzag_encode(value.integer)); break;
      case ValueType::kReal: put_fixed64(payload, std::bit_cast<uint64_t>(value.real)); break;
      case ValueType::kText:
      case ValueType::kBlob:
        put_varint(payload, value.bytes.size());
        payload.append(value.bytes);
        break;
    }
  }
  return payload;
}

Status damaged(std::string_view what) { return Status::corruption(str_cat("column chunk: ", what)); }

Result<ColumnVector> decode_plain_payload(std::string_view payload, uint64_t rows) {
  ColumnVector values;
  // Every value takes at least one byte, so `rows` beyond the payload size is damage.
  if (rows > payload.size()) return damaged("more rows than payload bytes");
  values.reserve(static_cast<size_t>(rows));
  ByteReader reader(payload);
  for (uint64_t row = 0; row < rows; ++row) {
    std::optional<uint8_t> tag = reader.byte();
    if (!tag) return damaged("payload ends early");
    switch (static_cast<ValueType>(*tag)) {
      case ValueType::kNull: values.append_null(); break;
      case ValueType::kInteger: {
        std::optional<uint64_t> encoded = reader.varint();
        if (!encoded) return damaged("bad integer");
        values.append_integer(zigzag_decode(*encoded));
        break;
      }
      case ValueType::kReal: {
        std::optional<uint64_t> bits = reader.fixed64();
        if (!bits) return damaged("bad real");
        values.append_real(std::bit_cast<double>(*bits));
        break;
      }
      case ValueType::kText:
      case ValueType::kBlob: {
        std::optional<uint64_t> length = reader.varint();
        if (!length) return damaged("bad length");
        std::optional<std::string_view> bytes = reader.bytes(*length);
        if (!bytes) return damaged("value runs past the end");
        if (*tag == static_cast<uint8_t>(ValueType::kText)) {
          values.append_text(*bytes);
        } else {
          values.append_blob(*bytes);
        }
        break;
      }
      default:
        return damaged(str_cat("unknown value type ", std::to_string(*tag)));
    }
  }
  if (!reader.at_end()) return damaged("trailing bytes after the last value");
  return values;
}

struct ParsedHeader {
  ColumnBlobInfo info;
  std::string_view payload;
};

Result<ParsedHeader> parse_header(std::string_view blob, bool verify_checksum = true) {
  ByteReader reader(blob);
  std::optional<uint8_t> codec = reader.byte();
  std::optional<uint8_t> flags = reader.byte();
  if (!codec || !flags) return damaged("header too short");
  if (*codec != kCodecPlain) return damaged(str_cat("unknown codec ", std::to_string(*codec)));
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
  std::string raw = encode_plain_payload(values);
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
  blob.push_back(static_cast<char>(kCodecPlain));
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

Result<ColumnVector> decode_column(std::string_view blob) {
  STRATA_ASSIGN_OR_RETURN(ParsedHeader header, parse_header(blob));
  if (!header.info.zstd) return decode_plain_payload(header.payload, header.info.rows);
  unsigned long long content_size =
      ZSTD_getFrameContentSize(header.payload.data(), header.payload.size());
  if (content_size == ZSTD_CONTENTSIZE_ERROR || content_size == ZSTD_CONTENTSIZE_UNKNOWN ||
      content_size != header.info.raw_size) {
    return damaged("bad zstd frame");
  }
  std::string raw(static_cast<size_t>(header.info.raw_size), '\0');
  size_t size = ZSTD_decompress(raw.data(), raw.size(), header.payload.data(), header.payload.size());
  if (ZSTD_isError(size) || size != raw.size()) return damaged("zstd frame does not decompress");
  return decode_plain_payload(raw, header.info.rows);
}

std::string encoding_name(const ColumnBlobInfo& info) {
  std::string name = info.codec == kCodecPlain ? "plain" : "codec" + std::to_string(info.codec);
  if (info.zstd) name += "+zstd";
  return name;
}

}  // namespace strata
