#include "ext/table_registry.h"

#include <cctype>

#include "ext/sqlite_handles.h"
#include "ext/str_cat.h"

namespace strata {

std::string QualifiedName::quoted() const {
  return schema.empty() ? quote_identifier(table) : str_cat(quote_identifier(schema), ".", quote_identifier(table));
}

QualifiedName split_qualified_name(std::string_view name) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) return {std::string(), std::string(name)};
  return {std::string(name.substr(0, dot)), std::string(name.substr(dot + 1))};
}

std::string registry_key(std::string_view schema, std::string_view table) {
  std::string key = str_cat(schema, ".", table);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::vector<std::string> connect_and_list_schemas(sqlite3* db, const QualifiedName& name) {
  Result<Statement> probe = Statement::prepare(db, str_cat("SELECT 1 FROM ", name.quoted(), " LIMIT 0"));
  if (!probe.is_ok()) return {};
  if (!name.schema.empty()) return {name.schema};
  std::vector<std::string> schemas = {"temp", "main"};
  Result<Statement> list = Statement::prepare(db, "SELECT name FROM pragma_database_list WHERE name NOT IN ('temp', 'main')");
  if (list.is_ok()) {
    while (true) {
      Result<bool> row = list->step();
      if (!row.is_ok() || !*row) break;
      schemas.emplace_back(list->column_text(0));
    }
  }
  return schemas;
}

}  // namespace strata
