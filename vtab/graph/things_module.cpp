// The sqlite3_module of `things`: planning and cursors over ThingsTable (manual in graph.cpp).
#include "vtab/graph/graph_modules.h"

#include <new>

#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "ext/vtab_module.h"
#include "vtab/columnar/storage.h"
#include "vtab/columnar/values.h"
#include "vtab/graph/things_table.h"

namespace strata::graph {

namespace {

// idxNum: the access path in the low 4 bits, json_value's operator in the next 4.
enum ThingsPlan { kScan = 0, kById = 1, kByRowid = 2, kByJsonPath = 3, kByType = 4 };
enum JsonOperator { kJsonAny = 0, kJsonEq, kJsonGt, kJsonGe, kJsonLt, kJsonLe };

// The columns every plan selects from the shadow table, in this order; a JSON path plan adds the
// path's value after them.
enum SelectedColumn { kSelNode = 0, kSelColdObject = 7, kSelColdRow = 8, kSelPathValue = 9 };

struct ThingsCursor {
  StatementCursor rows;  // must stay the first member (its first member is the sqlite3_vtab_cursor)
  bool has_path = false;
  std::string path;
  // A JSON path plan over a tiered table reads hot things first (`rows`), then cold ones: from
  // kb_cold_paths when the path is indexed and compared, else every cold thing, whose value is
  // extracted from its data here (`cold_filter`) and compared with `path_operand`.
  int path_operator = 0;
  bool cold_phase_pending = false;
  bool cold_filter = false;
  std::string cold_sql;
  Statement evaluate;                       // json_extract(?data, ?path) and its comparison
  sqlite3_value* path_operand = nullptr;    // owned (sqlite3_value_dup)
  sqlite3_value* cold_path_value = nullptr; // owned: the current cold thing's value
  ~ThingsCursor() {
    sqlite3_value_free(path_operand);
    sqlite3_value_free(cold_path_value);
  }
  bool cold_row() const { return !rows.eof && !rows.statement.column_is_null(kSelColdObject); }
};

ThingsTable* table_of(ThingsCursor* cursor) { return ThingsTable::from(cursor->rows.base.pVtab); }

Result<std::unique_ptr<ThingsTable>> open_table(sqlite3* db, void* registry, int argc, const char* const* argv, bool create) {
  return ThingsTable::open(db, static_cast<std::shared_ptr<ThingsRegistry>*>(registry)->get(), argc, argv, create);
}

JsonOperator json_operator(unsigned char op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return kJsonEq;
    case SQLITE_INDEX_CONSTRAINT_GT: return kJsonGt;
    case SQLITE_INDEX_CONSTRAINT_GE: return kJsonGe;
    case SQLITE_INDEX_CONSTRAINT_LT: return kJsonLt;
    case SQLITE_INDEX_CONSTRAINT_LE: return kJsonLe;
    default: return kJsonAny;
  }
}

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  return vtab_call(vtab, [&]() -> Status {
    int id = -1, rowid = -1, path = -1, value = -1, type = -1;
    JsonOperator value_operator = kJsonAny;
    for (int i = 0; i < info->nConstraint; ++i) {
      const auto& constraint = info->aConstraint[i];
      if (!constraint.usable) continue;
      const bool equals = constraint.op == SQLITE_INDEX_CONSTRAINT_EQ;
      if (constraint.iColumn == kThingId && equals) id = i;
      if (constraint.iColumn == -1 && equals) rowid = i;
      if (constraint.iColumn == kThingType && equals) type = i;
      if (constraint.iColumn == kThingJsonPath && equals) path = i;
      if (constraint.iColumn == kThingJsonValue && (value < 0 || equals) && json_operator(constraint.op) != kJsonAny) {
        value = i;
        value_operator = json_operator(constraint.op);
      }
    }
    auto use = [&](int constraint, int argument) {
      info->aConstraintUsage[constraint].argvIndex = argument;
      info->aConstraintUsage[constraint].omit = 1;
    };
    if (id >= 0 || rowid >= 0) {
      use(id >= 0 ? id : rowid, 1);
      info->idxNum = id >= 0 ? kById : kByRowid;
      info->estimatedCost = 1;
      info->estimatedRows = 1;
      info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
      info->idxStr = const_cast<char*>(id >= 0 ? "id =" : "rowid =");
    } else if (path >= 0) {
      use(path, 1);
      if (value >= 0) use(value, 2);
      info->idxNum = kByJsonPath | (value >= 0 ? value_operator : kJsonAny) << 4;
      info->estimatedCost = value_operator == kJsonEq ? 20 : value >= 0 ? 5000 : 1e6;
      info->estimatedRows = value_operator == kJsonEq ? 10 : value >= 0 ? 5000 : 1e6;
      info->idxStr = const_cast<char*>(value_operator == kJsonEq ? "json_extract(data, json_path) = json_value"
                                       : value >= 0              ? "json_extract(data, json_path) range"
                                                                 : "json_extract(data, json_path)");
    } else if (type >= 0) {
      use(type, 1);
      info->idxNum = kByType;
      info->estimatedCost = 1000;
      info->estimatedRows = 1000;
      info->idxStr = const_cast<char*>("type =");
    } else {
      info->idxNum = kScan;
      info->estimatedCost = 1e6;
      info->estimatedRows = 1e6;
      info->idxStr = const_cast<char*>("full scan");
    }
    if (info->idxNum != kByJsonPath && info->nOrderBy == 1 && info->aOrderBy[0].iColumn == -1 && !info->aOrderBy[0].desc) {
      info->orderByConsumed = 1;  // rows come in rowid order
    }
    return Status::ok();
  });
}

