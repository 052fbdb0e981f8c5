// ColumnarTable: one columnar table on one connection — the sqlite3_vtab object.
//
// It owns the table's schema, its ChunkStore (shadow tables) and the writes of the current
// transaction that are not yet in the shadow tables: inserted rows and deletions of stored
// rows, both buffered in memory, and at most one full chunk being encoded on a helper thread
// (docs/format-columnar.md, "Writes and transactions"). Unique
// constraint index entries are written at once, so that later rows of the same statement are
// checked against them.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ext/sqlite_api.h"
#include "ext/table_registry.h"
#include "vtab/columnar/cold_chunks.h"
#include "vtab/tier_targets.h"
#include "vtab/columnar/schema.h"
#include "vtab/columnar/storage.h"
#include "vtab/columnar/write_buffer.h"

namespace strata::timeseries {
class RollupMaintenance;
}

namespace strata::columnar {

using RowidSet = std::set<int64_t>;

// Rows and deletions buffered by the current transaction, as a cursor sees them when it starts:
// the inserted rows through a snapshot of the write buffer (write_buffer.h), the deletions of
// stored rows shared read-only (copy-on-write: a write while a cursor holds them copies first).
struct PendingSnapshot {
  std::shared_ptr<const WriteBuffer> inserts;
  WriteBuffer::Snapshot inserts_at;
  std::shared_ptr<const RowidSet> deletes;
};

class ColumnarTable;

// Decoded chunks, shared by scans: rowids and columns are decoded once and reused until the
// chunk changes. Bounded by bytes; the oldest entries go first. Vectors already handed out stay
// valid after eviction (they are shared).
class ChunkCache {
 public:
  struct Entry {
    std::shared_ptr<const ChunkRowids> rowids;
    std::map<int, std::shared_ptr<const ColumnVector>> columns;
    std::map<int, std::optional<ZoneMap>> zones;
    std::map<int, std::optional<BloomFilter>> blooms;
    size_t charged_bytes = 0;  // what charge() added for this entry; given back when it goes
  };

  Entry& entry(int64_t chunk_id);
  // After adding `bytes` to chunk_id's entry: evicts the oldest other entries while over capacity
  // (never chunk_id's: it is being read right now).
  void charge(int64_t chunk_id, size_t bytes);
  void erase(int64_t chunk_id);
  void clear();
  size_t bytes() const { return bytes_; }
  static constexpr size_t kCapacityBytes = size_t{256} << 20;

 private:
  void drop(int64_t chunk_id);  // the entry only; order_ is the caller's

  std::map<int64_t, Entry> entries_;
  std::vector<int64_t> order_;  // insertion order, oldest first
  size_t bytes_ = 0;
};

// What the last scan of a table (its last xFilter) did, for columnar_scan_stats().
struct ScanStats {
  uint64_t chunks = 0;                   // in the scan's rowid range
  uint64_t skipped_by_key_index = 0;     // hold no rowid the key-index lookup found
  uint64_t skipped_by_zone_map = 0;
  uint64_t skipped_by_bloom_filter = 0;
  uint64_t cold = 0;                     // of those, cold (column data in object storage)
  uint64_t chunks_read = 0;              // whose rows were looked at
  uint64_t columns_decoded = 0;          // column chunks decoded from the shadow table (cache misses)
  uint64_t bytes_decoded = 0;            // their size decoded, in memory
  uint64_t columns_read_in_part = 0;     // cold column chunks of which only the pages holding a few rows were decoded
  uint64_t rows_matched = 0;             // rows the pushed filters let through

  std::string to_json() const;
};

// The columnar tables connected on one connection (ext/table_registry.h).
using TableRegistry = strata::TableRegistry<ColumnarTable>;

class ColumnarPartitionCatalog;

class ColumnarTable {
 public:
  sqlite3_vtab base{};  // must stay the first member: SQLite hands us &base

  static ColumnarTable* from(sqlite3_vtab* vtab) { return reinterpret_cast<ColumnarTable*>(vtab); }

  // xCreate (create=true) and xConnect. argv as SQLite passes it. The table stays in
  // `registry` until it is destroyed.
  static Result<std::unique_ptr<ColumnarTable>> open(sqlite3* db, TableRegistry* registry, int argc,
                                                     const char* const* argv, bool create);
  ~ColumnarTable();
  ColumnarTable(const ColumnarTable&) = delete;
  ColumnarTable& operator=(const ColumnarTable&) = delete;

