// Registers the things and relationships modules, the graph_* table-valued functions,
// things_index and things_check on a connection (manual in graph.cpp).
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata::graph {

Status register_graph(sqlite3* db);

}  // namespace strata::graph
