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
#include "vtab/graph/shadow_statements.h"

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

class ThingsTable {
 public:
  sqlite3_vtab base{};  // must stay the first member

  static ThingsTable* from(sqlite3_vtab* vtab) { return reinterpret_cast<ThingsTable*>(vtab); }
  static Result<std::unique_ptr<ThingsTable>> open(sqlite3* db, int argc, const char* const* argv, bool create);

  sqlite3* db() const { return db_; }
  const std::string& name() const { return name_; }
  std::string shadow(std::string_view suffix) const;

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
  static Result<std::string> create_path_index(sqlite3* db, const std::string& schema, const std::string& table,
                                               const std::string& path);
  // things_check(): "ok" or the problems found, one per line.
  static Result<std::string> check(sqlite3* db, const std::string& schema, const std::string& table);
  // The relationships tables that name this things table (from its config).
  static Result<std::vector<std::string>> relationship_tables(sqlite3* db, const std::string& schema,
                                                              const std::string& table);

 private:
  ThingsTable(sqlite3* db, std::string schema, std::string name)
      : db_(db), schema_(std::move(schema)), name_(std::move(name)), statements_(db) {}
  Status create_shadow_tables();
  Status insert_row(sqlite3_value** columns, sqlite3_int64* rowid_out);
  Status update_row(int64_t node, sqlite3_value** columns);
  Status delete_row(int64_t node);
  Result<std::optional<std::string>> stored_id(int64_t node);

  sqlite3* db_;
  std::string schema_;
  std::string name_;
  ShadowStatements statements_;
};

}  // namespace strata::graph
