// The sqlite3_module of `relationships`: planning and cursors over RelationshipsTable (manual
// in graph.cpp).
#include <new>

#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "ext/vtab_module.h"
#include "vtab/columnar/values.h"
#include "vtab/graph/graph_modules.h"
#include "vtab/graph/relationships_table.h"

namespace strata::graph {

namespace {

// idxNum: the access path in the low 4 bits; kAlsoType / kAlsoTo when from_id or to_id come
// with type = ? (and from_id with to_id = ?). Arguments: the key, then type, then to_id.
enum RelationshipsPlan { kScan = 0, kByRowid = 1, kById = 2, kByFrom = 3, kByTo = 4, kByType = 5 };
constexpr int kAlsoType = 16;
constexpr int kAlsoTo = 32;

struct RelationshipsCursor {
  StatementCursor rows;  // must stay the first member (its first member is the sqlite3_vtab_cursor)
};

RelationshipsTable* table_of(RelationshipsCursor* cursor) { return RelationshipsTable::from(cursor->rows.base.pVtab); }

Result<std::unique_ptr<RelationshipsTable>> open_table(sqlite3* db, void* registry, int argc, const char* const* argv,
                                                       bool create) {
  return RelationshipsTable::open(db, argc, argv, create, *static_cast<std::shared_ptr<GraphRegistry>*>(registry));
}

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  return vtab_call(vtab, [&]() -> Status {
    int rowid = -1, id = -1, from = -1, to = -1, type = -1;
    for (int i = 0; i < info->nConstraint; ++i) {
      const auto& constraint = info->aConstraint[i];
      if (!constraint.usable || constraint.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
      switch (constraint.iColumn) {
        case -1: rowid = i; break;
        case kEdgeId: id = i; break;
        case kEdgeFrom: from = i; break;
        case kEdgeTo: to = i; break;
        case kEdgeType: type = i; break;
        default: break;
      }
    }
    int argument = 0;
    auto use = [&](int constraint) {
      info->aConstraintUsage[constraint].argvIndex = ++argument;
      info->aConstraintUsage[constraint].omit = 1;
    };
    if (rowid >= 0 || id >= 0) {
      use(rowid >= 0 ? rowid : id);
      info->idxNum = rowid >= 0 ? kByRowid : kById;
      info->estimatedCost = 1;
      info->estimatedRows = 1;
      info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
      info->idxStr = const_cast<char*>(rowid >= 0 ? "rowid =" : "id =");
    } else if (from >= 0 || to >= 0) {
      use(from >= 0 ? from : to);
      info->idxNum = from >= 0 ? kByFrom : kByTo;
      if (type >= 0) {
        use(type);
        info->idxNum |= kAlsoType;
      }
      if (from >= 0 && to >= 0) {
        use(to);
        info->idxNum |= kAlsoTo;
      }
      const bool unique = from >= 0 && to >= 0 && type >= 0;
      info->estimatedCost = unique ? 1 : 10;
      info->estimatedRows = unique ? 1 : 10;
      if (unique) info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
      info->idxStr = const_cast<char*>(from >= 0 ? "from_id =" : "to_id =");
    } else if (type >= 0) {
      use(type);
      info->idxNum = kByType;
      info->estimatedCost = 1e5;
      info->estimatedRows = 1e5;
      info->idxStr = const_cast<char*>("type = (scan)");
    } else {
      info->idxNum = kScan;
      info->estimatedCost = 1e6;
      info->estimatedRows = 1e6;
      info->idxStr = const_cast<char*>("full scan");
    }
    if ((info->idxNum == kScan || info->idxNum == kByType) && info->nOrderBy == 1 && info->aOrderBy[0].iColumn == -1 &&
        !info->aOrderBy[0].desc) {
      info->orderByConsumed = 1;
    }
    return Status::ok();
  });
}

int x_open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* cursor = new (std::nothrow) RelationshipsCursor();
  if (cursor == nullptr) return SQLITE_NOMEM;
  *out = &cursor->rows.base;
  return SQLITE_OK;
}

int x_close(sqlite3_vtab_cursor* vtab_cursor) {
  auto* cursor = reinterpret_cast<RelationshipsCursor*>(vtab_cursor);
  cursor->rows.release<RelationshipsTable>();
  delete cursor;
  return SQLITE_OK;
}

// A text key as the TEXT column compares it, or nothing when the value can equal no stored text.
std::optional<std::string_view> text_key(sqlite3_value* value) {
  if (sqlite3_value_type(value) == SQLITE_NULL || sqlite3_value_type(value) == SQLITE_BLOB) return std::nullopt;
  return value_text(value);
}

Status filter(RelationshipsCursor* cursor, int plan, int argc, sqlite3_value** argv) {
  RelationshipsTable* table = table_of(cursor);
  cursor->rows.release<RelationshipsTable>();
  cursor->rows.eof = true;
  const int kind = plan & 15;
  // Parameters ?1, ?2, … in order; the id of an id lookup is the only text one.
  std::vector<int64_t> numbers;
  std::optional<std::string> id_key;
  std::string where;
  int argument = 0;
  auto next_argument = [&]() { return argument < argc ? argv[argument++] : nullptr; };
  if (kind == kByRowid) {
    sqlite3_value* key = next_argument();
    if (sqlite3_value_numeric_type(key) != SQLITE_INTEGER) return Status::ok();
    where = " AND e.edge = ?1";
    numbers.push_back(sqlite3_value_int64(key));
  } else if (kind == kById) {
    std::optional<std::string_view> key = text_key(next_argument());
    if (!key) return Status::ok();
    where = " AND e.id = ?1";
    id_key = std::string(*key);
  } else if (kind == kByFrom || kind == kByTo) {
    std::optional<std::string_view> key = text_key(next_argument());
    if (!key) return Status::ok();
    STRATA_ASSIGN_OR_RETURN(std::optional<NodeId> node, table->node_of(*key));
    if (!node) return Status::ok();
    where = kind == kByFrom ? " AND e.from_node = ?1" : " AND e.to_node = ?1";
    numbers.push_back(*node);
    if (plan & kAlsoType) {
      std::optional<std::string_view> type = text_key(next_argument());
      if (!type) return Status::ok();
      STRATA_ASSIGN_OR_RETURN(std::optional<TypeCode> code, table->type_code(*type));
      if (!code) return Status::ok();
      where += str_cat(" AND e.type_code = ?", std::to_string(numbers.size() + 1));
      numbers.push_back(*code);
    }
    if (plan & kAlsoTo) {
      std::optional<std::string_view> to = text_key(next_argument());
      if (!to) return Status::ok();
      STRATA_ASSIGN_OR_RETURN(std::optional<NodeId> to_node, table->node_of(*to));
      if (!to_node) return Status::ok();
      where += str_cat(" AND e.to_node = ?", std::to_string(numbers.size() + 1));
      numbers.push_back(*to_node);
    }
  } else if (kind == kByType) {
    std::optional<std::string_view> type = text_key(next_argument());
    if (!type) return Status::ok();
    STRATA_ASSIGN_OR_RETURN(std::optional<TypeCode> code, table->type_code(*type));
    if (!code) return Status::ok();
    where = " AND e.type_code = ?1";
    numbers.push_back(*code);
  }
  cursor->rows.sql = str_cat("SELECT e.edge, e.id, f.id, t.id, y.name, e.data, e.created_at, ",
                             table->tiered() ? "e.cold_object, e.cold_row" : "NULL, NULL", " FROM ", table->shadow("edges"), " e CROSS JOIN ",
                        table->things_shadow(), " f CROSS JOIN ", table->things_shadow(), " t CROSS JOIN ", table->shadow("types"),
                        " y WHERE f.node = e.from_node AND t.node = e.to_node AND y.code = e.type_code", where,
                        kind == kScan || kind == kByType ? " ORDER BY e.edge" : "");
  STRATA_ASSIGN_OR_RETURN(cursor->rows.statement, table->statements().take(cursor->rows.sql));
  if (id_key) STRATA_RETURN_IF_ERROR(cursor->rows.statement.bind_text(1, *id_key));
  for (size_t i = 0; i < numbers.size(); ++i) STRATA_RETURN_IF_ERROR(cursor->rows.statement.bind_int64(static_cast<int>(i) + 1, numbers[i]));
  return cursor->rows.advance();
}

int x_filter(sqlite3_vtab_cursor* cursor, int plan, const char*, int argc, sqlite3_value** argv) {
  return cursor_call(cursor, [&] { return filter(reinterpret_cast<RelationshipsCursor*>(cursor), plan, argc, argv); });
}
int x_next(sqlite3_vtab_cursor* cursor) {
  return cursor_call(cursor, [&] { return reinterpret_cast<RelationshipsCursor*>(cursor)->rows.advance(); });
}
int x_eof(sqlite3_vtab_cursor* cursor) { return reinterpret_cast<RelationshipsCursor*>(cursor)->rows.eof ? 1 : 0; }

// The selected columns: edge, then the table's six, then cold_object and cold_row.
constexpr int kSelectedColdObject = 7;

int x_column(sqlite3_vtab_cursor* vtab_cursor, sqlite3_context* context, int column) {
  auto* cursor = reinterpret_cast<RelationshipsCursor*>(vtab_cursor);
  if ((column == kEdgeId || column == kEdgeData || column == kEdgeCreatedAt) && sqlite3_vtab_nochange(context)) return SQLITE_OK;
  const Statement& row = cursor->rows.statement;
  if (column == kEdgeData && !row.column_is_null(kSelectedColdObject)) {  // a cold payload: from its object
    return cursor_call(vtab_cursor, [&]() -> Status {
      auto* table = RelationshipsTable::from(vtab_cursor->pVtab);
      STRATA_ASSIGN_OR_RETURN(ValueView data, table->read_cold_data({row.column_int64(kSelectedColdObject), row.column_int64(kSelectedColdObject + 1)}));
      columnar::set_result(context, data);
      return Status::ok();
    });
  }
  sqlite3_result_value(context, row.column_value(column + 1));
  return SQLITE_OK;
}

int x_rowid(sqlite3_vtab_cursor* vtab_cursor, sqlite3_int64* rowid) {
  *rowid = reinterpret_cast<RelationshipsCursor*>(vtab_cursor)->rows.statement.column_int64(0);
  return SQLITE_OK;
}

int x_shadow_name(const char* suffix) {
  std::string_view name(suffix);
  return name == "edges" || name == "types" || name == "config" || name == "objects" ? 1 : 0;
}

}  // namespace

const sqlite3_module& relationships_module() {
  static const sqlite3_module module = table_module<RelationshipsTable>({
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
