// graph_traverse, graph_shortest_path, graph_cycles and graph_neighbors: table-valued functions
// (eponymous virtual tables) over a relationships table's adjacency (manual in graph.cpp).
#include <algorithm>
#include <new>

#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "ext/vtab_module.h"
#include "vtab/graph/graph_common.h"
#include "vtab/graph/graph_modules.h"
#include "vtab/graph/relationships_table.h"
#include "vtab/graph/traversal.h"

namespace strata::graph {

namespace {

enum class FunctionKind { kTraverse, kShortestPath, kCycles, kNeighbors };

struct FunctionSpec {
  FunctionKind kind;
  const char* name;
  const char* declaration;
  int first_argument;  // the column of the first (hidden) argument
  int argument_count;
  int required;        // how many leading arguments must be given
  const char* usage;
};

constexpr uint32_t kMaxCycleLength = 64;
constexpr uint32_t kDefaultCycleLength = 8;

const FunctionSpec kSpecs[] = {
    {FunctionKind::kTraverse, "graph_traverse",
     "CREATE TABLE x(node TEXT, depth INTEGER, path TEXT, rel HIDDEN, start HIDDEN, max_depth HIDDEN, type HIDDEN, direction HIDDEN)", 3, 5,
     3, "graph_traverse(relationships_table, start_id, max_depth [, type or NULL [, 'out'|'in'|'both']])"},
    {FunctionKind::kShortestPath, "graph_shortest_path",
     "CREATE TABLE x(step INTEGER, node TEXT, rel HIDDEN, from_id HIDDEN, to_id HIDDEN, type HIDDEN, direction HIDDEN)", 2, 5, 3,
     "graph_shortest_path(relationships_table, from_id, to_id [, type or NULL [, 'out'|'in'|'both']])"},
    {FunctionKind::kCycles, "graph_cycles", "CREATE TABLE x(cycle TEXT, rel HIDDEN, type HIDDEN, max_length HIDDEN)", 1, 3, 1,
     "graph_cycles(relationships_table [, type or NULL [, max_length]])"},
    {FunctionKind::kNeighbors, "graph_neighbors",
     "CREATE TABLE x(node TEXT, type TEXT, direction TEXT, rel HIDDEN, id HIDDEN, edge_type HIDDEN, edge_direction HIDDEN)", 3, 4, 2,
     "graph_neighbors(relationships_table, id [, type or NULL [, 'out'|'in'|'both']])"},
};

struct FunctionAux {
  const FunctionSpec* spec;
  std::shared_ptr<GraphRegistry> registry;
};

struct FunctionTable {
  sqlite3_vtab base{};
  sqlite3* db;
  const FunctionSpec* spec;
  std::shared_ptr<GraphRegistry> registry;
  CachedTableLookup<RelationshipsTable> lookup;
};

struct NeighborRow {
  NodeId node;
  TypeCode type;
  bool outgoing;
};

struct FunctionCursor {
  sqlite3_vtab_cursor base{};
  RelationshipsTable* relationships = nullptr;
  std::shared_ptr<GraphCache> graph;
  // Graphs this cursor read before `graph`, kept until it closes: SQLite may still hold names
  // returned from them without a copy (an aggregate's best value, say).
  std::vector<std::shared_ptr<GraphCache>> earlier_graphs;
  std::vector<Reached> reached;         // graph_traverse
  std::vector<NodeId> path;             // graph_shortest_path
  std::vector<NeighborRow> neighbors;   // graph_neighbors
  std::unique_ptr<CycleFinder> cycles;  // graph_cycles
  std::vector<NodeId> cycle;
  bool cycle_found = false;
  size_t position = 0;
  // The ids the arguments gave for their nodes. The adjacency's names cover every node with an
  // edge; a start without edges may have none there, or one a rolled-back thing left behind.
  std::vector<std::pair<NodeId, std::string>> argument_names;

