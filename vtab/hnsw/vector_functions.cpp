// The vec_* SQL functions (docs/hnsw.md): distances, conversions, normalization, slicing and
// quantization of vectors given as float32 BLOBs or JSON text.
#include "vtab/hnsw/vector_functions.h"

#include <cmath>

#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "vtab/hnsw/distance.h"
#include "vtab/hnsw/vector.h"

namespace strata::hnsw {

namespace {

constexpr int kFunctionFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

std::string_view sql_type_name(int type) {
  switch (type) {
    case SQLITE_INTEGER: return "an integer";
    case SQLITE_FLOAT: return "a real";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "a BLOB";
    default: return "NULL";
  }
}

}  // namespace

Result<FloatVector> vector_argument(std::string_view who, sqlite3_value* value) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_BLOB: return floats_from_blob(who, value_blob(value));
    case SQLITE_TEXT: return parse_json_vector(who, value_text(value));
    default:
      return Status::error(str_cat(who, ": expected a vector (a float32 BLOB or a JSON array such as '[0.1, 0.2]'), got ",
                                   sql_type_name(sqlite3_value_type(value))));
  }
}

namespace {

void result_blob(sqlite3_context* context, std::string_view bytes) {
  sqlite3_result_blob64(context, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
}

template <Metric metric>
void vec_distance(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    constexpr std::string_view who = metric == Metric::kL2       ? "vec_distance_l2"
                                      : metric == Metric::kCosine ? "vec_distance_cosine"
                                                                  : "vec_distance_ip";
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
      sqlite3_result_null(context);
      return Status::ok();
    }
    STRATA_ASSIGN_OR_RETURN(FloatVector a, vector_argument(who, argv[0]));
    STRATA_ASSIGN_OR_RETURN(FloatVector b, vector_argument(who, argv[1]));
    if (a.size() != b.size()) {
      return Status::error(str_cat(who, ": the vectors have different dimensions, ", std::to_string(a.size()), " and ",
                                   std::to_string(b.size())));
    }
    sqlite3_result_double(context, distance_between(metric, a, b));
    return Status::ok();
  });
}

void vec_f32(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(FloatVector vector, vector_argument("vec_f32", argv[0]));
    result_blob(context, float_blob(vector));
    return Status::ok();
  });
}

void vec_to_json(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(FloatVector vector, vector_argument("vec_to_json", argv[0]));
    std::string json = to_json(vector);
    sqlite3_result_text64(context, json.data(), json.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return Status::ok();
  });
}

void vec_normalize(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(FloatVector vector, vector_argument("vec_normalize", argv[0]));
    result_blob(context, float_blob(normalized(std::move(vector))));
    return Status::ok();
  });
}

void vec_slice(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(FloatVector vector, vector_argument("vec_slice", argv[0]));
    if (sqlite3_value_numeric_type(argv[1]) != SQLITE_INTEGER || sqlite3_value_numeric_type(argv[2]) != SQLITE_INTEGER) {
      return Status::error("vec_slice: start and end must be integers (elements start..end-1 are kept, counting from 0)");
    }
    int64_t start = sqlite3_value_int64(argv[1]);
    int64_t end = sqlite3_value_int64(argv[2]);
    auto size = static_cast<int64_t>(vector.size());
    if (start < 0 || end > size || start >= end) {
      return Status::error(str_cat("vec_slice: bad range [", std::to_string(start), ", ", std::to_string(end),
                                   ") for a vector of ", std::to_string(size), " elements; need 0 <= start < end <= ",
                                   std::to_string(size)));
    }
    FloatVector slice(vector.begin() + start, vector.begin() + end);
    result_blob(context, float_blob(slice));
    return Status::ok();
  });
}

void vec_quantize_int8(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(FloatVector vector, vector_argument("vec_quantize_int8", argv[0]));
    std::vector<int8_t> quantized = quantize_int8(vector);
    result_blob(context, std::string_view(reinterpret_cast<const char*>(quantized.data()), quantized.size()));
    return Status::ok();
  });
}

void vec_quantize_binary(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(FloatVector vector, vector_argument("vec_quantize_binary", argv[0]));
    result_blob(context, quantize_binary(vector));
    return Status::ok();
  });
}

}  // namespace

double distance_between(Metric metric, const FloatVector& a, const FloatVector& b) {
  const DistanceKernels& k = kernels();
  if (metric == Metric::kL2) return std::sqrt(static_cast<double>(k.l2_squared(a.data(), b.data(), a.size())));
  if (metric == Metric::kHamming) return k.l2_squared(a.data(), b.data(), a.size());
  double dot = k.dot(a.data(), b.data(), a.size());
  if (metric == Metric::kInnerProduct) return -dot;
  double norms = static_cast<double>(k.dot(a.data(), a.data(), a.size())) * k.dot(b.data(), b.data(), b.size());
  if (norms == 0) return 1.0;
  return 1.0 - dot / std::sqrt(norms);
}

Status register_vector_functions(sqlite3* db) {
  struct Function {
    const char* name;
    int arguments;
    void (*body)(sqlite3_context*, int, sqlite3_value**);
  };
  const Function functions[] = {
      {"vec_distance_l2", 2, vec_distance<Metric::kL2>},
      {"vec_distance_cosine", 2, vec_distance<Metric::kCosine>},
      {"vec_distance_ip", 2, vec_distance<Metric::kInnerProduct>},
      {"vec_f32", 1, vec_f32},
      {"vec_to_json", 1, vec_to_json},
      {"vec_normalize", 1, vec_normalize},
      {"vec_slice", 3, vec_slice},
      {"vec_quantize_int8", 1, vec_quantize_int8},
      {"vec_quantize_binary", 1, vec_quantize_binary},
  };
  for (const Function& function : functions) {
    int rc = sqlite3_create_function_v2(db, function.name, function.arguments, kFunctionFlags, nullptr, function.body,
                                        nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Status::error(str_cat("hnsw: registering ", function.name, " failed"));
  }
  return Status::ok();
}

}  // namespace strata::hnsw
