// Distance kernels (portable and AVX2 agree), vector parsing, and the vec_* SQL functions.
#include <gtest/gtest.h>

#include <cmath>
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

TEST(Vectors, JsonAndBlobRoundTrip) {
  Result<FloatVector> parsed = parse_json_vector("t", "[1, -2.5, 3e-3, 0]");
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(*parsed, (FloatVector{1, -2.5f, 3e-3f, 0}));
  Result<FloatVector> back = floats_from_blob("t", float_blob(*parsed));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, *parsed);
  Result<FloatVector> again = parse_json_vector("t", to_json(*parsed));
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, *parsed);
  EXPECT_EQ(parse_json_vector("t", "[1, \"x\"]").status().message(), "t: element 1 of the JSON vector is not a number");
  EXPECT_NE(parse_json_vector("t", "[1,").status().message().find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_json_vector("t", "{\"a\": 1}").status().message().find("must be a JSON array"), std::string::npos);
  EXPECT_NE(parse_json_vector("t", "[1e300]").status().message().find("infinite"), std::string::npos);
  EXPECT_NE(floats_from_blob("t", "abc").status().message().find("multiple of 4"), std::string::npos);
}

TEST(VectorFunctions, DistancesConversionsAndErrors) {
  TestDatabase db;
  EXPECT_EQ(db.scalar("SELECT vec_distance_l2('[0, 0]', '[3, 4]')"), "5.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_l2(vec_f32('[1, 2, 3]'), '[1, 2, 3]')"), "0.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_cosine('[1, 0]', '[0, 5]')"), "1.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_cosine('[1, 1]', '[2, 2]') < 1e-6"), "1");
  EXPECT_EQ(db.scalar("SELECT vec_distance_cosine('[-1, 0]', '[3, 0]')"), "2.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_cosine('[0, 0]', '[3, 0]')"), "1.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_ip('[1, 2]', '[3, 4]')"), "-11.0");
  EXPECT_EQ(db.scalar("SELECT vec_distance_l2(NULL, '[1]')"), "NULL");
  EXPECT_EQ(db.error_of("SELECT vec_distance_l2('[1, 2]', '[1, 2, 3]')"),
            "vec_distance_l2: the vectors have different dimensions, 2 and 3");
  EXPECT_EQ(db.error_of("SELECT vec_distance_ip(1, '[1]')"),
            "vec_distance_ip: expected a vector (a float32 BLOB or a JSON array such as '[0.1, 0.2]'), got an integer");
  EXPECT_EQ(db.scalar("SELECT hex(vec_f32('[1.0, -2]'))"), "0000803F000000C0");
  EXPECT_EQ(db.scalar("SELECT vec_to_json(vec_f32('[1.5, -2, 0.1]'))"), "[1.5,-2,0.100000001]");
  EXPECT_EQ(db.scalar("SELECT vec_to_json(vec_normalize('[3, 4]'))"), "[0.600000024,0.800000012]");
  EXPECT_EQ(db.scalar("SELECT vec_to_json(vec_normalize('[0, 0]'))"), "[0,0]");
  EXPECT_EQ(db.scalar("SELECT vec_to_json(vec_slice('[1, 2, 3, 4]', 1, 3))"), "[2,3]");
  EXPECT_EQ(db.error_of("SELECT vec_slice('[1, 2, 3, 4]', 2, 9)"),
            "vec_slice: bad range [2, 9) for a vector of 4 elements; need 0 <= start < end <= 4");
  EXPECT_EQ(db.scalar("SELECT hex(vec_quantize_int8('[1, -1, 0.5, 7, 0]'))"), "7F8140" "7F00");
  EXPECT_EQ(db.scalar("SELECT hex(vec_quantize_binary('[1, -1, 0, 2, 0, 0, 0, 0, 0.5]'))"), "0901");
  EXPECT_EQ(db.error_of("SELECT vec_f32('[1, NaN]')").find("vec_f32: the vector is not valid JSON"), 0u);
}

}  // namespace
}  // namespace strata::hnsw
