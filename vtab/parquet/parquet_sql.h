// Parquet in SQL: the read-only `parquet` virtual table and parquet_scan_stats()
// (vtab/parquet/parquet.cpp, which has the manual), and parquet_export()
// (vtab/parquet/parquet_export.cpp). docs/parquet.md is the user manual.
#pragma once

#include "ext/sqlite_api.h"

#include "ext/status.h"

namespace strata::parquet_sql {

// Registers all of them.
Status register_parquet(sqlite3* db);

// Registers parquet_export() alone (for register_parquet).
Status register_parquet_export(sqlite3* db);

}  // namespace strata::parquet_sql
