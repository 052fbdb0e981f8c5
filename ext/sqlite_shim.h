// The boundary between SQLite's C callbacks and strata's C++.
//
// Every x* method of a virtual table and every SQL function is a thin shim:
//
//   static int xOpen(sqlite3_vtab* vtab, sqlite3_vtab_cursor** out) {
//     return strata::vtab_call(vtab, [&] { return as_table(vtab)->open(out); });
//   }
//   static void strata_version_fn(sqlite3_context* ctx, int, sqlite3_value**) {
//     strata::function_call(ctx, [&] { … return Status::ok(); });
//   }
//
// The body returns a Status. Any exception that escapes it — std::bad_alloc included — is caught
// here and becomes an SQLite result code, so nothing ever unwinds into SQLite's C frames.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <utility>

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata {

// The SQLite result code for a Status: its explicit sqlite_code() if set, else by category.
int sqlite_code_of(const Status& status);

// Runs `body` (returning Status) and converts any exception into a Status. Never throws.
template <class Body>
Status run_guarded(Body&& body) noexcept {
  try {
    return std::forward<Body>(body)();
  } catch (const std::bad_alloc&) {
    return Status::no_memory();
  } catch (const std::exception& error) {
    try {
      return Status::internal(std::string("internal error: ") + error.what());
    } catch (...) {
      return Status::no_memory();
    }
  } catch (...) {
    try {
      return Status::internal("internal error: unknown exception");
    } catch (...) {
      return Status::no_memory();
    }
  }
}

// Reports `status` to SQLite in each of the three places SQLite takes errors from.
// Each returns (or sets) the SQLite result code and never throws.
int report_to_vtab(sqlite3_vtab* vtab, const Status& status) noexcept;
int report_to_error_out(char** error_out, const Status& status) noexcept;
void report_to_context(sqlite3_context* context, const Status& status) noexcept;

// Shim for sqlite3_module methods that have a sqlite3_vtab (xBestIndex, xOpen, xUpdate, …):
// the message goes to vtab->zErrMsg.
template <class Body>
int vtab_call(sqlite3_vtab* vtab, Body&& body) noexcept {
  return report_to_vtab(vtab, run_guarded(std::forward<Body>(body)));
}

// Shim for cursor methods (xFilter, xNext, xColumn, …): the message goes to the cursor's vtab.
template <class Body>
int cursor_call(sqlite3_vtab_cursor* cursor, Body&& body) noexcept {
  return report_to_vtab(cursor->pVtab, run_guarded(std::forward<Body>(body)));
}

// Shim for xCreate / xConnect and for sqlite3_strata_init: the message goes to *error_out.
template <class Body>
int error_out_call(char** error_out, Body&& body) noexcept {
  return report_to_error_out(error_out, run_guarded(std::forward<Body>(body)));
}

// Shim for SQL functions (scalar xFunc, aggregate xStep/xFinal): sqlite3_result_error*.
template <class Body>
void function_call(sqlite3_context* context, Body&& body) noexcept {
  Status status = run_guarded(std::forward<Body>(body));
  if (!status.is_ok()) report_to_context(context, status);
}

}  // namespace strata
