// A fresh in-memory SQLite connection with strata registered, for unit tests.
//
// The unit-test executables link the extension's objects statically; the first TestDatabase
// registers sqlite3_strata_init with sqlite3_auto_extension, so every connection gets strata
// and the extension's sqlite3_api table is set exactly as when SQLite loads the .so.
#pragma once

#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

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
  // Every row, its columns as text joined by '|' ("NULL" for NULL), failing the test on error.
  std::vector<std::string> rows(std::string_view sql) const;
  // Every row, each cell exactly (exact_cell) and followed by '|', failing the test on error.
  std::vector<std::string> exact_rows(std::string_view sql) const;
  // The error message of a statement expected to fail ("" if it succeeded).
  std::string error_of(std::string_view sql) const;
  // The (extended) result code of running `sql`.
  int result_code_of(std::string_view sql) const;

 private:
  sqlite3* db_ = nullptr;
};

// A fresh, empty directory for the running test (named after the test and the process, so that
// tests run in parallel never share one), removed with everything in it when this goes.
class ScratchDirectory {
 public:
  explicit ScratchDirectory(std::string_view prefix);
  ~ScratchDirectory();
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

  // The path of `file` inside the directory.
  std::string path(std::string_view file) const;

 private:
  std::string directory_;
};

// One result cell, exactly: its storage class and its value's bits or bytes ("i5", "r<bits>",
// "t<text>", "b<bytes>", "n"), so that results compare class by class.
std::string exact_cell(sqlite3_stmt* stmt, int column);

// The whole content of a file ("" when it cannot be read).
std::string read_file_bytes(const std::string& path);

// `size` bytes from a seeded generator (object and codec round trips).
std::string random_bytes(size_t size, uint32_t seed);

}  // namespace strata::testing
