// The vec_* SQL functions (docs/hnsw.md): sqlite-vec 0.1.9's scalar functions and its
// table-valued vec_each, with its names, arguments and results byte for byte, so that loading
// both extensions in either order changes no answer; plus vec_distance_ip, which sqlite-vec does
// not have.
//
// Vectors carry their element type as sqlite-vec marks it, in the value's subtype: 223 float32
// (also no subtype, and JSON's 74), 224 bit, 225 int8. vec_f32, vec_int8 and vec_bit set it;
// every function that returns a vector sets it; functions of two vectors want the same type
// and length. Arithmetic is sqlite-vec's: float32 sums taken in order, int8 sums wrapping.
// This file is compiled with -ffp-contract=off so that no sum is fused differently.
#include "vtab/hnsw/vector_functions.h"

#include <bit>
#include <cmath>
#include <memory>
#include <new>

#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "ext/vtab_module.h"
#include "vtab/hnsw/vector.h"

namespace strata::hnsw {

namespace {

// SQLITE_RESULT_SUBTYPE (3.45): this function sets subtypes. Older SQLite ignores the flag.
constexpr int kResultSubtype = 0x001000000;
constexpr int kFunctionFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
// Functions that read their arguments' subtypes (SQLITE_SUBTYPE) and set their result's.
constexpr int kVectorFunctionFlags = kFunctionFlags | SQLITE_SUBTYPE | kResultSubtype;

constexpr unsigned kFloat32Subtype = 223;
constexpr unsigned kBitSubtype = 224;
constexpr unsigned kInt8Subtype = 225;
constexpr unsigned kJsonSubtype = 74;  // SQLite's json functions mark their text so

// The version of sqlite-vec whose functions these are: vec_version() answers as it does.
constexpr std::string_view kSqliteVecVersion = "v0.1.9";

std::string_view sql_type_name(int type) {
  switch (type) {
    case SQLITE_INTEGER: return "an integer";
    case SQLITE_FLOAT: return "a real";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "a BLOB";
    default: return "NULL";
  }
}

// sqlite-vec's name of an element type (vec_type's answer).
std::string_view vec_type_name(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return "float32";
    case ElementType::kInt8: return "int8";
    case ElementType::kBit: return "bit";
  }
  return "float32";
}

// A vector argument as sqlite-vec reads it: its element type and its elements.
struct TypedVector {
  ElementType type = ElementType::kFloat32;
  FloatVector floats;          // float32
  std::vector<int8_t> ints;    // int8
  std::string bits;            // bit: dimensions() / 8 bytes, element i is bit i % 8 of byte i / 8

  size_t dimensions() const {
    switch (type) {
      case ElementType::kFloat32: return floats.size();
      case ElementType::kInt8: return ints.size();
      case ElementType::kBit: return bits.size() * 8;
    }
    return 0;
  }

