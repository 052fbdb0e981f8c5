// Column chunk blobs: round trips over random and adversarial values, and damaged input that
// must come back as Status::corruption — never a crash or an out-of-bounds read (the
// sanitizer build runs these too).
#include "ext/str_cat.h"
#include "codecs/column_codec.h"
#include "codecs/codecs.h"
#include "codecs/value_compare.h"
#include "codecs/value_encoding.h"
#include "codecs/zone_map.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace strata {
namespace {


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

CodecId codec_of(const ColumnVector& values) {
  Result<ColumnBlobInfo> info = inspect_column(encode_column(values, Compression{false, 0}));
  EXPECT_TRUE(info.is_ok());
  return static_cast<CodecId>(info->codec);
}

TEST(ColumnCodec, AnalysisPicksTheCodecTheDataCallsFor) {
  ColumnVector constant, runs, low_cardinality, timestamps, mixed, reals;
  for (int i = 0; i < 10000; ++i) {
    constant.append_text("same");
    runs.append_text(i < 5000 ? "2024-01-01" : "2024-01-02");
    static const char* const kTypes[] = {"click", "view", "purchase", "signup"};
    low_cardinality.append_text(kTypes[(i * 7919) % 4]);
    timestamps.append_integer(1700000000000 + int64_t{i} * 100);
    if (i % 3 == 0) mixed.append_text(strata::str_cat("t", std::to_string(i))); else mixed.append_real(i * 0.37);
    if (i % 7 == 0) reals.append_null(); else reals.append_real(i * 0.37);
  }
  EXPECT_EQ(codec_of(constant), CodecId::kConstant);
  EXPECT_EQ(codec_of(runs), CodecId::kRunLength);
  EXPECT_EQ(codec_of(low_cardinality), CodecId::kDictionary);
  EXPECT_EQ(codec_of(timestamps), CodecId::kIntegers);
  EXPECT_EQ(codec_of(mixed), CodecId::kPlain);
  EXPECT_EQ(codec_of(reals), CodecId::kReals);
  // 10,000 timestamps 100 apart: 7 bits each, not 64.
  Result<ColumnBlobInfo> info = inspect_column(encode_column(timestamps, Compression{false, 0}));
  EXPECT_LT(info->raw_size, 10000u);
  for (const ColumnVector* values : {&constant, &runs, &low_cardinality, &timestamps, &mixed, &reals}) {
    expect_round_trip(*values, Compression{true, 3});
  }
}

// Every codec that applies, forced, on random and adversarial columns.
TEST(ColumnCodec, EveryCodecRoundTripsWhatItApplies) {
  std::mt19937_64 random(42);
  std::vector<ColumnVector> columns;
  for (int round = 0; round < 60; ++round) columns.push_back(random_values(random, random() % 200));
  ColumnVector extremes;  // deltas between these overflow int64 unless computed with wrapping
  for (int64_t v : {INT64_MIN, INT64_MAX, INT64_MIN, int64_t{0}, INT64_MAX, int64_t{-1}}) extremes.append_integer(v);
  extremes.append_null();
  columns.push_back(extremes);
  ColumnVector all_null;
  for (int i = 0; i < 9; ++i) all_null.append_null();
  columns.push_back(all_null);
  for (int round = 0; round < 20; ++round) {
    ColumnVector reals;
    for (size_t i = 0, n = random() % 100; i < n; ++i) {
      if (random() % 8 == 0) reals.append_null(); else reals.append_real(std::bit_cast<double>(random()));
    }
    columns.push_back(reals);
  }
  for (int round = 0; round < 40; ++round) {
    ColumnVector integers;
    int64_t base = static_cast<int64_t>(random());
    for (size_t i = 0, n = random() % 300; i < n; ++i) {
      if (random() % 10 == 0) integers.append_null();
      else integers.append_integer(round % 2 ? base + static_cast<int64_t>(i * (random() % 5)) : static_cast<int64_t>(random()));
    }
    columns.push_back(integers);
  }
  for (const ColumnVector& values : columns) {
    std::vector<CodecId> codecs = {CodecId::kPlain, CodecId::kRunLength, CodecId::kDictionary};
    if (integers_apply(values)) codecs.push_back(CodecId::kIntegers);
    if (reals_apply(values)) codecs.push_back(CodecId::kReals);
    bool all_same = true;
    for (size_t i = 1; i < values.size(); ++i) all_same &= same_value(values.get(i), values.get(0));
    if (all_same) codecs.push_back(CodecId::kConstant);
    for (CodecId codec : codecs) {
      std::string payload = encode_with(codec, values);
      Result<ColumnVector> decoded = decode_with(codec, payload, values.size());
      ASSERT_TRUE(decoded.is_ok()) << codec_name(codec) << ": " << decoded.status().message();
      ASSERT_EQ(decoded->size(), values.size()) << codec_name(codec);
      for (size_t i = 0; i < values.size(); ++i) {
        ASSERT_TRUE(same_value(values.get(i), decoded->get(i))) << codec_name(codec) << " row " << i;
      }
      // A wrong row count is an error for codecs whose payload implies one (dictionary and
      // constant payloads do not; the blob header's count, checked against the chunk's by
      // decode_column, covers them). Every truncation is an error for every codec.
      if (codec != CodecId::kDictionary && codec != CodecId::kConstant) {
        EXPECT_FALSE(decode_with(codec, payload, values.size() + 1).is_ok()) << codec_name(codec);
      }
      for (size_t size = 0; size + 1 < payload.size(); size += 1 + payload.size() / 16) {
        EXPECT_FALSE(decode_with(codec, std::string_view(payload).substr(0, size), values.size()).is_ok())
            << codec_name(codec) << " truncated to " << size;
      }
    }
  }
}

void expect_same_values(const ColumnVector& expected, const ColumnVector& actual) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(actual.type(i), expected.type(i)) << "row " << i;
    ASSERT_TRUE(same_value(expected.get(i), actual.get(i))) << "row " << i;
    if (expected.type(i) == ValueType::kInteger) {
      ASSERT_EQ(actual.integer(i), expected.integer(i)) << "row " << i;
    }
  }
}

