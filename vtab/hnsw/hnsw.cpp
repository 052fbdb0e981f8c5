// hnsw — approximate nearest-neighbour search over vectors, persistent and transactional.
//
// USER SQL (sqlite-vec's vec0 query form; docs/hnsw.md)
//
//   CREATE VIRTUAL TABLE docs_vec USING hnsw(
//     [id INTEGER PRIMARY KEY | id TEXT PRIMARY KEY,]   -- sqlite-vec's column kinds, optional
//     embedding float[768] [distance_metric=cosine],    -- one vector column: float|int8|bit[N]
//     [genre TEXT, year INTEGER, rating FLOAT, flag BOOLEAN,]   -- metadata: KNN filters
//     [user_id INTEGER PARTITION KEY,] [+body TEXT,]    -- partition key; auxiliary (stored only)
//     metric=cosine,                   -- l2 (default) | cosine | ip | hamming
//     m=16, ef_construction=200,       -- graph degree (2..128) and build effort
//     ef_search=64                     -- default search effort
//   );
//   INSERT INTO docs_vec(rowid, embedding) VALUES (1, ?);   -- float32 BLOB or JSON '[…]'
//   UPDATE docs_vec SET embedding = ? WHERE rowid = 1;  DELETE FROM docs_vec WHERE rowid = 1;
//   SELECT rowid, distance FROM docs_vec WHERE embedding MATCH ? AND k = 10 [AND ef_search = 200]
//     [AND rowid IN (SELECT …)] [ORDER BY distance];        -- or LIMIT 10 instead of k; k ≤ 100,000
//   INSERT INTO docs_vec(docs_vec) VALUES ('optimize');      -- relinks and renumbers everything
//   SELECT hnsw_check('docs_vec');                          -- 'ok' or what is damaged
//   SELECT * FROM hybrid_search('docs_fts', 'docs_vec', ?, ?, 10);  -- FTS5 + vectors, fused
//                                                           --   (hybrid_search.cpp)
// and sqlite-vec 0.1.9's vec_* functions (vector_functions.cpp).
//
// Columns: the declared ones in order, then HIDDEN distance, k, ef_search and one named after
// the table (for commands). A query without MATCH scans rows in rowid order. A KNN query's
// conditions on metadata, partition keys and a text key filter the walk (HnswTable::nodes_matching).
//
// SHADOW TABLES (docs/format-hnsw.md)
//
//   docs_vec_config(key, value)                    format version, settings, generation
//   docs_vec_vectors(rowid, vector)                the vectors as given, each + its checksum
//   docs_vec_links(rowid, level, links)            each node's neighbours per level
//   docs_vec_tombstones(rowid, vector)             deleted rows kept in the graph (format 3)
//   docs_vec_columns(rowid, <declared columns>)    the other columns' values (format 3)
//
// xBestIndex PLAN
//
//   idxNum bits: 1 MATCH (KNN), 2 k, 4 ef_search, 8 LIMIT, 16 rowid =, 32 rowid IN (all
//   values at once, sqlite3_vtab_in; an INTEGER PRIMARY KEY column counts as the rowid). Their
//   arguments follow in that order, then one per column filter. KNN results come ordered by
//   distance, so ORDER BY distance is consumed. idxStr is what EXPLAIN QUERY PLAN shows
//   ("KNN on embedding (l2, k = ?, ef_search 64, filtered by rowid IN (...)) where genre = ?,
//   year IN (...)"); the column filters after " where " are read back from it (parse_filters).
#include "vtab/hnsw/hnsw.h"

#include <cmath>
#include <memory>

#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/vtab_module.h"
#include "ext/str_cat.h"
#include "ext/table_registry.h"
#include "vtab/hnsw/hnsw_table.h"
#include "vtab/hnsw/vector_functions.h"

