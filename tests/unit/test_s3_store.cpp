// The S3 store against a real S3-compatible server on loopback (s3rver behind the strict SigV4
// front, tests/unit/s3_test_server.h): round trips, ranges, pagination, create-only puts, bad
// credentials and an unreachable server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "tests/unit/fault_proxy.h"
#include "tests/unit/s3_test_server.h"
#include "tests/unit/silent_server.h"
#include "tests/unit/test_database.h"
#include "tiering/s3_store.h"

namespace {

using strata::StatusCode;
using strata::testing::FaultProxy;
using strata::testing::random_bytes;
using strata::testing::S3TestServer;
using strata::testing::SilentServer;
using namespace strata::tiering;

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(server_.problem(), "");
    store_ = open("s3://strata-test/lake", server_.settings());
  }
  static std::unique_ptr<S3Store> open(const std::string& url, S3Settings settings) {
    auto opened = S3Store::open(url, std::move(settings));
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    return opened.is_ok() ? std::move(opened).value() : nullptr;
  }
  S3TestServer server_;
  std::unique_ptr<S3Store> store_;
};

TEST_F(S3StoreTest, RoundTripsObjectsOfEverySizeIncludingMultipart) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{8} << 20, size_t{64} << 20}) {
    std::string bytes = random_bytes(size, static_cast<uint32_t>(size + 1));
    std::string key = "t/dt=2024-01/object " + std::to_string(size) + "+ü.parquet";
    auto put = store_->put(key, MemorySource(bytes));
    ASSERT_TRUE(put.is_ok()) << put.status().to_string();
    EXPECT_EQ(put->size, size);
    if (size > (16u << 20)) {
      EXPECT_NE(put->etag.find("-8"), std::string::npos) << "a multipart upload of 8 parts: " << put->etag;
    }
    auto head = store_->head(key);
    ASSERT_TRUE(head.is_ok()) << head.status().to_string();
    EXPECT_EQ(head->size, size);
    EXPECT_EQ(head->etag, put->etag);
    auto got = store_->get(key);
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    EXPECT_TRUE(*got == bytes) << size;
    if (size > 100) {
      EXPECT_EQ(*store_->get_range(key, 17, 1000), bytes.substr(17, 1000));
      EXPECT_EQ(*store_->get_range(key, size - 8, 8), bytes.substr(size - 8));
      EXPECT_EQ(*store_->get_range(key, size - 8, 100), bytes.substr(size - 8)) << "cut short at the end";
      EXPECT_EQ(*store_->get_range(key, 0, 1), bytes.substr(0, 1));
    }
    EXPECT_EQ(*store_->get_range(key, size, 10), "");
    EXPECT_EQ(store_->get_range(key, size + 1, 10).status().code(), StatusCode::kError);
  }
}

