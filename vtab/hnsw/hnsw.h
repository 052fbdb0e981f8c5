// The hnsw module: approximate nearest-neighbour search tables (manual in hnsw.cpp).
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata::hnsw {

// Registers the hnsw module, hnsw_check(), the vec_* functions and hybrid_search.
Status register_hnsw(sqlite3* db);

// The hybrid_search table-valued function (hybrid_search.cpp).
Status register_hybrid_search(sqlite3* db);

// A count given in SQL (k, ef_search): an integer, or a REAL with an integral value (3.0: every
// JavaScript number binds as one), from 1 to `most`; otherwise an error naming `who`, `what` and
// the value given.
Result<int64_t> integral_argument(sqlite3_value* value, std::string_view who, std::string_view what, int64_t most);

}  // namespace strata::hnsw
