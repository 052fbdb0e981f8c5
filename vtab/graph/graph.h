// Registers the things and relationships modules, the graph_* table-valued functions,
// things_index and things_check on a connection (manual in graph.cpp).
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "vtab/tier_targets.h"

#include <memory>

namespace strata::graph {

// `tiered_things` gets what the tier functions (registered by columnar) use for things tables.
Status register_graph(sqlite3* db, std::shared_ptr<OtherTieredTables>* tiered_things);

}  // namespace strata::graph
