// The rollup module: registration on a connection. See rollup.cpp for the manual.
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "ext/table_registry.h"

namespace strata::columnar {
class ColumnarTable;
}

namespace strata::timeseries {

// Registers `rollup`; its sources are the columnar tables of `sources` (the columnar module's
// registry on this connection).
Status register_rollup(sqlite3* db, TableRegistry<columnar::ColumnarTable>* sources);

}  // namespace strata::timeseries