TEST(ColumnVector, MixedTypesKeepTheirLengthsWhateverCameFirst) {
  ColumnVector values;
  values.append_integer(7);
  values.append_null();
  values.append_real(2.5);
  values.append_text("abc");  // the first text after numbers: lengths start here
  values.append_integer(-1);
  values.append_blob(std::string("\0x\0", 3));
  values.append_text("");
  ASSERT_EQ(values.size(), 7u);
  EXPECT_EQ(values.get(0).integer, 7);
  EXPECT_EQ(values.type(1), ValueType::kNull);
  EXPECT_EQ(values.get(2).real, 2.5);
  EXPECT_EQ(values.get(3).bytes, "abc");
  EXPECT_EQ(values.get(4).integer, -1);
  EXPECT_EQ(values.get(5).bytes, std::string_view("\0x\0", 3));
  EXPECT_EQ(values.get(6).type, ValueType::kText);
  EXPECT_EQ(values.get(6).bytes, "");
  ColumnVector numbers;
  for (int i = 0; i < 1000; ++i) numbers.append_integer(i);
  EXPECT_LT(numbers.memory_bytes(), 1000u * 10);  // a tag and a payload; no length per number
}

TEST(ColumnVector, DictionaryColumnsDecodeCodedAndReadAsPlain) {
  static const char* const kTypes[] = {"click", "view", "purchase", "signup"};
  ColumnVector plain;
  for (int i = 0; i < 5000; ++i) {
    if (i % 97 == 0) plain.append_null(); else if (i % 89 == 0) plain.append_integer(i % 3); else plain.append_text(kTypes[(i * 7919) % 4]);
  }
  std::string payload = encode_with(CodecId::kDictionary, plain);
  Result<ColumnVector> decoded = decode_with(CodecId::kDictionary, payload, plain.size());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  ASSERT_TRUE(decoded->is_coded());
  expect_same_values(plain, *decoded);
  EXPECT_EQ(decoded->byte_size(), decoded->dictionary().byte_size());
  for (size_t i = 0; i < plain.size(); ++i) {
    ASSERT_TRUE(same_value(decoded->dictionary().get(decoded->code(i)), plain.get(i)));
  }
  // Four bytes a row in the cache, against tag + payload + length + bytes.
  EXPECT_LT(decoded->memory_bytes() * 2, plain.memory_bytes());

  // Re-encoding a coded vector (chunk merges do) gives the same values back.
  std::string blob = encode_column(*decoded, Compression{});
  Result<ColumnVector> again = decode_column(blob);
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  expect_same_values(plain, *again);

  // Appending to a coded vector expands it first; text offsets then point at the right bytes.
  for (auto append : {+[](ColumnVector& v) { v.append_text("new"); }, +[](ColumnVector& v) { v.append_integer(42); },
                      +[](ColumnVector& v) { v.append_null(); }, +[](ColumnVector& v) { v.append_real(0.5); },
                      +[](ColumnVector& v) { int64_t x[] = {1, 2}; v.append_integers(x, 2); }}) {
    ColumnVector grown = *decoded;
    append(grown);
    EXPECT_FALSE(grown.is_coded());
    ColumnVector expected = plain;
    append(expected);
    expect_same_values(expected, grown);
  }
  ColumnVector cleared = *decoded;
  cleared.clear();
  EXPECT_TRUE(cleared.empty());
  EXPECT_FALSE(cleared.is_coded());
  cleared.append_text("x");
  EXPECT_EQ(cleared.get(0).bytes, "x");
}