TEST_F(S3StoreTest, CreateOnlyRemoveAndMissingKeys) {
  ASSERT_TRUE(store_->put("a", MemorySource("1"), WriteMode::kCreateOnly).is_ok());
  auto refused = store_->put("a", MemorySource("2"), WriteMode::kCreateOnly);
  EXPECT_EQ(refused.status().code(), StatusCode::kConstraint) << refused.status().to_string();
  EXPECT_EQ(*store_->get("a"), "1");
  ASSERT_TRUE(store_->put("a", MemorySource("3")).is_ok());
  EXPECT_EQ(*store_->get("a"), "3");
  EXPECT_EQ(store_->get("missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->head("missing").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->remove("a").is_ok());
  EXPECT_TRUE(store_->remove("a").is_ok());
  EXPECT_EQ(store_->head("a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->put("../x", MemorySource("1")).status().code(), StatusCode::kError);
}

TEST_F(S3StoreTest, ListsMoreThanOnePageOfKeys) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1100; ++i) keys.push_back("many/k" + std::to_string(i));
  for (const std::string& key : keys) ASSERT_TRUE(store_->put(key, MemorySource(key)).is_ok()) << key;
  ASSERT_TRUE(store_->put("other/x", MemorySource("x")).is_ok());
  auto outside = open("s3://strata-test/elsewhere", server_.settings());
  ASSERT_TRUE(outside->put("many/k1", MemorySource("not mine")).is_ok());
  std::sort(keys.begin(), keys.end());
  auto listed = store_->list("many/");
  ASSERT_TRUE(listed.is_ok()) << listed.status().to_string();
  ASSERT_EQ(listed->size(), keys.size()) << "S3 pages at 1,000 keys";
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ((*listed)[i].key, keys[i]);
    EXPECT_EQ((*listed)[i].size, keys[i].size());
  }
  EXPECT_EQ(store_->list("").value().size(), keys.size() + 1) << "only keys under the store's own prefix";
  EXPECT_EQ(store_->list("many/k10").value().size(), 11u + 100u);
}

TEST_F(S3StoreTest, AWrongSecretIsAClearErrorWithoutTheSecret) {
  S3Settings settings = server_.settings();
  settings.credentials.secret_access_key = "wrong-secret-value";
  auto store = open("s3://strata-test/lake", settings);
  auto put = store->put("x", MemorySource("1"));
  ASSERT_FALSE(put.is_ok());
  const std::string message = put.status().message();
  EXPECT_NE(message.find("HTTP 403 SignatureDoesNotMatch"), std::string::npos) << message;
  EXPECT_NE(message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << message;
  EXPECT_EQ(message.find("wrong-secret-value"), std::string::npos) << message;
  EXPECT_EQ(store_->head("x").status().code(), StatusCode::kNotFound);
}

TEST_F(S3StoreTest, AnUnreachableServerIsAnErrorAfterRetriesAndNothingIsStored) {
  server_.stop();
  S3Settings settings = server_.settings();
  settings.max_attempts = 3;
  auto store = open("s3://strata-test/lake", settings);
  auto put = store->put("x", MemorySource("1"));
  EXPECT_EQ(put.status().code(), StatusCode::kIoError);
  EXPECT_NE(put.status().message().find("object store s3://strata-test/lake"), std::string::npos) << put.status().message();
  EXPECT_EQ(store->get("x").status().code(), StatusCode::kIoError);
  server_.start();
  ASSERT_EQ(server_.problem(), "");
  EXPECT_EQ(store->head("x").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->put("x", MemorySource("1")).is_ok()) << "the same store works once the server is back";
}

// "503 Slow Down" is retried with backoff and the request then succeeds; 503s that outlast
// max_attempts end in an error that says what the server answered.
TEST_F(S3StoreTest, SlowDownAnswersAreRetried) {
  FaultProxy proxy(server_.port());
  ASSERT_EQ(proxy.problem(), "");
  S3Settings settings = server_.settings();
  settings.endpoint = proxy.endpoint();
  settings.max_attempts = 4;
  auto store = open("s3://strata-test/lake", settings);
  const std::string bytes = random_bytes(size_t{1} << 20, 7);
  proxy.answer_503_to_first(2);
  auto put = store->put("retried", MemorySource(bytes));
  ASSERT_TRUE(put.is_ok()) << put.status().to_string();
  EXPECT_EQ(proxy.answered_503(), 2);
  proxy.answer_503_to_first(3);
  auto got = store->get("retried");
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_TRUE(*got == bytes);
  EXPECT_EQ(proxy.answered_503(), 5);
  // Every part of a multipart upload retries on its own.
  const std::string large = random_bytes(size_t{20} << 20, 8);
  proxy.answer_503_to_first(3);
  put = store->put("retried-multipart", MemorySource(large));
  ASSERT_TRUE(put.is_ok()) << put.status().to_string();
  EXPECT_EQ(proxy.answered_503(), 8);
  EXPECT_TRUE(store_->get("retried-multipart").value() == large);
  // As many 503s as attempts: an error naming the answer; nothing half-done is left.
  proxy.answer_503_to_first(4);
  auto failed = store->get_range("retried", 0, 10);
  ASSERT_FALSE(failed.is_ok());
  EXPECT_NE(failed.status().message().find("503"), std::string::npos) << failed.status().message();
  EXPECT_NE(failed.status().message().find("SlowDown"), std::string::npos) << failed.status().message();
  EXPECT_EQ(proxy.answered_503(), 12);
  proxy.answer_503_to_first(4);
  EXPECT_FALSE(store->put("never", MemorySource(bytes)).is_ok());
  EXPECT_EQ(store_->head("never").status().code(), StatusCode::kNotFound);
}

// The server going away in the middle of a transfer (the proxy cuts every connection after some
// bytes and then refuses new ones): single and multipart uploads fail and leave no object;
// downloads fail rather than return the bytes that arrived.
TEST_F(S3StoreTest, TheServerGoingAwayMidTransferIsAnErrorAndLeavesNoObject) {
  const std::string bytes = random_bytes(size_t{64} << 20, 11);
  S3Settings settings = server_.settings();
  settings.max_attempts = 3;
  struct Case {
    std::string key;
    size_t size;
    uint64_t die_after;
  };
  for (const Case& c : {Case{"multipart", bytes.size(), uint64_t{20} << 20}, Case{"single", size_t{12} << 20, uint64_t{4} << 20}}) {
    FaultProxy proxy(server_.port());
    ASSERT_EQ(proxy.problem(), "");
    settings.endpoint = proxy.endpoint();
    auto store = open("s3://strata-test/lake", settings);
    proxy.die_after_bytes(c.die_after);
    auto put = store->put(c.key, MemorySource(std::string_view(bytes).substr(0, c.size)));
    EXPECT_FALSE(put.is_ok()) << c.key;
    EXPECT_EQ(put.status().code(), StatusCode::kIoError) << put.status().to_string();
    EXPECT_TRUE(proxy.dead());
    EXPECT_EQ(store_->head(c.key).status().code(), StatusCode::kNotFound) << c.key;
  }
  ASSERT_TRUE(store_->put("whole", MemorySource(bytes)).is_ok());
  FaultProxy proxy(server_.port());
  settings.endpoint = proxy.endpoint();
  auto store = open("s3://strata-test/lake", settings);
  proxy.die_after_bytes(uint64_t{10} << 20);
  auto got = store->get("whole");
  EXPECT_FALSE(got.is_ok()) << "a cut download is an error, not " << (got.is_ok() ? got->size() : 0) << " bytes";
  EXPECT_EQ(got.status().code(), StatusCode::kIoError);
  EXPECT_FALSE(store->get_range("whole", 0, 1000).is_ok()) << "the server is gone";
  EXPECT_TRUE(store_->get("whole").value() == bytes) << "the object itself is whole";
}

TEST(S3Settings, OpenRefusesBadLocations) {
  S3Settings settings;
  settings.credentials = {"k", "s", ""};
  EXPECT_FALSE(S3Store::open("file:/x", settings).is_ok());
  EXPECT_FALSE(S3Store::open("s3://B", settings).is_ok());
  EXPECT_FALSE(S3Store::open("s3://bucket/../x", settings).is_ok());
  settings.part_size = 1 << 20;
  EXPECT_FALSE(S3Store::open("s3://bucket", settings).is_ok());
  settings.part_size = 8 << 20;
  auto store = S3Store::open("s3://bucket/a/b/", settings);
  ASSERT_TRUE(store.is_ok());
  EXPECT_EQ((*store)->location(), "s3://bucket/a/b");
}


// ---- a server that accepts connections and never answers (silent_server.h) ----------------

S3Settings silent_settings(const SilentServer& server) {
  S3Settings settings;
  settings.endpoint = server.endpoint();
  settings.credentials.access_key_id = "AKIDEXAMPLE";
  settings.credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  return settings;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(S3StoreSilentServer, EveryCallEndsAtItsDeadline) {
  SilentServer server;
  ASSERT_GT(server.port(), 0);
  S3Settings settings = silent_settings(server);
  settings.request_timeout_ms = 600;  // retries included
  auto store = S3Store::open("s3://strata-test/lake", settings);
  ASSERT_TRUE(store.is_ok());
  auto start = std::chrono::steady_clock::now();
  auto got = (*store)->get_range("t/x.parquet", 0, 100);
  EXPECT_LT(seconds_since(start), 3.0);
  ASSERT_FALSE(got.is_ok());
  EXPECT_EQ(got.status().code(), StatusCode::kIoError);
  EXPECT_NE(got.status().message().find("STRATA_S3_TIMEOUT_MS"), std::string::npos) << got.status().message();
  start = std::chrono::steady_clock::now();
  auto put = (*store)->put("t/y.parquet", MemorySource("bytes"), WriteMode::kCreateOnly);
  EXPECT_LT(seconds_since(start), 3.0);
  EXPECT_FALSE(put.is_ok());
}

TEST(S3StoreSilentServer, CancellationEndsAWaitPromptly) {
  SilentServer server;
  ASSERT_GT(server.port(), 0);
  S3Settings settings = silent_settings(server);
  settings.request_timeout_ms = 60000;
  auto store = S3Store::open("s3://strata-test/lake", settings);
  ASSERT_TRUE(store.is_ok());
  std::atomic<bool> stop{false};
  (*store)->set_cancellation([&] { return stop.load(); });
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  auto start = std::chrono::steady_clock::now();
  auto got = (*store)->get("t/x.parquet");
  double waited = seconds_since(start);
  canceller.join();
  ASSERT_FALSE(got.is_ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInterrupted) << got.status().message();
  EXPECT_LT(waited, 2.5) << "libcurl asks at least once a second";
}

// Through SQL: sqlite3_interrupt (Ctrl-C in the shell) ends a parquet_export whose upload waits
// on a server that never answers, with SQLITE_INTERRUPT and no object.
TEST(S3StoreSilentServer, SqliteInterruptEndsAStatementWaitingOnTheStore) {
  SilentServer server;
  ASSERT_GT(server.port(), 0);
  struct Environment {
    explicit Environment(const std::string& endpoint) {
      ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
      ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
      ::setenv("AWS_ENDPOINT_URL", endpoint.c_str(), 1);
      ::setenv("AWS_REGION", "us-east-1", 1);
    }
    ~Environment() {
      for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION"}) ::unsetenv(name);
    }
  } environment(server.endpoint());
  strata::testing::TestDatabase db;
  std::thread interrupter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    sqlite3_interrupt(db.get());
  });
  auto start = std::chrono::steady_clock::now();
  int rc = db.result_code_of("SELECT parquet_export('s3://strata-test/lake/x.parquet', 'SELECT 1 AS a')");
  double waited = seconds_since(start);
  interrupter.join();
  EXPECT_EQ(rc, SQLITE_INTERRUPT);
  EXPECT_LT(waited, 2.5);
}

}  // namespace
