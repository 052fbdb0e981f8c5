// The object-store contract (tiering/object_store.h) on the file store, and the fault-injecting
// wrapper. The S3 store runs the same contract against a real server in tests/integration.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <random>

#include "tests/unit/test_database.h"
#include "tiering/fault_injecting_store.h"
#include "tiering/file_store.h"

namespace {

using strata::StatusCode;
using strata::testing::random_bytes;
using strata::testing::ScratchDirectory;
using namespace strata::tiering;

// Every file below `directory`, as paths relative to it.
std::vector<std::string> files_below(const std::string& directory) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
    if (entry.is_regular_file()) files.push_back(entry.path().string().substr(directory.size() + 1));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A body that fails after `good` bytes, like a local file that cannot be read to its end.
class FailingSource : public ByteSource {
 public:
  FailingSource(uint64_t size, uint64_t good) : size_(size), good_(good) {}
  uint64_t size() const override { return size_; }
  strata::Status read(uint64_t offset, std::span<char> into) const override {
    if (offset + into.size() > good_) return strata::Status::io_error("disk went away");
    std::fill(into.begin(), into.end(), 'x');
    return strata::Status::ok();
  }

 private:
  uint64_t size_;
  uint64_t good_;
};

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = FileStore::open(directory_.path("lake"));
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
  }
  ScratchDirectory directory_{"file_store"};
  std::unique_ptr<FileStore> store_;
};

TEST_F(FileStoreTest, RoundTripsObjectsOfEverySizeAndRanges) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{8} << 20}) {
    std::string bytes = random_bytes(size, static_cast<uint32_t>(size));
    std::string key = "t/dt=2024-01/object-" + std::to_string(size) + ".parquet";
    auto put = store_->put(key, MemorySource(bytes));
    ASSERT_TRUE(put.is_ok()) << put.status().to_string();
    EXPECT_EQ(put->size, size);
    auto got = store_->get(key);
    ASSERT_TRUE(got.is_ok());
    EXPECT_TRUE(*got == bytes) << size;
    auto head = store_->head(key);
    ASSERT_TRUE(head.is_ok());
    EXPECT_EQ(head->size, size);
    EXPECT_EQ(head->etag, put->etag);
    if (size > 100) {
      EXPECT_EQ(*store_->get_range(key, 17, 1000), bytes.substr(17, 1000));
      EXPECT_EQ(*store_->get_range(key, size - 8, 8), bytes.substr(size - 8));
      EXPECT_EQ(*store_->get_range(key, size - 8, 100), bytes.substr(size - 8)) << "cut short at the end";
    }
    EXPECT_EQ(*store_->get_range(key, size, 10), "") << "a range at the very end is empty";
    EXPECT_EQ(store_->get_range(key, size + 1, 10).status().code(), StatusCode::kError);
  }
}

TEST_F(FileStoreTest, UploadsFromFilesAndOverwritesOrRefusesToAsAsked) {
  std::string local = directory_.path("local.bin");
  std::string bytes = random_bytes(3 << 20, 5);
  ASSERT_TRUE(FileStore::open(directory_.path("scratch")).is_ok());
  {
    FILE* file = std::fopen(local.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), file);
    std::fclose(file);
  }
  auto source = FileSource::open(local);
  ASSERT_TRUE(source.is_ok());
  ASSERT_TRUE(store_->put("a", **source).is_ok());
  EXPECT_TRUE(*store_->get("a") == bytes);
  ASSERT_TRUE(store_->put("a", MemorySource("new")).is_ok());
  EXPECT_EQ(*store_->get("a"), "new");
  auto refused = store_->put("a", MemorySource("newer"), WriteMode::kCreateOnly);
  EXPECT_EQ(refused.status().code(), StatusCode::kConstraint);
  EXPECT_NE(refused.status().message().find("'a' already exists"), std::string::npos) << refused.status().message();
  EXPECT_EQ(*store_->get("a"), "new");
  EXPECT_TRUE(store_->put("b", MemorySource("first"), WriteMode::kCreateOnly).is_ok());
  EXPECT_EQ(files_below(directory_.path("lake")), (std::vector<std::string>{"a", "b"})) << "no temporary files left behind";
  EXPECT_EQ(FileSource::open(directory_.path("missing")).status().code(), StatusCode::kIoError);
}

