// ReadCache: a size-bounded local directory of byte ranges fetched from object stores, shared
// by every connection of the process (one instance per directory) and by later processes (the
// files stay). docs/tiering.md, "The local cache".
//
//   ReadCache& cache = ReadCache::at("/var/cache/strata");
//   std::string name = ReadCache::entry_name(store.location(), key, etag, offset, length);
//   if (std::optional<std::string> bytes = cache.get(name)) ...   // verified, or nullopt
//   cache.put(name, bytes);                                         // may evict the oldest
//
// - An entry is named by a SHA-256 of (store location, object key, version tag, offset,
//   length): a replaced object has another tag, so its old bytes are never served.
// - Each file ends with an XXH32 of its bytes: a truncated or damaged file is removed and
//   reported as a miss, never returned.
// - Least recently used goes first: a hit touches the file's modification time; when the
//   directory holds more than its capacity, the oldest files are removed.
// - Writes go to a temporary file renamed into place, so a reader never sees half an entry.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "codecs/parquet/parquet_reader.h"
#include "tiering/object_store.h"

namespace strata::tiering {

class ReadCache {
 public:
  static constexpr uint64_t kDefaultCapacityBytes = uint64_t{1} << 30;  // 1 GiB

  // The cache of `directory` (created when first written), shared process-wide.
  static ReadCache& at(const std::string& directory);

  // tier_cache(dir, size): the directory every table of the process uses from now on (instead
  // of the default beside its database file); nullopt until set.
  static void configure(const std::string& directory, uint64_t capacity_bytes);
  static std::optional<std::string> configured_directory();

  static std::string entry_name(std::string_view location, std::string_view key, std::string_view etag,
                                uint64_t offset, uint64_t length);

  std::optional<std::string> get(const std::string& name);
  // Best effort: a cache that cannot be written (disk full, read-only) is only slower.
  void put(const std::string& name, std::string_view bytes);

  void set_capacity(uint64_t bytes);
  uint64_t capacity() const;
  const std::string& directory() const { return directory_; }
  // What the directory holds now (scanned).
  uint64_t stored_bytes();

 private:
  explicit ReadCache(std::string directory) : directory_(std::move(directory)) {}
  void evict_locked();

  const std::string directory_;
  mutable std::mutex mutex_;
  uint64_t capacity_ = kDefaultCapacityBytes;
  std::optional<uint64_t> stored_;  // as last scanned plus what was put since
};

// Requests made for cold data (of one partition, on one connection).
struct ReadCounters {
  uint64_t requests = 0;
  uint64_t bytes_fetched = 0;
  uint64_t cache_hits = 0;
};

// Reads byte ranges of the object `key` (version `etag`) through `cache` (nullptr: none) and
// then `store`, counting them. A range the store returns short is an error (the object was
// replaced or truncated). The reader refers to store, cache and counters: they must outlive it.
parquet::RangeReader cached_range_reader(ObjectStore& store, ReadCache* cache, std::string key, std::string etag,
                                         ReadCounters& counters);

// "2 GiB", "512MB", "1000000": a size in bytes (KB/MB/GB are powers of 1000, KiB/MiB/GiB of
// 1024); nullopt when it is not one.
std::optional<uint64_t> parse_byte_size(std::string_view text);

}  // namespace strata::tiering
