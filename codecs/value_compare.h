// SQLite's ordering of values (https://sqlite.org/datatype3.html, "Comparison Expressions"):
// NULL < INTEGER and REAL (compared numerically, exactly) < TEXT (by collation) < BLOB (memcmp).
// Only the built-in collations are known here.
#pragma once

#include "codecs/column_vector.h"

namespace strata {

enum class Collation { kBinary, kNoCase, kRtrim };

// <0, 0, >0 as SQLite's comparison of a and b with `collation` (for text against text).
int compare_values(const ValueView& a, const ValueView& b, Collation collation);

}  // namespace strata
