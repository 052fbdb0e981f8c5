// ChunkStore: reads and writes the shadow tables of one columnar table
// (docs/format-columnar.md). It knows the layout, not the table's SQL semantics.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codecs/bloom_filter.h"
#include "codecs/column_codec.h"
#include "codecs/column_vector.h"
#include "codecs/zone_map.h"
#include "ext/sqlite_handles.h"
#include "vtab/columnar/schema.h"

namespace strata::columnar {

// 2: zone maps, bloom filters and deletion bitmaps carry checksums (format-columnar.md).
// 3: cold chunks — t_objects and t_cold, tiering's record of the objects it wrote.
inline constexpr int kFormatVersion = 3;
inline constexpr int kRowidColumn = -1;

struct ChunkInfo {
  int64_t chunk_id = 0;
  Value partition;
  int64_t row_count = 0;
  int64_t min_rowid = 0;
  int64_t max_rowid = 0;
  std::string deleted;  // bitmap; empty when no row is deleted
  int64_t deleted_count = 0;
  std::optional<std::string> tier;  // cold: the key of the object holding its column data

  int64_t live_rows() const { return row_count - deleted_count; }
  bool is_deleted(size_t row) const {
    return !deleted.empty() && row / 8 < deleted.size() &&
           (static_cast<unsigned char>(deleted[row / 8]) >> (row % 8)) & 1;
  }
};

// A chunk's rowids, every row's (deleted ones included), ascending. Most chunks hold a run
// (min_rowid … max_rowid, one row each), which their stored blob says in its first bytes
// (integer_run_start): kept as the range, nothing decoded, 8 bytes a row saved. Others as a list.
class ChunkRowids {
 public:
  static ChunkRowids run(int64_t first, size_t count) {
    ChunkRowids rowids;
    rowids.first_ = first;
    rowids.run_count_ = count;
    return rowids;
  }
  static ChunkRowids list(std::vector<int64_t> rowids) {
    ChunkRowids result;
    result.list_ = std::move(rowids);
    return result;
  }
  // Whether a chunk's rowids are a run, from its directory row.
  static bool is_run(const ChunkInfo& chunk) {
    return chunk.row_count > 0 && chunk.max_rowid >= chunk.min_rowid &&
           static_cast<uint64_t>(chunk.max_rowid) - static_cast<uint64_t>(chunk.min_rowid) + 1 == static_cast<uint64_t>(chunk.row_count);
  }

  size_t size() const { return list_.empty() ? run_count_ : list_.size(); }
  int64_t operator[](size_t row) const { return list_.empty() ? first_ + static_cast<int64_t>(row) : list_[row]; }
  // The row holding `rowid`, if any.
  std::optional<size_t> find(int64_t rowid) const {
    if (list_.empty()) {
      if (rowid < first_ || static_cast<uint64_t>(rowid) - static_cast<uint64_t>(first_) >= run_count_) return std::nullopt;
      return static_cast<size_t>(static_cast<uint64_t>(rowid) - static_cast<uint64_t>(first_));
    }
    auto found = std::lower_bound(list_.begin(), list_.end(), rowid);
    if (found == list_.end() || *found != rowid) return std::nullopt;
    return static_cast<size_t>(found - list_.begin());
  }
  size_t memory_bytes() const { return list_.capacity() * sizeof(int64_t); }

 private:
  int64_t first_ = 0;      // a run's first rowid
  size_t run_count_ = 0;   // a run's length
  std::vector<int64_t> list_;  // the rowids when they are not a run (a run when empty)
};

// The visible rows of a chunk (not deleted), with the requested columns. The decoded vectors
// are shared with the table's chunk cache. When no row of the chunk is deleted, `positions` is
// empty and visible row i is row i of the decoded vectors; otherwise it maps each visible row.
struct ChunkRows {
  std::shared_ptr<const ChunkRowids> all_rowids;  // every row of the chunk, ascending
  std::vector<uint32_t> positions;
  // A point read (ColumnarTable::read_chunk_points) holds only some rows of the chunk: their
  // positions in it (all_rowids and the columns hold just those rows). Empty otherwise.
  std::vector<uint32_t> chunk_positions;
  size_t visible = 0;
  std::vector<std::shared_ptr<const ColumnVector>> columns;  // per table column; null if not read

