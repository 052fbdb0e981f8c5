#include "tiering/s3_store.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "ext/str_cat.h"
#include "tiering/digest.h"

namespace strata::tiering {

struct S3Store::Request {
  std::string method = "GET";
  std::string path;  // decoded
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Host and the signature's
  std::string_view body;                                     // sent for PUT and POST
  bool head = false;
  std::string payload_hash;  // of body: computed once in send(), not again for each retry
};

struct S3Store::Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
  }
};

namespace {

const char* environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// The text of the first <tag>…</tag> in `xml` at or after `from`, entities decoded.
std::string xml_text(std::string_view xml, std::string_view tag, size_t from = 0, size_t* end_out = nullptr) {
  std::string open = str_cat("<", tag, ">");
  std::string close = str_cat("</", tag, ">");
  size_t start = xml.find(open, from);
  if (start == std::string_view::npos) return {};
  start += open.size();
  size_t end = xml.find(close, start);
  if (end == std::string_view::npos) return {};
  if (end_out != nullptr) *end_out = end + close.size();
  std::string_view raw = xml.substr(start, end - start);
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out.push_back(raw[i]);
      continue;
    }
    size_t semicolon = raw.find(';', i);
    if (semicolon == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    std::string_view entity = raw.substr(i + 1, semicolon - i - 1);
    if (entity == "amp") out.push_back('&');
    else if (entity == "lt") out.push_back('<');
    else if (entity == "gt") out.push_back('>');
    else if (entity == "quot") out.push_back('"');
    else if (entity == "apos") out.push_back('\'');
    else if (!entity.empty() && entity[0] == '#') {
      unsigned long code = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X') ? std::strtoul(std::string(entity.substr(2)).c_str(), nullptr, 16)
                                                                                      : std::strtoul(std::string(entity.substr(1)).c_str(), nullptr, 10);
      // UTF-8 encode the code point.
      if (code < 0x80) {
        out.push_back(static_cast<char>(code));
      } else if (code < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (code >> 6)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else if (code < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (code >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (code >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      }
    } else {
      out.append(raw.substr(i, semicolon - i + 1));
    }
    i = semicolon;
  }
  return out;
}

std::string unquoted(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

int64_t parse_http_time_ms(const std::string& text) {
  if (text.empty()) return 0;
  time_t seconds = curl_getdate(text.c_str(), nullptr);
  return seconds < 0 ? 0 : static_cast<int64_t>(seconds) * 1000;
}

// "2024-01-02T03:04:05.000Z"
int64_t parse_iso_time_ms(const std::string& text) {
  std::tm time{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &time) == nullptr) return 0;
  return static_cast<int64_t>(timegm(&time)) * 1000;
}

size_t append_body(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

size_t record_header(char* data, size_t size, size_t count, void* target) {
  std::string_view line(data, size * count);
  auto* headers = static_cast<std::map<std::string, std::string>*>(target);
  if (line.starts_with("HTTP/")) headers->clear();  // a new response (after 100 Continue, a redirect)
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    (*headers)[name] = std::string(value);
  }
  return size * count;
}

struct UploadCursor {
  std::string_view body;
  size_t position = 0;
};

size_t read_body(char* buffer, size_t size, size_t count, void* source) {
  auto* cursor = static_cast<UploadCursor*>(source);
  size_t piece = std::min(size * count, cursor->body.size() - cursor->position);
  std::copy_n(cursor->body.data() + cursor->position, piece, buffer);
  cursor->position += piece;
  return piece;
}

int rewind_body(void* source, curl_off_t offset, int origin) {
  auto* cursor = static_cast<UploadCursor*>(source);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > cursor->body.size()) return CURL_SEEKFUNC_FAIL;
  cursor->position = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

bool retryable_curl_error(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<S3Settings> S3Settings::from_environment() {
  S3Settings settings;
  const char* key = environment("AWS_ACCESS_KEY_ID");
  const char* secret = environment("AWS_SECRET_ACCESS_KEY");
  if (key == nullptr || secret == nullptr) {
    return Status::error("s3 store: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)");
  }
  settings.credentials.access_key_id = key;
  settings.credentials.secret_access_key = secret;
  if (const char* token = environment("AWS_SESSION_TOKEN")) settings.credentials.session_token = token;
  if (const char* region = environment("AWS_REGION")) settings.region = region;
  else if (const char* fallback = environment("AWS_DEFAULT_REGION")) settings.region = fallback;
  if (const char* endpoint = environment("AWS_ENDPOINT_URL")) settings.endpoint = endpoint;
  if (const char* timeout = environment("STRATA_S3_TIMEOUT_MS")) {
    char* end = nullptr;
    long value = std::strtol(timeout, &end, 10);
    if (end == timeout || *end != '\0' || value < 1 || value > 86400000) {
      return Status::error(str_cat("s3 store: STRATA_S3_TIMEOUT_MS must be a number of milliseconds from 1 to 86400000, got '",
                                   timeout, "'"));
    }
    settings.request_timeout_ms = value;
  }
  return settings;
}

Result<std::unique_ptr<S3Store>> S3Store::open(std::string_view url, S3Settings settings) {
  if (!url.starts_with("s3://")) return Status::error(str_cat("s3 store: '", url, "' is not an s3:// location (s3://bucket or s3://bucket/prefix)"));
  std::string_view rest = url.substr(5);
  size_t slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  std::string prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
  if (bucket.size() < 3 || bucket.size() > 63 ||
      bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) {
    return Status::error(str_cat("s3 store: '", bucket, "' is not a valid bucket name (3 to 63 of a-z, 0-9, '.', '-')"));
  }
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!prefix.empty()) {
    STRATA_RETURN_IF_ERROR(check_object_key(str_cat("s3://", bucket), prefix));
    prefix.push_back('/');
  }
  if (settings.part_size < (uint64_t{5} << 20)) return Status::error("s3 store: the multipart part size must be at least 5 MiB (S3's minimum)");
  if (settings.multipart_threshold < settings.part_size) settings.multipart_threshold = settings.part_size;
  settings.max_attempts = std::max(1, settings.max_attempts);
  static std::once_flag curl_initialized;
  std::call_once(curl_initialized, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::no_memory();
  return std::unique_ptr<S3Store>(new S3Store(std::move(bucket), std::move(prefix), std::move(settings), curl));
}

S3Store::S3Store(std::string bucket, std::string prefix, S3Settings settings, void* curl)
    : bucket_(std::move(bucket)), prefix_(std::move(prefix)), settings_(std::move(settings)), curl_(curl) {
  scheme_host_ = settings_.endpoint.empty() ? str_cat("https://s3.", settings_.region, ".amazonaws.com") : settings_.endpoint;
  while (!scheme_host_.empty() && scheme_host_.back() == '/') scheme_host_.pop_back();
  size_t start = scheme_host_.find("://");
  host_ = start == std::string::npos ? scheme_host_ : scheme_host_.substr(start + 3);
  host_ = host_.substr(0, host_.find('/'));
}

S3Store::~S3Store() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

std::string S3Store::location() const {
  if (prefix_.empty()) return str_cat("s3://", bucket_);
  return str_cat("s3://", bucket_, "/", std::string_view(prefix_).substr(0, prefix_.size() - 1));
}

std::string S3Store::object_path(std::string_view key) const { return str_cat("/", bucket_, "/", prefix_, key); }

Status S3Store::failure(std::string_view doing, std::string_view key, const Response& response) const {
  std::string code = xml_text(response.body, "Code");
  std::string message = xml_text(response.body, "Message");
  std::string text = str_cat("object store ", location(), ": ", doing, " '", printable_key(key), "' failed: HTTP ", std::to_string(response.status));
  if (!code.empty()) text += str_cat(" ", code);
  if (!message.empty()) text += str_cat(": ", message);
  if (response.status == 403 && (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId")) {
    text += " (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)";
  }
  if (response.status == 404) return Status::not_found(text);
  if (response.status == 412) return Status::constraint(text);
  if (response.status >= 400 && response.status < 500) return Status::error(text);
  return Status::io_error(text);
}

namespace {

// libcurl's progress callback, called at least once a second while a transfer waits: a non-zero
// answer aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
int check_cancellation(void* store, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const ObjectStore*>(store)->cancelled() ? 1 : 0;
}

}  // namespace

Status S3Store::interrupted(const Request& request) const {
  return Status::interrupted(str_cat("object store ", location(), ": ", request.method, " ", printable_key(request.path),
                                     " interrupted"));
}

Result<S3Store::Response> S3Store::send_once(Request& request, bool* retryable, long timeout_ms) {
  *retryable = false;
  SignableRequest signable;
  signable.method = request.method;
  signable.path = request.path;
  signable.query = request.query;
  signable.headers = request.headers;
  signable.headers.emplace_back("Host", host_);
  signable.payload_hash = request.payload_hash;
  sign_headers(signable, settings_.credentials, SigningScope{settings_.region, "s3", static_cast<int64_t>(std::time(nullptr))});

  auto* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  std::string url = scheme_host_ + wire_target(signable);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, settings_.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, settings_.stall_seconds);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_cancellation);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, static_cast<const ObjectStore*>(this));
  Response response;
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, record_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  UploadCursor upload{request.body, 0};
  if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, rewind_body);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method == "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.head) {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_slist* header_list = nullptr;
  for (const auto& [name, value] : signable.headers) {
    if (name == "Host") continue;  // curl sends it from the URL, the same text
    header_list = curl_slist_append(header_list, str_cat(name, ": ", value).c_str());
  }
  header_list = curl_slist_append(header_list, "Expect:");  // no 100-continue round trip
  header_list = curl_slist_append(header_list, "Transfer-Encoding:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  char error_text[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(header_list);
  if (code == CURLE_ABORTED_BY_CALLBACK) return interrupted(request);
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return Status::io_error(str_cat("object store ", location(), ": ", request.method, " ", printable_key(request.path),
                                    " took longer than ", std::to_string(settings_.request_timeout_ms),
                                    " ms (STRATA_S3_TIMEOUT_MS) and was abandoned"));
  }
  if (code != CURLE_OK) {
    *retryable = retryable_curl_error(code);
    // The URL holds no secret (header signing), but only the store and path are named.
    return Status::io_error(str_cat("object store ", location(), ": ", request.method, " ", printable_key(request.path), " failed: ",
                                    error_text[0] != '\0' ? error_text : curl_easy_strerror(code)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  if (!request.head && response.status >= 200 && response.status < 300) {
    std::string length = response.header("content-length");
    if (!length.empty() && std::strtoull(length.c_str(), nullptr, 10) != response.body.size()) {
      *retryable = true;
      return Status::io_error(str_cat("object store ", location(), ": ", request.method, " ", printable_key(request.path), " was cut short: ",
                                      std::to_string(response.body.size()), " of ", length, " bytes"));
    }
  }
  *retryable = response.status >= 500 || response.status == 429;
  return response;
}

Result<S3Store::Response> S3Store::send(Request& request) {
  request.payload_hash = hex(sha256(request.body));
  std::lock_guard<std::mutex> lock(mutex_);
  // One deadline for the whole call: each attempt gets what is left of it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.request_timeout_ms);
  auto left_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  };
  for (int attempt = 1;; ++attempt) {
    if (cancelled()) return interrupted(request);
    bool retryable = false;
    Result<Response> response = send_once(request, &retryable, static_cast<long>(std::max<int64_t>(1, left_ms())));
    if (!retryable || attempt >= settings_.max_attempts) return response;
    // Full jitter: a random wait up to an exponentially growing cap, in short steps so that a
    // cancellation is noticed; none when the deadline would pass during it.
    int64_t cap = std::min<int64_t>(settings_.max_backoff_ms, int64_t{settings_.first_backoff_ms} << std::min(attempt - 1, 20));
    int64_t wait_ms = std::uniform_int_distribution<int64_t>(cap / 2, cap)(jitter_);
    if (wait_ms >= left_ms()) return response;
    for (int64_t waited = 0; waited < wait_ms && !cancelled(); waited += 20) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(20, wait_ms - waited)));
    }
  }
}