namespace strata::hnsw {

namespace {

constexpr int kPlanKnn = 1;
constexpr int kPlanK = 2;
constexpr int kPlanEf = 4;
constexpr int kPlanLimit = 8;
constexpr int kPlanRowidEquals = 16;
constexpr int kPlanRowidIn = 32;

struct Cursor {
  sqlite3_vtab_cursor base{};
  std::vector<KnnResult> rows;  // KNN results, or scanned rowids with no distance
  bool knn = false;
  int64_t k = 0;
  size_t position = 0;
};

HnswTable* table_of(Cursor* cursor) { return HnswTable::from(cursor->base.pVtab); }

Result<std::unique_ptr<HnswTable>> open_table(sqlite3* db, void*, int argc, const char* const* argv, bool create) {
  return HnswTable::open(db, argc, argv, create);
}

// A KNN query's filters on filterable columns, as idxStr carries them after " where ":
// "genre = ?, year >= ?, user_id IN (...)", in argument order (written and read only here).
constexpr std::string_view kFiltersStart = " where ";

std::string_view op_text(FilterOp op) {
  switch (op) {
    case FilterOp::kEq: return "=";
    case FilterOp::kNe: return "!=";
    case FilterOp::kLt: return "<";
    case FilterOp::kLe: return "<=";
    case FilterOp::kGt: return ">";
    case FilterOp::kGe: return ">=";
    case FilterOp::kIn: return "IN";
  }
  return "=";
}

std::optional<FilterOp> filter_op(unsigned char op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return FilterOp::kEq;
    case SQLITE_INDEX_CONSTRAINT_NE: return FilterOp::kNe;
    case SQLITE_INDEX_CONSTRAINT_LT: return FilterOp::kLt;
    case SQLITE_INDEX_CONSTRAINT_LE: return FilterOp::kLe;
    case SQLITE_INDEX_CONSTRAINT_GT: return FilterOp::kGt;
    case SQLITE_INDEX_CONSTRAINT_GE: return FilterOp::kGe;
    default: return std::nullopt;
  }
}

// (column, op) of each filter in an idxStr.
std::vector<std::pair<int, FilterOp>> parse_filters(const IndexSettings& settings, std::string_view plan) {
  std::vector<std::pair<int, FilterOp>> filters;
  size_t at = plan.find(kFiltersStart);
  if (at == std::string_view::npos) return filters;
  std::string_view rest = plan.substr(at + kFiltersStart.size());
  while (!rest.empty()) {
    size_t end = rest.find(", ");
    std::string_view item = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    size_t space = item.find(' ');
    if (space == std::string_view::npos) break;
    std::string_view name = item.substr(0, space);
    std::string_view op = item.substr(space + 1);
    op = op.substr(0, op.find(' '));
    for (size_t c = 0; c < settings.columns.size(); ++c) {
      if (settings.columns[c].name != name) continue;
      for (FilterOp candidate : {FilterOp::kEq, FilterOp::kNe, FilterOp::kLt, FilterOp::kLe, FilterOp::kGt, FilterOp::kGe, FilterOp::kIn}) {
        if (op_text(candidate) == op) filters.emplace_back(static_cast<int>(c), candidate);
      }
    }
  }
  return filters;
}

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  return vtab_call(vtab, [&]() -> Status {
    const IndexSettings& settings = HnswTable::from(vtab)->settings();
    const int integer_key = settings.integer_key_column();
    int match = -1, k = -1, ef = -1, limit = -1, rowid_equals = -1, rowid_in = -1;
    std::vector<std::pair<int, FilterOp>> filters;  // (constraint, op)
    for (int i = 0; i < info->nConstraint; ++i) {
      const auto& constraint = info->aConstraint[i];
      if (constraint.iColumn == settings.vector_column() && constraint.op == SQLITE_INDEX_CONSTRAINT_MATCH) {
        if (!constraint.usable) return Status(StatusCode::kError, "").with_sqlite_code(SQLITE_CONSTRAINT);  // try another plan
        match = i;
      }
    }
    for (int i = 0; i < info->nConstraint; ++i) {
      const auto& constraint = info->aConstraint[i];
      if (!constraint.usable) continue;
      const int column = constraint.iColumn;
      if (column == settings.k_column() && constraint.op == SQLITE_INDEX_CONSTRAINT_EQ) k = i;
      if (column == settings.ef_search_column() && constraint.op == SQLITE_INDEX_CONSTRAINT_EQ) ef = i;
      if (constraint.op == SQLITE_INDEX_CONSTRAINT_LIMIT) limit = i;
      if ((column == -1 || (column >= 0 && column == integer_key)) && constraint.op == SQLITE_INDEX_CONSTRAINT_EQ) {
        if (sqlite3_vtab_in(info, i, -1)) {
          sqlite3_vtab_in(info, i, 1);
          rowid_in = i;
        } else {
          rowid_equals = i;
        }
        continue;
      }
      if (match < 0 || column < 0 || column >= static_cast<int>(settings.columns.size()) || column == integer_key ||
          column == settings.vector_column() || constraint.op == SQLITE_INDEX_CONSTRAINT_LIMIT ||
          constraint.op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
        continue;
      }
      // A KNN query filters inside the walk, so that k rows come back whenever k match: a
      // condition the walk cannot apply would make SQLite drop rows afterwards.
      const TableColumn& declared = settings.columns[static_cast<size_t>(column)];
      if (declared.kind == ColumnKind::kAuxiliary) {
        return Status::error(str_cat("hnsw: auxiliary column ", declared.name,
                                     " cannot be filtered in a KNN query (it is stored, not indexed); declare it without '+' as a metadata column to filter on it"));
      }
      std::optional<FilterOp> op = filter_op(constraint.op);
      if (!op) {
        return Status::error(str_cat("hnsw: ", declared.name, " can be filtered in a KNN query with =, !=, <, <=, >, >=, IN or BETWEEN"));
      }
      if (*op == FilterOp::kEq && sqlite3_vtab_in(info, i, -1)) {
        sqlite3_vtab_in(info, i, 1);
        op = FilterOp::kIn;
      }
      filters.emplace_back(i, *op);
    }
    int plan = 0;
    int argument = 0;
    auto use = [&](int constraint, int bit) {
      if (constraint < 0) return;
      plan |= bit;
      info->aConstraintUsage[constraint].argvIndex = ++argument;
      info->aConstraintUsage[constraint].omit = 1;
    };
    if (match >= 0) {
      use(match, kPlanKnn);
      use(k, kPlanK);
      use(ef, kPlanEf);
      use(limit, kPlanLimit);
      if (limit >= 0) info->aConstraintUsage[limit].omit = 0;  // SQLite applies LIMIT too
      if (rowid_in >= 0) {
        use(rowid_in, kPlanRowidIn);
      } else {
        use(rowid_equals, kPlanRowidEquals);
      }
      std::string where;
      for (const auto& [constraint, op] : filters) {
        use(constraint, 0);
        info->aConstraintUsage[constraint].omit = 0;  // SQLite checks them again: cheap, k rows
        const std::string& name = settings.columns[static_cast<size_t>(info->aConstraint[constraint].iColumn)].name;
        where += str_cat(where.empty() ? kFiltersStart : ", ", name, " ", op_text(op), op == FilterOp::kIn ? " (...)" : " ?");
      }
      info->estimatedCost = 100;
      info->estimatedRows = 10;
      if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == settings.distance_column() && !info->aOrderBy[0].desc) {
        info->orderByConsumed = 1;
      }
      // What EXPLAIN QUERY PLAN shows; the filters after " where " are also read back.
      std::string shown = str_cat("KNN on ", settings.column, " (", metric_name(settings.metric), ", ",
                                  k >= 0 ? "k = ?" : "k from LIMIT", ", ",
                                  ef >= 0 ? std::string("ef_search = ?") : str_cat("ef_search ", std::to_string(settings.ef_search)),
                                  rowid_in >= 0       ? ", filtered by rowid IN (...)"
                                  : rowid_equals >= 0 ? ", filtered by rowid = ?"
                                                      : "",
                                  ")", where);
      info->idxStr = sqlite3_mprintf("%s", shown.c_str());
      info->needToFreeIdxStr = 1;
    } else if (rowid_equals >= 0) {
      use(rowid_equals, kPlanRowidEquals);
      info->estimatedCost = 10;
      info->estimatedRows = 1;
      info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
      info->idxStr = sqlite3_mprintf("lookup by rowid");
      info->needToFreeIdxStr = 1;
    } else {
      info->estimatedCost = 1e6;
      info->estimatedRows = 100000;
      info->idxStr = sqlite3_mprintf("full scan in rowid order (no MATCH)");
      info->needToFreeIdxStr = 1;
      if (info->nOrderBy == 1 && (info->aOrderBy[0].iColumn == -1 || info->aOrderBy[0].iColumn == integer_key) &&
          !info->aOrderBy[0].desc) {
        info->orderByConsumed = 1;
      }
    }
    info->idxNum = plan;
    return Status::ok();
  });
}

