// Digests over OpenSSL's EVP interface: SHA-256 and HMAC-SHA-256 (SigV4), MD5 (S3's ETag and
// Content-MD5; the sqllogictest runner's result hashes). Its own library (strata_digest) so that
// test tools use it without the extension.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace strata::tiering {

using Sha256 = std::array<uint8_t, 32>;
using Md5 = std::array<uint8_t, 16>;

Sha256 sha256(std::string_view bytes);
Sha256 hmac_sha256(std::string_view key, std::string_view message);
Md5 md5(std::string_view bytes);

std::string hex(const uint8_t* bytes, size_t size);
template <size_t N>
std::string hex(const std::array<uint8_t, N>& bytes) {
  return hex(bytes.data(), N);
}
std::string base64(const uint8_t* bytes, size_t size);
template <size_t N>
std::string base64(const std::array<uint8_t, N>& bytes) {
  return base64(bytes.data(), N);
}

}  // namespace strata::tiering
