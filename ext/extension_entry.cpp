// The entry point SQLite looks up when loading build/libstrata.so:
//
//   sqlite> .load ./build/libstrata            -- the shell derives sqlite3_strata_init
//   sqlite3_load_extension(db, "./build/libstrata", nullptr, &error);
//
// This file also holds the one definition of sqlite3_api, the routine table through which all
// strata code calls SQLite (see ext/sqlite_api.h). It is its own object library so that the
// shared library and each test executable link exactly one copy.
#include <sqlite3ext.h>

#include "ext/extension.h"
#include "ext/sqlite_shim.h"

SQLITE_EXTENSION_INIT1

extern "C" __attribute__((visibility("default"))) int sqlite3_strata_init(
    sqlite3* db, char** error_out, const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  return strata::error_out_call(error_out, [&] { return strata::register_strata(db); });
}