Result<ObjectInfo> S3Store::put(std::string_view key, const ByteSource& body, WriteMode mode) {
  STRATA_RETURN_IF_ERROR(check_object_key(location(), key));
  if (body.size() > settings_.multipart_threshold) return put_multipart(key, body, mode);
  return put_single(key, body, mode);
}

Result<ObjectInfo> S3Store::put_single(std::string_view key, const ByteSource& body, WriteMode mode) {
  std::string bytes(static_cast<size_t>(body.size()), '\0');
  STRATA_RETURN_IF_ERROR(body.read(0, std::span<char>(bytes.data(), bytes.size())));
  Md5 digest = md5(bytes);
  Request request;
  request.method = "PUT";
  request.path = object_path(key);
  request.body = bytes;
  request.headers = {{"Content-MD5", base64(digest)}, {"Content-Type", "application/octet-stream"}};
  if (mode == WriteMode::kCreateOnly) request.headers.emplace_back("If-None-Match", "*");
  STRATA_ASSIGN_OR_RETURN(Response response, send(request));
  if (response.status == 412) return Status::constraint(str_cat("object store ", location(), ": '", printable_key(key), "' already exists"));
  if (response.status != 200) return failure("uploading", key, response);
  std::string etag = unquoted(response.header("etag"));
  if (etag != hex(digest)) {
    return Status::io_error(str_cat("object store ", location(), ": uploading '", printable_key(key), "': the store's ETag ", etag,
                                    " is not the MD5 of what was sent (", hex(digest), ")"));
  }
  return ObjectInfo{std::string(key), bytes.size(), etag, static_cast<int64_t>(std::time(nullptr)) * 1000};
}

