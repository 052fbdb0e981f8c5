// The tables of one module connected on one database connection, by schema and name
// (case-blind), so that SQL functions that take a table's name (columnar_check, graph_traverse,
// …) reach the connected table object with its caches and buffered writes. One per connection
// and module (the module's client data); used only from that connection.
//
//   QualifiedName name = split_qualified_name(value_text(argv[0]));  // 't' or 'schema.t'
//   bool exists = false;
//   Table* table = find_connected(db, registry, name, &exists);    // connects it if need be
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata {

// 'table' or 'schema.table' as a function argument gives it; schema is empty when not given.
struct QualifiedName {
  std::string schema;
  std::string table;
  // "schema"."table", or "table" when no schema was given.
  std::string quoted() const;
};
QualifiedName split_qualified_name(std::string_view name);

std::string registry_key(std::string_view schema, std::string_view table);

// Makes sure SQLite has connected the table `name` on this connection (preparing a statement
// that names it does so) and returns the schemas to look it up in, in SQLite's order for an
// unqualified name (temp, main, then attached ones); empty when there is no such table.
std::vector<std::string> connect_and_list_schemas(sqlite3* db, const QualifiedName& name);

template <class Table>
class TableRegistry {
 public:
  void add(std::string_view schema, std::string_view table, Table* object) {
    tables_[registry_key(schema, table)] = object;
    ++changes_;
  }
  // Only if the entry is still `object` (a table of the same name may have replaced it).
  void remove(std::string_view schema, std::string_view table, const Table* object) {
    auto found = tables_.find(registry_key(schema, table));
    if (found != tables_.end() && found->second == object) {
      tables_.erase(found);
      ++changes_;
    }
  }
  void rename(std::string_view schema, std::string_view old_name, std::string_view new_name, Table* object) {
    remove(schema, old_name, object);
    add(schema, new_name, object);
  }
  Table* find(std::string_view schema, std::string_view table) const {
    auto found = tables_.find(registry_key(schema, table));
    return found == tables_.end() ? nullptr : found->second;
  }
  // Counts adds and removals: an answer found earlier stands while this is unchanged.
  uint64_t changes() const { return changes_; }

 private:
  std::map<std::string, Table*> tables_;
  uint64_t changes_ = 0;
};

// The connected table `name` names, or nullptr when it is not one of this registry's. `exists`
// (if given) says whether any table of that name exists.
template <class Table>
Table* find_connected(sqlite3* db, const TableRegistry<Table>& registry, const QualifiedName& name, bool* exists = nullptr) {
  std::vector<std::string> schemas = connect_and_list_schemas(db, name);
  if (exists != nullptr) *exists = !schemas.empty();
  for (const std::string& schema : schemas) {
    if (Table* table = registry.find(schema, name.table)) return table;
  }
  return nullptr;
}

// find_connected for a function called again and again with the same table name: the last
// answer is kept while the registry is unchanged. Connecting means preparing statements
// (several µs), which would otherwise be most of a one-hop query's time. A table that could
// change the answer (created, dropped, renamed, or disconnected by a schema change) adds itself
// to or removes itself from the registry first.
template <class Table>
class CachedTableLookup {
 public:
  Table* find(sqlite3* db, const TableRegistry<Table>& registry, std::string_view name) {
    if (table_ != nullptr && changes_ == registry.changes() && name == name_) return table_;
    table_ = find_connected(db, registry, split_qualified_name(name));
    name_ = name;
    changes_ = registry.changes();  // after connecting, which may have added tables
    return table_;
  }

 private:
  Table* table_ = nullptr;
  std::string name_;
  uint64_t changes_ = 0;
};

}  // namespace strata
