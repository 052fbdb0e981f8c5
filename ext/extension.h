// Wiring: registers every strata module and function on one connection.
//
// Each module folder exposes one `Status register_<module>(sqlite3*)`; this file calls them in
// order. Modules not built yet are listed in docs/ with their status.
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata {

// The oldest SQLite strata runs on (Debian 12 ships 3.40.1).
inline constexpr int kMinimumSqliteVersionNumber = 3040000;

// Registers everything on `db`. Registering on a connection that already has strata is a
// no-op that succeeds, so loading the extension twice is harmless.
Status register_strata(sqlite3* db);

}  // namespace strata
