// HnswTable: one hnsw table on one connection — the sqlite3_vtab object (manual in hnsw.cpp).
//
// The graph lives in memory (graph.h) and in shadow tables (docs/format-hnsw.md). Writes change
// both: a vector row is written at once; nodes whose links changed are written when the
// transaction commits or a savepoint opens, each once however often it changed. A rollback
// drops the in-memory graph, which is loaded again from the (rolled back) shadow tables when
// next needed; so is a graph another connection has changed since (a generation counter in the
// config table says so).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "codecs/column_vector.h"
#include "ext/sqlite_api.h"
#include "ext/sqlite_handles.h"
#include "ext/status.h"
#include "vtab/hnsw/graph.h"
#include "vtab/hnsw/space.h"
#include "vtab/hnsw/vector.h"

namespace strata::hnsw {

// 2: each stored vector ends with its checksum; 3: deleted rows stay as tombstones (their
// vectors in a tombstones table, their links kept) until purged, and the config table may list
// columns besides the vector, kept in a columns table (docs/format-hnsw.md).
inline constexpr int kFormatVersion = 3;
// The largest k (and LIMIT) of a KNN query; sqlite-vec stops at 4,096.
inline constexpr size_t kMaxK = 100000;

// A declared column, as sqlite-vec's vec0 spells them: the vector; `id INTEGER PRIMARY KEY` (the
// rowid under another name) or `id TEXT PRIMARY KEY`; metadata (`genre TEXT`, filterable in a
// KNN query); `user_id INTEGER PARTITION KEY` (filterable too); `+contents TEXT` (auxiliary:
// stored and returned, not filterable).
enum class ColumnKind { kVector, kIntegerKey, kTextKey, kMetadata, kPartitionKey, kAuxiliary };
// What a metadata, partition-key or auxiliary column holds (kAny: an auxiliary column without
// a type). Values must be of exactly that class, as vec0 requires; partition keys and auxiliary
// columns also take NULL.
enum class ColumnType { kAny, kInteger, kFloat, kText, kBoolean, kBlob };

struct TableColumn {
  std::string name;
  ColumnKind kind = ColumnKind::kVector;
  ColumnType type = ColumnType::kAny;
  // Filterable inside the KNN walk, and so kept in memory with the graph.
  bool filterable() const { return kind == ColumnKind::kMetadata || kind == ColumnKind::kPartitionKey || kind == ColumnKind::kTextKey; }
  // Stored in the columns table (the vector and an integer key, the rowid, are not).
  bool stored() const { return kind != ColumnKind::kVector && kind != ColumnKind::kIntegerKey; }
};

// What CREATE VIRTUAL TABLE fixed, stored in the config table.
struct IndexSettings {
  std::string column = "embedding";  // the vector column's name
  ElementType element = ElementType::kFloat32;
  size_t dimensions = 0;
  Metric metric = Metric::kL2;
  uint32_t m = 16;
  uint32_t ef_construction = 200;
  uint32_t ef_search = 64;
  Quantization quantization = Quantization::kNone;
  size_t indexed_dimensions = 0;  // dims=K: the prefix the graph walks over (0: all)
  int format_version = kFormatVersion;  // of the shadow tables; 1 until 'optimize' upgrades them
  // The declared columns in order, the vector among them; then come the hidden distance, k,
  // ef_search and one named after the table (commands).
  std::vector<TableColumn> columns = {TableColumn{"embedding"}};

  SpaceSettings space() const { return {metric, dimensions, indexed_dimensions, quantization}; }
  int vector_column() const;
  int distance_column() const { return static_cast<int>(columns.size()); }
  int k_column() const { return distance_column() + 1; }
  int ef_search_column() const { return distance_column() + 2; }
  int command_column() const { return distance_column() + 3; }
  // The integer key column (the rowid's other name), or -1.
  int integer_key_column() const;
  // Whether the table has a columns table.
  bool has_stored_columns() const;
};

// One comparison of a KNN query's filter on a filterable column: `column op value` or, for IN,
// the column equal to any of `values` (each as SQLite compares it with the column:
// HnswTable::filter_value).
enum class FilterOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn };
struct ColumnFilter {
  int column;
  FilterOp op;
  std::vector<Value> values;  // one, or the IN list
};

struct KnnResult {
  int64_t rowid;
  double distance;
};

class HnswTable {
 public:
  sqlite3_vtab base{};  // must stay the first member

  static HnswTable* from(sqlite3_vtab* vtab) { return reinterpret_cast<HnswTable*>(vtab); }
  static Result<std::unique_ptr<HnswTable>> open(sqlite3* db, int argc, const char* const* argv, bool create);

  const IndexSettings& settings() const { return settings_; }
  const std::string& name() const { return name_; }
  sqlite3* db() const { return db_; }

  Status update(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out);
  Status on_begin();
  Status on_sync() { return flush(); }
  Status on_savepoint() { return flush(); }
  Status on_commit() { return Status::ok(); }  // on_sync wrote everything
  Status on_rollback() {
    discard();
    format_known_ = false;  // the rollback may have undone an upgrade
    return Status::ok();
  }
  // Links are written at every savepoint, so the shadow tables hold the savepoint's state: the
  // in-memory graph is dropped and loaded from them again when next needed.
  Status on_rollback_to() { return on_rollback(); }
  Status destroy();
  Status rename(const std::string& new_name);

