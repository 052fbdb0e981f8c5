// ChunkSource: where the pieces of one chunk come from — its rowids, the zone map and bloom
// filter of a column, a column's values. ColumnarTable reads every chunk through the source that
// holds it (chunk_reads.cpp, through the decoded-chunk cache), so the cursor's per-chunk sequence
// (key lookup → zone map → bloom filter → decode → filter) is the same for hot and cold chunks:
//
//   HotChunks   everything from the shadow tables (ChunkStore)
//   ColdChunks  the pruning metadata and rowids from the shadow tables too (they stay hot), the
//               column values from a row group of the chunk's Parquet object (cold_chunks.h)
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "codecs/bloom_filter.h"
#include "codecs/column_vector.h"
#include "codecs/zone_map.h"
#include "ext/status.h"
#include "vtab/columnar/storage.h"

namespace strata::columnar {

class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // Rowids, checked against the chunk's row count and range.
  virtual Result<ChunkRowids> read_rowids(const ChunkInfo& chunk) = 0;
  // nullopt: the chunk has none for this column.
  virtual Result<std::optional<ZoneMap>> read_zone(const ChunkInfo& chunk, int column) = 0;
  virtual Result<std::optional<BloomFilter>> read_bloom(const ChunkInfo& chunk, int column) = 0;
  // Every row's value (deleted rows included).
  virtual Result<ColumnVector> read_column(const ChunkInfo& chunk, int column) = 0;
  // The values of rows `rows` only (ascending positions in the chunk), one per listed row, when
  // the source can read them for less than the whole column; nullopt when it cannot (the caller
  // then reads the whole column, which the chunk cache keeps).
  virtual Result<std::optional<ColumnVector>> read_rows(const ChunkInfo& /*chunk*/, int /*column*/,
                                                        std::span<const uint32_t> /*rows*/) {
    return std::optional<ColumnVector>();
  }
  // Whether the column's values in this chunk are stored as few distinct ones (a constant, runs
  // or a dictionary), judged from stored metadata without reading the values: the planner's hint
  // that grouping by the column makes few groups.
  virtual Result<bool> looks_low_cardinality(const ChunkInfo& chunk, int column) = 0;
};

// The shadow tables' chunks; also the pruning metadata of cold chunks.
class HotChunks : public ChunkSource {
 public:
  explicit HotChunks(ChunkStore* store) : store_(store) {}
  Result<ChunkRowids> read_rowids(const ChunkInfo& chunk) override { return store_->read_rowids(chunk); }
  Result<std::optional<ZoneMap>> read_zone(const ChunkInfo& chunk, int column) override {
    return store_->read_zone(chunk.chunk_id, column);
  }
  Result<std::optional<BloomFilter>> read_bloom(const ChunkInfo& chunk, int column) override {
    return store_->read_bloom(chunk.chunk_id, column);
  }
  Result<ColumnVector> read_column(const ChunkInfo& chunk, int column) override {
    return store_->read_column(chunk.chunk_id, column, chunk.row_count);
  }
  // From the codec named in the column blob's header.
  Result<bool> looks_low_cardinality(const ChunkInfo& chunk, int column) override;

 private:
  ChunkStore* store_;
};

}  // namespace strata::columnar
