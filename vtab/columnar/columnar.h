// The columnar module: registration on a connection. See columnar.cpp for the manual.
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "ext/table_registry.h"
#include "vtab/tier_targets.h"

#include <memory>

namespace strata::columnar {

// Registers the `columnar` module, the `columnar_chunks` table and the functions
// columnar_check() and columnar_compact(), and the tier functions and tier_partitions for its
// tables and `others`' (things).
// `registry_out` (if given) receives the registry of its tables on this connection (for rollups).
class ColumnarTable;
Status register_columnar(sqlite3* db, std::shared_ptr<OtherTieredTables> others = nullptr,
                         TableRegistry<ColumnarTable>** registry_out = nullptr);

}  // namespace strata::columnar
