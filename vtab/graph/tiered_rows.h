// Tiering of graph rows (docs/tiering.md, "things tables"): what things tables (whole things by
// type and month) and relationships tables over a tiered things table (relationship payloads by
// month) share. A tiered row keeps its row in the shadow table; the values that go cold (a
// thing's data and embedding, a relationship's data) are NULL there while cold_object/cold_row
// say which row of which object holds them.
//
// Flush of one partition P (tiering::flush_partition), each step its own transaction or none:
//   1. intent   — <table>_objects gets (key, P, 'writing', owner).
//   2. write    — in one read transaction: P's rows in key order (cold ones read from their
//                 objects), kRowsPerGroup a row group; a hash of every column as read.
//   3. upload   — create-only under the fresh key, then verified.
//   4. commit   — P's rows hash the same (else abandoned: run tier_flush again); each row points
//                 into the new object (make_cold); P's older objects are retired; the intent is live.
//   5. clean up — retired objects are removed.
// A write to a cold row writes the new version hot and counts a stale row in its object;
// tier_flush rewrites a partition with hot or stale rows, so that afterwards the lake holds
// exactly the cold rows.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codecs/column_vector.h"
#include "codecs/parquet/parquet_reader.h"
#include "codecs/parquet/parquet_writer.h"
#include "ext/sqlite_handles.h"
#include "ext/status.h"
#include "tiering/read_cache.h"
#include "vtab/tier_store.h"
#include "vtab/tier_targets.h"

namespace strata::graph {

// Rows per row group of a cold object: a cold read fetches and decodes one row group's cold
// columns.
inline constexpr size_t kRowsPerGroup = 1024;

// "file:DIR" or "s3://bucket/prefix"; else an error naming `module`.
Status check_tier_location(std::string_view module, std::string_view tier);

// Where a cold row's values lie: row `row` of the object `object_id`.
struct ColdPlace {
  int64_t object_id = 0;
  int64_t row = 0;
};

// The cold values of one table on one connection: the objects' footers (kept hot in the objects
// table, so no footer request) and the last row groups read, decoded.
class ColdRows {
 public:
  // `columns`: the object columns read together (adjacent column chunks: one ranged GET).
  ColdRows(sqlite3* db, std::string schema_name, std::string objects_table, std::string tier, std::string who,
           std::vector<std::string> columns);

  // The values of `columns` of a cold row, in that order (valid until the next read).
  Result<std::span<const ValueView>> read(const ColdPlace& place);
  TierStore& tier() { return tier_; }
  // Requests for cold data by partition, on this connection since it opened.
  const std::map<std::string, tiering::ReadCounters>& counters() const { return counters_; }
  // Drops what is held (objects never change and their ids are never reused: only memory).
  void forget() {
    objects_.clear();
    groups_.clear();
  }
  void rename(std::string objects_table, std::string who) {
    objects_table_ = std::move(objects_table);
    who_ = who;
    tier_.set_who(std::move(who));
  }

 private:
  struct OpenObject {
    std::string key;
    std::string etag;
    std::string partition;
    parquet::FileReader reader;
    std::vector<int64_t> group_ends;  // rows before the end of each row group
    std::vector<int> columns;         // of `columns_` in reader.columns()
  };
  struct Group {
    int64_t object_id;
    size_t group;
    std::vector<ColumnVector> columns;
  };
  Result<const OpenObject*> open_object(int64_t object_id);
  Result<const Group*> read_group(int64_t object_id, const OpenObject& object, size_t group);
  Status cold_error(const OpenObject& object, const Status& cause) const;