  size_t size() const { return visible; }
  size_t position(size_t row) const { return positions.empty() ? row : positions[row]; }
  int64_t rowid(size_t row) const { return (*all_rowids)[position(row)]; }
  ValueView value(int column, size_t row) const { return columns[column]->get(position(row)); }
};

// What encoding a chunk needs to know of its table (a copy, so that a helper thread can encode
// while the table goes on).
struct ChunkEncoding {
  Compression compression;
  std::vector<int> bloom_columns;
  int rowid_alias = -1;
};

// A chunk's column blobs, zone maps and bloom filters, ready to be stored.
struct EncodedColumn {
  int column = 0;  // kRowidColumn for the rowids
  std::string blob;
  std::optional<std::string> zone;   // the rowids need none: their range is in the directory row
  std::optional<std::string> bloom;
};
struct EncodedChunk {
  size_t rows = 0;
  int64_t min_rowid = 0;
  int64_t max_rowid = 0;
  std::vector<EncodedColumn> columns;
};

// Encodes a chunk of rows sorted by rowid (at least one). Pure computation, safe on any
// thread; with use_helper_threads the columns are encoded in parallel (ext/parallel.h).
// With metadata_only, the columns' blobs are left empty (a cold chunk keeps its zone maps, bloom
// filters and rowids hot, its column data elsewhere).
EncodedChunk encode_chunk(const ChunkEncoding& encoding, const std::vector<int64_t>& rowids,
                          const std::vector<ColumnVector>& columns, bool use_helper_threads,
                          bool metadata_only = false);

// An object tiering wrote (t_objects, docs/format-columnar.md "Cold chunks").
enum class ObjectState { kWriting, kLive, kRetired };
struct ColdObject {
  int64_t object_id = 0;
  std::string key;  // relative to the table's tier location
  Value partition;
  ObjectState state = ObjectState::kWriting;
  int64_t size = 0;
  std::string etag;
  std::string footer;  // the serialized Parquet FileMetaData (live objects)
  int64_t rows = 0;
  std::string owner;   // of a writing intent: "pid:token" of the flush that recorded it
  int64_t created_at = 0;
  std::optional<int64_t> flushed_at;
};
std::string_view object_state_name(ObjectState state);

// Where a cold chunk's column data lies: a row group of an object.
struct ColdPlace {
  int64_t object_id = 0;
  int64_t row_group = 0;
};

// A cached statement on loan: reset (and so no longer holding a read cursor) when it goes away.
class StatementLease {
 public:
  explicit StatementLease(Statement* statement) : statement_(statement) {}
  StatementLease(StatementLease&& other) noexcept : statement_(other.statement_) {
    other.statement_ = nullptr;
  }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;
  StatementLease& operator=(StatementLease&&) = delete;
  ~StatementLease() {
    if (statement_ != nullptr) statement_->reset();
  }
  Statement* operator->() const { return statement_; }
  Statement& operator*() const { return *statement_; }

 private:
  Statement* statement_;
};

class ChunkStore {
 public:
  ChunkStore(sqlite3* db, std::string schema_name, std::string table_name,
             const TableSchema* schema)
      : db_(db), schema_name_(std::move(schema_name)), table_name_(std::move(table_name)),
        schema_(schema) {}

  // DDL for a new table, and the inverse operations.
  Status create_tables(std::string_view strata_version);
  Status drop_tables();
  Status rename_tables(const std::string& new_table_name);
  Status check_format_version();
  // Brings a table of an older format to kFormatVersion inside the current write transaction
  // (a no-op when it is current). Called before the first write of a transaction.
  Status upgrade_format();
  // The format version is read again when next needed (after a rollback that may have undone
  // an upgrade).
  void forget_format_version() { format_version_.reset(); }

  const std::string& table_name() const { return table_name_; }
  std::string shadow_name(std::string_view suffix) const;  // "schema"."t_suffix"
  std::string key_table_suffix(size_t k) const;            // "unique3" or "index3"
  Result<std::string> create_index_sql();

  // Ordered by min_rowid. A chunk whose deletion bitmap is damaged is an error, or with
  // `damage`, left out and described there (for columnar_check).
  Result<std::vector<ChunkInfo>> list_chunks(std::vector<std::string>* damage = nullptr);
  // Chunks whose rowid range meets [low, high], ordered by min_rowid.
  Result<std::vector<ChunkInfo>> chunks_overlapping(int64_t low, int64_t high);
  Result<std::optional<ChunkInfo>> chunk(int64_t chunk_id);

  // The raw blob of one column (kRowidColumn: the rowids) of a chunk.
  Result<std::string> read_column_blob(int64_t chunk_id, int column);
  // `rows`: the chunk's row count, which the blob must hold.
  Result<ColumnVector> read_column(int64_t chunk_id, int column, int64_t rows);
  // (column, first bytes, stored size) of every column blob of a chunk, rowids first.
  struct ColumnBlobPrefix {
    int column;
    std::string prefix;
    int64_t stored_size;
  };
  Result<std::vector<ColumnBlobPrefix>> column_blob_prefixes(int64_t chunk_id);
  // The bloom filter of one column of a chunk; nullopt when the chunk has none.
  Result<std::optional<BloomFilter>> read_bloom(int64_t chunk_id, int column);
  // The zone map of one column of a chunk; nullopt when the chunk has none.
  Result<std::optional<ZoneMap>> read_zone(int64_t chunk_id, int column);
  // Rowids of a chunk, checked against its row count and bounds.
  Result<ChunkRowids> read_rowids(const ChunkInfo& chunk);