TEST_F(FileStoreTest, AFailedUploadLeavesNoObjectAndNoTemporaryFile) {
  ASSERT_TRUE(store_->put("p/old", MemorySource("old")).is_ok());
  auto failed = store_->put("p/old", FailingSource(5 << 20, 2 << 20));
  EXPECT_EQ(failed.status().code(), StatusCode::kIoError);
  EXPECT_EQ(*store_->get("p/old"), "old") << "the previous object stays whole";
  EXPECT_EQ(store_->put("p/new", FailingSource(5 << 20, 0)).status().code(), StatusCode::kIoError);
  EXPECT_EQ(store_->head("p/new").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(files_below(directory_.path("lake")), (std::vector<std::string>{"p/old"}));
}

TEST_F(FileStoreTest, RefusesKeysThatCouldEscapeOrConfuse) {
  const std::vector<std::string> bad_keys = {"",   "/etc/passwd", "../outside", "a/../../b", "a/./b", "a//b", "a/", "a\nb",
                                             std::string("nul\0x", 5), "a/.strata-tmp-123", std::string(1025, 'k')};
  for (const std::string& key : bad_keys) {
    auto put = store_->put(key, MemorySource("x"));
    EXPECT_EQ(put.status().code(), StatusCode::kError) << key;
    EXPECT_NE(put.status().message().find("invalid key"), std::string::npos) << put.status().message();
    EXPECT_EQ(put.status().message().find('\n'), std::string::npos) << "control characters are escaped in messages";
    EXPECT_EQ(store_->get(key).status().code(), StatusCode::kError) << key;
    EXPECT_EQ(store_->remove(key).code(), StatusCode::kError) << key;
  }
  EXPECT_FALSE(std::filesystem::exists(directory_.path("outside")));
  // Unusual but harmless names are fine.
  for (std::string key : std::vector<std::string>{"with space/ü+~!$&'()*,;=@.parquet", ".hidden", "a..b/c"}) {
    EXPECT_TRUE(store_->put(key, MemorySource(key)).is_ok()) << key;
    EXPECT_EQ(*store_->get(key), key);
  }
}

TEST_F(FileStoreTest, MissingKeysPrefixesAndLinks) {
  EXPECT_EQ(store_->get("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->get_range("nope", 0, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->head("nope").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->remove("nope").is_ok()) << "removing a missing key succeeds, as on S3";
  ASSERT_TRUE(store_->put("dir/object", MemorySource("x")).is_ok());
  EXPECT_EQ(store_->get("dir").status().code(), StatusCode::kNotFound) << "a prefix is not an object";
  EXPECT_EQ(store_->put("dir/object/below", MemorySource("x")).status().code(), StatusCode::kIoError);
  ASSERT_EQ(symlink("/etc/hostname", directory_.path("lake/link").c_str()), 0);
  EXPECT_EQ(store_->get("link").status().code(), StatusCode::kIoError);
  EXPECT_EQ(store_->list("").value().size(), 1u) << "links are not listed";
}

TEST_F(FileStoreTest, ListsEveryKeyUnderAPrefixInByteOrder) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1500; ++i) keys.push_back("events/dt=2024-0" + std::to_string(1 + i % 3) + "/part-" + std::to_string(i));
  keys.push_back("events-other/x");
  keys.push_back("zzz");
  for (const std::string& key : keys) ASSERT_TRUE(store_->put(key, MemorySource(key)).is_ok());
  std::sort(keys.begin(), keys.end());
  auto all = store_->list("");
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ((*all)[i].key, keys[i]);
    EXPECT_EQ((*all)[i].size, keys[i].size());
  }
  EXPECT_EQ(store_->list("events/").value().size(), 1500u);
  EXPECT_EQ(store_->list("events").value().size(), 1501u) << "a prefix need not end at a '/'";
  EXPECT_EQ(store_->list("events/dt=2024-02/").value().size(), 500u);
  size_t expected = std::count_if(keys.begin(), keys.end(), [](const std::string& key) { return key.starts_with("events/dt=2024-02/part-1"); });
  EXPECT_EQ(store_->list("events/dt=2024-02/part-1").value().size(), expected);
  EXPECT_TRUE(store_->list("nothing/here").value().empty());
  for (const std::string& key : keys) ASSERT_TRUE(store_->remove(key).is_ok());
  EXPECT_TRUE(store_->list("").value().empty());
  EXPECT_TRUE(std::filesystem::is_empty(directory_.path("lake"))) << "emptied prefixes are tidied away";
}

TEST(FaultInjectingStore, FailsTheChosenCallsAndForwardsTheRest) {
  ScratchDirectory directory("fault_store");
  auto inner = FileStore::open(directory.path("lake"));
  ASSERT_TRUE(inner.is_ok());
  FaultInjectingStore store(inner->get());
  store.fail(StoreOperation::kPut, 1, 2);
  EXPECT_TRUE(store.put("a", MemorySource("1")).is_ok());
  EXPECT_TRUE(store.put("b", MemorySource("2")).is_ok());
  auto failed = store.put("c", MemorySource("3"));
  EXPECT_EQ(failed.status().code(), StatusCode::kIoError);
  EXPECT_NE(failed.status().message().find("injected failure on 'c'"), std::string::npos);
  EXPECT_EQ((*inner)->head("c").status().code(), StatusCode::kNotFound) << "a failed put writes nothing";
  EXPECT_TRUE(store.put("c", MemorySource("3")).is_ok());
  store.fail(StoreOperation::kGetRange, 2);
  EXPECT_FALSE(store.get_range("a", 0, 1).is_ok());
  EXPECT_FALSE(store.get_range("a", 0, 1).is_ok());
  EXPECT_EQ(*store.get_range("a", 0, 1), "1");
  EXPECT_EQ(store.calls(StoreOperation::kPut), 4);
  EXPECT_EQ(store.calls(StoreOperation::kGetRange), 3);
  EXPECT_EQ(store.list("").value().size(), 3u);
  EXPECT_EQ(store.location(), (*inner)->location());
}

}  // namespace