  const TableSchema& schema() const { return schema_; }
  ChunkStore& store() { return store_; }
  sqlite3* db() const { return db_; }
  const std::string& schema_name() const { return schema_name_; }
  const std::string& name() const { return store_.table_name(); }

  // xUpdate.
  Status update(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out);

  // Transactions (xBegin … xRollbackTo).
  Status on_begin();
  Status on_sync();
  Status on_commit();
  Status on_rollback();
  Status on_savepoint() {
    // A write statement is starting (or a SAVEPOINT): OR REPLACE bookkeeping of the last is over.
    forget_replaced_rows();
    STRATA_RETURN_IF_ERROR(flush());
    return apply_rollups();
  }
  Status on_rollback_to();

  Status destroy();
  Status rename(const std::string& new_name);

  // Rollups (vtab/timeseries/rollup.cpp): the rollups recorded in this table's meta table are
  // kept in step with its writes. A rollup created or dropped on this connection calls
  // rollups_changed(); others are found at the next write transaction.
  Status rollups_changed();
  // Writes the rollup changes of this transaction's writes so far (a rollup read sees them).
  Status apply_rollups();

  // Writes the buffered rows and deletions to the shadow tables.
  Status flush();
  // Writes the chunk being encoded on a helper thread, if any (see seal_full_buffer()). Anything
  // that reads the shadow tables or the rows they hold settles first.
  Status settle();
  // Flushes, then rewrites every partial chunk and every chunk with deleted rows into full
  // chunks. Returns the number of chunks rewritten.
  Result<int64_t> compact();
  // Tiering (tier.cpp, docs/tiering.md). Each runs its own transactions, so it is refused
  // inside one. tier_flush moves `partition` (every partition but the newest hot_partitions
  // when nullopt) to the tier, tier_restore brings one back; both return the partitions moved.
  // tier_gc removes the objects no committed chunk points to; returns how many.
  Result<int64_t> tier_flush(const std::optional<Value>& partition);
  Result<int64_t> tier_restore(const Value& partition);
  Result<int64_t> tier_gc();
  // tier_expire('t', partition) drops that partition, hot or cold, now; tier_expire('t') drops
  // every time partition that retention= expires. Returns the partitions dropped.
  Result<int64_t> tier_expire(const std::optional<Value>& partition);
  // One row per partition for tier_partitions.
  using PartitionTierRow = TierPartitionRow;
  Result<std::vector<PartitionTierRow>> tier_partitions();

  // Verifies every chunk and constraint index; "ok" or a description of what is wrong.
  Result<std::string> check();
  // Whether the table holds a live row with this rowid (buffered or stored).
  Result<bool> has_row(int64_t rowid) { return row_exists(rowid); }

  PendingSnapshot pending() const { return {inserts_, inserts_->snapshot(), deletes_}; }
  Result<int64_t> estimated_rows();
  // Whether a column looks low-cardinality: its first chunk stores it as a constant, runs or a
  // dictionary. Remembered per column (a planning hint, not a promise).
  Result<bool> looks_low_cardinality(int column);

  // Cursors open on this table: while any is, chunks are not merged or removed, so that a scan
  // in progress never loses a chunk it has yet to read.
  void cursor_opened() { ++open_cursors_; }
  void cursor_closed() { --open_cursors_; }

  // The rows of a chunk that are visible (neither in its bitmap nor buffered as deleted), with
  // the columns whose bit is set in `column_mask` (bit 63: every column from 63 on, or only
  // those of them in `eager_columns` when given; a scan decodes the others when first read,
  // through chunk_column()).
  Result<ChunkRows> read_chunk_rows(const ChunkInfo& chunk, uint64_t column_mask,
                                    const std::vector<int>* eager_columns = nullptr);
  // One decoded column of a chunk (every row, deleted ones included), from the cache.
  Result<std::shared_ptr<const ColumnVector>> chunk_column(const ChunkInfo& chunk, int column);
  // The visible rows of a chunk among `wanted` (ascending rowids) with the requested columns, as
  // the ChunkRows of just those rows (a point lookup). A column the chunk cache holds is taken
  // from it; another is read for those rows alone when the chunk's source can (a cold chunk:
  // only the Parquet pages holding them are decoded), else decoded whole into the cache.
  Result<ChunkRows> read_chunk_points(const ChunkInfo& chunk, uint64_t column_mask, const std::vector<int>* eager_columns,
                                      const std::vector<int64_t>& wanted);
  static constexpr int kPointReadsBeforeCaching = 3;
  // Whether a chunk read for `column_mask` (and, for columns from 63 on, `eager_columns`) decodes
  // column c (never the rowid alias: the rowids are its values).
  bool reads_column(size_t c, uint64_t column_mask, const std::vector<int>* eager_columns) const;
  // The bloom filter of a column of a chunk (nullopt: none stored), from the cache.
  Result<std::optional<BloomFilter>> chunk_bloom(const ChunkInfo& chunk, int column);
  // The zone map of a column of a chunk (nullopt: none stored), from the cache.
  Result<std::optional<ZoneMap>> chunk_zone(const ChunkInfo& chunk, int column);
  // The decoded rowids of a chunk (every row, deleted ones included), from the cache.
  Result<std::shared_ptr<const ChunkRowids>> chunk_rowids(const ChunkInfo& chunk);
  // Drops cached chunks when another connection has committed since they were read.
  void refresh_cache();
  // The counters of the last scan; a cursor's filter() starts them afresh.
  ScanStats& last_scan() { return last_scan_; }