Result<ObjectInfo> S3Store::put_multipart(std::string_view key, const ByteSource& body, WriteMode mode) {
  Request start;
  start.method = "POST";
  start.path = object_path(key);
  start.query = {{"uploads", ""}};
  start.headers = {{"Content-Type", "application/octet-stream"}};
  STRATA_ASSIGN_OR_RETURN(Response started, send(start));
  if (started.status != 200) return failure("starting a multipart upload of", key, started);
  std::string upload_id = xml_text(started.body, "UploadId");
  if (upload_id.empty()) return Status::io_error(str_cat("object store ", location(), ": starting a multipart upload of '", printable_key(key), "': no UploadId in the answer"));

  auto abort_upload = [&] {
    Request abort;
    abort.method = "DELETE";
    abort.path = object_path(key);
    abort.query = {{"uploadId", upload_id}};
    (void)send(abort);  // best effort: the failure being reported matters more
  };
  auto run = [&]() -> Result<ObjectInfo> {
    std::string parts_xml;
    std::string part_digests;  // the binary MD5 of each part, for the final ETag
    std::string bytes;
    const uint64_t part_count = (body.size() + settings_.part_size - 1) / settings_.part_size;
    for (uint64_t part = 1; part <= part_count; ++part) {
      uint64_t offset = (part - 1) * settings_.part_size;
      bytes.resize(static_cast<size_t>(std::min(settings_.part_size, body.size() - offset)));
      STRATA_RETURN_IF_ERROR(body.read(offset, std::span<char>(bytes.data(), bytes.size())));
      Md5 digest = md5(bytes);
      part_digests.append(reinterpret_cast<const char*>(digest.data()), digest.size());
      Request upload;
      upload.method = "PUT";
      upload.path = object_path(key);
      upload.query = {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}};
      upload.body = bytes;
      upload.headers = {{"Content-MD5", base64(digest)}};
      STRATA_ASSIGN_OR_RETURN(Response uploaded, send(upload));
      if (uploaded.status != 200) return failure(str_cat("uploading part ", std::to_string(part), " of"), key, uploaded);
      std::string etag = unquoted(uploaded.header("etag"));
      if (etag != hex(digest)) {
        return Status::io_error(str_cat("object store ", location(), ": part ", std::to_string(part), " of '", printable_key(key),
                                        "': the store's ETag is not the MD5 of what was sent"));
      }
      parts_xml += str_cat("<Part><PartNumber>", std::to_string(part), "</PartNumber><ETag>\"", etag, "\"</ETag></Part>");
    }
    std::string complete_xml = str_cat("<CompleteMultipartUpload>", parts_xml, "</CompleteMultipartUpload>");
    Request complete;
    complete.method = "POST";
    complete.path = object_path(key);
    complete.query = {{"uploadId", upload_id}};
    complete.body = complete_xml;
    complete.headers = {{"Content-Type", "application/xml"}};
    if (mode == WriteMode::kCreateOnly) complete.headers.emplace_back("If-None-Match", "*");
    STRATA_ASSIGN_OR_RETURN(Response completed, send(complete));
    if (completed.status == 412) return Status::constraint(str_cat("object store ", location(), ": '", printable_key(key), "' already exists"));
    // S3 may answer 200 and put the error in the body.
    if (completed.status != 200 || completed.body.find("<Error>") != std::string::npos) return failure("completing the upload of", key, completed);
    std::string etag = unquoted(xml_text(completed.body, "ETag"));
    std::string expected = str_cat(hex(md5(part_digests)), "-", std::to_string(part_count));
    if (etag != expected) {
      return Status::io_error(str_cat("object store ", location(), ": uploading '", printable_key(key), "': the store's ETag ", etag,
                                      " is not the multipart MD5 of what was sent (", expected, ")"));
    }
    return ObjectInfo{std::string(key), body.size(), etag, static_cast<int64_t>(std::time(nullptr)) * 1000};
  };
  Result<ObjectInfo> result = run();
  if (!result.is_ok()) abort_upload();
  return result;
}