  std::string blob() const {
    switch (type) {
      case ElementType::kFloat32: return float_blob(floats);
      case ElementType::kInt8: return std::string(reinterpret_cast<const char*>(ints.data()), ints.size());
      case ElementType::kBit: return bits;
    }
    return std::string();
  }
};

Status not_a_vector(std::string_view who, std::string_view expected, sqlite3_value* value) {
  return Status::error(str_cat(who, ": expected ", expected, ", got ", sql_type_name(sqlite3_value_type(value))));
}

Status empty_vector(std::string_view who) { return Status::error(str_cat(who, ": a vector needs at least one element, got none")); }

Result<TypedVector> float32_argument(std::string_view who, sqlite3_value* value) {
  TypedVector vector;
  vector.type = ElementType::kFloat32;
  switch (sqlite3_value_type(value)) {
    case SQLITE_BLOB: {
      std::string_view blob = value_blob(value);
      if (blob.empty()) return empty_vector(who);
      STRATA_ASSIGN_OR_RETURN(vector.floats, floats_from_blob(who, blob));
      break;
    }
    case SQLITE_TEXT: {
      STRATA_ASSIGN_OR_RETURN(vector.floats, parse_json_vector(who, value_text(value)));
      break;
    }
    default:
      return not_a_vector(who, "a float32 vector (a BLOB of little-endian float32 or a JSON array such as '[0.1, 0.2]')", value);
  }
  return vector;
}

Result<TypedVector> int8_argument(std::string_view who, sqlite3_value* value) {
  TypedVector vector;
  vector.type = ElementType::kInt8;
  switch (sqlite3_value_type(value)) {
    case SQLITE_BLOB: {
      std::string_view blob = value_blob(value);
      if (blob.empty()) return empty_vector(who);
      vector.ints.assign(reinterpret_cast<const int8_t*>(blob.data()), reinterpret_cast<const int8_t*>(blob.data()) + blob.size());
      break;
    }
    case SQLITE_TEXT: {
      STRATA_ASSIGN_OR_RETURN(vector.ints, parse_json_int8_vector(who, value_text(value)));
      break;
    }
    default: return not_a_vector(who, "an int8 vector (a BLOB of one signed byte per element or a JSON array such as '[1, -2]')", value);
  }
  return vector;
}

Result<TypedVector> bit_argument(std::string_view who, sqlite3_value* value) {
  if (sqlite3_value_type(value) != SQLITE_BLOB) return not_a_vector(who, "a bit vector (a BLOB, 8 elements per byte)", value);
  TypedVector vector;
  vector.type = ElementType::kBit;
  vector.bits = std::string(value_blob(value));
  if (vector.bits.empty()) return empty_vector(who);
  return vector;
}

// A vector of the type its subtype names (float32 when it has none).
Result<TypedVector> vector_argument(std::string_view who, sqlite3_value* value) {
  const unsigned subtype = sqlite3_value_subtype(value);
  switch (subtype) {
    case 0:
    case kFloat32Subtype:
    case kJsonSubtype: return float32_argument(who, value);
    case kInt8Subtype: return int8_argument(who, value);
    case kBitSubtype: return bit_argument(who, value);
    default:
      return Status::error(str_cat(who, ": the value has subtype ", std::to_string(subtype),
                                   ", which marks no vector type (float32 223, bit 224, int8 225)"));
  }
}

// Two vectors of the same type and length.
Result<std::pair<TypedVector, TypedVector>> vector_pair(std::string_view who, sqlite3_value** argv) {
  STRATA_ASSIGN_OR_RETURN(TypedVector a, vector_argument(who, argv[0]));
  STRATA_ASSIGN_OR_RETURN(TypedVector b, vector_argument(who, argv[1]));
  if (a.type != b.type) {
    return Status::error(str_cat(who, ": the vectors have different types, ", vec_type_name(a.type), " and ",
                                 vec_type_name(b.type), "; convert one with vec_f32, vec_int8 or vec_bit"));
  }
  if (a.dimensions() != b.dimensions()) {
    return Status::error(str_cat(who, ": the vectors have different dimensions, ", std::to_string(a.dimensions()), " and ",
                                 std::to_string(b.dimensions())));
  }
  return std::pair<TypedVector, TypedVector>(std::move(a), std::move(b));
}

Status not_for(std::string_view who, const TypedVector& vector, std::string_view takes) {
  return Status::error(str_cat(who, ": does not apply to ", vec_type_name(vector.type), " vectors; it takes ", takes));
}

void result_vector(sqlite3_context* context, const TypedVector& vector) {
  const std::string blob = vector.blob();
  sqlite3_result_blob64(context, blob.data(), blob.size(), SQLITE_TRANSIENT);
  sqlite3_result_subtype(context, vector_subtype(vector.type));
}

// sqlite-vec returns a float32 distance as a double (NaN, e.g. the cosine of a zero vector,
// becomes NULL in SQLite).
void result_float(sqlite3_context* context, float value) { sqlite3_result_double(context, static_cast<double>(value)); }

void vec_version(sqlite3_context* context, int, sqlite3_value**) {
  sqlite3_result_text(context, kSqliteVecVersion.data(), static_cast<int>(kSqliteVecVersion.size()), SQLITE_STATIC);
}

void vec_length(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(TypedVector vector, vector_argument("vec_length", argv[0]));
    sqlite3_result_int64(context, static_cast<sqlite3_int64>(vector.dimensions()));
    return Status::ok();
  });
}

void vec_type(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(TypedVector vector, vector_argument("vec_type", argv[0]));
    const std::string_view name = vec_type_name(vector.type);
    sqlite3_result_text(context, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
    return Status::ok();
  });
}

// vec_f32, vec_int8 and vec_bit read their argument as their type, whatever its subtype.
template <Result<TypedVector> (*read)(std::string_view, sqlite3_value*), const char* who>
void vec_convert(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(TypedVector vector, read(who, argv[0]));
    result_vector(context, vector);
    return Status::ok();
  });
}
constexpr char kVecF32[] = "vec_f32";
constexpr char kVecInt8[] = "vec_int8";
constexpr char kVecBit[] = "vec_bit";