int x_open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* cursor = new (std::nothrow) ThingsCursor();
  if (cursor == nullptr) return SQLITE_NOMEM;
  *out = &cursor->rows.base;
  return SQLITE_OK;
}

int x_close(sqlite3_vtab_cursor* vtab_cursor) {
  auto* cursor = reinterpret_cast<ThingsCursor*>(vtab_cursor);
  cursor->rows.release<ThingsTable>();
  delete cursor;
  return SQLITE_OK;
}

// Moves to the next row of the cold phase that passes the path comparison (cold_filter), or to
// its end.
Status next_cold_match(ThingsCursor* cursor) {
  ThingsTable* table = table_of(cursor);
  while (!cursor->rows.eof) {
    sqlite3_value_free(cursor->cold_path_value);
    cursor->cold_path_value = nullptr;
    STRATA_ASSIGN_OR_RETURN(ThingsTable::ColdValues values, table->read_cold({cursor->rows.statement.column_int64(kSelColdObject),
                                                                              cursor->rows.statement.column_int64(kSelColdRow)}));
    Statement& evaluate = cursor->evaluate;
    evaluate.reset();
    STRATA_RETURN_IF_ERROR(columnar::bind_value_view(evaluate, 1, values.data));
    STRATA_RETURN_IF_ERROR(evaluate.bind_text(2, cursor->path));
    if (cursor->path_operator != kJsonAny) {
      if (cursor->path_operand != nullptr) {
        STRATA_RETURN_IF_ERROR(evaluate.bind_value(3, cursor->path_operand));
      } else {
        STRATA_RETURN_IF_ERROR(evaluate.bind_null(3));
      }
    }
    STRATA_ASSIGN_OR_RETURN(bool row, evaluate.step());
    if (row && (cursor->path_operator == kJsonAny || (!evaluate.column_is_null(1) && evaluate.column_int64(1) != 0))) {
      cursor->cold_path_value = sqlite3_value_dup(evaluate.column_value(0));
      evaluate.reset();
      return Status::ok();
    }
    evaluate.reset();
    STRATA_RETURN_IF_ERROR(cursor->rows.advance());
  }
  return Status::ok();
}

// The next row: of the current phase, else the first of the cold phase.
Status advance(ThingsCursor* cursor) {
  STRATA_RETURN_IF_ERROR(cursor->rows.advance());
  if (!cursor->rows.eof) return cursor->cold_filter && !cursor->cold_phase_pending ? next_cold_match(cursor) : Status::ok();
  if (!cursor->cold_phase_pending) return Status::ok();
  cursor->cold_phase_pending = false;
  ThingsTable* table = table_of(cursor);
  cursor->rows.release<ThingsTable>();
  cursor->rows.sql = cursor->cold_sql;
  STRATA_ASSIGN_OR_RETURN(cursor->rows.statement, table->statements().take(cursor->rows.sql));
  if (!cursor->cold_filter) {
    STRATA_RETURN_IF_ERROR(cursor->rows.statement.bind_text(1, cursor->path));
    STRATA_RETURN_IF_ERROR(cursor->rows.statement.bind_value(2, cursor->path_operand));
  }
  STRATA_RETURN_IF_ERROR(cursor->rows.advance());
  return cursor->cold_filter ? next_cold_match(cursor) : Status::ok();
}

