// Distance kernels (portable and AVX2 agree), vector parsing, and the vec_* SQL functions.
#include <gtest/gtest.h>

#include <cmath>
#include <iterator>
#include <random>
#include <vector>

#include "tests/unit/test_database.h"
#include "vtab/hnsw/distance.h"
#include "vtab/hnsw/vector.h"

namespace strata::hnsw {
namespace {

using strata::testing::TestDatabase;

TEST(DistanceKernels, Avx2AndPortableAgree) {
  const DistanceKernels* avx2 = avx2_kernels();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    ASSERT_NE(avx2, nullptr) << "the AVX2 kernels were not built";
    EXPECT_EQ(kernels().name, "avx2");
  }
  if (avx2 == nullptr) GTEST_SKIP() << "no AVX2 on this CPU";
  const DistanceKernels& portable = portable_kernels();
  std::mt19937 random(3);
  std::normal_distribution<float> normal;
  for (size_t n : {1, 3, 7, 8, 15, 16, 17, 31, 128, 300, 768, 1537}) {
    std::vector<float> a(n), b(n);
    std::vector<int8_t> ia(n), ib(n);
    for (size_t i = 0; i < n; ++i) {
      a[i] = normal(random) * 10;
      b[i] = normal(random) * 10;
      ia[i] = static_cast<int8_t>(static_cast<int>(random() % 256) - 128);
      ib[i] = static_cast<int8_t>(static_cast<int>(random() % 256) - 128);
    }
    float l2 = portable.l2_squared(a.data(), b.data(), n);
    EXPECT_NEAR(avx2->l2_squared(a.data(), b.data(), n), l2, 1e-5f * l2 + 1e-5f) << n;
    float dot = portable.dot(a.data(), b.data(), n);
    float scale = std::sqrt(portable.dot(a.data(), a.data(), n) * portable.dot(b.data(), b.data(), n));
    EXPECT_NEAR(avx2->dot(a.data(), b.data(), n), dot, 1e-5f * scale + 1e-5f) << n;
    double l1 = 0;  // in double, as the reference both are checked against
    for (size_t i = 0; i < n; ++i) l1 += std::fabs(static_cast<double>(a[i]) - b[i]);
    EXPECT_NEAR(portable.l1(a.data(), b.data(), n), l1, 1e-5 * l1 + 1e-5) << n;
    EXPECT_NEAR(avx2->l1(a.data(), b.data(), n), l1, 1e-5 * l1 + 1e-5) << n;
    EXPECT_EQ(avx2->l2_squared_int8(ia.data(), ib.data(), n), portable.l2_squared_int8(ia.data(), ib.data(), n)) << n;
    EXPECT_EQ(avx2->dot_int8(ia.data(), ib.data(), n), portable.dot_int8(ia.data(), ib.data(), n)) << n;
    std::vector<uint64_t> wa((n + 63) / 64), wb(wa.size());
    for (size_t i = 0; i < wa.size(); ++i) wa[i] = random() * 0x9e3779b97f4a7c15ULL, wb[i] = random();
    EXPECT_EQ(avx2->hamming(wa.data(), wb.data(), wa.size()), portable.hamming(wa.data(), wb.data(), wa.size()));
  }
}

TEST(DistanceKernels, ExtremeInt8ValuesDoNotOverflow) {
  std::vector<int8_t> a(8192, -128), b(8192, 127);
  for (const DistanceKernels* k : {&portable_kernels(), avx2_kernels()}) {
    if (k == nullptr) continue;
    EXPECT_EQ(k->l2_squared_int8(a.data(), b.data(), a.size()), 8192 * 255 * 255) << k->name;
    EXPECT_EQ(k->dot_int8(a.data(), a.data(), a.size()), 8192 * 128 * 128) << k->name;
  }
}

TEST(Vectors, JsonIsReadAsSqliteVecReadsIt) {
  Result<FloatVector> parsed = parse_json_vector("t", "[1, -2.5, 3e-3, 0]");
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(*parsed, (FloatVector{1, -2.5f, 3e-3f, 0}));
  Result<FloatVector> back = floats_from_blob("t", float_blob(*parsed));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, *parsed);
  // What sqlite-vec 0.1.9 takes: whitespace and commas between numbers in any run, a trailing
  // comma, text after the ']', a missing ']', strtod's numbers.
  for (const char* json : {" \n[1 2]", "[1,,2,]", "[1, 2] and more", "[1, 2", "[ 1e0 , .2e1 ]"}) {
    Result<FloatVector> lenient = parse_json_vector("t", json);
    ASSERT_TRUE(lenient.is_ok()) << json << ": " << lenient.status().message();
    EXPECT_EQ(*lenient, (FloatVector{1, 2})) << json;
  }
  Result<FloatVector> huge = parse_json_vector("t", "[1e300, nan]");  // beyond float32: infinite
  ASSERT_TRUE(huge.is_ok());
  EXPECT_TRUE(std::isinf((*huge)[0]) && std::isnan((*huge)[1]));
  EXPECT_EQ(parse_json_vector("t", "[1, \"x\"]").status().message(),
            "t: no number at offset 4; expected a JSON array of numbers such as '[0.1, 0.2]'");
  EXPECT_EQ(parse_json_vector("t", "{\"a\": 1}").status().message(),
            "t: the vector does not start with '['; expected a JSON array of numbers such as '[0.1, 0.2]'");
  EXPECT_EQ(parse_json_vector("t", "[1e999]").status().message(),
            "t: the number at offset 1 is out of range; expected a JSON array of numbers such as '[0.1, 0.2]'");
  EXPECT_EQ(parse_json_vector("t", "[]").status().message(), "t: a vector needs at least one element, got none");
  EXPECT_NE(floats_from_blob("t", "abc").status().message().find("multiple of 4"), std::string::npos);

