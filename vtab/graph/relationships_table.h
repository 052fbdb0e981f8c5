// RelationshipsTable: one `relationships` table on one connection — the sqlite3_vtab object
// (manual in graph.cpp) and the owner of that connection's adjacency for the graph functions.
//
// Rows live in the shadow table <name>_edges with both ends as node numbers of the things table
// and the type as a number (<name>_types). The adjacency (adjacency.h) is built from the shadow
// table when a graph function first needs it and then kept in step:
//   - each write of this connection is applied to it at once and logged, so that a rollback, or a
//     rollback to a savepoint, undoes exactly what it undid;
//   - a commit of another connection is noticed by the config table's generation counter, which
//     every committing writer increases (checked only when the file's data version moved), and
//     makes the next query build it again.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ext/large_array_allocator.h"
#include "ext/sqlite_api.h"
#include "ext/sqlite_handles.h"
#include "ext/status.h"
#include "ext/table_registry.h"
#include "vtab/graph/shadow_statements.h"
#include "vtab/graph/tiered_rows.h"
#include "vtab/graph/adjacency.h"
#include "vtab/graph/traversal.h"

namespace strata::graph {

// Columns of the declared table, in order.
enum RelationshipColumn { kEdgeId = 0, kEdgeFrom, kEdgeTo, kEdgeType, kEdgeData, kEdgeCreatedAt, kEdgeColumnCount };

// Each node's id text, packed in chunks that never move and are never freed while this lives:
// what get() returned stays valid across later set() calls, so the graph functions hand names
// to SQLite without copying them (a cursor keeps the GraphCache alive). A replaced name's bytes
// stay behind until the next build; renames are rare.
class NodeNames {
 public:
  // The name the node had before, when it changes (for undo).
  std::optional<std::string> set(NodeId node, std::string_view id);
  std::string_view get(NodeId node) const {
    if (node >= names_.size()) return {};
    return std::string_view(names_[node].data, names_[node].length);
  }
  // Hints that get(node) comes soon: with `text` false, where the name is; with true, its bytes
  // (whose place should be in cache by then). Rows of a traversal name nodes all over the graph.
  void prefetch(NodeId node, bool text) const {
    if (node >= names_.size()) return;
    if (text) {
      __builtin_prefetch(names_[node].data);
    } else {
      __builtin_prefetch(names_.data() + node);
    }
  }
  size_t memory_bytes() const { return names_.capacity() * sizeof(Name) + chunk_bytes_; }

 private:
  const char* store(std::string_view id);

  struct Name {
    const char* data = nullptr;
    uint32_t length = 0;
  };
  LargeVector<Name> names_;  // one entry per node: one cache line to read a name's place
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t last_chunk_size_ = 0;
  size_t chunk_free_ = 0;  // unused bytes at the end of chunks_.back()
  size_t chunk_bytes_ = 0;
};

// What a graph query reads: kept alive by a cursor while it runs, even if the table builds a
// new one meanwhile.
struct GraphCache {
  Adjacency adjacency;
  NodeNames names;
};

class RelationshipsTable;
// The edges of a tiered relationships table whose payload may be cold: the condition of its
// partial index on created_at, spelled the same in every query that is to use the index.
inline constexpr std::string_view kPayloadCondition = "(data IS NOT NULL OR cold_object IS NOT NULL)";
inline constexpr std::string_view kPayloadConditionOfE = "(e.data IS NOT NULL OR e.cold_object IS NOT NULL)";  // edges as e
// The relationships tables connected on one connection, for the graph functions to find by name.
using GraphRegistry = TableRegistry<RelationshipsTable>;

class RelationshipsTable {
 public:
  sqlite3_vtab base{};  // must stay the first member

  static RelationshipsTable* from(sqlite3_vtab* vtab) { return reinterpret_cast<RelationshipsTable*>(vtab); }
  static Result<std::unique_ptr<RelationshipsTable>> open(sqlite3* db, int argc, const char* const* argv, bool create,
                                                          std::shared_ptr<GraphRegistry> registry);
  ~RelationshipsTable();

