// Little-endian fixed-width and LEB128 varint reading/writing over byte strings.
//
// ByteReader never reads past its end: every read reports failure instead, so decoders built on
// it turn truncated or garbage input into an error, never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

inline void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Bytes put_varint writes for `value`.
inline size_t varint_size(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

inline uint64_t zigzag_encode(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
}

inline int64_t zigzag_decode(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

// Little-endian, in one append (a push_back per byte costs a capacity check each: this runs for
// every value a codec or the Parquet writer stores plainly).
inline void put_fixed64(std::string& out, uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.append(bytes, 8);
}

inline void put_fixed32(std::string& out, uint32_t value) {
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.append(bytes, 4);
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool at_end() const { return pos_ == data_.size(); }

  std::optional<uint8_t> byte() {
    if (pos_ >= data_.size()) return std::nullopt;
    return static_cast<uint8_t>(data_[pos_++]);
  }

  std::optional<uint64_t> varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return std::nullopt;
      auto b = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && b > 1) return std::nullopt;  // more than 64 bits
      value |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return value;
    }
    return std::nullopt;
  }

  std::optional<uint64_t> fixed64() { return little_endian(8); }
  std::optional<uint32_t> fixed32() {
    std::optional<uint64_t> value = little_endian(4);
    if (!value) return std::nullopt;
    return static_cast<uint32_t>(*value);
  }

  std::optional<std::string_view> bytes(uint64_t count) {
    if (count > remaining()) return std::nullopt;
    std::string_view view = data_.substr(pos_, static_cast<size_t>(count));
    pos_ += static_cast<size_t>(count);
    return view;
  }

  std::string_view rest() const { return data_.substr(pos_); }

 private:
  std::optional<uint64_t> little_endian(size_t width) {
    if (remaining() < width) return std::nullopt;
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) {
      value |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += width;
    return value;
  }

  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace strata