void vec_to_json(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(TypedVector vector, vector_argument("vec_to_json", argv[0]));
    // SQLite's own printf, as sqlite-vec uses: "%f" (six decimals, at most 16 significant
    // digits), and NaN written as null.
    auto discard = [](sqlite3_str* unfinished) { sqlite3_free(sqlite3_str_finish(unfinished)); };
    std::unique_ptr<sqlite3_str, decltype(discard)> text(sqlite3_str_new(sqlite3_context_db_handle(context)), discard);
    sqlite3_str_appendchar(text.get(), 1, '[');
    for (size_t i = 0; i < vector.dimensions(); ++i) {
      if (i > 0) sqlite3_str_appendchar(text.get(), 1, ',');
      switch (vector.type) {
        case ElementType::kFloat32:
          if (std::isnan(vector.floats[i])) {
            sqlite3_str_appendall(text.get(), "null");
          } else {
            sqlite3_str_appendf(text.get(), "%f", static_cast<double>(vector.floats[i]));
          }
          break;
        case ElementType::kInt8: sqlite3_str_appendf(text.get(), "%d", static_cast<int>(vector.ints[i])); break;
        case ElementType::kBit:
          sqlite3_str_appendf(text.get(), "%d", (static_cast<unsigned char>(vector.bits[i / 8]) >> (i % 8)) & 1);
          break;
      }
    }
    sqlite3_str_appendchar(text.get(), 1, ']');
    if (sqlite3_str_errcode(text.get()) != SQLITE_OK) return Status::error("vec_to_json: out of memory");
    const int length = sqlite3_str_length(text.get());
    char* json = sqlite3_str_finish(text.release());
    sqlite3_result_text(context, json, length, sqlite3_free);
    sqlite3_result_subtype(context, kJsonSubtype);
    return Status::ok();
  });
}

template <bool add>
void vec_arithmetic(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    constexpr std::string_view who = add ? "vec_add" : "vec_sub";
    STRATA_ASSIGN_OR_RETURN(auto pair, vector_pair(who, argv));
    auto& [a, b] = pair;
    if (a.type == ElementType::kBit) return not_for(who, a, "float32 and int8 vectors");
    for (size_t i = 0; i < a.dimensions(); ++i) {
      if (a.type == ElementType::kFloat32) {
        a.floats[i] = add ? a.floats[i] + b.floats[i] : a.floats[i] - b.floats[i];
      } else {
        // int8 wraps around, as in sqlite-vec (100 + 127 is -29).
        const auto sum = static_cast<uint8_t>(add ? static_cast<uint8_t>(a.ints[i]) + static_cast<uint8_t>(b.ints[i])
                                                  : static_cast<uint8_t>(a.ints[i]) - static_cast<uint8_t>(b.ints[i]));
        a.ints[i] = static_cast<int8_t>(sum);
      }
    }
    result_vector(context, a);
    return Status::ok();
  });
}

void vec_normalize(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(TypedVector vector, vector_argument("vec_normalize", argv[0]));
    if (vector.type != ElementType::kFloat32) return not_for("vec_normalize", vector, "float32 vectors");
    // As sqlite-vec: the float32 norm, and a zero vector divided by it (NaN elements).
    float squares = 0;
    for (float x : vector.floats) squares += x * x;
    const auto norm = static_cast<float>(std::sqrt(static_cast<double>(squares)));
    for (float& x : vector.floats) x = x / norm;
    result_vector(context, vector);
    return Status::ok();
  });
}

