// AWS Signature Version 4, as S3 wants it: header signing and presigned URLs.
//
// A request is given decoded: the path and query names/values as text ("/bucket/a key+ü"); the
// signer encodes them the way S3 does — every byte except A–Z a–z 0–9 - . _ ~ as %XX, '/' kept in
// the path — once, without normalizing the path ("//a/./b" stays as it is, since S3 keys may
// hold such names). The same encoding goes on the wire (wire_target), so what is signed is
// exactly what is sent.
//
// Reference: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html; tested
// against the aws-c-auth suite in ../shared/sigv4-test-suite and against botocore.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::tiering {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: none
};

struct SignableRequest {
  std::string method = "GET";
  std::string path = "/";                                     // decoded
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in wire order
  std::vector<std::pair<std::string, std::string>> headers;  // as sent, Host included
  // Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
};

struct SigningScope {
  std::string region;
  std::string service = "s3";
  int64_t unix_seconds = 0;  // the request's time
};

struct SigningOptions {
  // Add and sign x-amz-content-sha256 (S3 requires it on every header-signed request).
  bool content_sha256_header = true;
  // Add the session token after signing instead of signing it (some services want that; S3 not).
  // Applies to presigned URLs too.
  bool session_token_unsigned = false;
};

// What a signature was computed from, for tests and for debugging a SignatureDoesNotMatch
// (the server's error shows its own canonical request). Holds no secret.
struct SigningTrace {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

std::string uri_encode(std::string_view text, bool keep_slash);
// "20150830T123600Z"
std::string amz_date(int64_t unix_seconds);

// Adds X-Amz-Date, x-amz-content-sha256 and X-Amz-Security-Token as the options say, then
// Authorization, to request.headers.
SigningTrace sign_headers(SignableRequest& request, const AwsCredentials& credentials, const SigningScope& scope,
                          const SigningOptions& options = {});

// Adds the X-Amz-* parameters of a presigned URL (valid for `expires_seconds`, at most 7 days)
// to request.query, X-Amz-Signature last.
SigningTrace presign(SignableRequest& request, const AwsCredentials& credentials, const SigningScope& scope, int64_t expires_seconds,
                     const SigningOptions& options = {});

// The request target as sent: encoded path, then '?' and the encoded query in its order.
std::string wire_target(const SignableRequest& request);

}  // namespace strata::tiering