  Status use_graph_of(RelationshipsTable* table) {
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<GraphCache> current, table->graph());
    if (graph && graph != current && std::find(earlier_graphs.begin(), earlier_graphs.end(), graph) == earlier_graphs.end()) {
      earlier_graphs.push_back(std::move(graph));
    }
    graph = std::move(current);
    return Status::ok();
  }

  struct Name {
    std::string_view text;
    bool lasts_while_open;  // true: in a graph's names, which neither move nor go while the cursor is open
  };
  Name name_of(NodeId node) const {
    for (const auto& [named, name] : argument_names) {
      if (named == node) return {name, false};
    }
    return {graph->names.get(node), true};
  }
};

FunctionTable* function_table(sqlite3_vtab_cursor* cursor) { return reinterpret_cast<FunctionTable*>(cursor->pVtab); }

int x_connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** error_out) {
  return error_out_call(error_out, [&]() -> Status {
    auto* function = static_cast<FunctionAux*>(aux);
    int rc = sqlite3_declare_vtab(db, function->spec->declaration);
    if (rc != SQLITE_OK) return Status::error(str_cat(function->spec->name, ": declaring the function failed: ", sqlite3_errmsg(db)));
    auto table = std::make_unique<FunctionTable>();
    table->db = db;
    table->spec = function->spec;
    table->registry = function->registry;
    *out = &table.release()->base;
    return Status::ok();
  });
}

int x_disconnect(sqlite3_vtab* vtab) {
  delete reinterpret_cast<FunctionTable*>(vtab);
  return SQLITE_OK;
}

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  const FunctionSpec* spec = reinterpret_cast<FunctionTable*>(vtab)->spec;
  int given[8];
  std::fill(std::begin(given), std::end(given), -1);
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& constraint = info->aConstraint[i];
    int argument = constraint.iColumn - spec->first_argument;
    if (argument < 0 || argument >= spec->argument_count || constraint.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!constraint.usable) return SQLITE_CONSTRAINT;  // a plan where the argument is known comes first
    given[argument] = i;
  }
  int mask = 0;
  int argv_index = 0;
  for (int argument = 0; argument < spec->argument_count; ++argument) {
    if (given[argument] < 0) continue;
    mask |= 1 << argument;
    info->aConstraintUsage[given[argument]].argvIndex = ++argv_index;
    info->aConstraintUsage[given[argument]].omit = 1;
  }
  info->idxNum = mask;
  info->estimatedCost = 100;
  info->estimatedRows = 100;
  return SQLITE_OK;
}

Result<RelationshipsTable*> find_relationships(FunctionTable* table, sqlite3_value* value) {
  const char* function = table->spec->name;
  if (sqlite3_value_type(value) != SQLITE_TEXT) {
    return Status::error(str_cat(function, ": the first argument must name a relationships table (text)"));
  }
  RelationshipsTable* found = table->lookup.find(table->db, *table->registry, value_text(value));
  if (found == nullptr) return Status::error(str_cat(function, ": '", value_text(value), "' is not a relationships table"));
  return found;
}

Result<NodeId> find_thing(const FunctionTable* table, RelationshipsTable* relationships, std::string_view what, sqlite3_value* value) {
  const char* function = table->spec->name;
  if (sqlite3_value_type(value) == SQLITE_NULL || sqlite3_value_type(value) == SQLITE_BLOB) {
    return Status::error(str_cat(function, ": ", what, " must be the id of a thing (text)"));
  }
  std::string_view id = value_text(value);
  STRATA_ASSIGN_OR_RETURN(std::optional<NodeId> node, relationships->node_of(id));
  if (!node) return Status::error(str_cat(function, ": no thing with id '", id, "' in ", relationships->things()));
  return *node;
}

Result<Direction> direction_argument(const char* function, sqlite3_value* value) {
  if (value == nullptr) return Direction::kOut;
  std::string_view text = sqlite3_value_type(value) == SQLITE_TEXT ? value_text(value) : std::string_view();
  if (text == "out") return Direction::kOut;
  if (text == "in") return Direction::kIn;
  if (text == "both") return Direction::kBoth;
  return Status::error(str_cat(function, ": direction must be 'out', 'in' or 'both', got '",
                               sqlite3_value_type(value) == SQLITE_NULL ? "NULL" : value_text(value), "'"));
}

