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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ext/sqlite_api.h"
#include "ext/sqlite_handles.h"
#include "ext/status.h"
#include "vtab/hnsw/graph.h"
#include "vtab/hnsw/space.h"
#include "vtab/hnsw/vector.h"

namespace strata::hnsw {

// 2: each stored vector ends with its checksum (docs/format-hnsw.md).
inline constexpr int kFormatVersion = 2;
// The largest k (and LIMIT) of a KNN query; sqlite-vec stops at 4,096.
inline constexpr size_t kMaxK = 100000;

// What CREATE VIRTUAL TABLE fixed, stored in the config table.
struct IndexSettings {
  std::string column = "embedding";
  ElementType element = ElementType::kFloat32;
  size_t dimensions = 0;
  Metric metric = Metric::kL2;
  uint32_t m = 16;
  uint32_t ef_construction = 200;
  uint32_t ef_search = 64;
  Quantization quantization = Quantization::kNone;
  size_t indexed_dimensions = 0;  // dims=K: the prefix the graph walks over (0: all)
  int format_version = kFormatVersion;  // of the shadow tables; 1 until 'optimize' upgrades them

  SpaceSettings space() const { return {metric, dimensions, indexed_dimensions, quantization}; }
};

// Columns of the declared table, in order.
enum HnswColumn { kEmbeddingColumn = 0, kDistanceColumn, kKColumn, kEfSearchColumn, kCommandColumn };

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
  // The k nearest (by the table's metric) among all rows, or among `allowed` rowids.
  Result<std::vector<KnnResult>> nearest(const FloatVector& query, size_t k, size_t ef,
                                         const std::vector<int64_t>* allowed);
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
  Status delete_row(int64_t rowid);
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
  std::optional<int64_t> max_rowid_;              // the largest rowid, when known
  int64_t generation_ = 0;                        // of the shadow tables the graph matches
  float stored_norm_bound_ = 0;                   // ip's norm bound as the config table holds it
  std::optional<unsigned> data_version_;
  bool changed_ = false;                          // written since the last flush
  bool format_known_ = true;                      // settings_.format_version is the stored one
};

}  // namespace strata::hnsw
