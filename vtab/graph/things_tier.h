// Tiering of `things` tables (docs/tiering.md, "things"): cold things by (type, month of
// created_at) in Parquet objects, their rows, ids and path-index entries kept hot.
//
// A tiered things table (tier=, format 2, docs/format-graph.md) keeps every thing's row in
// kb_things; a cold thing's data and embedding are NULL there and cold_object/cold_row say which
// row of which object holds them. Lookups by id, rowid and type, traversals, and the FOREIGN KEY
// checks of relationships therefore never touch the store; only reading a cold thing's data or
// embedding does, with one ranged GET for both (they are adjacent column chunks of one row group
// of kRowsPerGroup things), through the process's read cache.
//
// Flush of one partition P = (type, month), each step its own transaction or none, through
// tiering::flush_partition:
//   1. intent   — kb_objects gets (key, P, 'writing', owner).
//   2. write    — in one read transaction: P's things in node order (cold ones read from their
//                 objects), kRowsPerGroup a row group; the fingerprint of what was read.
//   3. upload   — create-only under the fresh key, then verified.
//   4. commit   — P's things are still as read (else abandoned: run tier_flush again); hot ones get
//                 their path entries in kb_cold_paths and lose data and embedding; all point into
//                 the new object; P's older objects are retired; the intent is live.
//   5. clean up — retired objects are removed.
// Writes to a cold thing (UPDATE, REPLACE, DELETE) write the new version hot and count a stale
// row in its object; tier_flush rewrites a partition with hot or stale rows, so that afterwards
// the lake holds exactly the cold things.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "codecs/column_vector.h"
#include "codecs/parquet/parquet_reader.h"
#include "ext/status.h"
#include "tiering/read_cache.h"
#include "vtab/graph/things_table.h"
#include "vtab/tier_store.h"
#include "vtab/tier_targets.h"

namespace strata::graph {

// Things per row group of a cold object: a cold lookup fetches and decodes one row group's data
// and embedding.
inline constexpr size_t kRowsPerGroup = 1024;

// "file:DIR" or "s3://bucket/prefix"; else an error naming things.
Status check_tier_location(std::string_view tier);

// The cold side of one tiered things table on one connection.
class ThingsCold {
 public:
  explicit ThingsCold(ThingsTable& table);

  // Data and embedding of a cold thing (valid until the next read).
  Result<ThingsTable::ColdValues> read(const ColdThing& thing);
  TierStore& tier() { return tier_; }
  // Requests for cold data by partition, on this connection since it opened.
  const std::map<std::string, tiering::ReadCounters>& counters() const { return counters_; }
  // Drops the objects and row groups held (objects never change and their ids are never reused,
  // so this only frees memory).
  void forget() {
    objects_.clear();
    groups_.clear();
  }

 private:
  struct OpenObject {
    std::string key;
    std::string etag;
    std::string partition;
    parquet::FileReader reader;
    std::vector<int64_t> group_ends;  // rows before the end of each row group
    int data_column = -1;             // in reader.columns()
    int embedding_column = -1;
  };
  struct Group {
    int64_t object_id;
    size_t group;
    ColumnVector data;
    ColumnVector embedding;
  };
  Result<const OpenObject*> open_object(int64_t object_id);
  Result<const Group*> read_group(int64_t object_id, const OpenObject& object, size_t group);
  Status cold_error(const OpenObject& object, const Status& cause) const;

  ThingsTable& table_;
  TierStore tier_;
  std::map<int64_t, std::unique_ptr<OpenObject>> objects_;
  std::list<Group> groups_;  // the most recently read first
  std::map<std::string, tiering::ReadCounters> counters_;
};

// things_check's part for a tiered table (nothing for another): every cold thing points to a row
// of a live object whose recorded footer reads and whose live-row count (row_count - stale_rows)
// is the number of things pointing into it, and has neither data nor embedding hot.
Status check_tiered_things(sqlite3* db, const std::string& schema, const std::string& table, std::vector<std::string>& problems);

// The tier functions and tier_partitions for things tables (vtab/tier_targets.h).
std::shared_ptr<OtherTieredTables> make_tiered_things(std::shared_ptr<ThingsRegistry> registry);

}  // namespace strata::graph
