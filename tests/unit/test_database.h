// A fresh in-memory SQLite connection with strata registered, for unit tests.
//
// The unit-test executables link the extension's objects statically; the first TestDatabase
// registers sqlite3_strata_init with sqlite3_auto_extension, so every connection gets strata
// and the extension's sqlite3_api table is set exactly as when SQLite loads the .so.
#pragma once

#include <string>
#include <string_view>

struct sqlite3;

namespace strata::testing {

class TestDatabase {
 public:
  TestDatabase();
  // A database file (created if missing), with strata registered.
  explicit TestDatabase(const std::string& path);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  sqlite3* get() const { return db_; }

  // Runs SQL, failing the current test on error.
  void exec(std::string_view sql) const;
  // The first column of the first row as text ("NULL" for NULL, "" when there is no row).
  std::string scalar(std::string_view sql) const;
  // The error message of a statement expected to fail ("" if it succeeded).
  std::string error_of(std::string_view sql) const;
  // The (extended) result code of running `sql`.
  int result_code_of(std::string_view sql) const;

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace strata::testing
