// The columnar module: registration on a connection. See columnar.cpp for the manual.
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata::columnar {

// Registers the `columnar` module, the `columnar_chunks` table and the functions
// columnar_check() and columnar_compact().
Status register_columnar(sqlite3* db);

}  // namespace strata::columnar
