#include "ext/sqlite_shim.h"

#include "ext/sqlite_handles.h"

namespace strata {

namespace {

// Message text SQLite will own, or null (then SQLite shows its generic text for the code).
char* sqlite_owned_message(const Status& status) noexcept {
  if (status.message().empty()) return nullptr;
  return SqliteString::copy_of(status.message()).release();
}

}  // namespace

int sqlite_code_of(const Status& status) {
  if (status.is_ok()) return SQLITE_OK;
  if (status.sqlite_code() != 0) return status.sqlite_code();
  switch (status.code()) {
    case StatusCode::kOk: return SQLITE_OK;
    case StatusCode::kCorruption: return SQLITE_CORRUPT_VTAB;
    case StatusCode::kConstraint: return SQLITE_CONSTRAINT;
    case StatusCode::kNoMemory: return SQLITE_NOMEM;
    case StatusCode::kIoError: return SQLITE_IOERR;
    case StatusCode::kBusy: return SQLITE_BUSY;
    case StatusCode::kTooBig: return SQLITE_TOOBIG;
    case StatusCode::kInterrupted: return SQLITE_INTERRUPT;
    case StatusCode::kInternal: return SQLITE_INTERNAL;
    case StatusCode::kError:
    case StatusCode::kNotFound:
    case StatusCode::kUnsupported: return SQLITE_ERROR;
  }
  return SQLITE_ERROR;
}

int report_to_vtab(sqlite3_vtab* vtab, const Status& status) noexcept {
  if (status.is_ok()) return SQLITE_OK;
  if (vtab != nullptr) {
    sqlite3_free(vtab->zErrMsg);
    vtab->zErrMsg = sqlite_owned_message(status);
  }
  return sqlite_code_of(status);
}

int report_to_error_out(char** error_out, const Status& status) noexcept {
  if (status.is_ok()) return SQLITE_OK;
  if (error_out != nullptr) {
    sqlite3_free(*error_out);
    *error_out = sqlite_owned_message(status);
  }
  return sqlite_code_of(status);
}

void report_to_context(sqlite3_context* context, const Status& status) noexcept {
  if (status.is_ok()) return;
  int code = sqlite_code_of(status);
  if ((code & 0xff) == SQLITE_NOMEM) {
    sqlite3_result_error_nomem(context);
    return;
  }
  if ((code & 0xff) == SQLITE_TOOBIG && status.message().empty()) {
    sqlite3_result_error_toobig(context);
    return;
  }
  const std::string& message = status.message();
  if (message.empty()) {
    sqlite3_result_error(context, sqlite3_errstr(code), -1);
  } else {
    sqlite3_result_error(context, message.c_str(), static_cast<int>(message.size()));
  }
  sqlite3_result_error_code(context, code);
}

}  // namespace strata
