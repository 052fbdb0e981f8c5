#include "vtab/graph/graph_common.h"

#include "ext/sqlite_handles.h"
#include "ext/str_cat.h"

namespace strata::graph {

std::string shadow_name(std::string_view schema, std::string_view table, std::string_view suffix) {
  return str_cat(quote_identifier(schema), ".", quote_identifier(str_cat(table, "_", suffix)));
}

Result<std::string_view> id_text(std::string_view module, std::string_view what, sqlite3_value* value) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_NULL: return Status::constraint(str_cat(module, ": ", what, " must not be NULL"));
    case SQLITE_BLOB: return Status::constraint(str_cat(module, ": ", what, " must be TEXT, got a BLOB"));
    default: return value_text(value);
  }
}

Result<int64_t> timestamp_or_now(std::string_view module, std::string_view what, sqlite3_value* value, int64_t now) {
  switch (sqlite3_value_numeric_type(value)) {
    case SQLITE_NULL: return now;
    case SQLITE_INTEGER: return sqlite3_value_int64(value);
    default: return Status::constraint(str_cat(module, ": ", what, " must be an integer (unix milliseconds) or NULL"));
  }
}

Status check_json_data(std::string_view module, sqlite3_value* data) {
  if (sqlite3_value_type(data) == SQLITE_BLOB) {
    return Status::constraint(str_cat(module, ": data must be JSON text or NULL, got a BLOB"));
  }
  return Status::ok();
}

Result<std::vector<std::string>> first_column_texts(Statement& statement) {
  std::vector<std::string> texts;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, statement.step());
    if (!row) break;
    texts.emplace_back(statement.column_text(0));
  }
  statement.reset();
  return texts;
}

Status check_stored_format(sqlite3* db, std::string_view schema, std::string_view table, std::string_view module) {
  Result<Statement> read = Statement::prepare(
      db, str_cat("SELECT (SELECT value FROM ", shadow_name(schema, table, "config"), " WHERE key = 'module'), (SELECT value FROM ",
                  shadow_name(schema, table, "config"), " WHERE key = 'format_version')"));
  if (!read.is_ok()) return Status::error(str_cat(module, ": '", table, "' is not a ", module, " table"));
  STRATA_ASSIGN_OR_RETURN(bool row, read->step());
  if (!row || read->column_text(0) != module) return Status::error(str_cat(module, ": '", table, "' is not a ", module, " table"));
  if (read->column_int64(1) < 1 || read->column_int64(1) > kFormatVersion) {
    return Status::error(str_cat(module, ": '", table, "' has format version ", read->column_text(1),
                                 "; this strata reads version ", std::to_string(kFormatVersion), " (docs/format-graph.md)"));
  }
  return Status::ok();
}

}  // namespace strata::graph