void vec_slice(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(TypedVector vector, vector_argument("vec_slice", argv[0]));
    // sqlite3_value_int, as sqlite-vec reads them: '2' is 2.
    const int start = sqlite3_value_int(argv[1]);
    const int end = sqlite3_value_int(argv[2]);
    const auto size = static_cast<int64_t>(vector.dimensions());
    if (start < 0 || end < 0 || start > size || end > size || start >= end) {
      return Status::error(str_cat("vec_slice: bad range [", std::to_string(start), ", ", std::to_string(end),
                                   ") for a vector of ", std::to_string(size), " elements; need 0 <= start < end <= ",
                                   std::to_string(size), " (elements start..end-1 are kept, counting from 0)"));
    }
    switch (vector.type) {
      case ElementType::kFloat32:
        vector.floats = FloatVector(vector.floats.begin() + start, vector.floats.begin() + end);
        break;
      case ElementType::kInt8:
        vector.ints = std::vector<int8_t>(vector.ints.begin() + start, vector.ints.begin() + end);
        break;
      case ElementType::kBit:
        if (start % 8 != 0 || end % 8 != 0) {
          return Status::error(str_cat("vec_slice: a bit vector is sliced at whole bytes; start and end must be multiples of 8, got ",
                                       std::to_string(start), " and ", std::to_string(end)));
        }
        vector.bits = vector.bits.substr(static_cast<size_t>(start / 8), static_cast<size_t>((end - start) / 8));
        break;
    }
    result_vector(context, vector);
    return Status::ok();
  });
}

void vec_quantize_int8(sqlite3_context* context, int argc, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    // The vector is read as float32 whatever its subtype, as sqlite-vec does.
    STRATA_ASSIGN_OR_RETURN(TypedVector vector, float32_argument("vec_quantize_int8", argv[0]));
    if (argc > 1 && (sqlite3_value_type(argv[1]) != SQLITE_TEXT || sqlite3_stricmp(value_text(argv[1]).data(), "unit") != 0 ||
                     value_text(argv[1]).size() != 4)) {
      return Status::error("vec_quantize_int8: the second argument must be 'unit' (elements from -1 to 1), the only range supported");
    }
    TypedVector quantized;
    quantized.type = ElementType::kInt8;
    quantized.ints = quantize_int8_unit(vector.floats.data(), vector.floats.size());
    result_vector(context, quantized);
    return Status::ok();
  });
}

void vec_quantize_binary(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(TypedVector vector, vector_argument("vec_quantize_binary", argv[0]));
    if (vector.type == ElementType::kBit) return not_for("vec_quantize_binary", vector, "float32 and int8 vectors");
    if (vector.dimensions() % 8 != 0) {
      return Status::error(str_cat("vec_quantize_binary: the vector has ", std::to_string(vector.dimensions()),
                                   " elements; binary quantization takes a multiple of 8"));
    }
    TypedVector bits;
    bits.type = ElementType::kBit;
    bits.bits.assign(vector.dimensions() / 8, '\0');
    for (size_t i = 0; i < vector.dimensions(); ++i) {
      const bool positive = vector.type == ElementType::kFloat32 ? vector.floats[i] > 0 : vector.ints[i] > 0;
      if (positive) bits.bits[i / 8] = static_cast<char>(static_cast<unsigned char>(bits.bits[i / 8]) | (1u << (i % 8)));
    }
    result_vector(context, bits);
    return Status::ok();
  });
}

// The distances, computed as sqlite-vec computes them: float32 sums in element order (l1 in
// double).
float l2_distance(const TypedVector& a, const TypedVector& b) {
  float sum = 0;
  for (size_t i = 0; i < a.dimensions(); ++i) {
    const float difference = a.type == ElementType::kFloat32 ? a.floats[i] - b.floats[i]
                                                             : static_cast<float>(a.ints[i] - b.ints[i]);
    sum += difference * difference;
  }
  return static_cast<float>(std::sqrt(static_cast<double>(sum)));
}

float cosine_distance(const TypedVector& a, const TypedVector& b) {
  float dot = 0, a_squares = 0, b_squares = 0;
  for (size_t i = 0; i < a.dimensions(); ++i) {
    const float x = a.type == ElementType::kFloat32 ? a.floats[i] : static_cast<float>(a.ints[i]);
    const float y = b.type == ElementType::kFloat32 ? b.floats[i] : static_cast<float>(b.ints[i]);
    dot += x * y;
    a_squares += x * x;
    b_squares += y * y;
  }
  return static_cast<float>(1.0 - static_cast<double>(dot) / (std::sqrt(static_cast<double>(a_squares)) *
                                                              std::sqrt(static_cast<double>(b_squares))));
}

void vec_distance_l2(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(auto pair, vector_pair("vec_distance_l2", argv));
    if (pair.first.type == ElementType::kBit) return not_for("vec_distance_l2", pair.first, "float32 and int8 vectors (bit vectors: vec_distance_hamming)");
    result_float(context, l2_distance(pair.first, pair.second));
    return Status::ok();
  });
}

