#include "tiering/store_url.h"

#include <cstdlib>
#include <mutex>

#include "ext/str_cat.h"
#include "tiering/digest.h"
#include "tiering/file_store.h"
#include "tiering/s3_store.h"

namespace strata::tiering {

Result<ObjectUrl> split_object_url(std::string_view who, std::string_view url) {
  std::string_view rest;
  std::string_view scheme;
  if (url.starts_with("file:")) {
    scheme = "file:";
    rest = url.substr(5);
    if (rest.starts_with("//")) rest.remove_prefix(2);  // file:///abs/path
  } else if (url.starts_with("s3://")) {
    scheme = "s3://";
    rest = url.substr(5);
  } else {
    return Status::error(str_cat(who, ": the location '", url,
                                 "' must start with file: (a local directory) or s3:// (a bucket)"));
  }
  const size_t slash = rest.rfind('/');
  ObjectUrl parts;
  if (slash == std::string_view::npos) {
    if (scheme == "s3://") {
      return Status::error(str_cat(who, ": '", url, "' names a bucket but no object, as in s3://bucket/key.parquet"));
    }
    parts.location = "file:.";
    parts.key = std::string(rest);
  } else {
    const std::string_view directory = rest.substr(0, slash);
    parts.location = str_cat(scheme, directory.empty() && scheme == "file:" ? "/" : directory);
    parts.key = std::string(rest.substr(slash + 1));
  }
  return parts;
}

std::string resolve_file_location(std::string_view location, std::string_view base_directory) {
  if (!location.starts_with("file:") || base_directory.empty()) return std::string(location);
  std::string_view path = location.substr(5);
  if (path.starts_with("/")) return std::string(location);
  if (path == ".") return str_cat("file:", base_directory);
  if (path.starts_with("./")) path.remove_prefix(2);
  return str_cat("file:", base_directory, base_directory.ends_with("/") ? "" : "/", path);
}

namespace {
std::mutex interposer_mutex;
StoreInterposer& interposer() {
  static auto* current = new StoreInterposer();
  return *current;
}

Result<std::unique_ptr<ObjectStore>> open_store_itself(std::string_view location, StoreAccess access) {
  if (location.starts_with("file:")) {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileStore> store,
                            FileStore::open(std::string(location.substr(5)), access == StoreAccess::kReadWrite));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  if (location.starts_with("s3://")) {
    STRATA_ASSIGN_OR_RETURN(S3Settings settings, S3Settings::from_environment());
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<S3Store> store, S3Store::open(location, std::move(settings)));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  return Status::error(str_cat("object store: unknown location '", location, "' (file:DIR or s3://bucket/prefix)"));
}
}  // namespace

void set_store_interposer(StoreInterposer wrap) {
  std::lock_guard lock(interposer_mutex);
  interposer() = std::move(wrap);
}

Result<std::unique_ptr<ObjectStore>> open_object_store(std::string_view location, StoreAccess access) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<ObjectStore> store, open_store_itself(location, access));
  std::lock_guard lock(interposer_mutex);
  if (interposer()) return interposer()(std::move(store));
  return store;
}

std::string store_settings_fingerprint(std::string_view location) {
  if (!location.starts_with("s3://")) return "";
  std::string settings;
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                           "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "STRATA_S3_TIMEOUT_MS"}) {
    const char* value = std::getenv(name);
    settings += value == nullptr ? std::string("-") : str_cat("+", value);
    settings.push_back('\0');
  }
  return hex(sha256(settings));
}

bool is_tier_location(std::string_view text) {
  if (text.starts_with("file:")) return text.size() > 5;
  if (!text.starts_with("s3://")) return false;
  const std::string_view rest = text.substr(5);
  return !rest.substr(0, rest.find('/')).empty();
}

}  // namespace strata::tiering
