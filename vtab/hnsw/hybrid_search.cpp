// hybrid_search — full-text and vector results fused by Reciprocal Rank Fusion (docs/hnsw.md).
//
//   SELECT rowid, score, fts_rank, vec_rank
//   FROM hybrid_search('docs_fts', 'docs_vec', :text, :vector, 10 [, :options]);
//
// The FTS5 table's best matches (ORDER BY rank) and the vector table's nearest rows (MATCH … AND
// k = …, any table that takes that query: hnsw, or sqlite-vec's vec0) are each numbered from 1;
// a row's score is the sum over the lists it is in of weight / (rrf_k + its rank there)
// (Cormack et al., 2009). The k best scores come out, highest first (ties: smaller rowid
// first). The two tables share rowids. Options, a JSON object, all optional:
//   "rrf_k": 60            the constant of the fusion
//   "weights": [1, 1]      the FTS and vector weights (or {"fts": 1, "vec": 1})
//   "fts_k": k, "vec_k": k how many results each side contributes (default: k)
//   "filter": "SELECT …"   a query of allowed rowids, applied to both sides
// An eponymous table-valued function: the arguments are its hidden columns.
#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "ext/table_registry.h"
#include "ext/vtab_module.h"
#include "vtab/hnsw/hnsw.h"

namespace strata::hnsw {

namespace {

constexpr std::string_view kWho = "hybrid_search";
// Declared columns: the results, then the arguments (hidden).
enum HybridColumn { kRowid = 0, kScore, kFtsRank, kVecRank, kFtsTable, kVecTable, kQueryText, kQueryVector, kK, kOptions };
constexpr int kFirstArgument = kFtsTable;
constexpr int kArguments = kOptions - kFtsTable + 1;
constexpr int kRequiredArguments = kK - kFtsTable + 1;  // all but the options
constexpr int64_t kMostResults = 100000;

struct Options {
  double rrf_k = 60;
  double fts_weight = 1;
  double vec_weight = 1;
  int64_t fts_k = 0;  // 0: k
  int64_t vec_k = 0;
  std::string filter;
};

struct Fused {
  int64_t rowid;
  double score;
  int64_t fts_rank;  // 0: not among the full-text results
  int64_t vec_rank;  // 0: not among the vector results
};

struct HybridTable {
  sqlite3_vtab base{};  // must stay the first member
  sqlite3* db = nullptr;  // the function runs queries of its own on its connection
};

struct HybridCursor {
  sqlite3_vtab_cursor base{};
  std::vector<Fused> rows;
  size_t position = 0;
};

Status usage(std::string_view problem) {
  return Status::error(str_cat(kWho, ": ", problem,
                               "; call it as hybrid_search('fts_table', 'vector_table', 'query text', query_vector, k [, '{options}'])"));
}

Result<Options> parse_options(std::string_view json) {
  Options options;
  if (json.empty()) return options;
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  auto bad = [&](std::string_view problem) {
    return Status::error(str_cat(kWho, ": options: ", problem,
                                 "; expected a JSON object with any of rrf_k (a number > 0), weights ([fts, vec] or "
                                 "{\"fts\": w, \"vec\": w}, numbers >= 0), fts_k and vec_k (integers from 1 to ",
                                 std::to_string(kMostResults), "), filter (a query of allowed rowids)"));
  };
  if (document.HasParseError() || !document.IsObject()) return bad("not a JSON object");
  for (auto member = document.MemberBegin(); member != document.MemberEnd(); ++member) {
    const std::string name(member->name.GetString(), member->name.GetStringLength());
    const rapidjson::Value& value = member->value;
    if (name == "rrf_k") {
      if (!value.IsNumber() || !(value.GetDouble() > 0)) return bad("rrf_k must be a number > 0");
      options.rrf_k = value.GetDouble();
    } else if (name == "weights") {
      const rapidjson::Value* fts = nullptr;
      const rapidjson::Value* vec = nullptr;
      if (value.IsArray() && value.Size() == 2) {
        fts = &value[0];
        vec = &value[1];
      } else if (value.IsObject()) {
        for (auto side = value.MemberBegin(); side != value.MemberEnd(); ++side) {
          const std::string key(side->name.GetString(), side->name.GetStringLength());
          if (key == "fts") fts = &side->value;
          else if (key == "vec") vec = &side->value;
          else return bad(str_cat("unknown weight '", key, "'"));
        }
      } else {
        return bad("weights must be [fts, vec] or {\"fts\": w, \"vec\": w}");
      }
      for (auto [weight, target] : {std::pair{fts, &options.fts_weight}, std::pair{vec, &options.vec_weight}}) {
        if (weight == nullptr) continue;
        if (!weight->IsNumber() || !(weight->GetDouble() >= 0) || !std::isfinite(weight->GetDouble())) {
          return bad("a weight must be a finite number >= 0");
        }
        *target = weight->GetDouble();
      }
    } else if (name == "fts_k" || name == "vec_k") {
      if (!value.IsInt64() || value.GetInt64() < 1 || value.GetInt64() > kMostResults) {
        return bad(str_cat(name, " must be an integer from 1 to ", std::to_string(kMostResults)));
      }
      (name == "fts_k" ? options.fts_k : options.vec_k) = value.GetInt64();
    } else if (name == "filter") {
      if (!value.IsString()) return bad("filter must be the text of a query, such as \"SELECT id FROM docs WHERE lang = 'en'\"");
      options.filter.assign(value.GetString(), value.GetStringLength());
    } else {
      return bad(str_cat("unknown option '", name, "'"));
    }
  }
  return options;
}

std::string qualified(const QualifiedName& name) {
  return name.schema.empty() ? quote_identifier(name.table) : str_cat(quote_identifier(name.schema), ".", quote_identifier(name.table));
}

// The rowids a query returns, in order (the first has rank 1).
Result<std::vector<int64_t>> ranked_rowids(sqlite3* db, const std::string& sql, sqlite3_value* query, int64_t limit,
                                           std::string_view side) {
  Result<Statement> prepared = Statement::prepare(db, sql);
  if (!prepared.is_ok()) return Status::error(str_cat(kWho, ": the ", side, " query failed: ", prepared.status().message()));
  Statement& statement = *prepared;
  STRATA_RETURN_IF_ERROR(statement.bind_value(1, query));
  STRATA_RETURN_IF_ERROR(statement.bind_int64(2, limit));
  std::vector<int64_t> rowids;
  while (true) {
    Result<bool> row = statement.step();
    if (!row.is_ok()) return Status::error(str_cat(kWho, ": the ", side, " query failed: ", row.status().message()));
    if (!*row) break;
    if (statement.column_is_null(0)) continue;
    rowids.push_back(statement.column_int64(0));
  }
  return rowids;
}

Status run_search(sqlite3* db, sqlite3_value** arguments, int given, HybridCursor& cursor) {
  for (int i = 0; i < kRequiredArguments; ++i) {
    if (arguments[i] == nullptr) return usage("missing arguments");
  }
  if (sqlite3_value_type(arguments[0]) != SQLITE_TEXT || sqlite3_value_type(arguments[1]) != SQLITE_TEXT) {
    return usage("the first two arguments must name the FTS5 table and the vector table");
  }
  const QualifiedName fts = split_qualified_name(value_text(arguments[0]));
  const QualifiedName vec = split_qualified_name(value_text(arguments[1]));
  sqlite3_value* text = arguments[2];
  sqlite3_value* vector = arguments[3];
  STRATA_ASSIGN_OR_RETURN(int64_t k, integral_argument(arguments[4], kWho, "k", kMostResults));
  Options options;
  if (given > kRequiredArguments && arguments[5] != nullptr && sqlite3_value_type(arguments[5]) != SQLITE_NULL) {
    STRATA_ASSIGN_OR_RETURN(options, parse_options(value_text(arguments[5])));
  }
  const int64_t fts_k = options.fts_k > 0 ? options.fts_k : k;
  const int64_t vec_k = options.vec_k > 0 ? options.vec_k : k;
  const std::string filter = options.filter.empty() ? std::string() : str_cat(" AND rowid IN (", options.filter, ")");

  // The vector table's vector column: its first.
  std::string column;
  {
    STRATA_ASSIGN_OR_RETURN(Statement info, Statement::prepare(db, "SELECT name FROM pragma_table_info(?1, ?2) WHERE cid = 0"));
    STRATA_RETURN_IF_ERROR(info.bind_text(1, vec.table));
    STRATA_RETURN_IF_ERROR(info.bind_text(2, vec.schema.empty() ? "main" : vec.schema));
    STRATA_ASSIGN_OR_RETURN(bool found, info.step());
    if (!found) return Status::error(str_cat(kWho, ": no vector table '", value_text(arguments[1]), "'"));
    column = std::string(info.column_text(0));
  }

  std::unordered_map<int64_t, Fused> fused;
  auto add = [&](const std::vector<int64_t>& rowids, bool full_text) {
    for (size_t i = 0; i < rowids.size(); ++i) {
      Fused& row = fused.try_emplace(rowids[i], Fused{rowids[i], 0, 0, 0}).first->second;
      int64_t& rank = full_text ? row.fts_rank : row.vec_rank;
      if (rank != 0) continue;  // a rowid listed twice counts at its best rank
      rank = static_cast<int64_t>(i) + 1;
      row.score += (full_text ? options.fts_weight : options.vec_weight) / (options.rrf_k + static_cast<double>(rank));
    }
  };
  if (sqlite3_value_type(text) != SQLITE_NULL) {
    STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> rowids,
                            ranked_rowids(db,
                                          str_cat("SELECT rowid FROM ", qualified(fts), " WHERE ", quote_identifier(fts.table),
                                                  " MATCH ?1", filter, " ORDER BY rank LIMIT ?2"),
                                          text, fts_k, "full-text"));
    add(rowids, true);
  }
  if (sqlite3_value_type(vector) != SQLITE_NULL) {
    STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> rowids,
                            ranked_rowids(db,
                                          str_cat("SELECT rowid FROM ", qualified(vec), " WHERE ", quote_identifier(column),
                                                  " MATCH ?1 AND k = ?2", filter, " ORDER BY distance"),
                                          vector, vec_k, "vector"));
    add(rowids, false);
  }
  cursor.rows.clear();
  cursor.rows.reserve(fused.size());
  for (const auto& [rowid, row] : fused) cursor.rows.push_back(row);
  std::sort(cursor.rows.begin(), cursor.rows.end(), [](const Fused& a, const Fused& b) {
    return a.score != b.score ? a.score > b.score : a.rowid < b.rowid;
  });
  if (cursor.rows.size() > static_cast<size_t>(k)) cursor.rows.resize(static_cast<size_t>(k));
  return Status::ok();
}