void vec_distance_cosine(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(auto pair, vector_pair("vec_distance_cosine", argv));
    if (pair.first.type == ElementType::kBit) return not_for("vec_distance_cosine", pair.first, "float32 and int8 vectors (bit vectors: vec_distance_hamming)");
    result_float(context, cosine_distance(pair.first, pair.second));
    return Status::ok();
  });
}

void vec_distance_l1(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(auto pair, vector_pair("vec_distance_l1", argv));
    const auto& [a, b] = pair;
    if (a.type == ElementType::kBit) return not_for("vec_distance_l1", a, "float32 and int8 vectors (bit vectors: vec_distance_hamming)");
    if (a.type == ElementType::kInt8) {
      // An integer for int8 vectors, as in sqlite-vec.
      int64_t sum = 0;
      for (size_t i = 0; i < a.dimensions(); ++i) sum += std::abs(a.ints[i] - b.ints[i]);
      sqlite3_result_int64(context, sum);
      return Status::ok();
    }
    // In double, unlike sqlite-vec's other float32 distances.
    double sum = 0;
    for (size_t i = 0; i < a.dimensions(); ++i) sum += std::fabs(static_cast<double>(a.floats[i]) - static_cast<double>(b.floats[i]));
    sqlite3_result_double(context, sum);
    return Status::ok();
  });
}

void vec_distance_hamming(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(auto pair, vector_pair("vec_distance_hamming", argv));
    const auto& [a, b] = pair;
    if (a.type != ElementType::kBit) return not_for("vec_distance_hamming", a, "bit vectors (make them with vec_bit)");
    int differing = 0;
    for (size_t i = 0; i < a.bits.size(); ++i) {
      differing += std::popcount(static_cast<unsigned>(static_cast<unsigned char>(a.bits[i] ^ b.bits[i])));
    }
    sqlite3_result_double(context, differing);
    return Status::ok();
  });
}

// strata's own: the negative inner product (smaller is nearer, as the hnsw table's ip metric).
void vec_distance_ip(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(auto pair, vector_pair("vec_distance_ip", argv));
    const auto& [a, b] = pair;
    if (a.type == ElementType::kBit) return not_for("vec_distance_ip", a, "float32 and int8 vectors");
    double dot = 0;
    for (size_t i = 0; i < a.dimensions(); ++i) {
      dot += a.type == ElementType::kFloat32 ? static_cast<double>(a.floats[i]) * b.floats[i] : double(a.ints[i]) * b.ints[i];
    }
    sqlite3_result_double(context, -dot);
    return Status::ok();
  });
}

// vec_each(vector): one row per element, `value` (REAL for float32, the int8 value, or 0/1 for a
// bit, each byte's bits from the most significant), the rowid counting from 0; the vector is the
// hidden column `vector`.
struct EachTable {
  sqlite3_vtab base{};
};

struct EachCursor {
  sqlite3_vtab_cursor base{};
  TypedVector vector;
  size_t position = 0;
};

int each_connect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char** error_out) {
  return error_out_call(error_out, [&]() -> Status {
    if (sqlite3_declare_vtab(db, "CREATE TABLE x(value, vector HIDDEN)") != SQLITE_OK) {
      return Status::error(str_cat("vec_each: declaring the function failed: ", sqlite3_errmsg(db)));
    }
    auto* table = new (std::nothrow) EachTable();
    if (table == nullptr) return Status::error("vec_each: out of memory");
    *out = &table->base;
    return Status::ok();
  });
}

int each_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& constraint = info->aConstraint[i];
    if (constraint.iColumn != 1 || constraint.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!constraint.usable) return SQLITE_CONSTRAINT;  // a plan where the vector is known comes first
    info->aConstraintUsage[i].argvIndex = 1;
    info->aConstraintUsage[i].omit = 1;
    info->estimatedCost = 10;
    info->estimatedRows = 100;
    return SQLITE_OK;
  }
  return report_to_vtab(vtab, Status::error("vec_each: needs a vector, as in SELECT value FROM vec_each('[1, 2]')"));
}

int each_filter(sqlite3_vtab_cursor* vtab_cursor, int, const char*, int argc, sqlite3_value** argv) {
  return cursor_call(vtab_cursor, [&]() -> Status {
    auto* cursor = reinterpret_cast<EachCursor*>(vtab_cursor);
    cursor->position = 0;
    cursor->vector = TypedVector();
    if (argc < 1) return Status::error("vec_each: needs a vector");
    STRATA_ASSIGN_OR_RETURN(cursor->vector, vector_argument("vec_each", argv[0]));
    return Status::ok();
  });
}

