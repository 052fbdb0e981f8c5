// The vec_* SQL functions: sqlite-vec 0.1.9's scalar functions (vec_version, vec_length,
// vec_type, vec_f32, vec_int8, vec_bit, vec_to_json, vec_add, vec_sub, vec_normalize, vec_slice,
// vec_distance_l2|cosine|l1|hamming, vec_quantize_int8, vec_quantize_binary) and table-valued
// vec_each, as sqlite-vec defines them; and strata's vec_distance_ip.
#pragma once

#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "vtab/hnsw/vector.h"

namespace strata::hnsw {

Status register_vector_functions(sqlite3* db);

// The subtype sqlite-vec marks a vector of `type` with (float32 223, bit 224, int8 225): an hnsw
// table's vector column carries it, so that vec_to_json(embedding) and the other functions know
// an int8 or bit vector from a float32 one.
unsigned vector_subtype(ElementType type);

}  // namespace strata::hnsw