Status filter(Cursor* cursor, int plan, const char* plan_text, int argc, sqlite3_value** argv) {
  HnswTable* table = table_of(cursor);
  cursor->rows.clear();
  cursor->position = 0;
  cursor->knn = (plan & kPlanKnn) != 0;
  int argument = 0;
  auto next_argument = [&]() -> sqlite3_value* { return argument < argc ? argv[argument++] : nullptr; };
  sqlite3_value* query = (plan & kPlanKnn) ? next_argument() : nullptr;
  sqlite3_value* k_value = (plan & kPlanK) ? next_argument() : nullptr;
  sqlite3_value* ef_value = (plan & kPlanEf) ? next_argument() : nullptr;
  sqlite3_value* limit_value = (plan & kPlanLimit) ? next_argument() : nullptr;
  sqlite3_value* rowid_value = (plan & (kPlanRowidEquals | kPlanRowidIn)) ? next_argument() : nullptr;
  std::vector<ColumnFilter> column_filters;
  if (cursor->knn && plan_text != nullptr) {
    for (const auto& [column, op] : parse_filters(table->settings(), plan_text)) {
      sqlite3_value* value = next_argument();
      if (value == nullptr) return Status::internal("hnsw: a filter without its value");
      ColumnFilter& filter = column_filters.emplace_back(ColumnFilter{column, op, {}});
      if (op == FilterOp::kIn) {
        sqlite3_value* element = nullptr;
        for (int rc = sqlite3_vtab_in_first(value, &element); rc == SQLITE_OK && element != nullptr;
             rc = sqlite3_vtab_in_next(value, &element)) {
          filter.values.push_back(table->filter_value(column, element));
        }
      } else {
        filter.values.push_back(table->filter_value(column, value));
      }
    }
  }

  std::optional<std::vector<int64_t>> allowed;
  if (plan & kPlanRowidIn) {
    allowed.emplace();
    sqlite3_value* value = nullptr;
    for (int rc = sqlite3_vtab_in_first(rowid_value, &value); rc == SQLITE_OK && value != nullptr;
         rc = sqlite3_vtab_in_next(rowid_value, &value)) {
      if (sqlite3_value_numeric_type(value) == SQLITE_INTEGER) allowed->push_back(sqlite3_value_int64(value));
    }
  } else if (plan & kPlanRowidEquals) {
    allowed.emplace();
    if (sqlite3_value_numeric_type(rowid_value) == SQLITE_INTEGER) allowed->push_back(sqlite3_value_int64(rowid_value));
  }

  if (!cursor->knn) {
    std::vector<int64_t> rowids;
    if (allowed) {
      for (int64_t rowid : *allowed) {
        STRATA_ASSIGN_OR_RETURN(std::optional<std::string> stored, table->stored_vector(rowid));
        if (stored) rowids.push_back(rowid);
      }
    } else {
      STRATA_ASSIGN_OR_RETURN(rowids, table->all_rowids());
    }
    for (int64_t rowid : rowids) cursor->rows.push_back({rowid, 0});
    return Status::ok();
  }

  if (k_value == nullptr && limit_value == nullptr) {
    // SQLite hands a virtual table the LIMIT of such a query only from version 3.41 on.
    return Status::error(str_cat("hnsw: a KNN query needs 'k = ?' (e.g. WHERE embedding MATCH ? AND k = 10), or a LIMIT on SQLite 3.41 or later; this is SQLite ",
                                 sqlite3_libversion()));
  }
  int64_t k = INT64_MAX;
  if (k_value != nullptr) {
    STRATA_ASSIGN_OR_RETURN(k, integral_argument(k_value, "hnsw", "k", static_cast<int64_t>(kMaxK)));
  }
  if (limit_value != nullptr) {
    int64_t limit = sqlite3_value_int64(limit_value);
    if (limit < 0 || limit > static_cast<int64_t>(kMaxK)) {
      if (k_value == nullptr) return Status::error(str_cat("hnsw: LIMIT must be from 0 to ", std::to_string(kMaxK), " in a KNN query"));
    } else {
      k = std::min(k, limit);
    }
  }
  cursor->k = k;
  if (k == 0) return Status::ok();
  int64_t ef = table->settings().ef_search;
  if (ef_value != nullptr) {
    STRATA_ASSIGN_OR_RETURN(ef, integral_argument(ef_value, "hnsw", "ef_search", 4096));
  }
  if (sqlite3_value_type(query) == SQLITE_NULL) return Status::ok();  // MATCH NULL matches nothing
  STRATA_ASSIGN_OR_RETURN(FloatVector vector, table->query_vector(query));
  // The rows the rowid, metadata and partition filters allow: the walk passes through the
  // others but returns only these.
  STRATA_ASSIGN_OR_RETURN(cursor->rows, table->nearest(vector, static_cast<size_t>(k), static_cast<size_t>(ef),
                                                       allowed ? &*allowed : nullptr, column_filters));
  return Status::ok();
}

