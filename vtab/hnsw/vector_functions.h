// The vec_* SQL functions: vec_distance_l2|cosine|ip(a, b), vec_f32(v), vec_to_json(v),
// vec_normalize(v), vec_slice(v, start, end), vec_quantize_int8(v), vec_quantize_binary(v).
#pragma once

#include <string_view>

#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "vtab/hnsw/space.h"
#include "vtab/hnsw/vector.h"

namespace strata::hnsw {

Status register_vector_functions(sqlite3* db);

// A vector argument: a float32 BLOB or JSON text. `who` starts the error messages.
Result<FloatVector> vector_argument(std::string_view who, sqlite3_value* value);

// The distance under `metric` (distance.h's conventions), in double.
double distance_between(Metric metric, const FloatVector& a, const FloatVector& b);

}  // namespace strata::hnsw
