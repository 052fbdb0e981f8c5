// The SigV4 signer against the aws-c-auth test suite (../shared/sigv4-test-suite): every case
// that applies to S3, for header signing and presigned URLs. Cases that ask for path
// normalization, which S3 does not do, are run only where normalizing changes nothing.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/unit/test_database.h"
#include "tiering/digest.h"
#include "tiering/sigv4.h"

namespace {

using namespace strata::tiering;

std::string read_file(const std::filesystem::path& path) { return strata::testing::read_file_bytes(path.string()); }

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

struct SuiteCase {
  SignableRequest request;
  AwsCredentials credentials;
  SigningScope scope;
  bool sign_body = false;
  bool omit_session_token = false;
  bool normalize = false;
  int64_t expires = 0;
};

SuiteCase load_case(const std::filesystem::path& folder) {
  SuiteCase out;
  rapidjson::Document context;
  context.Parse(read_file(folder / "context.json").c_str());
  const auto& credentials = context["credentials"];
  out.credentials.access_key_id = credentials["access_key_id"].GetString();
  out.credentials.secret_access_key = credentials["secret_access_key"].GetString();
  if (credentials.HasMember("token")) out.credentials.session_token = credentials["token"].GetString();
  out.scope.region = context["region"].GetString();
  out.scope.service = context["service"].GetString();
  std::tm time{};
  strptime(context["timestamp"].GetString(), "%Y-%m-%dT%H:%M:%SZ", &time);
  out.scope.unix_seconds = timegm(&time);
  out.sign_body = context["sign_body"].GetBool();
  out.normalize = context["normalize"].GetBool();
  out.expires = context["expiration_in_seconds"].GetInt64();
  if (context.HasMember("omit_session_token")) out.omit_session_token = context["omit_session_token"].GetBool();

  std::string text = read_file(folder / "request.txt");
  size_t line_end = text.find('\n');
  std::string request_line = text.substr(0, line_end);
  size_t first_space = request_line.find(' ');
  size_t last_space = request_line.rfind(' ');
  out.request.method = request_line.substr(0, first_space);
  std::string target = request_line.substr(first_space + 1, last_space - first_space - 1);
  size_t question = target.find('?');
  out.request.path = target.substr(0, question);
  if (question != std::string::npos) {
    std::stringstream query(target.substr(question + 1));
    std::string pair;
    while (std::getline(query, pair, '&')) {
      size_t equals = pair.find('=');
      out.request.query.emplace_back(percent_decode(pair.substr(0, equals)),
                                     equals == std::string::npos ? "" : percent_decode(pair.substr(equals + 1)));
    }
  }
  size_t position = line_end + 1;
  while (position < text.size()) {
    size_t end = text.find('\n', position);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(position, end - position);
    position = end + 1;
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {
      out.request.headers.back().second += " " + line;  // a folded line continues the value
      continue;
    }
    size_t colon = line.find(':');
    out.request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  std::string body = position < text.size() ? text.substr(position) : "";
  out.request.payload_hash = hex(sha256(body));
  return out;
}

// Whether S3's unnormalized signing of this path differs from what a normalizing signer signs.
bool normalization_changes(std::string_view path) {
  return path.find("//") != std::string_view::npos || path.find("/./") != std::string_view::npos ||
         path.find("/../") != std::string_view::npos || path.ends_with("/.") || path.ends_with("/..");
}

std::string authorization(const SignableRequest& request) {
  for (const auto& [name, value] : request.headers) {
    if (name == "Authorization") return value;
  }
  return "";
}

TEST(SigV4, PassesTheAwsSuiteCasesThatApplyToS3) {
  std::set<std::string> run, skipped;
  for (const auto& entry : std::filesystem::directory_iterator(STRATA_SIGV4_SUITE)) {
    if (!entry.is_directory()) continue;
    const std::filesystem::path& folder = entry.path();
    const std::string name = folder.filename().string();
    SuiteCase test = load_case(folder);
    if (test.normalize && normalization_changes(test.request.path)) {
      skipped.insert(name);
      continue;
    }
    run.insert(name);

    SignableRequest headers_request = test.request;
    SigningTrace signed_headers = sign_headers(headers_request, test.credentials, test.scope,
                                               SigningOptions{test.sign_body, test.omit_session_token});
    EXPECT_EQ(signed_headers.canonical_request, read_file(folder / "header-canonical-request.txt")) << name;
    EXPECT_EQ(signed_headers.string_to_sign, read_file(folder / "header-string-to-sign.txt")) << name;
    EXPECT_EQ(signed_headers.signature, read_file(folder / "header-signature.txt")) << name;
    std::string expected_request = read_file(folder / "header-signed-request.txt");
    EXPECT_NE(expected_request.find("Authorization:" + authorization(headers_request) + "\n"), std::string::npos)
        << name << "\n" << authorization(headers_request);

    SignableRequest query_request = test.request;
    SigningTrace signed_query = presign(query_request, test.credentials, test.scope, test.expires, SigningOptions{false, test.omit_session_token});
    EXPECT_EQ(signed_query.canonical_request, read_file(folder / "query-canonical-request.txt")) << name;
    EXPECT_EQ(signed_query.string_to_sign, read_file(folder / "query-string-to-sign.txt")) << name;
    EXPECT_EQ(signed_query.signature, read_file(folder / "query-signature.txt")) << name;
  }
  // Only path-normalizing variants are left out, and each has an unnormalized twin that ran.
  for (const std::string& name : skipped) {
    ASSERT_TRUE(name.ends_with("-normalized")) << name;
    EXPECT_TRUE(run.contains(name.substr(0, name.size() - std::string("-normalized").size()) + "-unnormalized")) << name;
  }
  EXPECT_GE(run.size(), 30u);
}

TEST(SigV4, EncodesLikeS3) {
  EXPECT_EQ(uri_encode("a b+c~d/é", true), "a%20b%2Bc~d/%C3%A9");
  EXPECT_EQ(uri_encode("a b+c~d/é", false), "a%20b%2Bc~d%2F%C3%A9");
  SignableRequest request;
  request.path = "/bucket/dir//./x y";
  request.query = {{"list-type", "2"}, {"prefix", "a/b c"}};
  EXPECT_EQ(wire_target(request), "/bucket/dir//./x%20y?list-type=2&prefix=a%2Fb%20c");
  EXPECT_EQ(amz_date(1440938160), "20150830T123600Z");
}

}  // namespace

namespace {

// Runs a command and returns what it printed.
std::string output_of(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[65536];
  size_t got;
  while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, got);
  pclose(pipe);
  return out;
}

TEST(SigV4, AgreesWithBotocoreOnRandomS3Requests) {
  // Debian's python3-botocore (scripts/install-deps.sh installs it), not a pip one.
  std::string json = output_of(std::string("/usr/bin/python3 ") + STRATA_SOURCE_DIR + "/tests/tools/botocore_sign.py 20261121 300");
  rapidjson::Document cases;
  cases.Parse(json.c_str());
  ASSERT_TRUE(cases.IsArray()) << "botocore_sign.py failed (is python3-botocore installed?): " << json.substr(0, 500);
  ASSERT_EQ(cases.Size(), 300u);
  for (const auto& test : cases.GetArray()) {
    SignableRequest request;
    request.method = test["method"].GetString();
    request.path = test["path"].GetString();
    for (const auto& pair : test["query"].GetArray()) request.query.emplace_back(pair[0].GetString(), pair[1].GetString());
    for (const auto& pair : test["headers"].GetArray()) request.headers.emplace_back(pair[0].GetString(), pair[1].GetString());
    request.payload_hash = test["payload_hash"].GetString();
    AwsCredentials credentials{test["access_key_id"].GetString(), test["secret_access_key"].GetString(), test["session_token"].GetString()};
    SigningScope scope{test["region"].GetString(), "s3", test["header_time"].GetInt64()};
    const std::string url = test["url"].GetString();
    EXPECT_EQ(url.substr(url.find('/', 7)), wire_target(request)) << "the same bytes on the wire";

    SignableRequest by_headers = request;
    SigningTrace trace = sign_headers(by_headers, credentials, scope);
    EXPECT_EQ(authorization(by_headers), test["authorization"].GetString()) << url << "\n" << trace.canonical_request;

    SignableRequest presigned;
    presigned.path = request.path;
    presigned.query = request.query;
    presigned.headers = {request.headers.front()};  // Host only
    presigned.payload_hash = "UNSIGNED-PAYLOAD";
    scope.unix_seconds = test["presign_time"].GetInt64();
    SigningTrace query_trace = presign(presigned, credentials, scope, 900);
    EXPECT_EQ(query_trace.signature, test["presign_signature"].GetString()) << url << "\n" << query_trace.canonical_request;
  }
}

}  // namespace