  sqlite3* db() const { return db_; }
  const std::string& schema() const { return schema_; }
  const std::string& name() const { return name_; }
  const std::string& things() const { return things_; }
  std::string shadow(std::string_view suffix) const;
  std::string things_shadow() const;

  Status update(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out);
  Status on_begin() { return Status::ok(); }
  Status on_sync();
  Status on_commit();
  Status on_rollback();
  Status on_savepoint(int level);
  Status on_release(int level);
  Status on_rollback_to(int level);
  Status destroy();
  Status rename(const std::string& new_name);

  // The node of the thing with this id, if there is one.
  Result<std::optional<NodeId>> node_of(std::string_view id);
  // The number of a relationship type, if any relationship ever had it.
  Result<std::optional<TypeCode>> type_code(std::string_view type);
  Result<std::string> type_name(TypeCode code);
  // The adjacency as the database holds it now (built or rebuilt when needed).
  Result<std::shared_ptr<GraphCache>> graph();
  Traversal& traversal() { return traversal_; }
  // Whether its things table is tiered (format 2): payloads of old edges go cold (things_tier.cpp).
  bool tiered() const { return !tier_.empty(); }
  int64_t hot_months() const { return hot_months_; }
  ColdRows* cold() { return cold_.get(); }
  // A cold edge's data (valid until the next read).
  Result<ValueView> read_cold_data(const ColdPlace& place);
  // things_check(): compares the adjacency this connection holds (if any) with the shadow table.
  Result<std::string> check_adjacency();

  ShadowStatements& statements() { return statements_; }

 private:
  struct UndoEntry {
    enum Kind { kAdded, kRemoved, kNamed } kind;
    Edge edge;
    NodeId node = 0;
    std::string old_name;
  };

  RelationshipsTable(sqlite3* db, std::string schema, std::string name, std::string things);
  Status create_shadow_tables();
  Result<int64_t> stored_generation();
  Result<std::shared_ptr<GraphCache>> build_graph();
  Result<TypeCode> type_code_or_create(std::string_view type);
  Result<NodeId> existing_node(std::string_view column, std::string_view id);
  Status insert_edge(sqlite3_value** columns, sqlite3_int64* rowid_out);
  Status update_edge(int64_t edge, sqlite3_value** columns);
  Status delete_edge(int64_t edge);
  struct StoredEdge {
    Edge edge;
    std::string id;
    std::optional<ColdPlace> cold;  // where its data lies while cold
  };
  // A cold edge stops being its object's (its data written hot, or the edge deleted).
  Status forget_cold(const ColdPlace& cold);
  Status read_options();
  Result<std::optional<StoredEdge>> stored_edge(int64_t edge);
  // Handles a UNIQUE failure of writing `edge` with `id`: under OR REPLACE deletes the rows in
  // the way (except `self`) and returns true (try again); otherwise returns the error.
  Result<bool> resolve_conflict(const Edge& edge, std::string_view id, std::string_view from, std::string_view to,
                                std::string_view type, int64_t self);
  // Applies a write to the adjacency (if built) and logs it for undo.
  void note_added(const Edge& edge, std::string_view from, std::string_view to);
  void note_removed(const Edge& edge);
  void undo_to(size_t log_size);
  void drop_graph();

  sqlite3* db_;
  std::string schema_;
  std::string name_;
  std::string things_;
  std::string tier_;        // its things table's tier= (empty: not tiered)
  int64_t hot_months_ = 3;  // and hot_months=
  std::unique_ptr<ColdRows> cold_;
  std::shared_ptr<GraphRegistry> registry_;
  ShadowStatements statements_;
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, TypeCode, TextHash, std::equal_to<>> type_codes_;  // a cache; emptied on rollback

  std::shared_ptr<GraphCache> graph_;
  Traversal traversal_;
  int64_t generation_ = 0;                 // of the shadow tables graph_ matches
  std::optional<unsigned> data_version_;
  bool changed_ = false;                   // written in this transaction
  bool graph_has_uncommitted_ = false;     // graph_ was built after this transaction wrote
  std::vector<UndoEntry> undo_log_;        // since the transaction began (only while graph_ exists)
  std::map<int, size_t> savepoints_;       // savepoint level -> undo_log_ size then
};


}  // namespace strata::graph
