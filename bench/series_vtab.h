// bench_series: the smallest useful virtual table, for measuring SQLite's per-row cost of the
// virtual-table loop (xFilter / xNext / xEof / xColumn / xRowid), as generate_series does.
//
//   SELECT value FROM bench_series(1000000);   -- 1, 2, …, 1000000
//
// Columns: value INTEGER, stop HIDDEN (the table-valued-function argument). The benchmark
// program links libsqlite3 directly and registers this module itself; it is not part of the
// extension, so it does not change strata's exported surface.
#pragma once

struct sqlite3;

namespace strata::bench {

// Returns an SQLite result code.
int register_series_module(sqlite3* db);

}  // namespace strata::bench
