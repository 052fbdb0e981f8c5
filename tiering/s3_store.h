// S3Store: `s3://bucket/prefix` over libcurl, signed with AWS Signature V4 (tiering/sigv4.h).
//
// Settings come from the usual environment variables (S3Settings::from_environment):
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION (default us-east-1)
// and AWS_ENDPOINT_URL (a custom endpoint such as http://127.0.0.1:9000, addressed path-style;
// without it, https://s3.<region>.amazonaws.com, also path-style so that bucket names with dots
// work over TLS). Secrets are held in memory only and never appear in messages.
//
// Behaviour:
//   - One libcurl handle per store, reused (keep-alive), guarded by a mutex.
//   - Timeouts: connecting (default 5 s) and stalls (no progress for 30 s); no overall limit,
//     so large objects are not cut off.
//   - Retries with exponential backoff and full jitter on network errors, HTTP 5xx and 429 only
//     (default 5 attempts); never on other 4xx.
//   - Uploads: bodies up to multipart_threshold (16 MiB) in one PUT with Content-MD5 and a signed
//     SHA-256; larger ones as a multipart upload of part_size parts (8 MiB, at least 5 MiB), read
//     part by part from the ByteSource, each with Content-MD5, aborted on failure. The ETag S3
//     returns is checked against the MD5 strata computed (the multipart form md5(part md5s)-N
//     too), so a body changed in transit is never taken for the object.
//   - kCreateOnly puts send If-None-Match: * (a 412 becomes kConstraint).
//   - Reads check the length received against Content-Length / Content-Range; a transfer cut
//     short is an error (and retried), never a short object.
//   - Errors carry the HTTP status and S3's error code and message.
#pragma once

#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "tiering/object_store.h"
#include "tiering/sigv4.h"

namespace strata::tiering {

struct S3Settings {
  std::string endpoint;  // "http://127.0.0.1:9000"; empty: https://s3.<region>.amazonaws.com
  std::string region = "us-east-1";
  AwsCredentials credentials;
  uint64_t multipart_threshold = uint64_t{16} << 20;
  uint64_t part_size = uint64_t{8} << 20;
  int max_attempts = 5;
  int first_backoff_ms = 100;
  int max_backoff_ms = 5000;
  long connect_timeout_ms = 5000;
  long stall_seconds = 30;
  // The most one call may take, retries and waits included (STRATA_S3_TIMEOUT_MS): past it the
  // call fails with an error saying so, whatever the server does.
  long request_timeout_ms = 60000;

  static Result<S3Settings> from_environment();
};

class S3Store : public ObjectStore {
 public:
  // `url` is "s3://bucket" or "s3://bucket/prefix".
  static Result<std::unique_ptr<S3Store>> open(std::string_view url, S3Settings settings);
  ~S3Store() override;

  std::string location() const override;
  Result<ObjectInfo> put(std::string_view key, const ByteSource& body, WriteMode mode = WriteMode::kOverwrite) override;
  Result<std::string> get(std::string_view key) override;
  Result<std::string> get_range(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<ObjectInfo> head(std::string_view key) override;
  Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
  Status remove(std::string_view key) override;

  // A URL that GETs the object without credentials for `expires_seconds` (at most 7 days).
  std::string presigned_get_url(std::string_view key, int64_t expires_seconds) const;

  struct Request;
  struct Response;

 private:
  S3Store(std::string bucket, std::string prefix, S3Settings settings, void* curl);
  std::string object_path(std::string_view key) const;  // "/bucket/prefix/key", decoded
  Result<Response> send(Request& request);
  Result<Response> send_once(Request& request, bool* retryable, long timeout_ms);
  Status interrupted(const Request& request) const;
  Status failure(std::string_view doing, std::string_view key, const Response& response) const;
  Result<ObjectInfo> put_single(std::string_view key, const ByteSource& body, WriteMode mode);
  Result<ObjectInfo> put_multipart(std::string_view key, const ByteSource& body, WriteMode mode);

  std::string bucket_;
  std::string prefix_;  // "" or "dir/sub/" (with the trailing '/')
  S3Settings settings_;
  std::string scheme_host_;  // "http://127.0.0.1:9000"
  std::string host_;         // "127.0.0.1:9000"
  std::mutex mutex_;         // one request at a time on curl_ (and jitter_)
  void* curl_;               // CURL*
  std::mt19937_64 jitter_{std::random_device{}()};  // backoff waits
};

}  // namespace strata::tiering
