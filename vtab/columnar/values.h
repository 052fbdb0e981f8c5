// Moving values between SQLite and columnar storage, with SQLite's type affinity rules.
//
// SQLite does not apply column affinity to the values it hands a virtual table's xUpdate, so a
// columnar table applies it itself, exactly as an ordinary table with the same declared type
// would (https://sqlite.org/datatype3.html, "Type Affinity"): TEXT turns numbers into text;
// NUMERIC, INTEGER and REAL turn numeric-looking text into numbers and integral reals into
// integers; REAL then reads integers back as reals; BLOB (no affinity) stores what it is given.
#pragma once

#include <optional>

#include "codecs/column_vector.h"
#include "ext/sqlite_api.h"
#include "vtab/columnar/schema.h"

namespace strata::columnar {

// The value as SQLite holds it (no conversion). NaN, which SQLite never stores, becomes NULL.
Value value_from_sqlite(sqlite3_value* value);
// The same without a copy: text and blobs point into `value` (valid while it is unchanged).
ValueView value_view_of(sqlite3_value* value);

// The value an ordinary table with this column affinity would store and return.
Value value_with_affinity(sqlite3_value* value, Affinity affinity);
// The same, into `out`, reusing its memory (the per-row path of INSERT).
void assign_with_affinity(Value& out, sqlite3_value* value, Affinity affinity);

// The integer a value equals under INTEGER affinity (for rowids), or nullopt when it is not an
// integer (text that is not a number, a fractional real, a blob, NULL).
std::optional<int64_t> integer_under_affinity(sqlite3_value* value);

void set_result(sqlite3_context* context, const ValueView& value);

}  // namespace strata::columnar