 private:
  friend class ColumnarPartitionCatalog;  // tier.cpp: the table's side of moving a partition
  ColumnarTable(sqlite3* db, TableRegistry* registry, std::string schema_name, std::string table_name,
                TableSchema schema);

  Status update_row(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out);
  Status ignore_row();
  Status delete_row(int64_t rowid);
  Status insert_row(int64_t rowid, const Row& values);
  Result<bool> row_exists(int64_t rowid);
  // SQLITE_CORRUPT_VTAB unless live row `rowid` holds `key` in the columns of key index k.
  Status verify_key_entry(size_t k, int64_t rowid, const std::vector<ValueView>& key);
  Result<int64_t> allocate_rowid();
  Result<int64_t> autoincrement_sequence();
  Result<std::optional<int64_t>> max_live_rowid();
  Result<Value> default_value(int column);
  // Which columns the running INSERT leaves out (and so take their DEFAULT), when the statement
  // can be identified; see the .cpp for why this is needed.
  std::optional<std::vector<bool>> omitted_columns();
  ConflictMode effective_conflict_mode(ConflictMode declared) const;
  std::optional<bool> rowid_assigned_after_alias();
  std::optional<bool> read_rowid_order(const std::string& sql) const;
  bool statement_says_or_abort() const;
  const std::vector<size_t>& unique_check_order();
  std::string column_label(int column) const;

  // (Re)reads the rollups from the meta table; `renamed`: under the table's new name.
  Status load_rollups(bool renamed);
  // Tells the rollups that a row is gone (its values read from wherever it is).
  Status report_removed_row(int64_t rowid);
  // The values of live row `rowid` in `columns` (false: no such row), wherever it is.
  Result<bool> row_values(int64_t rowid, const std::vector<int>& columns, std::vector<Value>& out);
  Status flush_deletes();
  Status drop_emptied_chunks();
  Status flush_inserts();
  // The write buffer is full: hands it to a helper thread to encode as one chunk when it can be
  // written as it is, else flushes.
  Status seal_full_buffer();
  // The partition of the whole buffer when it can be written as one chunk as it is: rows in
  // rowid order, none deleted, one partition, at most chunk_rows.
  std::optional<Value> as_one_chunk(const WriteBuffer& buffer) const;
  Value partition_of(const WriteBuffer& buffer, uint32_t position) const;
  Status write_chunk(const Value& partition, const std::vector<int64_t>& rowids,
                     const std::vector<ColumnVector>& columns);
  Status drop_chunk(const ChunkInfo& chunk);
  // The visible rows of `chunks` in rowid order, cut into chunks of at most chunk_rows rows, each
  // handed to `emit` (the rowid alias column holds NULLs: it is the rowid).
  using RegroupedChunk = std::function<Status(std::vector<int64_t>& rowids, std::vector<ColumnVector>& columns)>;
  Status regroup_rows(const std::vector<ChunkInfo>& chunks, const RegroupedChunk& emit);
  Status merge_chunks(const Value& partition, const std::vector<ChunkInfo>& chunks);
  Status merge_small_chunks();
  void discard_pending();
  // Tiering helpers (tier.cpp).
  Status require_tiering(std::string_view function) const;
  Status require_partitions(std::string_view function) const;  // partition_by=, outside a transaction
  // The partitions named (or, with nullopt, every one retention= expires) dropped, each in its
  // own transaction, their objects removed after it.
  Result<int64_t> expire_partitions(const std::optional<Value>& only);
  Result<bool> expire_partition(const Value& partition);
  // Inside a write transaction: of `objects`, those no cold chunk points to any more become
  // 'retired' (removed from the store after the commit, or by tier_gc).
  Status retire_unused_objects(const std::set<int64_t>& objects);
  Result<bool> flush_partition(const Value& partition, const std::string& owner);
  Result<bool> restore_partition(const Value& partition);
  // Removes retired objects from the store and forgets them; the first failure (the objects
  // stay recorded for the next tier_gc).
  Status remove_retired_objects(std::optional<Value> partition);
  // Forgets everything cached of the stored chunks (after this connection rewrote them).
  void forget_stored_state();
  void forget_uncommitted_chunks();
  RowidSet& mutable_deletes();

