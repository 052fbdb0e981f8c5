#include "tiering/sigv4.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "ext/str_cat.h"
#include "tiering/digest.h"

namespace strata::tiering {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Leading and trailing blanks removed, inner runs of blanks (including folded lines) made one
// space.
std::string trimmed_value(std::string_view value) {
  std::string out;
  bool blank = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out.push_back(' ');
    blank = false;
    out.push_back(c);
  }
  return out;
}

struct CanonicalHeaders {
  std::string text;    // "name:value\n" for each, sorted by name
  std::string signed_names;  // "host;x-amz-date"
};

CanonicalHeaders canonical_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::map<std::string, std::string> merged;  // repeated headers: values joined with ',' in order
  for (const auto& [name, value] : headers) {
    std::string& joined = merged[lower(name)];
    if (!joined.empty()) joined.push_back(',');
    joined += trimmed_value(value);
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : merged) {
    out.text += str_cat(name, ":", value, "\n");
    if (!out.signed_names.empty()) out.signed_names.push_back(';');
    out.signed_names += name;
  }
  return out;
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += str_cat(name, "=", value);
  }
  return out;
}

std::string_view as_bytes(const Sha256& digest) { return std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()); }

std::string date_of(std::string_view amz_date) { return std::string(amz_date.substr(0, 8)); }

std::string credential_scope(const SigningScope& scope, std::string_view date) {
  return str_cat(date, "/", scope.region, "/", scope.service, "/aws4_request");
}

// Builds the canonical request and string to sign, and signs the latter.
SigningTrace compute(const SignableRequest& request, std::string_view signed_header_text, std::string_view signed_names,
                     const AwsCredentials& credentials, const SigningScope& scope, std::string_view date_time) {
  SigningTrace trace;
  trace.canonical_request = str_cat(request.method, "\n", uri_encode(request.path.empty() ? "/" : request.path, true), "\n",
                                    canonical_query(request.query), "\n", signed_header_text, "\n", signed_names, "\n",
                                    request.payload_hash);
  const std::string date = date_of(date_time);
  trace.string_to_sign = str_cat(kAlgorithm, "\n", date_time, "\n", credential_scope(scope, date), "\n", hex(sha256(trace.canonical_request)));
  // The signing key: the secret, narrowed by date, region, service and "aws4_request" in turn.
  Sha256 key = hmac_sha256(str_cat("AWS4", credentials.secret_access_key), date);
  for (std::string_view scope_part : {std::string_view(scope.region), std::string_view(scope.service), std::string_view("aws4_request")}) {
    key = hmac_sha256(as_bytes(key), scope_part);
  }
  trace.signature = hex(hmac_sha256(as_bytes(key), trace.string_to_sign));
  return trace;
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') || byte == '-' ||
                      byte == '.' || byte == '_' || byte == '~' || (keep_slash && byte == '/');
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

std::string amz_date(int64_t unix_seconds) {
  std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

SigningTrace sign_headers(SignableRequest& request, const AwsCredentials& credentials, const SigningScope& scope,
                          const SigningOptions& options) {
  const std::string date_time = amz_date(scope.unix_seconds);
  request.headers.emplace_back("X-Amz-Date", date_time);
  if (options.content_sha256_header) request.headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  const bool token = !credentials.session_token.empty();
  if (token && !options.session_token_unsigned) request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  CanonicalHeaders headers = canonical_headers(request.headers);
  SigningTrace trace = compute(request, headers.text, headers.signed_names, credentials, scope, date_time);
  if (token && options.session_token_unsigned) request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  request.headers.emplace_back("Authorization", str_cat(kAlgorithm, " Credential=", credentials.access_key_id, "/",
                                                        credential_scope(scope, date_of(date_time)), ", SignedHeaders=",
                                                        headers.signed_names, ", Signature=", trace.signature));
  return trace;
}

SigningTrace presign(SignableRequest& request, const AwsCredentials& credentials, const SigningScope& scope, int64_t expires_seconds,
                     const SigningOptions& options) {
  const std::string date_time = amz_date(scope.unix_seconds);
  CanonicalHeaders headers = canonical_headers(request.headers);
  request.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  request.query.emplace_back("X-Amz-Credential", str_cat(credentials.access_key_id, "/", credential_scope(scope, date_of(date_time))));
  request.query.emplace_back("X-Amz-Date", date_time);
  request.query.emplace_back("X-Amz-Expires", std::to_string(std::clamp<int64_t>(expires_seconds, 1, 7 * 24 * 3600)));
  const bool token = !credentials.session_token.empty();
  if (token && !options.session_token_unsigned) request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  request.query.emplace_back("X-Amz-SignedHeaders", headers.signed_names);
  SigningTrace trace = compute(request, headers.text, headers.signed_names, credentials, scope, date_time);
  if (token && options.session_token_unsigned) request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  request.query.emplace_back("X-Amz-Signature", trace.signature);
  return trace;
}

std::string wire_target(const SignableRequest& request) {
  std::string target = uri_encode(request.path.empty() ? "/" : request.path, true);
  for (size_t i = 0; i < request.query.size(); ++i) {
    target += str_cat(i == 0 ? "?" : "&", uri_encode(request.query[i].first, false), "=", uri_encode(request.query[i].second, false));
  }
  return target;
}

}  // namespace strata::tiering