  sqlite3* db_;
  std::string objects_table_;
  std::string who_;
  std::vector<std::string> columns_;
  TierStore tier_;
  std::map<int64_t, std::unique_ptr<OpenObject>> objects_;
  std::list<Group> groups_;  // the most recently read first
  std::vector<ValueView> row_;
  std::map<std::string, tiering::ReadCounters> counters_;
};

// "YYYY-MM" of a month counted as year * 12 + month - 1 (the dt= of a partition's Hive path).
std::string month_text(int64_t month_index);

// One partition as the shadow tables show it.
struct LiveObject {
  int64_t object_id = 0;
  std::string key;
  std::string etag;
  int64_t size = 0;
  int64_t row_count = 0;
  int64_t stale_rows = 0;
  std::optional<int64_t> flushed_at;
};
struct PartitionSummary {
  std::string name;
  std::optional<std::string> group;  // the type of a things partition
  int64_t month = 0;                  // year * 12 + month - 1
  bool has_rows = false;              // group and month are known
  int64_t rows = 0;
  int64_t hot_rows = 0;
  std::vector<LiveObject> objects;  // live

  // Whether the lake holds exactly this partition's rows already: all cold, in one object
  // without stale rows.
  bool already_cold() const;
  int64_t first_ms() const;  // of its month
  int64_t end_ms() const;    // of the month after
};

// What one kind of table gives the shared flush, restore, GC and listing.
class TieredRows {
 public:
  virtual ~TieredRows() = default;
  virtual sqlite3* db() const = 0;
  virtual std::string who() const = 0;         // "things table kb", for messages
  virtual std::string key_prefix() const = 0;  // the objects' keys begin with it and '/'
  virtual std::string objects_table() const = 0;
  virtual int64_t hot_months() const = 0;
  virtual ColdRows& cold() = 0;
  // Every row that is or may go cold: group (text, or NULL when the kind has none), created_at,
  // whether it is hot. Rows of a group that is not text or of a time outside years 1–9999 are
  // left out by the caller's binding ?1 and ?2 (the first and last tiered millisecond).
  virtual Result<Statement> listing() = 0;
  virtual std::string partition_name(const std::optional<std::string>& group, int64_t month) const = 0;
  // One partition's rows in key order: key, the object columns, cold_object, cold_row.
  virtual Result<Statement> partition_rows(const PartitionSummary& partition, bool only_cold) = 0;
  virtual std::vector<parquet::ColumnSpec> object_columns() const = 0;
  // The object columns whose values live in the object while cold (cold().read's order).
  virtual std::vector<int> cold_value_columns() const = 0;
  virtual std::vector<std::string> bloom_columns() const = 0;
  // Commit of a flush: the row `key` now lives at `place` (`was_hot`: its values were hot).
  virtual Status make_cold(int64_t key, bool was_hot, const ColdPlace& place) = 0;
  // Commit of a restore: the row's cold values are hot again.
  virtual Status make_hot(int64_t key, std::span<const Value> values) = 0;
};

// The tier functions over a TieredRows (docs/tiering.md). `only`: a partition's name.
Result<int64_t> flush_tiered(TieredRows& rows, const std::optional<std::string>& only);
Result<int64_t> restore_tiered(TieredRows& rows, const std::string& name);
Result<int64_t> collect_tiered(TieredRows& rows);
Result<std::vector<TierPartitionRow>> list_tiered(TieredRows& rows, const std::function<int64_t(const PartitionSummary&)>& hot_bytes);

// things_check's part for a tiered table: every cold row of `rows_table` points to a row of a
// live object of `objects_table` whose recorded footer reads and whose live-row count
// (row_count - stale_rows) is the number of rows pointing into it, and has `cold_columns` NULL.
Status check_cold_rows(sqlite3* db, const std::string& rows_table, const std::string& objects_table,
                       const std::vector<std::string>& cold_columns, std::vector<std::string>& problems);

// The `tier` and `hot_months` a tiered table's config shadow table holds (left as they are when
// absent).
Status read_tier_options(sqlite3* db, const std::string& config_table, std::string& tier, int64_t& hot_months);

// The objects shadow table of a tiered table (docs/format-graph.md).
std::string objects_table_sql(const std::string& objects_table);

}  // namespace strata::graph