  sqlite3* db_;
  TableRegistry* registry_;
  std::string schema_name_;
  TableSchema schema_;
  ChunkStore store_;
  std::shared_ptr<WriteBuffer> inserts_;
  std::shared_ptr<RowidSet> deletes_ = std::make_shared<RowidSet>();
  bool row_ignored_ = false;  // ignore_row() dropped the row under a constraint's ON CONFLICT IGNORE
  Row spare_row_;  // update()'s row, kept so that its values' memory is reused
  // A full write buffer being encoded on a helper thread while the INSERT goes on; its rows are
  // neither in inserts_ nor in the shadow tables until settle() writes them. All are live (any
  // deletion settles first) and in rowid order.
  struct SealedChunk {
    std::shared_ptr<const WriteBuffer> rows;
    Value partition;
    std::future<EncodedChunk> encoding;  // invalid once taken, or when it failed
    std::optional<EncodedChunk> encoded;
  };
  std::optional<SealedChunk> sealed_;
  bool sealed_holds(int64_t rowid) const;
  // The largest live rowid (nullopt inside: the table is empty), when known.
  std::optional<std::optional<int64_t>> max_rowid_;
  int open_cursors_ = 0;
  // Chunks whose every row is deleted, kept while a scan was open; flush() drops them.
  std::set<int64_t> emptied_chunks_;
  // AUTOINCREMENT: the largest rowid INSERTed in this transaction, and the sequence as stored
  // in the meta table (when read).
  int64_t autoincrement_high_ = 0;
  std::optional<int64_t> persisted_sequence_;
  // Rows removed by OR REPLACE in the running write statement, which SQLite may still pass to
  // xUpdate as rows to update (it lists them first); such a row is skipped, as an ordinary table
  // skips a row that is gone. The statement is told by `replaced_by_` (see running_writer());
  // when it cannot be told, the set lasts the transaction and a row inserted again leaves it.
  struct WriterRun {
    sqlite3_stmt* statement = nullptr;
    int run = 0;      // SQLITE_STMTSTATUS_RUN: a statement run again is a new statement
    std::string sql;  // a finalized statement's memory may be reused by the next one
    bool operator==(const WriterRun&) const = default;
  };
  std::optional<WriterRun> running_writer() const;
  void scope_replaced_rows();
  void forget_replaced_rows();
  std::set<int64_t> replaced_rows_;
  std::optional<WriterRun> replaced_by_;
  std::map<int, Statement> default_statements_;
  std::unique_ptr<timeseries::RollupMaintenance> rollups_;  // nullptr until a write transaction loads them
  std::vector<ValueView> rollup_row_;                        // report scratch: one view per column
  std::vector<Value> removed_values_;
  ChunkCache cache_;
  std::unordered_map<int64_t, int> point_reads_;  // per chunk id: point reads since it was last read whole
  HotChunks hot_;
  ColdChunks cold_;
  ChunkSource& source_of(const ChunkInfo& chunk) { return chunk.tier ? static_cast<ChunkSource&>(cold_) : hot_; }
  ScanStats last_scan_;
  std::optional<unsigned> data_version_;
  // No stored chunk holds a rowid above this (when known): lets ascending explicit rowids skip
  // the existence lookup. Dropping chunks keeps it an upper bound.
  std::optional<int64_t> stored_rowid_bound_;
  std::map<int, bool> low_cardinality_;
  std::optional<std::vector<size_t>> unique_check_order_;  // unique_check_order(), once worked out
  // rowid_assigned_after_alias()'s answer for the statement text it last read.
  std::optional<std::pair<std::string, std::optional<bool>>> rowid_order_;
  // The head of the INSERT statement last inspected by omitted_columns(), and its answer.
  std::string inspected_head_;
  std::optional<std::vector<bool>> inspected_omitted_;
};

}  // namespace strata::columnar