TEST(ColumnCodec, WrongRowCountIsFoundBeforeDecoding) {
  ColumnVector values;
  values.append_text("x");
  std::string blob = encode_column(values, Compression{false, 0});
  Result<ColumnVector> decoded = decode_column(blob, 2);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().message(), "column chunk: holds 1 rows, expected 2");
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
      garbage[0] = static_cast<char>(1 + round % 6);  // each codec in turn
      garbage[1] = static_cast<char>(round % 4 == 0 ? 1 : 0);
    }
    Result<ColumnVector> decoded = decode_column(garbage, random() % 2 ? std::optional<uint64_t>(random() % 200)
                                                                       : std::nullopt);
    if (decoded.is_ok()) {
      EXPECT_LE(decoded->size(), kMaxColumnRows);
    }
  }
}

// column_run_start (what a chunk's rowids are read by when they are a run) agrees with full
// decoding: it names a first value exactly when the blob decodes to first, first + 1, … with no
// NULL — over runs, near-runs and garbage alike.
TEST(ColumnCodec, RunStartAgreesWithDecoding) {
  std::mt19937_64 random(20261205);
  auto decoded_run_start = [](const Result<ColumnVector>& decoded) -> std::optional<int64_t> {
    if (!decoded.is_ok() || decoded->empty()) return std::nullopt;
    for (size_t i = 0; i < decoded->size(); ++i) {
      if (decoded->type(i) != ValueType::kInteger) return std::nullopt;
      if (i > 0 && decoded->integer(i) != static_cast<int64_t>(static_cast<uint64_t>(decoded->integer(0)) + i)) return std::nullopt;
    }
    return decoded->integer(0);
  };
  const int64_t starts[] = {1, -5, 0, INT64_MAX - 400, INT64_MIN};
  for (int round = 0; round < 400; ++round) {
    const size_t rows = 1 + random() % 300;
    int64_t first = round % 7 < 5 ? starts[round % 5] : static_cast<int64_t>(random() >> 2);
    if (first > INT64_MAX - 400) first = INT64_MAX - 400;
    ColumnVector values;
    for (size_t i = 0; i < rows; ++i) values.append_integer(first + static_cast<int64_t>(i) + (round % 4 == 1 && i > rows / 2 ? 1 : 0));
    if (round % 9 == 2) values.append_null();
    if (round % 11 == 3) values.append_integer(first);
    std::string blob = encode_column(values, Compression{round % 3 == 0, 1});
    Result<std::optional<int64_t>> start = column_run_start(blob, values.size());
    ASSERT_TRUE(start.is_ok()) << start.status().message();
    const std::optional<int64_t> expected = decoded_run_start(decode_column(blob));
    if (*start) {
      EXPECT_EQ(*start, expected) << "round " << round;  // never a run that is not one
    }
    // Every run stored by the integer codec uncompressed is recognised (a one-row column is a
    // constant, decoded as such).
    if (round % 3 != 0 && inspect_column(blob)->codec == static_cast<uint8_t>(CodecId::kIntegers)) {
      EXPECT_EQ(*start, expected) << "round " << round;
    }
    EXPECT_FALSE(column_run_start(blob, values.size() + 1).is_ok());
  }
  // Integer payloads of random small bytes (flags, varints and widths mostly plausible).
  int runs = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string garbage(random() % 8, '\0');
    for (char& c : garbage) c = static_cast<char>(random() % 3 == 0 ? random() : random() % 4);
    const uint64_t rows = random() % 4;
    std::optional<int64_t> start = integer_run_start(garbage, rows);
    if (start) {
      ++runs;
      EXPECT_EQ(start, decoded_run_start(decode_integers(garbage, rows))) << "round " << round;
    }
  }
  EXPECT_GT(runs, 0);  // the loop above did test something
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