  // The query vector from a MATCH argument, checked against the table's dimensions.
  Result<FloatVector> query_vector(sqlite3_value* value) const;
  // The k nearest (by the table's metric) among the rows that are in `allowed` (when given)
  // and whose filterable columns pass every filter.
  Result<std::vector<KnnResult>> nearest(const FloatVector& query, size_t k, size_t ef, const std::vector<int64_t>* allowed,
                                         const std::vector<ColumnFilter>& filters);
  // A filter's value as SQLite compares it with column `column` (its affinity applied).
  Value filter_value(int column, sqlite3_value* value) const;
  // Column `column` (a declared column other than the vector) of a row: the rowid for an
  // integer key, the stored value otherwise (NULL when the row has none).
  Status column_value(int64_t rowid, int column, sqlite3_context* context);
  // The stored vector BLOB of a row (nullopt when there is none).
  Result<std::optional<std::string>> stored_vector(int64_t rowid);
  // Every rowid, ascending (a full scan).
  Result<std::vector<int64_t>> all_rowids();

  // Structural check of the stored index: "ok" or the problems found.
  static Result<std::string> check(sqlite3* db, const std::string& schema, const std::string& table);

 private:
  HnswTable(sqlite3* db, std::string schema, std::string name, IndexSettings settings);
  static Result<IndexSettings> read_stored_settings(sqlite3* db, const std::string& schema, const std::string& name);

  std::string shadow(std::string_view suffix) const;  // "schema"."name_suffix"
  Result<Statement*> statement(int key, const std::string& sql);
  Status create_shadow_tables();
  // Makes the in-memory graph match the shadow tables (loading it when needed).
  Status ensure_loaded();
  Status load();
  void discard();
  Status flush();
  Result<FloatVector> parse_vector(sqlite3_value* value) const;
  Status insert_vector(int64_t rowid, const FloatVector& vector, std::string_view blob);
  // Deletes a row. From format 3 on, its node stays in the graph as a tombstone (walked through,
  // never returned), as hnswlib's markDelete, so that the graph keeps the routes it was built
  // with; `relink` removes the node and relinks its neighbours instead (a rowid about to be
  // written again needs that: links name rows by rowid).
  Status delete_row(int64_t rowid, bool relink = false);
  // Removes a tombstone's node for good, relinking its neighbours.
  Status purge_tombstone(int64_t rowid);
  // More tombstones than live rows: all of them go (the table's size stays bounded).
  Status purge_tombstones_if_many();
  // The columns-table row of `rowid` from an INSERT's or UPDATE's values (checked against the
  // declared types first), and the filterable values kept in memory.
  Status check_column_values(sqlite3_value** values) const;
  Status write_columns(int64_t rowid, sqlite3_value** values, bool replace);
  void remember_columns(NodeId node, sqlite3_value** values);
  Status optimize();
  // The element bytes of a stored vector: its checksum verified and taken off (format 2), or
  // as they are (format 1).
  Result<std::string_view> vector_bytes(int64_t rowid, std::string_view stored);
  // What to store for a vector's element bytes.
  Result<std::string> stored_form(std::string_view bytes);
  // settings_.format_version, read again from the config table when a rollback may have
  // changed it.
  Result<int> format_version();
  Result<int64_t> stored_generation();
  std::vector<KnnResult> to_results(const std::vector<Neighbor>& found) const;
  // The nodes in `allowed` (rowids; every node when null) that `passes` keeps, each once, as a
  // list and as a bitmap by node (`accepted`).
  // (A template, defined and used in hnsw_table.cpp only: the predicate runs once per row.)
  template <typename Passes>
  std::vector<NodeId> nodes_matching(const std::vector<int64_t>* allowed, const Passes& passes, std::vector<bool>& accepted) const;

  sqlite3* db_;
  std::string schema_;
  std::string name_;
  IndexSettings settings_;
  std::map<int, Statement> statements_;

  // The in-memory index; valid when `loaded_`.
  bool loaded_ = false;
  std::unique_ptr<VectorSpace> space_;
  std::unique_ptr<HnswGraph> graph_;
  std::vector<int64_t> rowid_of_;                 // by node
  std::unordered_map<int64_t, NodeId> node_of_;   // by rowid
  std::vector<NodeId> free_nodes_;
  std::unordered_map<int64_t, NodeId> tombstone_of_;  // deleted rows still in the graph, by rowid
  std::vector<bool> dead_;                           // by node: a tombstone
  std::optional<int64_t> max_rowid_;              // the largest rowid, when known
  // The filterable columns' values, by declared column, then by node (empty for the others).
  std::vector<std::vector<Value>> column_values_;
  std::unordered_map<std::string, int64_t> rowid_of_text_key_;
  int64_t generation_ = 0;                        // of the shadow tables the graph matches
  float stored_norm_bound_ = 0;                   // ip's norm bound as the config table holds it
  std::optional<unsigned> data_version_;
  bool changed_ = false;                          // written since the last flush
  bool format_known_ = true;                      // settings_.format_version is the stored one
};

}  // namespace strata::hnsw
