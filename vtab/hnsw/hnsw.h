// The hnsw module: approximate nearest-neighbour search tables (manual in hnsw.cpp).
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata::hnsw {

// Registers the hnsw module, hnsw_check() and the vec_* functions.
Status register_hnsw(sqlite3* db);

}  // namespace strata::hnsw
