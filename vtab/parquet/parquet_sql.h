// Parquet in SQL: parquet_export() (vtab/parquet/parquet_export.cpp) and, later, the read-only
// `parquet` virtual table. See docs/parquet.md for the user manual.
#pragma once

#include "ext/sqlite_api.h"

#include "ext/status.h"

namespace strata::parquet_sql {

Status register_parquet(sqlite3* db);

}  // namespace strata::parquet_sql
