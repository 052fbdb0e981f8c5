// Deliberately includes <sqlite3.h> and no ext/ header: these calls go straight to libsqlite3,
// so they work before sqlite3_strata_init has set up the sqlite3_api table.
#include "tests/unit/test_database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

extern "C" int sqlite3_strata_init(sqlite3* db, char** error_out,
                                   const sqlite3_api_routines* api);

namespace strata::testing {

namespace {

void register_strata_for_every_connection() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(sqlite3_strata_init));
  });
}

}  // namespace

TestDatabase::TestDatabase() {
  register_strata_for_every_connection();
  int rc = sqlite3_open(":memory:", &db_);
  if (rc != SQLITE_OK) ADD_FAILURE() << "cannot open :memory: database: " << sqlite3_errstr(rc);
}

TestDatabase::TestDatabase(const std::string& path) {
  register_strata_for_every_connection();
  int rc = sqlite3_open(path.c_str(), &db_);
  if (rc != SQLITE_OK) ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errstr(rc);
  sqlite3_extended_result_codes(db_, 1);
}

TestDatabase::~TestDatabase() { sqlite3_close(db_); }

int TestDatabase::result_code_of(std::string_view sql) const {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? rc : sqlite3_extended_errcode(db_);
}

void TestDatabase::exec(std::string_view sql) const {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << "\n  SQL: " << text;
  sqlite3_free(error);
}

std::string TestDatabase::scalar(std::string_view sql) const {
  sqlite3_stmt* stmt = nullptr;
  std::string text(sql);
  if (sqlite3_prepare_v2(db_, text.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db_) << "\n  SQL: " << text;
    return "";
  }
  std::string value;
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* column = sqlite3_column_text(stmt, 0);
    value = column ? reinterpret_cast<const char*>(column) : "NULL";
  } else if (rc != SQLITE_DONE) {
    ADD_FAILURE() << sqlite3_errmsg(db_) << "\n  SQL: " << text;
  }
  sqlite3_finalize(stmt);
  return value;
}

namespace {

// Runs `sql` and formats each row's cells with `cell`.
template <class Cell>
std::vector<std::string> collect_rows(sqlite3* db, std::string_view sql, Cell&& cell) {
  std::vector<std::string> out;
  sqlite3_stmt* stmt = nullptr;
  std::string text(sql);
  if (sqlite3_prepare_v2(db, text.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db) << "\n  SQL: " << text;
    return out;
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) cell(stmt, i, row);
    out.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) ADD_FAILURE() << sqlite3_errmsg(db) << "\n  SQL: " << text;
  sqlite3_finalize(stmt);
  return out;
}

}  // namespace

std::vector<std::string> TestDatabase::rows(std::string_view sql) const {
  return collect_rows(db_, sql, [](sqlite3_stmt* stmt, int i, std::string& row) {
    if (i > 0) row += "|";
    const unsigned char* column = sqlite3_column_text(stmt, i);
    row += column ? reinterpret_cast<const char*>(column) : "NULL";
  });
}

std::vector<std::string> TestDatabase::exact_rows(std::string_view sql) const {
  return collect_rows(db_, sql, [](sqlite3_stmt* stmt, int i, std::string& row) { row += exact_cell(stmt, i) + "|"; });
}

std::string exact_cell(sqlite3_stmt* stmt, int column) {
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_INTEGER: return std::string("i").append(std::to_string(sqlite3_column_int64(stmt, column)));
    case SQLITE_FLOAT: return std::string("r").append(std::to_string(std::bit_cast<uint64_t>(sqlite3_column_double(stmt, column))));
    case SQLITE_TEXT: {
      const char* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
      return std::string("t").append(text, static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
    }
    case SQLITE_BLOB: {
      const char* blob = static_cast<const char*>(sqlite3_column_blob(stmt, column));
      return std::string("b").append(blob ? blob : "", static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
    }
    default: return "n";
  }
}

std::string TestDatabase::error_of(std::string_view sql) const {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  std::string message = rc == SQLITE_OK ? "" : (error ? error : sqlite3_errstr(rc));
  sqlite3_free(error);
  return message;
}

ScratchDirectory::ScratchDirectory(std::string_view prefix) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(prefix) + "_" + (test ? std::string(test->test_suite_name()) + "_" + test->name() : "none") +
                     "_" + std::to_string(::getpid());
  std::replace(name.begin(), name.end(), '/', '_');  // parameterized tests' names hold slashes
  directory_ = (std::filesystem::path(::testing::TempDir()) / name).string();
  std::filesystem::remove_all(directory_);
  std::filesystem::create_directories(directory_);
}

ScratchDirectory::~ScratchDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::string ScratchDirectory::path(std::string_view file) const {
  return (std::filesystem::path(directory_) / std::string(file)).string();
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string random_bytes(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

}  // namespace strata::testing
