#include "vtab/graph/shadow_statements.h"

namespace strata::graph {

namespace {
constexpr size_t kPooledPerQuery = 4;
}  // namespace

Result<Statement*> ShadowStatements::keyed(int key, const std::function<std::string()>& sql) {
  auto found = keyed_.find(key);
  if (found != keyed_.end()) {
    found->second.reset();
    return &found->second;
  }
  STRATA_ASSIGN_OR_RETURN(Statement prepared, Statement::prepare_persistent(db_, sql()));
  return &keyed_.emplace(key, std::move(prepared)).first->second;
}

Result<Statement> ShadowStatements::take(const std::string& sql) {
  auto found = pool_.find(sql);
  if (found != pool_.end()) {
    Statement statement = std::move(found->second);
    pool_.erase(found);
    return statement;
  }
  return Statement::prepare_persistent(db_, sql);
}

void ShadowStatements::give_back(const std::string& sql, Statement statement) {
  if (!statement.valid() || pool_.count(sql) >= kPooledPerQuery) return;
  statement.reset();
  statement.clear_bindings();
  pool_.emplace(sql, std::move(statement));
}

void ShadowStatements::clear() {
  keyed_.clear();
  pool_.clear();
}

}  // namespace strata::graph