// The type filter: nullopt for all types; a type no relationship has yet matches nothing.
struct TypeFilter {
  bool matches_nothing = false;
  std::optional<TypeCode> code;
};
Result<TypeFilter> type_argument(const char* function, RelationshipsTable* relationships, sqlite3_value* value) {
  if (value == nullptr || sqlite3_value_type(value) == SQLITE_NULL) return TypeFilter{};
  if (sqlite3_value_type(value) == SQLITE_BLOB) return Status::error(str_cat(function, ": type must be text or NULL (all types)"));
  STRATA_ASSIGN_OR_RETURN(std::optional<TypeCode> code, relationships->type_code(value_text(value)));
  if (!code) return TypeFilter{true, std::nullopt};
  return TypeFilter{false, code};
}

Result<int64_t> integer_argument(const char* function, std::string_view what, sqlite3_value* value, int64_t least, int64_t most) {
  if (sqlite3_value_numeric_type(value) != SQLITE_INTEGER || sqlite3_value_int64(value) < least || sqlite3_value_int64(value) > most) {
    return Status::error(str_cat(function, ": ", what, " must be an integer from ", std::to_string(least), " to ", std::to_string(most),
                                 ", got '", sqlite3_value_type(value) == SQLITE_NULL ? "NULL" : value_text(value), "'"));
  }
  return sqlite3_value_int64(value);
}

Status filter(FunctionCursor* cursor, int mask, int argc, sqlite3_value** argv) {
  FunctionTable* table = function_table(&cursor->base);
  const FunctionSpec& spec = *table->spec;
  cursor->reached.clear();
  cursor->argument_names.clear();
  cursor->path.clear();
  cursor->neighbors.clear();
  cursor->cycles.reset();
  cursor->cycle_found = false;
  cursor->position = 0;
  // The arguments by position; nullptr where not given.
  sqlite3_value* arguments[8] = {};
  int next = 0;
  for (int argument = 0; argument < spec.argument_count; ++argument) {
    if ((mask & (1 << argument)) && next < argc) arguments[argument] = argv[next++];
  }
  for (int argument = 0; argument < spec.required; ++argument) {
    if (arguments[argument] == nullptr) return Status::error(str_cat(spec.name, ": missing arguments; usage: ", spec.usage));
  }
  STRATA_ASSIGN_OR_RETURN(RelationshipsTable* relationships, find_relationships(table, arguments[0]));
  cursor->relationships = relationships;
  switch (spec.kind) {
    case FunctionKind::kTraverse: {
      STRATA_ASSIGN_OR_RETURN(NodeId start, find_thing(table, relationships, "start", arguments[1]));
      STRATA_ASSIGN_OR_RETURN(int64_t max_depth, integer_argument(spec.name, "max_depth", arguments[2], 0, UINT32_MAX - 1));
      STRATA_ASSIGN_OR_RETURN(TypeFilter type, type_argument(spec.name, relationships, arguments[3]));
      STRATA_ASSIGN_OR_RETURN(Direction direction, direction_argument(spec.name, arguments[4]));
      STRATA_RETURN_IF_ERROR(cursor->use_graph_of(relationships));
      cursor->argument_names = {{start, std::string(value_text(arguments[1]))}};
      cursor->reached = relationships->traversal().breadth_first(cursor->graph->adjacency, start,
                                                                  type.matches_nothing ? 0 : static_cast<uint32_t>(max_depth), type.code,
                                                                  direction);
      break;
    }
    case FunctionKind::kShortestPath: {
      STRATA_ASSIGN_OR_RETURN(NodeId from, find_thing(table, relationships, "from_id", arguments[1]));
      STRATA_ASSIGN_OR_RETURN(NodeId to, find_thing(table, relationships, "to_id", arguments[2]));
      STRATA_ASSIGN_OR_RETURN(TypeFilter type, type_argument(spec.name, relationships, arguments[3]));
      STRATA_ASSIGN_OR_RETURN(Direction direction, direction_argument(spec.name, arguments[4]));
      STRATA_RETURN_IF_ERROR(cursor->use_graph_of(relationships));
      cursor->argument_names = {{from, std::string(value_text(arguments[1]))}, {to, std::string(value_text(arguments[2]))}};
      if (from == to) {
        cursor->path = {from};
      } else if (!type.matches_nothing) {
        cursor->path = relationships->traversal().shortest_path(cursor->graph->adjacency, from, to, type.code, direction);
      }
      break;
    }
    case FunctionKind::kCycles: {
      STRATA_ASSIGN_OR_RETURN(TypeFilter type, type_argument(spec.name, relationships, arguments[1]));
      int64_t max_length = kDefaultCycleLength;
      if (arguments[2] != nullptr) {
        STRATA_ASSIGN_OR_RETURN(max_length, integer_argument(spec.name, "max_length", arguments[2], 1, kMaxCycleLength));
      }
      if (type.matches_nothing) break;
      STRATA_RETURN_IF_ERROR(cursor->use_graph_of(relationships));
      cursor->cycles = std::make_unique<CycleFinder>(type.code, static_cast<uint32_t>(max_length));
      cursor->cycle_found = cursor->cycles->next(cursor->graph->adjacency, &cursor->cycle);
      break;
    }
    case FunctionKind::kNeighbors: {
      STRATA_ASSIGN_OR_RETURN(NodeId node, find_thing(table, relationships, "id", arguments[1]));
      STRATA_ASSIGN_OR_RETURN(TypeFilter type, type_argument(spec.name, relationships, arguments[2]));
      STRATA_ASSIGN_OR_RETURN(Direction direction, direction_argument(spec.name, arguments[3]));
      if (type.matches_nothing) break;
      STRATA_RETURN_IF_ERROR(cursor->use_graph_of(relationships));
      for (Direction side : {Direction::kOut, Direction::kIn}) {
        if (direction != Direction::kBoth && direction != side) continue;
        cursor->graph->adjacency.for_each(node, side, type.code, [&](const Link& link) {
          cursor->neighbors.push_back(NeighborRow{link.neighbor, link.type, side == Direction::kOut});
        });
      }
      break;
    }
  }
  return Status::ok();
}