int x_filter(sqlite3_vtab_cursor* cursor, int plan, const char* plan_text, int argc, sqlite3_value** argv) {
  return cursor_call(cursor, [&] { return filter(reinterpret_cast<Cursor*>(cursor), plan, plan_text, argc, argv); });
}
int x_next(sqlite3_vtab_cursor* cursor) {
  ++reinterpret_cast<Cursor*>(cursor)->position;
  return SQLITE_OK;
}
int x_eof(sqlite3_vtab_cursor* cursor) {
  auto* c = reinterpret_cast<Cursor*>(cursor);
  return c->position >= c->rows.size() ? 1 : 0;
}
int x_column(sqlite3_vtab_cursor* vtab_cursor, sqlite3_context* context, int column) {
  return cursor_call(vtab_cursor, [&]() -> Status {
    auto* cursor = reinterpret_cast<Cursor*>(vtab_cursor);
    const KnnResult& row = cursor->rows[cursor->position];
    HnswTable* table = table_of(cursor);
    const IndexSettings& settings = table->settings();
    if (column == settings.vector_column()) {
      STRATA_ASSIGN_OR_RETURN(std::optional<std::string> stored, table->stored_vector(row.rowid));
      if (stored) {
        sqlite3_result_blob64(context, stored->data(), stored->size(), SQLITE_TRANSIENT);
        sqlite3_result_subtype(context, vector_subtype(settings.element));
      } else {
        sqlite3_result_null(context);
      }
    } else if (column < static_cast<int>(settings.columns.size())) {
      return table->column_value(row.rowid, column, context);
    } else if (column == settings.distance_column()) {
      if (cursor->knn) sqlite3_result_double(context, row.distance);
    } else if (column == settings.k_column()) {
      if (cursor->knn) sqlite3_result_int64(context, cursor->k);
    }
    return Status::ok();
  });
}
int x_rowid(sqlite3_vtab_cursor* vtab_cursor, sqlite3_int64* rowid) {
  auto* cursor = reinterpret_cast<Cursor*>(vtab_cursor);
  *rowid = cursor->rows[cursor->position].rowid;
  return SQLITE_OK;
}

