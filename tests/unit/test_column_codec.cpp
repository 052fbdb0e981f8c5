// Column chunk blobs: round trips over random and adversarial values, and damaged input that
// must come back as Status::corruption — never a crash or an out-of-bounds read (the
// sanitizer build runs these too).
#include "codecs/column_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace strata {
namespace {

bool same_value(const ValueView& a, const ValueView& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case ValueType::kNull: return true;
    case ValueType::kInteger: return a.integer == b.integer;
    case ValueType::kReal: return std::bit_cast<uint64_t>(a.real) == std::bit_cast<uint64_t>(b.real);
    default: return a.bytes == b.bytes;
  }
}

void expect_round_trip(const ColumnVector& values, Compression compression) {
  std::string blob = encode_column(values, compression);
  Result<ColumnVector> decoded = decode_column(blob);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  ASSERT_EQ(decoded->size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE(same_value(values.get(i), decoded->get(i))) << "row " << i;
  }
  Result<ColumnBlobInfo> info = inspect_column(blob);
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->rows, values.size());
  EXPECT_EQ(info->stored_size, blob.size());
}

ColumnVector random_values(std::mt19937_64& random, size_t count) {
  ColumnVector values;
  std::uniform_int_distribution<int> kind(0, 9);
  for (size_t i = 0; i < count; ++i) {
    switch (kind(random)) {
      case 0: values.append_null(); break;
      case 1: values.append_integer(static_cast<int64_t>(random())); break;
      case 2: values.append_integer(static_cast<int64_t>(random() % 100) - 50); break;
      case 3: values.append_real(std::bit_cast<double>(random())); break;  // any bits, NaNs too
      case 4: values.append_real(static_cast<double>(random() % 1000) / 8); break;
      case 5: values.append_text(std::string(random() % 20, static_cast<char>('a' + random() % 26))); break;
      case 6: {
        std::string bytes(random() % 64, '\0');
        for (char& c : bytes) c = static_cast<char>(random());
        values.append_blob(bytes);
        break;
      }
      case 7: values.append_text(""); break;
      case 8: values.append_blob(""); break;
      default: values.append_integer(INT64_MIN); break;
    }
  }
  return values;
}

TEST(ColumnCodec, EmptyColumn) {
  expect_round_trip(ColumnVector(), Compression{true, 3});
  expect_round_trip(ColumnVector(), Compression{false, 0});
}

TEST(ColumnCodec, AdversarialValues) {
  ColumnVector values;
  for (int64_t v : {INT64_MIN, INT64_MIN + 1, int64_t{-1}, int64_t{0}, int64_t{1}, INT64_MAX - 1, INT64_MAX}) {
    values.append_integer(v);
  }
  for (double v : {-0.0, 0.0, std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::quiet_NaN()}) {
    values.append_real(v);
  }
  values.append_text("");
  values.append_text(std::string("a\0b", 3));
  values.append_text("é😀");
  values.append_blob("");
  values.append_blob(std::string(1 << 20, '\xff'));  // a 1 MiB blob
  values.append_null();
  expect_round_trip(values, Compression{true, 3});
  expect_round_trip(values, Compression{false, 0});
}

TEST(ColumnCodec, AllEqualAndAlternatingColumnsCompress) {
  ColumnVector equal;
  ColumnVector alternating;
  for (int i = 0; i < 10000; ++i) {
    equal.append_text("same");
    if (i % 2) alternating.append_integer(i); else alternating.append_null();
  }
  expect_round_trip(equal, Compression{true, 3});
  expect_round_trip(alternating, Compression{true, 19});
  Result<ColumnBlobInfo> info = inspect_column(encode_column(equal, Compression{true, 3}));
  ASSERT_TRUE(info.is_ok());
  EXPECT_TRUE(info->zstd);
  EXPECT_LT(info->stored_size, info->raw_size / 10);
  EXPECT_EQ(encoding_name(*info), "plain+zstd");
}

TEST(ColumnCodec, RandomRoundTrips) {
  std::mt19937_64 random(20261121);
  for (int round = 0; round < 200; ++round) {
    ColumnVector values = random_values(random, random() % 300);
    expect_round_trip(values, Compression{round % 2 == 0, 1 + round % 5});
  }
}

TEST(ColumnCodec, EveryTruncationIsAnError) {
  std::mt19937_64 random(7);
  std::string blob = encode_column(random_values(random, 50), Compression{false, 0});
  for (size_t size = 0; size < blob.size(); ++size) {
    Result<ColumnVector> decoded = decode_column(std::string_view(blob).substr(0, size));
    ASSERT_FALSE(decoded.is_ok()) << "truncated to " << size;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  }
}

TEST(ColumnCodec, FlippedBitsAreCaught) {
  std::mt19937_64 random(11);
  for (bool zstd : {false, true}) {
    std::string blob = encode_column(random_values(random, 200), Compression{zstd, 3});
    for (size_t i = 0; i < blob.size(); i += 3) {
      std::string damaged = blob;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << (i % 8)));
      Result<ColumnVector> decoded = decode_column(damaged);
      EXPECT_FALSE(decoded.is_ok()) << "flip at " << i << (zstd ? " (zstd)" : "");
    }
  }
}

// A quick fuzz pass: random garbage, and garbage behind a valid-looking header with a correct
// checksum, must decode to an error or to some values — never crash.
TEST(ColumnCodec, GarbageNeverCrashes) {
  std::mt19937_64 random(99);
  for (int round = 0; round < 3000; ++round) {
    std::string garbage(random() % 80, '\0');
    for (char& c : garbage) c = static_cast<char>(random());
    if (round % 2 == 0 && garbage.size() > 8) {
      // Make the header plausible so the payload parser is exercised too.
      garbage[0] = static_cast<char>(kCodecPlain);
      garbage[1] = static_cast<char>(round % 4 == 0 ? 1 : 0);
    }
    Result<ColumnVector> decoded = decode_column(garbage);
    if (decoded.is_ok()) EXPECT_LE(decoded->size(), garbage.size());
  }
}

}  // namespace
}  // namespace strata
