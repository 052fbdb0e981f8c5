// The prepared statements a graph table runs on its shadow tables: write statements by a fixed
// key (prepared once), and read statements pooled by their SQL, so a cursor reuses a prepared
// one and the two cursors of a self-join never share one.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "ext/sqlite_api.h"
#include "ext/sqlite_handles.h"
#include "ext/status.h"

namespace strata::graph {

class ShadowStatements {
 public:
  explicit ShadowStatements(sqlite3* db) : db_(db) {}

  // The statement for `key`, reset, prepared from sql() the first time.
  Result<Statement*> keyed(int key, const std::function<std::string()>& sql);
  Result<Statement> take(const std::string& sql);
  void give_back(const std::string& sql, Statement statement);
  // Before the shadow tables are dropped or renamed.
  void clear();

 private:
  sqlite3* db_;
  std::map<int, Statement> keyed_;
  std::multimap<std::string, Statement> pool_;
};

// A cursor that reads rows of one pooled statement.
struct StatementCursor {
  sqlite3_vtab_cursor base{};  // must stay the first member
  std::string sql;
  Statement statement;
  bool eof = true;

  Status advance() {
    STRATA_ASSIGN_OR_RETURN(bool row, statement.step());
    eof = !row;
    return Status::ok();
  }
  // Hands the statement back to the table's pool.
  template <class Table>
  void release() {
    if (statement.valid()) Table::from(base.pVtab)->statements().give_back(sql, std::move(statement));
    statement = Statement();
  }
};

}  // namespace strata::graph
