#include "codecs/bloom_filter.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

namespace strata {
namespace {

// parquet-mr wrote this filter (a 16-byte thrift header, then 1,024 bytes of bitset) with the
// strings "hello", "parquet", "bloom", "filter" (shared/parquet-testing/data/README.upstream.md).
TEST(BloomFilter, BitForBitTheReferenceImplementationsFilter) {
  std::ifstream in(STRATA_PARQUET_TESTING "/data/bloom_filter.xxhash.bin", std::ios::binary);
  ASSERT_TRUE(in.good()) << "shared/parquet-testing is missing";
  std::stringstream content;
  content << in.rdbuf();
  std::string file = content.str();
  ASSERT_EQ(file.size(), 16u + 1024u);
  BloomFilter ours(1024);
  for (const char* word : {"hello", "parquet", "bloom", "filter"}) ours.insert(ValueView::of_text(word));
  EXPECT_EQ(ours.bytes(), file.substr(16));
  Result<BloomFilter> theirs = BloomFilter::from_bytes(std::string_view(file).substr(16));
  ASSERT_TRUE(theirs.is_ok());
  for (const char* word : {"hello", "parquet", "bloom", "filter"}) EXPECT_TRUE(theirs->may_contain(ValueView::of_text(word)));
}

TEST(BloomFilter, NoFalseNegativesAndThePromisedFalsePositiveRate) {
  std::mt19937_64 random(3);
  const size_t distinct = 20000;
  BloomFilter filter(BloomFilter::optimal_bytes(distinct, 0.01));
  std::vector<int64_t> inserted;
  for (size_t i = 0; i < distinct; ++i) {
    inserted.push_back(static_cast<int64_t>(random()));
    filter.insert(ValueView::of_integer(inserted.back()));
  }
  for (int64_t value : inserted) ASSERT_TRUE(filter.may_contain(ValueView::of_integer(value)));
  size_t false_positives = 0;
  const size_t probes = 200000;
  for (size_t i = 0; i < probes; ++i) {
    false_positives += filter.may_contain(ValueView::of_integer(static_cast<int64_t>(random()))) ? 1 : 0;
  }
  double rate = static_cast<double>(false_positives) / probes;
  RecordProperty("false_positive_rate_at_1_percent", std::to_string(rate));
  EXPECT_LT(rate, 0.012);  // sizing rounds up to a power of two, so usually well below 1%
}

TEST(BloomFilter, SizingMergingAndBadInput) {
  EXPECT_EQ(BloomFilter::optimal_bytes(0, 0.01), 32u);
  EXPECT_EQ(BloomFilter::optimal_bytes(1000, 0.01) % 32, 0u);
  EXPECT_GE(BloomFilter::optimal_bytes(1000, 0.01), 1000u * 9 / 8);
  EXPECT_LE(BloomFilter::optimal_bytes(1000, 0.001), BloomFilter::kMaxBytes);
  BloomFilter a(64), b(64);
  a.insert(ValueView::of_text("x"));
  b.insert(ValueView::of_real(2.5));
  ASSERT_TRUE(a.merge(b).is_ok());
  EXPECT_TRUE(a.may_contain(ValueView::of_text("x")));
  EXPECT_TRUE(a.may_contain(ValueView::of_real(2.5)));
  EXPECT_FALSE(a.merge(BloomFilter(128)).is_ok());
  EXPECT_FALSE(BloomFilter::from_bytes("").is_ok());
  EXPECT_FALSE(BloomFilter::from_bytes(std::string(33, '\0')).is_ok());
  // Storage classes hash as Parquet types: the integer 5 and the real 5.0 differ.
  EXPECT_NE(BloomFilter::hash(ValueView::of_integer(5)), BloomFilter::hash(ValueView::of_real(5.0)));
  EXPECT_EQ(BloomFilter::hash(ValueView::of_text("ab")), BloomFilter::hash(ValueView::of_blob("ab")));
}

}  // namespace
}  // namespace strata