Status filter(ThingsCursor* cursor, int plan, int argc, sqlite3_value** argv) {
  ThingsTable* table = table_of(cursor);
  cursor->rows.release<ThingsTable>();
  cursor->rows.eof = true;
  cursor->has_path = false;
  cursor->cold_phase_pending = false;
  cursor->cold_filter = false;
  sqlite3_value_free(cursor->path_operand);
  cursor->path_operand = nullptr;
  sqlite3_value_free(cursor->cold_path_value);
  cursor->cold_path_value = nullptr;
  const int kind = plan & 15;
  std::string select = str_cat("SELECT node, id, type, data, embedding, created_at, updated_at, ",
                               table->tiered() ? "cold_object, cold_row" : "NULL, NULL");
  std::string where;
  if (kind == kByJsonPath) {
    if (argc < 1 || sqlite3_value_type(argv[0]) != SQLITE_TEXT) return Status::ok();  // json_path = NULL/number: no rows
    cursor->has_path = true;
    cursor->path = std::string(value_text(argv[0]));
    // The path is spelled into the SQL so that an index on json_extract(data, '<path>') matches.
    std::string extract = str_cat("json_extract(data, ", quote_literal(cursor->path), ")");
    select += str_cat(", ", extract);
    static constexpr std::string_view kOperators[] = {"", " = ?1", " > ?1", " >= ?1", " < ?1", " <= ?1"};
    static constexpr std::string_view kColdOperators[] = {"", " = ?2", " > ?2", " >= ?2", " < ?2", " <= ?2"};
    int op = (plan >> 4) & 15;
    if (op >= 6) op = kJsonAny;
    cursor->path_operator = op;
    if (op != kJsonAny) where = str_cat(" WHERE ", extract, kOperators[op]);
    if (table->tiered()) {
      where += where.empty() ? " WHERE cold_object IS NULL" : " AND cold_object IS NULL";
      if (argc >= 2) cursor->path_operand = sqlite3_value_dup(argv[1]);
      STRATA_ASSIGN_OR_RETURN(bool indexed, table->has_path_index(cursor->path));
      cursor->cold_phase_pending = true;
      if (indexed && op != kJsonAny) {
        // Cold things' values of an indexed path are kept hot in kb_cold_paths.
        cursor->cold_sql = str_cat("SELECT t.node, t.id, t.type, t.data, t.embedding, t.created_at, t.updated_at, t.cold_object,"
                                   " t.cold_row, c.value FROM ", table->shadow("cold_paths"), " c JOIN ", table->shadow("things"),
                                   " t ON t.node = c.node WHERE c.path = ?1 AND c.value", kColdOperators[op]);
      } else {
        cursor->cold_filter = true;
        cursor->cold_sql = str_cat("SELECT node, id, type, data, embedding, created_at, updated_at, cold_object, cold_row, NULL FROM ",
                                   table->shadow("things"), " WHERE cold_object IS NOT NULL ORDER BY node");
        static constexpr std::string_view kComparisons[] = {"NULL", "v = ?3", "v > ?3", "v >= ?3", "v < ?3", "v <= ?3"};
        STRATA_ASSIGN_OR_RETURN(cursor->evaluate, Statement::prepare(table->db(), str_cat("SELECT v, ", kComparisons[op],
                                                                                          " FROM (SELECT json_extract(?1, ?2) AS v)")));
      }
    }
  } else if (kind == kById) {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[0]) == SQLITE_BLOB) return Status::ok();
    where = " WHERE id = ?1";
  } else if (kind == kByRowid) {
    if (sqlite3_value_numeric_type(argv[0]) != SQLITE_INTEGER) return Status::ok();
    where = " WHERE node = ?1";
  } else if (kind == kByType) {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return Status::ok();
    where = " WHERE type = ?1";
  }
  cursor->rows.sql = str_cat(select, " FROM ", table->shadow("things"), where, kind == kScan || kind == kByType ? " ORDER BY node" : "");
  STRATA_ASSIGN_OR_RETURN(cursor->rows.statement, table->statements().take(cursor->rows.sql));
  if (kind == kById) {
    STRATA_RETURN_IF_ERROR(cursor->rows.statement.bind_text(1, value_text(argv[0])));  // TEXT affinity, as the column has
  } else if (kind == kByRowid) {
    STRATA_RETURN_IF_ERROR(cursor->rows.statement.bind_int64(1, sqlite3_value_int64(argv[0])));
  } else if (kind == kByType) {
    STRATA_RETURN_IF_ERROR(cursor->rows.statement.bind_value(1, argv[0]));
  } else if (kind == kByJsonPath && argc >= 2) {
    STRATA_RETURN_IF_ERROR(cursor->rows.statement.bind_value(1, argv[1]));
  }
  return advance(cursor);
}