Result<std::string> S3Store::get(std::string_view key) {
  STRATA_RETURN_IF_ERROR(check_object_key(location(), key));
  Request request;
  request.path = object_path(key);
  STRATA_ASSIGN_OR_RETURN(Response response, send(request));
  if (response.status != 200) return failure("reading", key, response);
  return std::move(response.body);
}

Result<std::string> S3Store::get_range(std::string_view key, uint64_t offset, uint64_t length) {
  STRATA_RETURN_IF_ERROR(check_object_key(location(), key));
  if (length == 0) {
    STRATA_ASSIGN_OR_RETURN(ObjectInfo info, head(key));
    if (offset > info.size) return Status::error(str_cat("object store ", location(), ": range past the end of '", printable_key(key), "'"));
    return std::string();
  }
  Request request;
  request.path = object_path(key);
  request.headers = {{"Range", str_cat("bytes=", std::to_string(offset), "-", std::to_string(offset + length - 1))}};
  STRATA_ASSIGN_OR_RETURN(Response response, send(request));
  if (response.status == 416) {
    // Unsatisfiable: the offset is at or past the end. At the very end that is an empty range.
    STRATA_ASSIGN_OR_RETURN(ObjectInfo info, head(key));
    if (offset == info.size) return std::string();
    return Status::error(str_cat("object store ", location(), ": range starting at byte ", std::to_string(offset), " is past the end of '",
                                 printable_key(key), "' (", std::to_string(info.size), " bytes)"));
  }
  if (response.status == 200) {
    // A server that ignores ranges sends the whole object: cut the range out of it.
    if (offset > response.body.size()) return Status::error(str_cat("object store ", location(), ": range past the end of '", printable_key(key), "'"));
    return response.body.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
  }
  if (response.status != 206) return failure("reading a range of", key, response);
  std::string range = response.header("content-range");  // "bytes 0-99/1234"
  if (!range.starts_with(str_cat("bytes ", std::to_string(offset), "-"))) {
    return Status::io_error(str_cat("object store ", location(), ": reading '", printable_key(key), "' returned range '", range, "' instead of one from byte ",
                                    std::to_string(offset)));
  }
  return std::move(response.body);
}

