// Digests for object stores: SHA-256 and HMAC-SHA-256 (SigV4), MD5 (S3's ETag and Content-MD5),
// over OpenSSL's EVP interface. Streaming where bodies are uploaded in pieces.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ext/status.h"

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

// A digest fed in pieces (a multipart upload hashes each part as it reads it).
class StreamingDigest {
 public:
  enum class Kind { kSha256, kMd5 };
  explicit StreamingDigest(Kind kind);
  ~StreamingDigest();
  StreamingDigest(const StreamingDigest&) = delete;
  StreamingDigest& operator=(const StreamingDigest&) = delete;
  void update(std::string_view bytes);
  // The digest of everything fed so far (the object is spent afterwards).
  std::string finish_hex();

 private:
  void* context_;  // EVP_MD_CTX
};

}  // namespace strata::tiering