  Result<std::vector<int8_t>> ints = parse_json_int8_vector("t", "[1, -128, 127]");
  ASSERT_TRUE(ints.is_ok());
  EXPECT_EQ(*ints, (std::vector<int8_t>{1, -128, 127}));
  EXPECT_EQ(parse_json_int8_vector("t", "[128]").status().message(),
            "t: an element is out of range; int8 vectors hold integers from -128 to 127");
  EXPECT_FALSE(parse_json_int8_vector("t", "[1.5]").is_ok());
}

TEST(Vectors, UnitInt8QuantizationIsSqliteVecs) {
  const float values[] = {0.5f, -1, 1, 0.001f, 2, -2, 0.996f, -0.5f, std::nanf("")};
  EXPECT_EQ(quantize_int8_unit(values, std::size(values)), (std::vector<int8_t>{63, -128, 126, 0, 127, -128, 126, -64, 127}));
}

TEST(VectorFunctions, DistancesConversionsAndErrors) {
  TestDatabase db;
  EXPECT_EQ(db.scalar("SELECT vec_distance_l2('[0, 0]', '[3, 4]')"), "5.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_l2(vec_f32('[1, 2, 3]'), '[1, 2, 3]')"), "0.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_cosine('[1, 0]', '[0, 5]')"), "1.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_cosine('[1, 1]', '[2, 2]') < 1e-6"), "1");
  EXPECT_EQ(db.scalar("SELECT vec_distance_cosine('[-1, 0]', '[3, 0]')"), "2.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_cosine('[0, 0]', '[3, 0]')"), "NULL");  // NaN, as in sqlite-vec
  EXPECT_EQ(db.scalar("SELECT vec_distance_ip('[1, 2]', '[3, 4]')"), "-11.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_l1(vec_int8('[1, 2]'), vec_int8('[3, -5]'))"), "9");
  EXPECT_EQ(db.scalar("SELECT vec_distance_hamming(vec_bit(X'0F'), vec_bit(X'F1'))"), "7.0");
  EXPECT_EQ(db.error_of("SELECT vec_distance_l2(NULL, '[1]')"),
            "vec_distance_l2: expected a float32 vector (a BLOB of little-endian float32 or a JSON array such as '[0.1, 0.2]'), got NULL");
  EXPECT_EQ(db.error_of("SELECT vec_distance_l2('[1, 2]', '[1, 2, 3]')"),
            "vec_distance_l2: the vectors have different dimensions, 2 and 3");
  EXPECT_EQ(db.error_of("SELECT vec_distance_l2('[1, 2]', vec_int8('[1, 2]'))"),
            "vec_distance_l2: the vectors have different types, float32 and int8; convert one with vec_f32, vec_int8 or vec_bit");
  EXPECT_EQ(db.error_of("SELECT vec_distance_hamming('[1]', '[1]')"),
            "vec_distance_hamming: does not apply to float32 vectors; it takes bit vectors (make them with vec_bit)");
  EXPECT_EQ(db.scalar("SELECT hex(vec_f32('[1.0, -2]'))"), "0000803F000000C0");
  EXPECT_EQ(db.scalar("SELECT vec_to_json(vec_f32('[1.5, -2, 0.1]'))"), "[1.500000,-2.000000,0.100000]");
  EXPECT_EQ(db.scalar("SELECT vec_to_json(vec_int8('[1, -2]')) || vec_to_json(vec_bit(X'05'))"), "[1,-2][1,0,1,0,0,0,0,0]");
  EXPECT_EQ(db.scalar("SELECT vec_type(vec_int8('[1]')) || vec_type(vec_bit(X'01')) || vec_type('[1]')"), "int8bitfloat32");
  EXPECT_EQ(db.scalar("SELECT vec_length(vec_bit(X'0102')) + vec_length('[1, 2, 3]')"), "19");
  EXPECT_EQ(db.scalar("SELECT vec_to_json(vec_add(vec_int8('[1, 2]'), vec_int8('[100, 127]')))"), "[101,-127]");
  EXPECT_EQ(db.scalar("SELECT vec_to_json(vec_sub('[1, 2]', '[3, 5]'))"), "[-2.000000,-3.000000]");
  EXPECT_EQ(db.scalar("SELECT vec_to_json(vec_normalize('[3, 4]'))"), "[0.600000,0.800000]");
  EXPECT_EQ(db.scalar("SELECT hex(vec_normalize('[0, 0]'))"), "0000C0FF0000C0FF");  // 0/0, as in sqlite-vec
  EXPECT_EQ(db.scalar("SELECT vec_to_json(vec_slice('[1, 2, 3, 4]', 1, 3))"), "[2.000000,3.000000]");
  EXPECT_EQ(db.scalar("SELECT hex(vec_slice(vec_bit(X'FF0102'), 8, 24))"), "0102");
  EXPECT_EQ(db.error_of("SELECT vec_slice('[1, 2, 3, 4]', 2, 9)"),
            "vec_slice: bad range [2, 9) for a vector of 4 elements; need 0 <= start < end <= 4 (elements start..end-1 are kept, counting from 0)");
  EXPECT_EQ(db.scalar("SELECT hex(vec_quantize_int8('[1, -1, 0.5, 7, 0]', 'unit'))"), "7E803F7F00");
  EXPECT_EQ(db.scalar("SELECT hex(vec_quantize_int8('[1, -1, 0.5, 7, 0]'))"), "7E803F7F00");
  EXPECT_EQ(db.error_of("SELECT vec_quantize_int8('[1]', 'range')"),
            "vec_quantize_int8: the second argument must be 'unit' (elements from -1 to 1), the only range supported");
  EXPECT_EQ(db.scalar("SELECT hex(vec_quantize_binary('[1, -1, 0, 2, 0, 0, 0, 0.5]'))"), "89");
  EXPECT_EQ(db.scalar("SELECT vec_type(vec_quantize_binary(vec_int8('[1, -1, 0, 2, 0, 0, 0, 5]')))"), "bit");
  EXPECT_EQ(db.error_of("SELECT vec_quantize_binary('[1, 2, 3]')"),
            "vec_quantize_binary: the vector has 3 elements; binary quantization takes a multiple of 8");
  EXPECT_EQ(db.scalar("SELECT group_concat(rowid || ':' || value, ' ') FROM vec_each(vec_int8('[5, -6]'))"), "0:5 1:-6");
  EXPECT_EQ(db.scalar("SELECT group_concat(typeof(value)) FROM vec_each('[1.5, 2]')"), "real,real");
  EXPECT_EQ(db.scalar("SELECT vec_version()"), "v0.1.9");
}

}  // namespace
}  // namespace strata::hnsw
