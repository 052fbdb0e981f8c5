#include "vtab/tier_store.h"

#include <filesystem>

#include "ext/interrupt.h"
#include "ext/str_cat.h"
#include "tiering/store_url.h"

namespace strata {

void TierStore::resolve() {
  if (resolved_) return;
  // Fixed for the table's life: where its tier is, and its database file's default cache.
  const char* file = sqlite3_db_filename(db_, schema_name_.c_str());
  const std::string path = file == nullptr ? std::string() : std::string(file);
  const std::string directory = path.empty() ? std::string() : std::filesystem::path(path).parent_path().string();
  location_ = tiering::resolve_file_location(tier_, directory);
  if (!path.empty()) default_cache_directory_ = path + "-tiercache";
  resolved_ = true;
}

Result<tiering::ObjectStore*> TierStore::store() {
  if (tier_.empty()) return Status::error(str_cat(who_, " has no tier= option, so no cold partitions"));
  resolve();
  std::string fingerprint = tiering::store_settings_fingerprint(location_);
  if (!store_ || fingerprint != store_fingerprint_) {
    Result<std::unique_ptr<tiering::ObjectStore>> opened = tiering::open_object_store(location_);
    if (!opened.is_ok()) return Status(opened.status().code(), str_cat(who_, ": tier ", tier_, ": ", opened.status().message()));
    store_ = std::move(opened).value();
    store_->set_cancellation(interrupt_check(db_));  // Ctrl-C ends a wait on the store
    store_fingerprint_ = std::move(fingerprint);
  }
  return store_.get();
}

tiering::ReadCache* TierStore::cache() {
  resolve();
  std::optional<std::string> directory = tiering::ReadCache::configured_directory();
  if (!directory && !default_cache_directory_.empty()) directory = default_cache_directory_;
  return directory ? &tiering::ReadCache::at(*directory) : nullptr;
}

Result<parquet::RangeReader> TierStore::reader(const std::string& key, const std::string& etag, tiering::ReadCounters& counters) {
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectStore * opened, store());
  return tiering::cached_range_reader(*opened, cache(), key, etag, counters);
}

}  // namespace strata
