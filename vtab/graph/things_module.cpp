// The sqlite3_module of `things`: planning and cursors over ThingsTable (manual in graph.cpp).
#include "vtab/graph/graph_modules.h"

#include <new>

#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "ext/vtab_module.h"
#include "vtab/graph/things_table.h"

namespace strata::graph {

namespace {

// idxNum: the access path in the low 4 bits, json_value's operator in the next 4.
enum ThingsPlan { kScan = 0, kById = 1, kByRowid = 2, kByJsonPath = 3, kByType = 4 };
enum JsonOperator { kJsonAny = 0, kJsonEq, kJsonGt, kJsonGe, kJsonLt, kJsonLe };

struct ThingsCursor {
  StatementCursor rows;  // must stay the first member (its first member is the sqlite3_vtab_cursor)
  bool has_path = false;
  std::string path;
};

ThingsTable* table_of(ThingsCursor* cursor) { return ThingsTable::from(cursor->rows.base.pVtab); }

Result<std::unique_ptr<ThingsTable>> open_table(sqlite3* db, void*, int argc, const char* const* argv, bool create) {
  return ThingsTable::open(db, argc, argv, create);
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

Status filter(ThingsCursor* cursor, int plan, int argc, sqlite3_value** argv) {
  ThingsTable* table = table_of(cursor);
  cursor->rows.release<ThingsTable>();
  cursor->rows.eof = true;
  cursor->has_path = false;
  const int kind = plan & 15;
  std::string select = "SELECT node, id, type, data, embedding, created_at, updated_at";
  std::string where;
  if (kind == kByJsonPath) {
    if (argc < 1 || sqlite3_value_type(argv[0]) != SQLITE_TEXT) return Status::ok();  // json_path = NULL/number: no rows
    cursor->has_path = true;
    cursor->path = std::string(value_text(argv[0]));
    // The path is spelled into the SQL so that an index on json_extract(data, '<path>') matches.
    std::string extract = str_cat("json_extract(data, ", quote_literal(cursor->path), ")");
    select += str_cat(", ", extract);
    static constexpr std::string_view kOperators[] = {"", " = ?1", " > ?1", " >= ?1", " < ?1", " <= ?1"};
    int op = (plan >> 4) & 15;
    if (op != kJsonAny && op < 6) where = str_cat(" WHERE ", extract, kOperators[op]);
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
  return cursor->rows.advance();
}

int x_filter(sqlite3_vtab_cursor* cursor, int plan, const char*, int argc, sqlite3_value** argv) {
  return cursor_call(cursor, [&] { return filter(reinterpret_cast<ThingsCursor*>(cursor), plan, argc, argv); });
}
int x_next(sqlite3_vtab_cursor* cursor) {
  return cursor_call(cursor, [&] { return reinterpret_cast<ThingsCursor*>(cursor)->rows.advance(); });
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
    if (cursor->has_path) sqlite3_result_value(context, cursor->rows.statement.column_value(kThingColumnCount - 1));
    return SQLITE_OK;
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
  return name == "things" || name == "config" ? 1 : 0;
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