Result<ObjectInfo> S3Store::head(std::string_view key) {
  STRATA_RETURN_IF_ERROR(check_object_key(location(), key));
  Request request;
  request.method = "HEAD";
  request.head = true;
  request.path = object_path(key);
  STRATA_ASSIGN_OR_RETURN(Response response, send(request));
  if (response.status != 200) return failure("looking up", key, response);
  return ObjectInfo{std::string(key), std::strtoull(response.header("content-length").c_str(), nullptr, 10), unquoted(response.header("etag")),
                    parse_http_time_ms(response.header("last-modified"))};
}

// ListObjects (version 1) with markers: every S3-compatible server implements it, and AWS still
// does; s3rver 3.7.1 answers a truncated ListObjectsV2 page with HTTP 500.
Result<std::vector<ObjectInfo>> S3Store::list(std::string_view prefix) {
  std::vector<ObjectInfo> objects;
  std::string marker;
  while (true) {
    Request request;
    request.path = str_cat("/", bucket_);
    request.query = {{"prefix", str_cat(prefix_, prefix)}};
    if (!marker.empty()) request.query.emplace_back("marker", marker);
    STRATA_ASSIGN_OR_RETURN(Response response, send(request));
    if (response.status != 200) return failure("listing", prefix, response);
    size_t position = 0;
    std::string last_key;
    while (true) {
      size_t end = 0;
      std::string contents = xml_text(response.body, "Contents", position, &end);
      if (end == 0) break;
      position = end;
      last_key = xml_text(contents, "Key");
      if (!last_key.starts_with(prefix_)) continue;
      objects.push_back(ObjectInfo{last_key.substr(prefix_.size()), std::strtoull(xml_text(contents, "Size").c_str(), nullptr, 10),
                                   unquoted(xml_text(contents, "ETag")), parse_iso_time_ms(xml_text(contents, "LastModified"))});
    }
    if (xml_text(response.body, "IsTruncated") != "true") break;
    std::string next = xml_text(response.body, "NextMarker");
    next = next.empty() ? last_key : next;
    if (next.empty() || next == marker) {
      return Status::io_error(str_cat("object store ", location(), ": listing '", printable_key(prefix), "' did not advance (truncated page without keys)"));
    }
    marker = std::move(next);
  }
  std::sort(objects.begin(), objects.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return objects;
}

Status S3Store::remove(std::string_view key) {
  STRATA_RETURN_IF_ERROR(check_object_key(location(), key));
  Request request;
  request.method = "DELETE";
  request.path = object_path(key);
  STRATA_ASSIGN_OR_RETURN(Response response, send(request));
  if (response.status == 204 || response.status == 200 || response.status == 404) return Status::ok();
  return failure("removing", key, response);
}

std::string S3Store::presigned_get_url(std::string_view key, int64_t expires_seconds) const {
  SignableRequest request;
  request.path = object_path(key);
  request.headers = {{"Host", host_}};
  request.payload_hash = "UNSIGNED-PAYLOAD";
  presign(request, settings_.credentials, SigningScope{settings_.region, "s3", static_cast<int64_t>(std::time(nullptr))}, expires_seconds);
  return scheme_host_ + wire_target(request);
}

}  // namespace strata::tiering
