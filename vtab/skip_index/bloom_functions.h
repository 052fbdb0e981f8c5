// SQL functions over Parquet split-block bloom filters (codecs/bloom_filter.h), for any table:
//
//   SELECT bloom_build(user_id) FROM events;                 -- aggregate -> BLOB (1% fpp)
//   SELECT bloom_build(email, 0.001) FROM users;             -- with a false-positive rate
//   SELECT bloom_contains(:filter, 42);                       -- 1 (maybe present) or 0 (absent)
//   SELECT bloom_merge(a.filter, b.filter) FROM a, b;         -- union of two same-size filters
//   SELECT bloom_info(:filter);                               -- JSON: bytes, blocks, bits_set, …
//
// Values hash by storage class as Parquet types do (integer: INT64, real: DOUBLE, text and
// blob: BYTE_ARRAY), so the integer 5 and the real 5.0 are different keys. NULLs are never
// inserted, and bloom_contains(f, NULL) is 0.
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata::skip_index {

Status register_bloom_functions(sqlite3* db);

}  // namespace strata::skip_index
