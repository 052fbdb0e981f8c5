// Trailing checksums for the small blobs that drive pruning (zone maps, bloom filters, deletion
// bitmaps; docs/format-columnar.md): the blob's bytes followed by their XXH32 (seed 0) as a
// little-endian u32, as the column chunk blobs carry theirs in the header.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata {

inline constexpr size_t kChecksumBytes = 4;

// `bytes` followed by their checksum.
std::string with_checksum(std::string_view bytes);
// The bytes before a trailing checksum that matches them; nullopt when it does not (or when
// there is no room for one).
std::optional<std::string_view> without_checksum(std::string_view stored);

}  // namespace strata
