// S3TestServer: a real S3-compatible server on 127.0.0.1 for tests — s3rver (npm, installed in
// tests/peers by scripts/test.sh) behind ../shared/tools/s3-test-server.mjs, which verifies
// SigV4 and fixes s3rver's range handling. Started on a free port in a fresh directory with one
// bucket, stopped (and restartable) by the test. The benchmarks use it too (bench/parquet_bench),
// with a directory of their own, which keeps this file free of GoogleTest.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "tests/unit/test_database.h"
#include "tiering/s3_store.h"

namespace strata::testing {

class S3TestServer {
 public:
  static constexpr const char* kBucket = "strata-test";
  // In a scratch directory of the running test.
  S3TestServer() : S3TestServer(scratch_for_test()) {}
  // With its data and log in `directory` (created if missing, left in place).
  explicit S3TestServer(const std::string& directory) : S3TestServer(Directory{nullptr, directory}) {}
  ~S3TestServer();
  S3TestServer(const S3TestServer&) = delete;
  S3TestServer& operator=(const S3TestServer&) = delete;

  // Empty when the server runs; otherwise why it does not.
  const std::string& problem() const { return problem_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // Settings for this server with its fixed credentials (S3RVER / S3RVER).
  tiering::S3Settings settings() const;

  void stop();
  void start();

 private:
  struct Directory {
    std::shared_ptr<void> owner;  // keeps a test's scratch directory alive
    std::string path;
  };
  static Directory scratch_for_test() {
    auto scratch = std::make_shared<ScratchDirectory>("s3_server");
    return Directory{scratch, scratch->path("")};
  }
  explicit S3TestServer(Directory directory);

  Directory directory_;
  int port_ = 0;
  pid_t process_ = -1;
  std::string problem_;
};

// The AWS_* variables that make SQL-level s3:// URLs (parquet_export, the parquet table) reach
// `server` with its credentials, for the life of this object; unset again after.
class ScopedAwsEnvironment {
 public:
  explicit ScopedAwsEnvironment(const S3TestServer& server);
  ~ScopedAwsEnvironment();
  ScopedAwsEnvironment(const ScopedAwsEnvironment&) = delete;
  ScopedAwsEnvironment& operator=(const ScopedAwsEnvironment&) = delete;
};

}  // namespace strata::testing