int x_connect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char** error_out) {
  return error_out_call(error_out, [&]() -> Status {
    if (sqlite3_declare_vtab(db, "CREATE TABLE x(rowid INTEGER, score REAL, fts_rank INTEGER, vec_rank INTEGER, "
                                 "fts_table HIDDEN, vec_table HIDDEN, query_text HIDDEN, query_vector HIDDEN, k HIDDEN, "
                                 "options HIDDEN)") != SQLITE_OK) {
      return Status::error(str_cat(kWho, ": declaring the function failed: ", sqlite3_errmsg(db)));
    }
    auto* table = new (std::nothrow) HybridTable();
    if (table == nullptr) return Status::error(str_cat(kWho, ": out of memory"));
    table->db = db;
    *out = &table->base;
    return Status::ok();
  });
}

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  int constraint_of[kArguments];
  std::fill(std::begin(constraint_of), std::end(constraint_of), -1);
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& constraint = info->aConstraint[i];
    const int argument = constraint.iColumn - kFirstArgument;
    if (argument < 0 || argument >= kArguments || constraint.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!constraint.usable) return SQLITE_CONSTRAINT;  // a plan where the argument is known comes first
    constraint_of[argument] = i;
  }
  int given = 0;
  while (given < kArguments && constraint_of[given] >= 0) {
    info->aConstraintUsage[constraint_of[given]].argvIndex = given + 1;
    info->aConstraintUsage[constraint_of[given]].omit = 1;
    ++given;
  }
  if (given < kRequiredArguments) return report_to_vtab(vtab, usage("missing arguments"));
  info->idxNum = given;
  info->estimatedCost = 1000;
  info->estimatedRows = 10;
  return SQLITE_OK;
}