int x_filter(sqlite3_vtab_cursor* cursor, int mask, const char*, int argc, sqlite3_value** argv) {
  return cursor_call(cursor, [&] { return filter(reinterpret_cast<FunctionCursor*>(cursor), mask, argc, argv); });
}

int x_next(sqlite3_vtab_cursor* vtab_cursor) {
  return cursor_call(vtab_cursor, [&]() -> Status {
    auto* cursor = reinterpret_cast<FunctionCursor*>(vtab_cursor);
    if (cursor->cycles) {
      cursor->cycle_found = cursor->cycles->next(cursor->graph->adjacency, &cursor->cycle);
    }
    ++cursor->position;
    // The names of the rows a little ahead, so that reading them does not wait on memory.
    constexpr size_t kPlaceAhead = 12;
    constexpr size_t kTextAhead = 4;
    if (cursor->position + kPlaceAhead < cursor->reached.size()) {
      cursor->graph->names.prefetch(cursor->reached[cursor->position + kPlaceAhead].node, false);
    }
    if (cursor->position + kTextAhead < cursor->reached.size()) {
      cursor->graph->names.prefetch(cursor->reached[cursor->position + kTextAhead].node, true);
    }
    return Status::ok();
  });
}

int x_eof(sqlite3_vtab_cursor* vtab_cursor) {
  auto* cursor = reinterpret_cast<FunctionCursor*>(vtab_cursor);
  switch (function_table(vtab_cursor)->spec->kind) {
    case FunctionKind::kTraverse: return cursor->position >= cursor->reached.size();
    case FunctionKind::kShortestPath: return cursor->position >= cursor->path.size();
    case FunctionKind::kCycles: return !cursor->cycle_found;
    case FunctionKind::kNeighbors: return cursor->position >= cursor->neighbors.size();
  }
  return 1;
}