int each_next(sqlite3_vtab_cursor* cursor) {
  ++reinterpret_cast<EachCursor*>(cursor)->position;
  return SQLITE_OK;
}

int each_eof(sqlite3_vtab_cursor* vtab_cursor) {
  auto* cursor = reinterpret_cast<EachCursor*>(vtab_cursor);
  return cursor->position >= cursor->vector.dimensions() ? 1 : 0;
}

int each_column(sqlite3_vtab_cursor* vtab_cursor, sqlite3_context* context, int column) {
  auto* cursor = reinterpret_cast<EachCursor*>(vtab_cursor);
  const TypedVector& vector = cursor->vector;
  const size_t i = cursor->position;
  if (column == 1) {
    result_vector(context, vector);
    return SQLITE_OK;
  }
  switch (vector.type) {
    case ElementType::kFloat32: sqlite3_result_double(context, vector.floats[i]); break;
    case ElementType::kInt8: sqlite3_result_int(context, vector.ints[i]); break;
    // Most significant bit first, as sqlite-vec's vec_each lists them (its vec_to_json starts
    // with the least significant one).
    case ElementType::kBit: sqlite3_result_int(context, (static_cast<unsigned char>(vector.bits[i / 8]) >> (7 - i % 8)) & 1); break;
  }
  return SQLITE_OK;
}

int each_rowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<EachCursor*>(cursor)->position);
  return SQLITE_OK;
}

const sqlite3_module kEachModule = eponymous_module<EachTable>({
    .connect = each_connect,  // no xCreate: eponymous only
    .best_index = each_best_index,
    .open = open_cursor<EachCursor>,
    .close = close_cursor<EachCursor>,
    .filter = each_filter,
    .next = each_next,
    .eof = each_eof,
    .column = each_column,
    .rowid = each_rowid,
});

}  // namespace

unsigned vector_subtype(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return kFloat32Subtype;
    case ElementType::kInt8: return kInt8Subtype;
    case ElementType::kBit: return kBitSubtype;
  }
  return kFloat32Subtype;
}

Status register_vector_functions(sqlite3* db) {
  struct Function {
    const char* name;
    int arguments;
    void (*body)(sqlite3_context*, int, sqlite3_value**);
  };
  const Function functions[] = {
      {"vec_version", 0, vec_version},
      {"vec_length", 1, vec_length},
      {"vec_type", 1, vec_type},
      {"vec_f32", 1, vec_convert<float32_argument, kVecF32>},
      {"vec_int8", 1, vec_convert<int8_argument, kVecInt8>},
      {"vec_bit", 1, vec_convert<bit_argument, kVecBit>},
      {"vec_to_json", 1, vec_to_json},
      {"vec_add", 2, vec_arithmetic<true>},
      {"vec_sub", 2, vec_arithmetic<false>},
      {"vec_normalize", 1, vec_normalize},
      {"vec_slice", 3, vec_slice},
      {"vec_distance_l2", 2, vec_distance_l2},
      {"vec_distance_cosine", 2, vec_distance_cosine},
      {"vec_distance_l1", 2, vec_distance_l1},
      {"vec_distance_hamming", 2, vec_distance_hamming},
      {"vec_distance_ip", 2, vec_distance_ip},
      {"vec_quantize_int8", 2, vec_quantize_int8},
      // strata's shorthand for vec_quantize_int8(v, 'unit'); sqlite-vec has no one-argument form.
      {"vec_quantize_int8", 1, vec_quantize_int8},
      {"vec_quantize_binary", 1, vec_quantize_binary},
  };
  for (const Function& function : functions) {
    const int flags = std::string_view(function.name) == "vec_version" ? kFunctionFlags : kVectorFunctionFlags;
    int rc = sqlite3_create_function_v2(db, function.name, function.arguments, flags, nullptr, function.body, nullptr,
                                        nullptr, nullptr);
    if (rc != SQLITE_OK) return Status::error(str_cat("hnsw: registering ", function.name, " failed"));
  }
  if (sqlite3_create_module_v2(db, "vec_each", &kEachModule, nullptr, nullptr) != SQLITE_OK) {
    return Status::error("hnsw: registering vec_each failed");
  }
  return Status::ok();
}

}  // namespace strata::hnsw
