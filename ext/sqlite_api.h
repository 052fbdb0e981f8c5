// The one way strata code reaches SQLite: through the sqlite3_api routine table that SQLite
// hands to sqlite3_strata_init (sqlite3ext.h turns every sqlite3_* call into a call through it).
//
// The extension never links libsqlite3, so it works in any host that loads it: the sqlite3
// shell, Python's sqlite3 module, a program with its own statically linked SQLite.
#pragma once

#include <sqlite3ext.h>

SQLITE_EXTENSION_INIT3