// The zone map's bounds equal the brute-force min and max in SQLite's order.
TEST(ZoneMap, BoundsAreTheMinimumAndMaximumInSqliteOrder) {
  std::mt19937_64 random(5);
  for (int round = 0; round < 300; ++round) {
    ColumnVector values = random_values(random, random() % 60);
    ZoneMap zone = compute_zone_map(values);
    std::optional<ValueView> low, high;
    uint64_t nulls = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      ValueView v = values.get(i);
      if (v.type == ValueType::kNull) {
        ++nulls;
        continue;
      }
      if (!low || compare_values(v, *low, Collation::kBinary) < 0) low = v;
      if (!high || compare_values(v, *high, Collation::kBinary) > 0) high = v;
    }
    ASSERT_EQ(zone.nulls, nulls);
    ASSERT_EQ(zone.min.has_value(), low.has_value());
    if (low) {
      EXPECT_EQ(compare_values(zone.min->view(), *low, Collation::kBinary), 0) << "round " << round;
      EXPECT_EQ(compare_values(zone.max->view(), *high, Collation::kBinary), 0) << "round " << round;
    }
    Result<ZoneMap> decoded = decode_zone_map(encode_zone_map(zone));
    ASSERT_TRUE(decoded.is_ok());
    EXPECT_EQ(decoded->rows, zone.rows);
    EXPECT_EQ(decoded->types, zone.types);
  }
}

// The same values as a coded vector (a dictionary plus one code per row), which analysis and
// zone maps read through the general path rather than the typed one for plain numbers.
ColumnVector as_coded(const ColumnVector& values) {
  ColumnVector dictionary;
  ColumnVector::Codes codes;
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t code = 0;
    while (code < dictionary.size() && !same_value(dictionary.get(code), values.get(i))) ++code;
    if (code == dictionary.size()) dictionary.append(values.get(i));
    codes.push_back(code);
  }
  return ColumnVector::coded(std::move(dictionary), std::move(codes));
}

TEST(ColumnCodec, TypedPathsForNumbersAgreeWithTheGeneralOne) {
  std::mt19937_64 random(12);
  for (int round = 0; round < 120; ++round) {
    bool integers = round % 2 == 0;
    size_t count = std::vector<size_t>{1, 2, 5, 100, 3000}[random() % 5];
    bool with_nulls = round % 3 == 0;
    int spread = std::vector<int>{1, 7, 300}[random() % 3];  // distinct values in play
    ColumnVector values;
    for (size_t i = 0; i < count; ++i) {
      if (with_nulls && i > 0 && random() % 4 == 0) {
        values.append_null();
      } else if (integers) {
        int64_t extremes[] = {INT64_MIN, INT64_MAX, 0, -1};
        values.append_integer(random() % 5 == 0 ? extremes[random() % 4] : static_cast<int64_t>(random() % spread) - 3);
      } else {
        values.append_real(random() % 5 == 0 ? -0.0 : static_cast<double>(random() % spread) / 4);
      }
    }
    ColumnVector coded = as_coded(values);
    ColumnAnalysis typed = analyze_column(values), general = analyze_column(coded);
    EXPECT_EQ(typed.rows, general.rows) << "round " << round;
    EXPECT_EQ(typed.plain_bytes, general.plain_bytes) << "round " << round;
    EXPECT_EQ(typed.runs, general.runs) << "round " << round;
    EXPECT_EQ(typed.run_length_bytes, general.run_length_bytes) << "round " << round;
    EXPECT_EQ(typed.dictionary_bytes, general.dictionary_bytes) << "round " << round;
    EXPECT_EQ(typed.integer_bytes, general.integer_bytes) << "round " << round;
    EXPECT_EQ(typed.real_bytes, general.real_bytes) << "round " << round;
    ZoneMap typed_zone = compute_zone_map(values), general_zone = compute_zone_map(coded);
    EXPECT_EQ(typed_zone.rows, general_zone.rows);
    EXPECT_EQ(typed_zone.nulls, general_zone.nulls);
    EXPECT_EQ(typed_zone.types, general_zone.types) << "round " << round;
    ASSERT_EQ(typed_zone.min.has_value(), general_zone.min.has_value());
    EXPECT_TRUE(same_value(typed_zone.min->view(), general_zone.min->view())) << "round " << round;
    EXPECT_TRUE(same_value(typed_zone.max->view(), general_zone.max->view())) << "round " << round;
    EXPECT_EQ(encode_with(integers ? CodecId::kIntegers : CodecId::kReals, values),
              encode_with(integers ? CodecId::kIntegers : CodecId::kReals, coded)) << "round " << round;
    expect_round_trip(values, Compression{});
  }
}

}  // namespace
}  // namespace strata