int x_shadow_name(const char* suffix) {
  std::string_view name(suffix);
  return name == "config" || name == "vectors" || name == "links" || name == "columns" || name == "tombstones" ? 1 : 0;
}

const sqlite3_module kHnswModule = table_module<HnswTable>({
    .create = create_table<open_table>,
    .connect = connect_table<open_table>,
    .best_index = x_best_index,
    .open = open_cursor<Cursor>,
    .close = close_cursor<Cursor>,
    .filter = x_filter,
    .next = x_next,
    .eof = x_eof,
    .column = x_column,
    .rowid = x_rowid,
    .shadow_name = x_shadow_name
});

void hnsw_check_function(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) return Status::error("hnsw_check: expects a table name as text");
    QualifiedName qualified = split_qualified_name(value_text(argv[0]));
    const std::string schema = qualified.schema.empty() ? "main" : qualified.schema;
    const std::string& name = qualified.table;
    sqlite3* db = sqlite3_context_db_handle(context);
    Result<Statement> probe = Statement::prepare(
        db, str_cat("SELECT 1 FROM ", quote_identifier(schema), ".", quote_identifier(name + "_config"), " LIMIT 0"));
    if (!probe.is_ok()) return Status::error(str_cat("hnsw_check: ", schema, ".", name, " is not an hnsw table"));
    STRATA_ASSIGN_OR_RETURN(std::string report, HnswTable::check(db, schema, name));
    sqlite3_result_text64(context, report.data(), report.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return Status::ok();
  });
}

}  // namespace

Result<int64_t> integral_argument(sqlite3_value* value, std::string_view who, std::string_view what, int64_t most) {
  const int type = sqlite3_value_numeric_type(value);
  const double real = sqlite3_value_double(value);
  const bool integral = type == SQLITE_INTEGER || (type == SQLITE_FLOAT && real == std::floor(real) && std::fabs(real) < 9e15);
  const int64_t number = type == SQLITE_INTEGER ? sqlite3_value_int64(value) : static_cast<int64_t>(real);
  if (!integral || number < 1 || number > most) {
    const char* shown = reinterpret_cast<const char*>(sqlite3_value_text(value));
    return Status::error(str_cat(who, ": ", what, " must be an integer from 1 to ", std::to_string(most), ", got ",
                                 shown == nullptr ? std::string("NULL") : str_cat("'", std::string(shown).substr(0, 40), "'")));
  }
  return number;
}

Status register_hnsw(sqlite3* db) {
  int rc = sqlite3_create_module_v2(db, "hnsw", &kHnswModule, nullptr, nullptr);
  if (rc != SQLITE_OK) return Status::error("hnsw: registering the module failed");
  rc = sqlite3_create_function_v2(db, "hnsw_check", 1, SQLITE_UTF8, nullptr, hnsw_check_function, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Status::error("hnsw: registering hnsw_check failed");
  STRATA_RETURN_IF_ERROR(register_vector_functions(db));
  return register_hybrid_search(db);
}

}  // namespace strata::hnsw
