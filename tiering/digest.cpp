#include "tiering/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace strata::tiering {

namespace {

template <size_t N>
std::array<uint8_t, N> digest(const EVP_MD* algorithm, std::string_view bytes) {
  std::array<uint8_t, N> out{};
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), out.data(), &size, algorithm, nullptr);
  return out;
}

}  // namespace

Sha256 sha256(std::string_view bytes) { return digest<32>(EVP_sha256(), bytes); }
Md5 md5(std::string_view bytes) { return digest<16>(EVP_md5(), bytes); }

Sha256 hmac_sha256(std::string_view key, std::string_view message) {
  Sha256 out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
       &size);
  return out;
}

std::string hex(const uint8_t* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

std::string base64(const uint8_t* bytes, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes, static_cast<int>(size));
  out.resize(static_cast<size_t>(written));
  return out;
}

}  // namespace strata::tiering