#include "codecs/bit_packing.h"

namespace strata {
namespace {

TEST(BitPacking, EveryWidthRoundTrips) {
  std::mt19937_64 random(8);
  for (int width = 0; width <= 64; ++width) {
    for (size_t count : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{63}, size_t{1000}}) {
      std::vector<uint64_t> values(count);
      for (uint64_t& value : values) value = width == 64 ? random() : (width == 0 ? 0 : random() & ((uint64_t{1} << width) - 1));
      std::string packed;
      pack_bits(values, width, packed);
      ASSERT_EQ(packed.size(), packed_size(count, width));
      std::optional<std::vector<uint64_t>> unpacked = unpack_bits(packed, count, width);
      ASSERT_TRUE(unpacked.has_value());
      ASSERT_EQ(*unpacked, values) << "width " << width << " count " << count;
      if (!packed.empty()) {
        EXPECT_FALSE(unpack_bits(std::string_view(packed).substr(1), count, width).has_value());
      }
    }
  }
  EXPECT_FALSE(unpack_bits("", 1, 65).has_value());
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

// equality_key agrees with compare_values: equal keys exactly for values that compare equal,
// under each built-in collation, over values chosen to collide (1 and 1.0, case, trailing
// spaces, integers near 2^53 and 2^63 against reals).
TEST(EqualityKey, EqualExactlyWhenCompareValuesSaysEqual) {
  std::vector<Value> values;
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1} << 53, (int64_t{1} << 53) + 1, INT64_MAX, INT64_MIN,
                    int64_t{9220000000000000000}}) {
    values.emplace_back(ValueView::of_integer(i));
  }
  for (double r : {0.0, -0.0, 1.0, -1.0, 0.5, 9007199254740992.0, 9.22e18, 9223372036854775808.0, -9223372036854775808.0, 1e300}) {
    values.emplace_back(ValueView::of_real(r));
  }
  for (const char* text : {"a", "A", "a ", "A  ", "", " ", "b", "1", "ab", "aB"}) {
    values.emplace_back(ValueView::of_text(text));
    values.emplace_back(ValueView::of_blob(text));
  }
  values.emplace_back();
  for (Collation collation : {Collation::kBinary, Collation::kNoCase, Collation::kRtrim}) {
    for (const Value& a : values) {
      for (const Value& b : values) {
        const bool equal = compare_values(a.view(), b.view(), collation) == 0;
        EXPECT_EQ(equality_key(a.view(), collation) == equality_key(b.view(), collation), equal)
            << static_cast<int>(collation) << " " << static_cast<int>(a.type) << ":" << a.integer << "/" << a.real << "/" << a.bytes
            << " vs " << static_cast<int>(b.type) << ":" << b.integer << "/" << b.real << "/" << b.bytes;
      }
    }
  }
}

}  // namespace
}  // namespace strata
