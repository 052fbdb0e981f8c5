// Fuzz target for every decoder of stored bytes: column chunk blobs, each codec's payload, zone
// maps and bloom filters. Decoding garbage must return an error or values — never crash, hang
// or read out of bounds (run it under AddressSanitizer).
//
// With libFuzzer (clang -fsanitize=fuzzer,address), LLVMFuzzerTestOneInput is the target.
// Built without it (STRATA_FUZZ_DRIVER), main() runs a bounded mutation fuzzer of its own:
// valid encodings of random columns, flipped, truncated, spliced and overwritten, plus random
// bytes. CI runs that for a fixed number of inputs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "codecs/bloom_filter.h"
#include "codecs/codecs.h"
#include "codecs/column_codec.h"
#include "codecs/zone_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)strata::decode_column(bytes);
  (void)strata::decode_column(bytes, size % 97);
  (void)strata::inspect_column(bytes);
  if (!bytes.empty()) {
    // The first byte picks a codec and a row count; the rest is its payload.
    auto codec = static_cast<strata::CodecId>(1 + static_cast<uint8_t>(bytes[0]) % 6);
    (void)strata::decode_with(codec, bytes.substr(1), static_cast<uint8_t>(bytes[0]) / 6 % 64);
  }
  (void)strata::decode_zone_map(bytes);
  strata::Result<strata::BloomFilter> bloom = strata::BloomFilter::from_bytes(bytes);
  if (bloom.is_ok()) (void)bloom->may_contain(strata::ValueView::of_integer(static_cast<int64_t>(size)));
  return 0;
}

#ifdef STRATA_FUZZ_DRIVER
namespace {

strata::ColumnVector random_column(std::mt19937_64& random) {
  strata::ColumnVector values;
  size_t rows = random() % 80;
  int flavour = static_cast<int>(random() % 5);
  for (size_t i = 0; i < rows; ++i) {
    switch (flavour == 4 ? random() % 4 : static_cast<uint64_t>(flavour)) {
      case 0: values.append_integer(static_cast<int64_t>(random() % 1000)); break;
      case 1: values.append_text(std::string(1 + random() % 3, static_cast<char>('a' + random() % 3))); break;
      case 2: values.append_real(static_cast<double>(random() % 100) / 4); break;
      default: values.append_null(); break;
    }
  }
  return values;
}

std::string mutate(std::string input, std::mt19937_64& random) {
  int steps = 1 + static_cast<int>(random() % 4);
  for (int s = 0; s < steps; ++s) {
    switch (random() % 5) {
      case 0:
        if (!input.empty()) input[random() % input.size()] ^= static_cast<char>(1 << (random() % 8));
        break;
      case 1:
        if (!input.empty()) input.resize(random() % input.size());
        break;
      case 2: input.insert(random() % (input.size() + 1), 1, static_cast<char>(random())); break;
      case 3:
        if (!input.empty()) input[random() % input.size()] = static_cast<char>(random() % 2 ? 0xff : 0x80);
        break;
      default: input += input.substr(0, random() % (input.size() + 1)); break;
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = argc > 1 ? std::atol(argv[1]) : 20000;
  uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20261121;
  std::mt19937_64 random(seed);
  for (long i = 0; i < iterations; ++i) {
    std::string input;
    switch (i % 4) {
      case 0: input = strata::encode_column(random_column(random), strata::Compression{random() % 2 == 0, 1}); break;
      case 1: {
        strata::ColumnVector values = random_column(random);
        auto codec = static_cast<strata::CodecId>(1 + random() % 6);
        if (codec == strata::CodecId::kIntegers && !strata::integers_apply(values)) codec = strata::CodecId::kPlain;
        if (codec == strata::CodecId::kReals && !strata::reals_apply(values)) codec = strata::CodecId::kPlain;
        if (codec == strata::CodecId::kConstant) codec = strata::CodecId::kRunLength;
        std::string payload = strata::encode_with(codec, values);
        input = std::string(1, static_cast<char>(static_cast<int>(codec) - 1 + 6 * static_cast<int>(values.size() % 42))) + payload;
        break;
      }
      case 2: input = strata::encode_zone_map(strata::compute_zone_map(random_column(random))); break;
      default:
        input.resize(random() % 96);
        for (char& c : input) c = static_cast<char>(random());
        break;
    }
    if (i % 4 != 3) input = mutate(std::move(input), random);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("fuzz_decoders: %ld inputs, no crash\n", iterations);
  return 0;
}
#endif
