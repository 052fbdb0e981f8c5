// The object store and read cache of one tiered table on one connection (columnar and things):
// the tier= location resolved against the database file's directory, the store opened when first
// needed (again when the AWS_* settings it read change), sqlite3_interrupt wired to cancel waits,
// and the cache directory (tier_cache's, else `<database file>-tiercache`).
#pragma once

#include <memory>
#include <string>

#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "tiering/object_store.h"
#include "tiering/read_cache.h"

namespace strata {

class TierStore {
 public:
  // `tier` as the table's option gives it (empty: the table has none); `who` names the table in
  // messages ("columnar: table t").
  TierStore(sqlite3* db, std::string schema_name, std::string tier, std::string who)
      : db_(db), schema_name_(std::move(schema_name)), tier_(std::move(tier)), who_(std::move(who)) {}

  // The store; an error when the table has no tier or the store cannot be opened.
  Result<tiering::ObjectStore*> store();
  // The cache cold reads go through now; nullptr for an in-memory database without tier_cache.
  tiering::ReadCache* cache();
  // The read for `key` (version `etag`) through cache() and store(), counted in `counters`.
  Result<parquet::RangeReader> reader(const std::string& key, const std::string& etag, tiering::ReadCounters& counters);

  const std::string& tier() const { return tier_; }
  void set_who(std::string who) { who_ = std::move(who); }

 private:
  void resolve();

  sqlite3* db_;
  std::string schema_name_;
  std::string tier_;
  std::string who_;
  bool resolved_ = false;
  std::string location_;                 // the tier, resolved (relative file: against the database's directory)
  std::string default_cache_directory_;  // <database file>-tiercache; empty for an in-memory database
  std::unique_ptr<tiering::ObjectStore> store_;
  std::string store_fingerprint_;  // of the settings the store was opened with
};

}  // namespace strata
