#include "ext/sqlite_handles.h"

#include <cstring>
#include <limits>

namespace strata {

namespace {

// True when `tail` holds only whitespace, SQL comments and semicolons.
bool is_empty_sql(std::string_view tail) {
  size_t i = 0;
  while (i < tail.size()) {
    char c = tail[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ';') {
      ++i;
    } else if (tail.substr(i, 2) == "--") {
      size_t end = tail.find('\n', i);
      i = end == std::string_view::npos ? tail.size() : end + 1;
    } else if (tail.substr(i, 2) == "/*") {
      size_t end = tail.find("*/", i + 2);
      i = end == std::string_view::npos ? tail.size() : end + 2;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

Status status_from_sqlite(sqlite3* db, int rc, std::string_view context) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return Status::ok();
  if ((rc & 0xff) == SQLITE_NOMEM) return Status::no_memory();
  // The connection knows the extended code (SQLITE_CONSTRAINT_UNIQUE, …) even when the API
  // returned only the primary one.
  if (db != nullptr && (sqlite3_extended_errcode(db) & 0xff) == (rc & 0xff)) {
    rc = sqlite3_extended_errcode(db);
  }
  std::string message(context);
  if (!message.empty()) message += ": ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  StatusCode code = StatusCode::kError;
  switch (rc & 0xff) {
    case SQLITE_CORRUPT: code = StatusCode::kCorruption; break;
    case SQLITE_CONSTRAINT: code = StatusCode::kConstraint; break;
    case SQLITE_IOERR: code = StatusCode::kIoError; break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = StatusCode::kBusy; break;
    case SQLITE_TOOBIG: code = StatusCode::kTooBig; break;
    default: break;
  }
  // Keep SQLite's precise (extended) code so it reaches the user unchanged.
  return Status(code, std::move(message)).with_sqlite_code(rc);
}

SqliteString& SqliteString::operator=(SqliteString&& other) noexcept {
  if (this != &other) {
    sqlite3_free(text_);
    text_ = other.release();
  }
  return *this;
}

SqliteString SqliteString::copy_of(std::string_view text) {
  if (text.size() >= static_cast<size_t>(std::numeric_limits<int>::max())) return SqliteString();
  auto* copy = static_cast<char*>(sqlite3_malloc(static_cast<int>(text.size()) + 1));
  if (copy == nullptr) return SqliteString();
  if (!text.empty()) std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  return SqliteString(copy);
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  return prepare_with_flags(db, sql, 0);
}

Result<Statement> Statement::prepare_persistent(sqlite3* db, std::string_view sql) {
  return prepare_with_flags(db, sql, SQLITE_PREPARE_PERSISTENT);
}

Result<Statement> Statement::prepare_with_flags(sqlite3* db, std::string_view sql,
                                                unsigned flags) {
  if (sql.size() >= static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Status::too_big("SQL text too long");
  }
  Statement statement;
  statement.db_ = db;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags,
                              &statement.stmt_, &tail);
  if (rc != SQLITE_OK) return status_from_sqlite(db, rc);
  if (statement.stmt_ == nullptr) return Status::error("no SQL statement in: " + std::string(sql));
  std::string_view rest(tail, static_cast<size_t>(sql.data() + sql.size() - tail));
  if (!is_empty_sql(rest)) {
    return Status::error("more than one SQL statement given; the rest starts at: " +
                         std::string(rest.substr(0, 40)));
  }
  return statement;
}

Status Statement::check_bind(int rc, int index) {
  if (rc == SQLITE_OK) return Status::ok();
  if (rc == SQLITE_RANGE) {
    return Status::internal("bind parameter " + std::to_string(index) + " out of range");
  }
  return status_from_sqlite(db_, rc);
}

Status Statement::bind_null(int index) { return check_bind(sqlite3_bind_null(stmt_, index), index); }

Status Statement::bind_int64(int index, int64_t value) {
  return check_bind(sqlite3_bind_int64(stmt_, index, value), index);
}

Status Statement::bind_double(int index, double value) {
  return check_bind(sqlite3_bind_double(stmt_, index, value), index);
}

Status Statement::bind_text(int index, std::string_view value) {
  return check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                                        SQLITE_TRANSIENT, SQLITE_UTF8),
                    index);
}

Status Statement::bind_blob(int index, std::span<const std::byte> value) {
  // A zero-length span may have a null data(); SQLite would bind NULL then, not an empty blob.
  static const std::byte kEmpty{};
  const void* data = value.empty() ? &kEmpty : value.data();
  return check_bind(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT),
                    index);
}

Status Statement::bind_value(int index, const sqlite3_value* value) {
  return check_bind(sqlite3_bind_value(stmt_, index, value), index);
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // sqlite3_step with prepare_v2/v3 returns the precise code; reset to clear the error state
  // but keep the message from before the reset.
  Status status = status_from_sqlite(db_, rc);
  sqlite3_reset(stmt_);
  return status;
}

Status Statement::run() {
  while (true) {
    Result<bool> has_row = step();
    if (!has_row.is_ok()) return has_row.status();
    if (!*has_row) return Status::ok();
  }
}

void Statement::reset() { sqlite3_reset(stmt_); }

void Statement::clear_bindings() { sqlite3_clear_bindings(stmt_); }

std::string_view Statement::column_text(int column) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  return text ? std::string_view(text, static_cast<size_t>(size)) : std::string_view();
}

std::span<const std::byte> Statement::column_blob(int column) const {
  auto* data = static_cast<const std::byte*>(sqlite3_column_blob(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::span<const std::byte>(data, static_cast<size_t>(size))
              : std::span<const std::byte>();
}

Status execute(sqlite3* db, std::string_view sql) {
  std::string text(sql);  // sqlite3_exec needs a terminated string
  char* error = nullptr;
  int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &error);
  SqliteString owned_error(error);
  if (rc == SQLITE_OK) return Status::ok();
  if ((rc & 0xff) == SQLITE_NOMEM) return Status::no_memory();
  Status status = status_from_sqlite(db, rc);
  if (!owned_error.empty()) status = Status(status.code(), std::string(owned_error.view()))
                                         .with_sqlite_code(rc);
  return status;
}

namespace {

// `text` between two `quote` characters, with each `quote` inside doubled (SQL's escaping).
std::string enclose_in_quotes(std::string_view text, char quote) {
  std::string quoted;
  quoted.reserve(text.size() + 2);
  quoted += quote;
  for (char c : text) {
    if (c == quote) quoted += quote;
    quoted += c;
  }
  quoted += quote;
  return quoted;
}

}  // namespace

std::string quote_identifier(std::string_view name) { return enclose_in_quotes(name, '"'); }

std::string quote_literal(std::string_view text) { return enclose_in_quotes(text, '\''); }

std::string_view value_text(sqlite3_value* value) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(value));  // before _bytes: it may convert
  return text ? std::string_view(text, static_cast<size_t>(sqlite3_value_bytes(value))) : std::string_view();
}

std::string_view value_blob(sqlite3_value* value) {
  const auto* blob = static_cast<const char*>(sqlite3_value_blob(value));
  return blob ? std::string_view(blob, static_cast<size_t>(sqlite3_value_bytes(value))) : std::string_view();
}

std::string database_directory(sqlite3* db, const char* schema) {
  const char* file = sqlite3_db_filename(db, schema);
  if (file == nullptr || *file == '\0') return std::string();
  std::string_view path(file);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return std::string(".");
  return std::string(path.substr(0, slash == 0 ? 1 : slash));
}

}  // namespace strata
