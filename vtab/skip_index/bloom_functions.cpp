#include "vtab/skip_index/bloom_functions.h"

#include <cmath>
#include <string>
#include <unordered_set>

#include "codecs/bloom_filter.h"
#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "vtab/columnar/values.h"

namespace strata::skip_index {

namespace {

constexpr int kFunctionFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
constexpr double kDefaultFpp = 0.01;

const char* type_name(int type) {
  switch (type) {
    case SQLITE_INTEGER: return "integer";
    case SQLITE_FLOAT: return "real";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "blob";
    default: return "NULL";
  }
}

Result<BloomFilter> filter_argument(std::string_view function, sqlite3_value* value) {
  if (sqlite3_value_type(value) != SQLITE_BLOB) {
    return Status::error(str_cat(function, ": expects a bloom filter BLOB, got ", type_name(sqlite3_value_type(value))));
  }
  Result<BloomFilter> filter = BloomFilter::from_bytes(value_blob(value));
  if (!filter.is_ok()) return Status::error(str_cat(function, ": ", filter.status().message()));
  return filter;
}

void result_filter(sqlite3_context* context, const BloomFilter& filter) {
  sqlite3_result_blob64(context, filter.bytes().data(), filter.bytes().size(), SQLITE_TRANSIENT);
}

// bloom_build: the aggregate keeps the distinct hashes, then sizes the filter for their count.
struct BuildState {
  std::unordered_set<uint64_t> hashes;
  double fpp = kDefaultFpp;
  bool fpp_set = false;
};

BuildState** state_slot(sqlite3_context* context, bool allocate) {
  return static_cast<BuildState**>(sqlite3_aggregate_context(context, allocate ? sizeof(BuildState*) : 0));
}

void bloom_build_step(sqlite3_context* context, int argc, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    BuildState** slot = state_slot(context, true);
    if (slot == nullptr) return Status::no_memory();
    if (*slot == nullptr) *slot = new BuildState();
    BuildState& state = **slot;
    if (argc == 2 && !state.fpp_set && sqlite3_value_type(argv[1]) != SQLITE_NULL) {
      double fpp = sqlite3_value_double(argv[1]);
      int type = sqlite3_value_numeric_type(argv[1]);
      if ((type != SQLITE_FLOAT && type != SQLITE_INTEGER) || !(fpp > 0.0 && fpp < 1.0)) {
        return Status::error("bloom_build: the false-positive rate must be a number between 0 and 1 (exclusive), e.g. 0.01");
      }
      state.fpp = fpp;
      state.fpp_set = true;
    }
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return Status::ok();
    Value value = columnar::value_from_sqlite(argv[0]);
    state.hashes.insert(BloomFilter::hash(value.view()));
    return Status::ok();
  });
}

void bloom_build_final(sqlite3_context* context) {
  BuildState** slot = state_slot(context, false);
  BuildState* state = slot ? *slot : nullptr;
  function_call(context, [&]() -> Status {
    size_t distinct = state ? state->hashes.size() : 0;
    BloomFilter filter(BloomFilter::optimal_bytes(distinct, state ? state->fpp : kDefaultFpp));
    if (state) {
      for (uint64_t hash : state->hashes) filter.insert_hash(hash);
    }
    result_filter(context, filter);
    return Status::ok();
  });
  delete state;
}

void bloom_contains_function(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
      sqlite3_result_null(context);
      return Status::ok();
    }
    STRATA_ASSIGN_OR_RETURN(BloomFilter filter, filter_argument("bloom_contains", argv[0]));
    if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
      sqlite3_result_int(context, 0);
      return Status::ok();
    }
    Value value = columnar::value_from_sqlite(argv[1]);
    sqlite3_result_int(context, filter.may_contain(value.view()) ? 1 : 0);
    return Status::ok();
  });
}

void bloom_merge_function(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    bool a_null = sqlite3_value_type(argv[0]) == SQLITE_NULL;
    bool b_null = sqlite3_value_type(argv[1]) == SQLITE_NULL;
    if (a_null && b_null) {
      sqlite3_result_null(context);
      return Status::ok();
    }
    if (a_null || b_null) {
      STRATA_ASSIGN_OR_RETURN(BloomFilter only, filter_argument("bloom_merge", argv[a_null ? 1 : 0]));
      result_filter(context, only);
      return Status::ok();
    }
    STRATA_ASSIGN_OR_RETURN(BloomFilter a, filter_argument("bloom_merge", argv[0]));
    STRATA_ASSIGN_OR_RETURN(BloomFilter b, filter_argument("bloom_merge", argv[1]));
    Status merged = a.merge(b);
    if (!merged.is_ok()) return Status::error(str_cat("bloom_merge: ", merged.message()));
    result_filter(context, a);
    return Status::ok();
  });
}

void bloom_info_function(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
      sqlite3_result_null(context);
      return Status::ok();
    }
    STRATA_ASSIGN_OR_RETURN(BloomFilter filter, filter_argument("bloom_info", argv[0]));
    double fill = static_cast<double>(filter.bits_set()) / static_cast<double>(filter.bytes().size() * 8);
    // A present value sets 8 bits of one block; each is already set with probability ~fill.
    double fpp = std::pow(fill, 8.0);
    char json[256];
    std::snprintf(json, sizeof json,
                  "{\"algorithm\":\"split-block\",\"hash\":\"xxh64\",\"bytes\":%zu,\"blocks\":%zu,"
                  "\"bits_set\":%llu,\"fill_ratio\":%.6f,\"estimated_fpp\":%.6g}",
                  filter.bytes().size(), filter.blocks(), static_cast<unsigned long long>(filter.bits_set()), fill, fpp);
    sqlite3_result_text(context, json, -1, SQLITE_TRANSIENT);
    return Status::ok();
  });
}

}  // namespace

Status register_bloom_functions(sqlite3* db) {
  struct Registration {
    const char* name;
    int arity;
    void (*scalar)(sqlite3_context*, int, sqlite3_value**);
    void (*step)(sqlite3_context*, int, sqlite3_value**);
    void (*final)(sqlite3_context*);
  };
  const Registration registrations[] = {
      {"bloom_build", 1, nullptr, bloom_build_step, bloom_build_final},
      {"bloom_build", 2, nullptr, bloom_build_step, bloom_build_final},
      {"bloom_contains", 2, bloom_contains_function, nullptr, nullptr},
      {"bloom_merge", 2, bloom_merge_function, nullptr, nullptr},
      {"bloom_info", 1, bloom_info_function, nullptr, nullptr},
  };
  for (const Registration& r : registrations) {
    int rc = sqlite3_create_function_v2(db, r.name, r.arity, kFunctionFlags, nullptr, r.scalar, r.step, r.final, nullptr);
    if (rc != SQLITE_OK) return status_from_sqlite(db, rc, str_cat("strata: registering ", r.name, "()"));
  }
  return Status::ok();
}

}  // namespace strata::skip_index