  // Writes a new chunk of rows sorted by rowid; returns its id.
  Result<int64_t> write_chunk(const Value& partition, const std::vector<int64_t>& rowids,
                              const std::vector<ColumnVector>& columns);
  // Writes a chunk encoded by encode_chunk(); returns its id.
  Result<int64_t> store_chunk(const Value& partition, const EncodedChunk& chunk);
  // Writes the directory row and pruning metadata of a cold chunk (its rowids hot, its column
  // data in row group `place.row_group` of the object `object_key`); returns its id.
  Result<int64_t> store_cold_chunk(const Value& partition, const EncodedChunk& chunk, const std::string& object_key,
                                   ColdPlace place);
  // A cold chunk becomes hot: its column blobs stored (every column), its cold place dropped.
  Status make_chunk_hot(int64_t chunk_id, const std::vector<EncodedColumn>& columns);
  Result<std::optional<ColdPlace>> cold_place(int64_t chunk_id);

  // The objects tiering wrote (t_objects); footers only when asked.
  Result<std::vector<ColdObject>> list_objects(bool with_footers);
  Result<std::optional<ColdObject>> object(int64_t object_id);
  // Records the intent to write object `key` for `partition`; returns its id.
  Result<int64_t> add_object_intent(const std::string& key, const Value& partition, const std::string& owner);
  Status set_object_live(int64_t object_id, int64_t size, const std::string& etag, const std::string& footer,
                         int64_t rows);
  Status set_object_state(int64_t object_id, ObjectState state);
  Status delete_object(int64_t object_id);
  // How many chunks point at each object.
  Result<std::map<int64_t, int64_t>> cold_chunks_per_object();
  ChunkEncoding chunk_encoding() const;
  Status set_deleted(int64_t chunk_id, const std::string& bitmap, int64_t deleted_count);
  Status delete_chunk(int64_t chunk_id);

  Result<std::optional<int64_t>> max_chunk_rowid();
  Result<int64_t> total_live_rows();
  Result<std::optional<Value>> meta(std::string_view key);
  Status set_meta(std::string_view key, const ValueView& value);

  // Key index k (a UNIQUE constraint or an index= column): the rowids holding `key` (excluding
  // `except_rowid`), compared with the key columns' collations.
  Result<std::vector<int64_t>> key_lookup(size_t k, const std::vector<ValueView>& key,
                                                std::optional<int64_t> except_rowid);
  // Whether key index k holds exactly this entry (one B-tree probe by row, whatever the key's
  // number of rows).
  Result<bool> key_entry_exists(size_t k, int64_t rowid, const std::vector<ValueView>& key);
  Status key_insert(size_t k, int64_t rowid, const std::vector<ValueView>& key);
  Status key_delete(size_t k, int64_t rowid);
  Result<int64_t> key_count(size_t k);

  // Counts the shadow-table rows written (inserted, updated or deleted) since construction.
  int64_t rows_written() const { return rows_written_; }

  // Drops cached statements (after a rename, or before dropping the tables).
  void clear_statements() { statements_.clear(); }

 private:
  // The cached statement for call site `key` (each call site of storage.cpp has its own; those
  // of unique index k add k * 64); `build_sql` runs only when it is first prepared.
  Result<StatementLease> statement(int key, const std::function<std::string()>& build_sql);
  Status run_counted(Statement& statement);
  Result<std::vector<ChunkInfo>> collect_chunks(Statement& select, std::vector<std::string>* damage);
  // Whether blobs without checksums are valid here: in tables of format 1 only.
  Result<bool> accepts_unchecked_blobs();
  std::string tier_tables_sql() const;
  Status add_checksums();  // the upgrade from format 1 to 2
  // Whether t_objects and t_cold exist (format 3 on).
  Result<bool> has_tier_tables();
  Result<std::vector<ColdObject>> collect_objects(Statement& select, bool with_footers);
  // store_chunk(), or with `cold_key` the directory row of a cold chunk.
  Result<int64_t> insert_chunk(const Value& partition, const EncodedChunk& chunk, const std::string* cold_key);

  sqlite3* db_;
  std::string schema_name_;
  std::string table_name_;
  const TableSchema* schema_;
  std::map<int, Statement> statements_;
  int64_t rows_written_ = 0;
  std::optional<int> format_version_;  // as last read from t_meta
};

// SQLITE_CORRUPT_VTAB: "columnar: table <table>: <what>".
Status corrupt(const std::string& table, std::string_view what);

// Binds a value to a statement parameter.
Status bind_value_view(Statement& statement, int index, const ValueView& value);
// Reads column `column` of the current row as a Value.
Value value_from_column(const Statement& statement, int column);

// Chunk bloom filters are sized for this false-positive rate (1%, as DESIGN.md says).
inline constexpr double kBloomFalsePositiveRate = 0.01;
// The data page size of cold objects, in encoded bytes before compression (docs/tiering.md).
inline constexpr uint64_t kColdPageBytes = uint64_t{64} << 10;
std::string build_bloom(const ColumnVector& values);

inline int64_t column_cell(int64_t chunk_id, int column) { return chunk_id * 4096 + column + 1; }

}  // namespace strata::columnar
