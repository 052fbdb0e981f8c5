// ColdChunks: the cold side of a columnar table's chunk source. A cold chunk's directory row,
// rowids, zone maps, bloom filters and deletion bitmap are hot (ChunkStore); its column data is
// one row group of a Parquet object in the table's tier (docs/tiering.md). This reads one column
// of one cold chunk with one ranged GET per Parquet leaf, using the object's footer kept hot in
// t_objects (so no footer request), through the process-wide local cache (tiering/read_cache.h).
//
// The table's cursor cannot tell a cold chunk from a hot one: ColumnarTable reads each chunk
// through its ChunkSource (chunk_source.h), this one or HotChunks, into the same ChunkCache.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codecs/column_vector.h"
#include "codecs/parquet/parquet_reader.h"
#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "tiering/object_store.h"
#include "tiering/read_cache.h"
#include "vtab/tier_store.h"
#include "vtab/columnar/chunk_source.h"
#include "vtab/columnar/schema.h"
#include "vtab/columnar/storage.h"

namespace strata::columnar {

// Requests made for cold data of one partition, on this connection since it opened.
using ColdCounters = tiering::ReadCounters;

class ColdChunks : public ChunkSource {
 public:
  ColdChunks(sqlite3* db, std::string schema_name, ChunkStore* store, const TableSchema* schema)
      : store_(store), schema_(schema), hot_side_(store), tier_(db, std::move(schema_name), schema->tier, "") {}

  // The pruning metadata and rowids of a cold chunk stay hot.
  Result<ChunkRowids> read_rowids(const ChunkInfo& chunk) override { return hot_side_.read_rowids(chunk); }
  Result<std::optional<ZoneMap>> read_zone(const ChunkInfo& chunk, int column) override {
    return hot_side_.read_zone(chunk, column);
  }
  Result<std::optional<BloomFilter>> read_bloom(const ChunkInfo& chunk, int column) override {
    return hot_side_.read_bloom(chunk, column);
  }

  // The table's tier store, opened when first needed (a relative file: location is relative to
  // the database file's directory). An error when the table has no tier.
  Result<tiering::ObjectStore*> object_store();

  // Column `column` of a cold chunk: every row, deleted ones included (as a hot chunk's).
  Result<ColumnVector> read_column(const ChunkInfo& chunk, int column) override;
  // A few rows of it: the same requests (each column chunk fetched whole, through the cache), but
  // only the data pages holding the rows are decompressed and decoded (a point lookup).
  Result<std::optional<ColumnVector>> read_rows(const ChunkInfo& chunk, int column, std::span<const uint32_t> rows) override;

  // From the object's footer (no request): the row group's column chunk holds text or blobs in
  // a dictionary (the writer makes one only for at most half as many distinct values as rows),
  // as a hot chunk would keep them (a mixed-class column: every other leaf a dictionary or only
  // NULLs); or its zone map shows one value.
  Result<bool> looks_low_cardinality(const ChunkInfo& chunk, int column) override;

  // A live object with its footer parsed (cached until forget()).
  struct OpenObject {
    ColdObject record;
    parquet::FileReader reader;
    std::vector<int> parquet_column;  // per table column: its index in reader.columns(), or -1
  };
  Result<const OpenObject*> open_object(int64_t object_id);

  // Drops what is cached of the table's objects (another connection committed, or this one
  // flushed or restored).
  void forget() {
    objects_.clear();
    places_.clear();
  }

  const std::map<std::string, ColdCounters>& counters() const { return counters_; }  // by partition_map_key

 private:
  // Where a cold chunk's data lies (t_cold, remembered until forget()).
  Result<ColdPlace> place_of(const ChunkInfo& chunk);
  // A store error while reading a cold chunk, with the table, partition and object key.
  // read_column (rows nullopt) and read_rows.
  Result<ColumnVector> read_values(const ChunkInfo& chunk, int column, std::optional<std::span<const uint32_t>> rows);
  Status cold_error(const ChunkInfo& chunk, const std::string& key, const Status& cause) const;

  ChunkStore* store_;
  const TableSchema* schema_;
  HotChunks hot_side_;
  TierStore tier_;
  std::map<int64_t, std::unique_ptr<OpenObject>> objects_;
  std::map<int64_t, ColdPlace> places_;  // chunk id → where its data lies
  std::map<std::string, ColdCounters> counters_;
};

}  // namespace strata::columnar
