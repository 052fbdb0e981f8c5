// SQLite's ordering of values (https://sqlite.org/datatype3.html, "Comparison Expressions"):
// NULL < INTEGER and REAL (compared numerically, exactly) < TEXT (by collation) < BLOB (memcmp).
// Only the built-in collations are known here.
#pragma once

#include <string>

#include "codecs/column_vector.h"

namespace strata {

enum class Collation { kBinary, kNoCase, kRtrim };

// <0, 0, >0 as SQLite's comparison of a and b with `collation` (for text against text).
int compare_values(const ValueView& a, const ValueView& b, Collation collation);

// Bytes that are equal exactly when compare_values(a, b, collation) == 0: the plain encoding
// (value_encoding.h) of the value with integral reals as integers, text folded as the
// collation folds it (NOCASE: ASCII lower case; RTRIM: trailing spaces dropped). For hashing
// and map keys that must agree with SQLite's equality (DISTINCT, GROUP BY).
std::string equality_key(const ValueView& value, Collation collation);

}  // namespace strata
