// The sqlite3_modules and functions of the graph module (manual in graph.cpp).
#pragma once

#include <memory>

#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "vtab/graph/relationships_table.h"

namespace strata::graph {

const sqlite3_module& things_module();
// pAux: a std::shared_ptr<GraphRegistry>* the module owns.
const sqlite3_module& relationships_module();
// graph_traverse, graph_shortest_path, graph_cycles and graph_neighbors.
Status register_graph_functions(sqlite3* db, const std::shared_ptr<GraphRegistry>& registry);

}  // namespace strata::graph