int x_filter(sqlite3_vtab_cursor* vtab_cursor, int given, const char*, int argc, sqlite3_value** argv) {
  return cursor_call(vtab_cursor, [&]() -> Status {
    auto* cursor = reinterpret_cast<HybridCursor*>(vtab_cursor);
    cursor->rows.clear();
    cursor->position = 0;
    sqlite3_value* arguments[kArguments] = {};
    for (int i = 0; i < std::min(argc, kArguments); ++i) arguments[i] = argv[i];
    return run_search(reinterpret_cast<HybridTable*>(vtab_cursor->pVtab)->db, arguments, given, *cursor);
  });
}

int x_next(sqlite3_vtab_cursor* cursor) {
  ++reinterpret_cast<HybridCursor*>(cursor)->position;
  return SQLITE_OK;
}

int x_eof(sqlite3_vtab_cursor* vtab_cursor) {
  auto* cursor = reinterpret_cast<HybridCursor*>(vtab_cursor);
  return cursor->position >= cursor->rows.size() ? 1 : 0;
}

int x_column(sqlite3_vtab_cursor* vtab_cursor, sqlite3_context* context, int column) {
  auto* cursor = reinterpret_cast<HybridCursor*>(vtab_cursor);
  const Fused& row = cursor->rows[cursor->position];
  switch (column) {
    case kRowid: sqlite3_result_int64(context, row.rowid); break;
    case kScore: sqlite3_result_double(context, row.score); break;
    case kFtsRank:
      if (row.fts_rank > 0) sqlite3_result_int64(context, row.fts_rank);
      break;
    case kVecRank:
      if (row.vec_rank > 0) sqlite3_result_int64(context, row.vec_rank);
      break;
    default: break;  // the arguments read back as NULL
  }
  return SQLITE_OK;
}

int x_rowid(sqlite3_vtab_cursor* vtab_cursor, sqlite3_int64* rowid) {
  auto* cursor = reinterpret_cast<HybridCursor*>(vtab_cursor);
  *rowid = cursor->rows[cursor->position].rowid;
  return SQLITE_OK;
}

const sqlite3_module kHybridModule = eponymous_module<HybridTable>({
    .connect = x_connect,  // no xCreate: eponymous only
    .best_index = x_best_index,
    .open = open_cursor<HybridCursor>,
    .close = close_cursor<HybridCursor>,
    .filter = x_filter,
    .next = x_next,
    .eof = x_eof,
    .column = x_column,
    .rowid = x_rowid,
});

}  // namespace

Status register_hybrid_search(sqlite3* db) {
  if (sqlite3_create_module_v2(db, "hybrid_search", &kHybridModule, nullptr, nullptr) != SQLITE_OK) {
    return Status::error("hnsw: registering hybrid_search failed");
  }
  return Status::ok();
}

}  // namespace strata::hnsw
