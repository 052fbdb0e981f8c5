// ThingsTable: one `things` table on one connection — the sqlite3_vtab object (manual in
// graph.cpp). Rows live in the shadow table <name>_things, keyed by a node number that the
// relationships tables and the adjacency use in place of the text id.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ext/sqlite_api.h"
#include "ext/sqlite_handles.h"
#include "ext/status.h"
#include "ext/table_registry.h"
#include "vtab/graph/shadow_statements.h"
#include "vtab/graph/tiered_rows.h"
#include "vtab/tier_targets.h"

namespace strata::graph {

// Columns of the declared table, in order; json_path and json_value are HIDDEN.
enum ThingsColumn {
  kThingId = 0,
  kThingType,
  kThingData,
  kThingEmbedding,
  kThingCreatedAt,
  kThingUpdatedAt,
  kThingJsonPath,
  kThingJsonValue,
  kThingColumnCount
};

class ThingsTable;
// The things tables connected on one connection, for the tier functions to find by name.
using ThingsRegistry = TableRegistry<ThingsTable>;

// The row of a stored thing that writes need.
struct StoredThing {
  std::string id;
  std::optional<ColdPlace> cold;  // where its data and embedding lie while cold
};

class ThingsTable {
 public:
  sqlite3_vtab base{};  // must stay the first member

  static ThingsTable* from(sqlite3_vtab* vtab) { return reinterpret_cast<ThingsTable*>(vtab); }
  static Result<std::unique_ptr<ThingsTable>> open(sqlite3* db, ThingsRegistry* registry, int argc, const char* const* argv,
                                                   bool create);
  ~ThingsTable();

  sqlite3* db() const { return db_; }
  const std::string& name() const { return name_; }
  const std::string& schema_name() const { return schema_; }
  std::string shadow(std::string_view suffix) const;
  // Whether the table was created with tier= (format 2: cold columns, kb_objects, kb_cold_paths).
  bool tiered() const { return !tier_.empty(); }

  // A cold thing's data and embedding, read from its object (things_tier.cpp).
  struct ColdValues {  // valid until the next read_cold
    ValueView data;
    ValueView embedding;
  };
  Result<ColdValues> read_cold(const ColdPlace& place);
  ColdRows* cold() { return cold_.get(); }
  int64_t hot_months() const { return hot_months_; }

  // Whether things_index made an index for `path`.
  Result<bool> has_path_index(const std::string& path);

  Status update(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out);
  Status on_begin() { return Status::ok(); }
  Status on_sync() { return Status::ok(); }
  Status on_commit() { return Status::ok(); }
  Status on_rollback() { return Status::ok(); }
  Status on_savepoint() { return Status::ok(); }
  Status on_rollback_to() { return Status::ok(); }
  Status destroy();
  Status rename(const std::string& new_name);

  ShadowStatements& statements() { return statements_; }

  // things_index(): creates (once) an index on json_extract(data, path); returns its name.
  // `connected`: the table on this connection when SQLite has connected it (a tiered table's
  // cold things get their entries in kb_cold_paths from their objects through it).
  static Result<std::string> create_path_index(sqlite3* db, const std::string& schema, const std::string& table,
                                               const std::string& path, ThingsTable* connected = nullptr);
  // things_check(): "ok" or the problems found, one per line.
  static Result<std::string> check(sqlite3* db, const std::string& schema, const std::string& table);
  // The relationships tables that name this things table (from its config).
  static Result<std::vector<std::string>> relationship_tables(sqlite3* db, const std::string& schema,
                                                              const std::string& table);

 private:
  ThingsTable(sqlite3* db, ThingsRegistry* registry, std::string schema, std::string name);
  Status create_shadow_tables();
  Status read_options();
  Status insert_row(sqlite3_value** columns, sqlite3_int64* rowid_out);
  Status update_row(int64_t node, sqlite3_value** columns);
  Status delete_row(int64_t node);
  Result<std::optional<StoredThing>> stored_thing(int64_t node);
  // A cold thing stops being its object's (written hot, or deleted): the object counts one more
  // stale row, and the thing's cold path entries go.
  Status forget_cold(int64_t node, const ColdPlace& cold);
  // kb_cold_paths entries of a newly indexed path for the things already cold.
  Status add_cold_path_entries(const std::string& path);

  sqlite3* db_;
  ThingsRegistry* registry_;
  std::string schema_;
  std::string name_;
  ShadowStatements statements_;
  std::string tier_;        // tier= (empty: not tiered)
  int64_t hot_months_ = 3;  // hot_months=
  std::unique_ptr<ColdRows> cold_;
};

}  // namespace strata::graph
