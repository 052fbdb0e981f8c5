// The hnsw module: approximate nearest-neighbour search tables (manual in hnsw.cpp).
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata::hnsw {

// Registers the hnsw module, hnsw_check(), the vec_* functions and hybrid_search.
Status register_hnsw(sqlite3* db);

// The hybrid_search table-valued function (hybrid_search.cpp).
Status register_hybrid_search(sqlite3* db);

}  // namespace strata::hnsw
