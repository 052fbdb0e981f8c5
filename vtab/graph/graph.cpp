// things and relationships — a graph of typed things with JSON data, traversed in C++.
//
// USER SQL (docs/graph.md)
//
//   CREATE VIRTUAL TABLE kb USING things;
//     -- id TEXT (primary key; NULL inserts a generated, sortable id), type TEXT NOT NULL,
//     -- data JSON (valid JSON text or NULL), embedding BLOB, created_at, updated_at (unix ms)
//     -- HIDDEN json_path, json_value: WHERE json_path = '$.email' AND json_value = ? is answered
//     -- from the index things_index made (also as kb('$.email', ?)).
//   CREATE VIRTUAL TABLE kb_rel USING relationships(things=kb);
//     -- id TEXT (NULL: generated), from_id, to_id, type TEXT (all NOT NULL), data JSON, created_at
//     -- (from_id, to_id, type) unique; both ends must be things of kb; deleting a thing deletes
//     -- its relationships in the same statement; ids cannot be changed by UPDATE (an error).
//   SELECT things_index('kb', '$.email');           -- index a JSON path; returns the index name
//   SELECT things_check('kb');                      -- 'ok' or what is damaged
//   SELECT node, depth, path FROM graph_traverse('kb_rel', 'u1', 3, 'follows', 'out');
//   SELECT step, node FROM graph_shortest_path('kb_rel', 'u1', 'u9', NULL, 'both');
//   SELECT cycle FROM graph_cycles('kb_rel', 'depends_on', 6);
//   SELECT node, type, direction FROM graph_neighbors('kb_rel', 'u1', NULL, 'both');
//
// SHADOW TABLES (docs/format-graph.md)
//
//   kb_config(key, value)            module, format_version, relationships:<name>, path:<path>
//   kb_things(node INTEGER PRIMARY KEY, id UNIQUE, type, data, embedding, created_at,
//             updated_at, UNIQUE (type, node))   + one index per things_index path
//   kb_rel_config(key, value)        module, format_version, things, generation
//   kb_rel_types(code INTEGER PRIMARY KEY, name UNIQUE)
//   kb_rel_edges(edge INTEGER PRIMARY KEY, id UNIQUE, from_node, to_node, type_code, data,
//                created_at, UNIQUE (from_node, type_code, to_node),
//                UNIQUE (to_node, type_code, from_node))
//
// xBestIndex PLANS
//
//   things: idxNum low 4 bits 0 scan, 1 id =, 2 rowid =, 3 json_path = [json_value op ?],
//     4 type =; bits 4..7 json_value's operator (1 =, 2 >, 3 >=, 4 <, 5 <=). One argument, or
//     the path then the value. Scans come in rowid order.
//   relationships: 0 scan, 1 rowid =, 2 id =, 3 from_id =, 4 to_id =, 5 type =; +16 when type =
//     comes with from_id/to_id, +32 when to_id = comes with from_id. Arguments in that order.
//   graph_*: idxNum is the set of arguments given (bit i: argument i), in argument order.
//
// The adjacency each relationships table keeps per connection is described in
// relationships_table.h; the algorithms in traversal.h.
#include "vtab/graph/graph.h"

#include <memory>

#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "vtab/graph/graph_modules.h"
#include "vtab/graph/relationships_table.h"
#include "vtab/graph/things_table.h"
#include "vtab/graph/things_tier.h"

namespace strata::graph {

namespace {

Result<QualifiedName> table_argument(std::string_view function, sqlite3_value* value) {
  if (sqlite3_value_type(value) != SQLITE_TEXT) return Status::error(str_cat(function, ": the first argument must name a things table (text)"));
  QualifiedName name = split_qualified_name(value_text(value));
  if (name.schema.empty()) name.schema = "main";
  return name;
}

void things_index_function(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(QualifiedName name, table_argument("things_index", argv[0]));
    if (sqlite3_value_type(argv[1]) != SQLITE_TEXT) {
      return Status::error("things_index: the second argument must be a JSON path as text, e.g. '$.email'");
    }
    sqlite3* db = sqlite3_context_db_handle(context);
    // A tiered table's cold things get their entries from their objects (the table does that).
    auto* things = static_cast<std::shared_ptr<ThingsRegistry>*>(sqlite3_user_data(context));
    ThingsTable* table = find_connected(db, **things, name);
    STRATA_ASSIGN_OR_RETURN(std::string index, ThingsTable::create_path_index(db, name.schema, name.table, std::string(value_text(argv[1])), table));
    sqlite3_result_text64(context, index.data(), index.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return Status::ok();
  });
}

void things_check_function(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(QualifiedName name, table_argument("things_check", argv[0]));
    sqlite3* db = sqlite3_context_db_handle(context);
    STRATA_ASSIGN_OR_RETURN(std::string report, ThingsTable::check(db, name.schema, name.table));
    // The adjacency this connection keeps must match what is stored.
    auto* registry = static_cast<std::shared_ptr<GraphRegistry>*>(sqlite3_user_data(context));
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> relationships, ThingsTable::relationship_tables(db, name.schema, name.table));
    for (const std::string& relationship : relationships) {
      RelationshipsTable* table = (*registry)->find(name.schema, relationship);
      if (table == nullptr) continue;
      STRATA_ASSIGN_OR_RETURN(std::string problem, table->check_adjacency());
      if (problem.empty()) continue;
      report = report == "ok" ? problem : str_cat(report, "\n", problem);
    }
    sqlite3_result_text64(context, report.data(), report.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return Status::ok();
  });
}

void delete_registry(void* registry) { delete static_cast<std::shared_ptr<GraphRegistry>*>(registry); }
void delete_things_registry(void* registry) { delete static_cast<std::shared_ptr<ThingsRegistry>*>(registry); }

}  // namespace

Status register_graph(sqlite3* db, std::shared_ptr<OtherTieredTables>* tiered_things) {
  auto registry = std::make_shared<GraphRegistry>();
  auto things = std::make_shared<ThingsRegistry>();
  *tiered_things = make_tiered_graph(things, registry);
  int rc = sqlite3_create_module_v2(db, "things", &things_module(), new std::shared_ptr<ThingsRegistry>(things), delete_things_registry);
  if (rc != SQLITE_OK) return Status::error("graph: registering the things module failed");
  rc = sqlite3_create_module_v2(db, "relationships", &relationships_module(), new std::shared_ptr<GraphRegistry>(registry), delete_registry);
  if (rc != SQLITE_OK) return Status::error("graph: registering the relationships module failed");
  STRATA_RETURN_IF_ERROR(register_graph_functions(db, registry));
  rc = sqlite3_create_function_v2(db, "things_index", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, new std::shared_ptr<ThingsRegistry>(things),
                                  things_index_function, nullptr, nullptr, delete_things_registry);
  if (rc != SQLITE_OK) return Status::error("graph: registering things_index failed");
  rc = sqlite3_create_function_v2(db, "things_check", 1, SQLITE_UTF8, new std::shared_ptr<GraphRegistry>(registry), things_check_function,
                                  nullptr, nullptr, delete_registry);
  if (rc != SQLITE_OK) return Status::error("graph: registering things_check failed");
  return Status::ok();
}

}  // namespace strata::graph
