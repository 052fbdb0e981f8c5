// Tiering of `things` tables and of the payloads of their relationships (docs/tiering.md,
// "things tables"): the two kinds' sides of the shared flush, restore and GC (tiered_rows.h).
//
// things: a thing's row stays in kb_things (id, type, timestamps; so lookups by id, rowid and
//   type, traversals and the relationships' FOREIGN KEY checks never touch the store); its data
//   and embedding go cold, by (type, month of created_at), into
//   <tier>/<table>/type=<type>/dt=<YYYY-MM>/<uuid>.parquet. The values of indexed JSON paths of
//   cold things are kept in kb_cold_paths.
// relationships over a tiered things table: every edge stays in kb_rel_edges (so the adjacency
//   and traversal never touch the store); the data of edges that have some goes cold, by month of
//   created_at, into <tier>/<relationships table>/dt=<YYYY-MM>/<uuid>.parquet.
#pragma once

#include <memory>
#include <string>

#include "vtab/graph/relationships_table.h"
#include "vtab/graph/things_table.h"
#include "vtab/graph/tiered_rows.h"
#include "vtab/tier_targets.h"

namespace strata::graph {

// The tier functions and tier_partitions for things tables and their relationships tables
// (vtab/tier_targets.h).
std::shared_ptr<OtherTieredTables> make_tiered_graph(std::shared_ptr<ThingsRegistry> things, std::shared_ptr<GraphRegistry> relationships);

// things_check's part for a tiered things table (nothing for another): check_cold_rows over its
// things, and the same for each tiered relationships table named.
Status check_tiered_things(sqlite3* db, const std::string& schema, const std::string& table, std::vector<std::string>& problems);

}  // namespace strata::graph
