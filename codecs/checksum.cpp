#include "codecs/checksum.h"

#include <xxhash.h>

#include "codecs/byte_io.h"

namespace strata {

std::string with_checksum(std::string_view bytes) {
  std::string stored(bytes);
  put_fixed32(stored, static_cast<uint32_t>(XXH32(bytes.data(), bytes.size(), 0)));
  return stored;
}

std::optional<std::string_view> without_checksum(std::string_view stored) {
  if (stored.size() < kChecksumBytes) return std::nullopt;
  std::string_view bytes = stored.substr(0, stored.size() - kChecksumBytes);
  ByteReader trailer(stored.substr(bytes.size()));
  std::optional<uint32_t> checksum = trailer.fixed32();
  if (!checksum || *checksum != static_cast<uint32_t>(XXH32(bytes.data(), bytes.size(), 0))) return std::nullopt;
  return bytes;
}

}  // namespace strata