void result_name(sqlite3_context* context, const FunctionCursor& cursor, NodeId node) {
  FunctionCursor::Name name = cursor.name_of(node);
  sqlite3_result_text64(context, name.text.data(), name.text.size(), name.lasts_while_open ? SQLITE_STATIC : SQLITE_TRANSIENT, SQLITE_UTF8);
}

void result_json_names(sqlite3_context* context, const FunctionCursor& cursor, const std::vector<NodeId>& nodes) {
  std::string json = "[";
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i > 0) json.push_back(',');
    append_json_string(json, cursor.name_of(nodes[i]).text);
  }
  json.push_back(']');
  sqlite3_result_text64(context, json.data(), json.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

int x_column(sqlite3_vtab_cursor* vtab_cursor, sqlite3_context* context, int column) {
  return cursor_call(vtab_cursor, [&]() -> Status {
    auto* cursor = reinterpret_cast<FunctionCursor*>(vtab_cursor);
    const FunctionSpec& spec = *function_table(vtab_cursor)->spec;
    if (column >= spec.first_argument) return Status::ok();  // arguments read back as NULL
    switch (spec.kind) {
      case FunctionKind::kTraverse: {
        const Reached& reached = cursor->reached[cursor->position];
        if (column == 0) {
          result_name(context, *cursor, reached.node);
        } else if (column == 1) {
          sqlite3_result_int64(context, reached.depth);
        } else {
          std::vector<NodeId> nodes;
          for (size_t index = cursor->position;; index = cursor->reached[index].parent) {
            nodes.push_back(cursor->reached[index].node);
            if (index == 0) break;
          }
          std::reverse(nodes.begin(), nodes.end());
          result_json_names(context, *cursor, nodes);
        }
        break;
      }
      case FunctionKind::kShortestPath:
        if (column == 0) {
          sqlite3_result_int64(context, static_cast<int64_t>(cursor->position));
        } else {
          result_name(context, *cursor, cursor->path[cursor->position]);
        }
        break;
      case FunctionKind::kCycles: result_json_names(context, *cursor, cursor->cycle); break;
      case FunctionKind::kNeighbors: {
        const NeighborRow& row = cursor->neighbors[cursor->position];
        if (column == 0) {
          result_name(context, *cursor, row.node);
        } else if (column == 1) {
          STRATA_ASSIGN_OR_RETURN(std::string type, cursor->relationships->type_name(row.type));
          sqlite3_result_text64(context, type.data(), type.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        } else {
          sqlite3_result_text(context, row.outgoing ? "out" : "in", -1, SQLITE_STATIC);
        }
        break;
      }
    }
    return Status::ok();
  });
}

int x_rowid(sqlite3_vtab_cursor* vtab_cursor, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<FunctionCursor*>(vtab_cursor)->position);
  return SQLITE_OK;
}

sqlite3_module make_module() {
  sqlite3_module module = module_with({
      .connect = x_connect,  // no xCreate: eponymous only
      .best_index = x_best_index,
      .open = open_cursor<FunctionCursor>,
      .close = close_cursor<FunctionCursor>,
      .filter = x_filter,
      .next = x_next,
      .eof = x_eof,
      .column = x_column,
      .rowid = x_rowid
  });
  module.xDisconnect = x_disconnect;
  module.xDestroy = x_disconnect;
  return module;
}

const sqlite3_module kFunctionModule = make_module();

}  // namespace

Status register_graph_functions(sqlite3* db, const std::shared_ptr<GraphRegistry>& registry) {
  for (const FunctionSpec& spec : kSpecs) {
    auto* aux = new FunctionAux{&spec, registry};
    int rc = sqlite3_create_module_v2(db, spec.name, &kFunctionModule, aux, [](void* owned) { delete static_cast<FunctionAux*>(owned); });
    if (rc != SQLITE_OK) return Status::error(str_cat("graph: registering ", spec.name, " failed"));
  }
  return Status::ok();
}

}  // namespace strata::graph
