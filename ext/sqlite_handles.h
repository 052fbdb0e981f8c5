// RAII owners for SQLite resources, and small helpers for building SQL text.
//
//   Statement     owns a sqlite3_stmt (finalized on destruction); prepare/bind/step return Status.
//   SqliteString  owns a char* from sqlite3_mprintf / sqlite3_malloc (sqlite3_free on destruction).
//
// Hot statements are prepared once and kept as members of the vtab object; Statement::reset()
// makes one ready for its next use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata {

// The Status for an SQLite result code, with the connection's error message (sqlite3_errmsg)
// prefixed by `context` when given ("columnar: reading chunk 4: disk I/O error").
Status status_from_sqlite(sqlite3* db, int rc, std::string_view context = {});

class SqliteString {
 public:
  SqliteString() = default;
  explicit SqliteString(char* owned) : text_(owned) {}
  SqliteString(const SqliteString&) = delete;
  SqliteString& operator=(const SqliteString&) = delete;
  SqliteString(SqliteString&& other) noexcept : text_(other.release()) {}
  SqliteString& operator=(SqliteString&& other) noexcept;
  ~SqliteString() { sqlite3_free(text_); }

  // A copy of `text` in SQLite's allocator, for handing to SQLite (zErrMsg, …). Null on OOM.
  static SqliteString copy_of(std::string_view text);

  const char* get() const { return text_; }
  std::string_view view() const { return text_ ? std::string_view(text_) : std::string_view(); }
  bool empty() const { return text_ == nullptr || text_[0] == '\0'; }
  // Gives up ownership; the caller must sqlite3_free the pointer.
  char* release() {
    char* owned = text_;
    text_ = nullptr;
    return owned;
  }

 private:
  char* text_ = nullptr;
};

class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&& other) noexcept;
  ~Statement() { sqlite3_finalize(stmt_); }

  // Prepares exactly one statement; trailing text other than whitespace, comments and ';'
  // is an error, so a typo cannot silently drop half of the SQL.
  static Result<Statement> prepare(sqlite3* db, std::string_view sql);
  // SQLITE_PREPARE_PERSISTENT: for statements cached on a vtab and reused many times.
  static Result<Statement> prepare_persistent(sqlite3* db, std::string_view sql);

  bool valid() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }
  sqlite3* db() const { return db_; }

  // Parameters are 1-based, as in sqlite3_bind_*.
  Status bind_null(int index);
  Status bind_int64(int index, int64_t value);
  Status bind_double(int index, double value);
  Status bind_text(int index, std::string_view value);  // copied (SQLITE_TRANSIENT)
  Status bind_blob(int index, std::span<const std::byte> value);
  Status bind_value(int index, const sqlite3_value* value);

  // true: a row is ready; false: the statement is done.
  Result<bool> step();
  // Steps until done; for statements that return no rows (or whose rows are not wanted).
  Status run();
  // Ready to run again; bindings are kept (clear_bindings() drops them).
  void reset();
  void clear_bindings();

  int column_count() const { return sqlite3_column_count(stmt_); }
  int column_type(int column) const { return sqlite3_column_type(stmt_, column); }
  bool column_is_null(int column) const { return column_type(column) == SQLITE_NULL; }
  int64_t column_int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  double column_double(int column) const { return sqlite3_column_double(stmt_, column); }
  // Valid until the next step/reset/finalize.
  std::string_view column_text(int column) const;
  std::span<const std::byte> column_blob(int column) const;
  sqlite3_value* column_value(int column) const { return sqlite3_column_value(stmt_, column); }

 private:
  static Result<Statement> prepare_with_flags(sqlite3* db, std::string_view sql, unsigned flags);
  Status check_bind(int rc, int index);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Runs SQL that returns no rows (several statements allowed), as sqlite3_exec does.
Status execute(sqlite3* db, std::string_view sql);

// "name" with inner double quotes doubled: safe for any identifier.
std::string quote_identifier(std::string_view name);
// 'text' with inner single quotes doubled: safe for any string literal.
std::string quote_literal(std::string_view text);

// A value's bytes as TEXT (UTF-8; a number is rendered as SQLite renders it) or as a BLOB, valid
// until the value changes; empty for NULL.
std::string_view value_text(sqlite3_value* value);
std::string_view value_blob(sqlite3_value* value);

// The directory of database `schema`'s file ("main", an attached name), without a trailing
// '/'; empty for an in-memory or temporary database. Relative file: locations resolve against
// it (tiering::resolve_file_location).
std::string database_directory(sqlite3* db, const char* schema);

// A transaction of a connection in autocommit mode (the tier functions commit their own steps),
// rolled back unless committed.
class SqlTransaction {
 public:
  explicit SqlTransaction(sqlite3* db) : db_(db) {}
  ~SqlTransaction() {
    if (open_) (void)execute(db_, "ROLLBACK");
  }
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;
  // BEGIN IMMEDIATE when `write`, else a deferred BEGIN (a read transaction).
  Status begin(bool write) {
    STRATA_RETURN_IF_ERROR(execute(db_, write ? "BEGIN IMMEDIATE" : "BEGIN"));
    open_ = true;
    return Status::ok();
  }
  Status commit() {
    STRATA_RETURN_IF_ERROR(execute(db_, "COMMIT"));
    open_ = false;
    return Status::ok();
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

// Shadow-table INSERTs set the connection's last_insert_rowid(); the user's must survive them.
class PreserveLastInsertRowid {
 public:
  explicit PreserveLastInsertRowid(sqlite3* db) : db_(db), rowid_(sqlite3_last_insert_rowid(db)) {}
  ~PreserveLastInsertRowid() { sqlite3_set_last_insert_rowid(db_, rowid_); }
  PreserveLastInsertRowid(const PreserveLastInsertRowid&) = delete;
  PreserveLastInsertRowid& operator=(const PreserveLastInsertRowid&) = delete;

 private:
  sqlite3* db_;
  sqlite3_int64 rowid_;
};

}  // namespace strata
