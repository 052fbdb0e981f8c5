#include "codecs/bloom_filter.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "ext/str_cat.h"

namespace strata {

namespace {

constexpr uint32_t kSalt[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                               0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

uint32_t load_word(const std::string& bits, size_t offset) {
  return static_cast<uint32_t>(static_cast<unsigned char>(bits[offset])) |
         static_cast<uint32_t>(static_cast<unsigned char>(bits[offset + 1])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(bits[offset + 2])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(bits[offset + 3])) << 24;
}

void store_word(std::string& bits, size_t offset, uint32_t word) {
  for (int i = 0; i < 4; ++i) bits[offset + i] = static_cast<char>((word >> (8 * i)) & 0xff);
}

size_t block_offset(uint64_t hash, size_t blocks) {
  return static_cast<size_t>(((hash >> 32) * blocks) >> 32) * BloomFilter::kBlockBytes;
}

}  // namespace

BloomFilter::BloomFilter(size_t bytes) : bits_(bytes, '\0') {}

size_t BloomFilter::optimal_bytes(uint64_t distinct, double fpp) {
  if (distinct == 0) return kMinBytes;
  double bits = -8.0 * static_cast<double>(distinct) / std::log(1.0 - std::pow(fpp, 1.0 / 8.0));
  double bytes = std::ceil(bits / 8.0);
  if (!(bytes < static_cast<double>(kMaxBytes))) return kMaxBytes;
  return std::clamp(std::bit_ceil(static_cast<size_t>(bytes)), kMinBytes, kMaxBytes);
}

Result<BloomFilter> BloomFilter::from_bytes(std::string_view bytes) {
  if (bytes.empty() || bytes.size() % kBlockBytes != 0 || bytes.size() > kMaxBytes) {
    return Status::error(str_cat("not a bloom filter: ", std::to_string(bytes.size()),
                                 " bytes is not a positive multiple of 32 bytes up to 128 MiB"));
  }
  BloomFilter filter;
  filter.bits_.assign(bytes);
  return filter;
}

uint64_t BloomFilter::hash_bytes(std::string_view bytes) { return XXH64(bytes.data(), bytes.size(), 0); }

uint64_t BloomFilter::hash(const ValueView& value) {
  unsigned char plain[8];
  uint64_t bits = 0;
  switch (value.type) {
    case ValueType::kInteger: bits = static_cast<uint64_t>(value.integer); break;
    case ValueType::kReal: bits = std::bit_cast<uint64_t>(value.real); break;
    default: return hash_bytes(value.bytes);
  }
  for (int i = 0; i < 8; ++i) plain[i] = static_cast<unsigned char>((bits >> (8 * i)) & 0xff);
  return XXH64(plain, sizeof plain, 0);
}

void BloomFilter::insert_hash(uint64_t hash) {
  size_t offset = block_offset(hash, blocks());
  auto key = static_cast<uint32_t>(hash);
  for (int i = 0; i < 8; ++i) {
    uint32_t mask = uint32_t{1} << ((key * kSalt[i]) >> 27);
    store_word(bits_, offset + 4 * static_cast<size_t>(i), load_word(bits_, offset + 4 * static_cast<size_t>(i)) | mask);
  }
}

bool BloomFilter::may_contain_hash(uint64_t hash) const {
  size_t offset = block_offset(hash, blocks());
  auto key = static_cast<uint32_t>(hash);
  for (int i = 0; i < 8; ++i) {
    uint32_t mask = uint32_t{1} << ((key * kSalt[i]) >> 27);
    if ((load_word(bits_, offset + 4 * static_cast<size_t>(i)) & mask) == 0) return false;
  }
  return true;
}

Status BloomFilter::merge(const BloomFilter& other) {
  if (other.bits_.size() != bits_.size()) {
    return Status::error(str_cat("cannot merge bloom filters of different sizes: ", std::to_string(bits_.size()),
                                 " and ", std::to_string(other.bits_.size()), " bytes"));
  }
  for (size_t i = 0; i < bits_.size(); ++i) bits_[i] = static_cast<char>(bits_[i] | other.bits_[i]);
  return Status::ok();
}

uint64_t BloomFilter::bits_set() const {
  uint64_t count = 0;
  for (char byte : bits_) count += static_cast<uint64_t>(std::popcount(static_cast<unsigned char>(byte)));
  return count;
}

}  // namespace strata
