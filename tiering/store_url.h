// From a URL a user writes in SQL to an object store and a key in it.
//
//   file:out/events.parquet        store file:out   (relative to the working directory), key events.parquet
//   file:/var/lake/e.parquet       store file:/var/lake, key e.parquet
//   s3://bucket/x/events.parquet   store s3://bucket/x, key events.parquet (AWS_* settings)
//   file:lake/events/              a prefix: store file:lake/events, key "" (for listing)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ext/status.h"
#include "tiering/object_store.h"

namespace strata::tiering {

struct ObjectUrl {
  std::string location;  // "file:DIR" or "s3://bucket[/prefix]"
  std::string key;       // the last part; empty when the URL ends with '/'
};

// Splits `url`; an error (naming `who`) when it is neither file: nor s3://.
Result<ObjectUrl> split_object_url(std::string_view who, std::string_view url);

// A relative file: location made relative to `base_directory` (the database file's directory),
// so that the same database opened from another working directory finds the same files.
// Absolute file: locations, s3:// ones, and any location when `base_directory` is empty (an
// in-memory or temporary database) come back unchanged.
std::string resolve_file_location(std::string_view location, std::string_view base_directory);

enum class StoreAccess {
  kReadWrite,  // "file:DIR" creates DIR when missing
  kRead,       // a missing DIR is kNotFound
};

// Whether `text` can be a table's tier= location: "file:DIR" or "s3://bucket[/prefix]".
bool is_tier_location(std::string_view text);

// Opens the store at a location ("file:DIR"; "s3://…" reads the AWS_* settings).
Result<std::unique_ptr<ObjectStore>> open_object_store(std::string_view location,
                                                       StoreAccess access = StoreAccess::kReadWrite);

// For tests (as LevelDB's Env): every store open_object_store() opens from now on is handed to
// the interposer, which returns the store to use instead — one that fails chosen calls, or
// counts them. An empty function removes it.
using StoreInterposer = std::function<std::unique_ptr<ObjectStore>(std::unique_ptr<ObjectStore>)>;
void set_store_interposer(StoreInterposer interposer);

// A digest of the settings open_object_store() would read for `location` now (for s3://, the
// AWS_* environment), so that a long-lived user can tell when to open the store again: rotated
// session credentials, a changed endpoint. Never the secrets themselves.
std::string store_settings_fingerprint(std::string_view location);

}  // namespace strata::tiering