int x_filter(sqlite3_vtab_cursor* cursor, int plan, const char*, int argc, sqlite3_value** argv) {
  return cursor_call(cursor, [&] { return filter(reinterpret_cast<ThingsCursor*>(cursor), plan, argc, argv); });
}
int x_next(sqlite3_vtab_cursor* cursor) {
  return cursor_call(cursor, [&] { return advance(reinterpret_cast<ThingsCursor*>(cursor)); });
}
int x_eof(sqlite3_vtab_cursor* cursor) { return reinterpret_cast<ThingsCursor*>(cursor)->rows.eof ? 1 : 0; }

int x_column(sqlite3_vtab_cursor* vtab_cursor, sqlite3_context* context, int column) {
  auto* cursor = reinterpret_cast<ThingsCursor*>(vtab_cursor);
  // An UPDATE that leaves these unchanged need not read them (xUpdate sees them as unchanged).
  if ((column == kThingId || column == kThingData || column == kThingEmbedding || column == kThingCreatedAt) &&
      sqlite3_vtab_nochange(context)) {
    return SQLITE_OK;
  }
  if (column == kThingJsonPath) {
    if (cursor->has_path) sqlite3_result_text64(context, cursor->path.data(), cursor->path.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return SQLITE_OK;
  }
  if (column == kThingJsonValue) {
    if (!cursor->has_path) return SQLITE_OK;
    if (cursor->cold_filter && !cursor->cold_phase_pending) {
      if (cursor->cold_path_value != nullptr) sqlite3_result_value(context, cursor->cold_path_value);
    } else {
      sqlite3_result_value(context, cursor->rows.statement.column_value(kSelPathValue));
    }
    return SQLITE_OK;
  }
  if ((column == kThingData || column == kThingEmbedding) && cursor->cold_row()) {
    return cursor_call(vtab_cursor, [&]() -> Status {
      const Statement& row = cursor->rows.statement;
      STRATA_ASSIGN_OR_RETURN(ThingsTable::ColdValues values,
                              table_of(cursor)->read_cold({row.column_int64(kSelColdObject), row.column_int64(kSelColdRow)}));
      columnar::set_result(context, column == kThingData ? values.data : values.embedding);
      return Status::ok();
    });
  }
  sqlite3_result_value(context, cursor->rows.statement.column_value(column + 1));
  return SQLITE_OK;
}

int x_rowid(sqlite3_vtab_cursor* vtab_cursor, sqlite3_int64* rowid) {
  *rowid = reinterpret_cast<ThingsCursor*>(vtab_cursor)->rows.statement.column_int64(0);
  return SQLITE_OK;
}

int x_shadow_name(const char* suffix) {
  std::string_view name(suffix);
  return name == "things" || name == "config" || name == "objects" || name == "cold_paths" ? 1 : 0;
}

}  // namespace

const sqlite3_module& things_module() {
  static const sqlite3_module module = table_module<ThingsTable>({
      .create = create_table<open_table>,
      .connect = connect_table<open_table>,
      .best_index = x_best_index,
      .open = x_open,
      .close = x_close,
      .filter = x_filter,
      .next = x_next,
      .eof = x_eof,
      .column = x_column,
      .rowid = x_rowid,
      .shadow_name = x_shadow_name
  });
  return module;
}

}  // namespace strata::graph
