// Loads build/libstrata.so the way a host application does (sqlite3_load_extension and the
// load_extension() SQL function) and locks the exported SQL surface: the functions and modules
// that loading adds must equal tests/integration/exported_surface.txt, so nothing is added or
// removed by accident. After a deliberate change, regenerate the list with
//   STRATA_UPDATE_SURFACE=1 build/tests/strata_integration_tests --gtest_filter='*Surface*'
// and review the diff.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

class Connection {
 public:
  Connection() {
    EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    sqlite3_enable_load_extension(db_, 1);
  }
  ~Connection() { sqlite3_close(db_); }
  sqlite3* get() const { return db_; }

  // Loads the extension through the C API; returns the error text ("" on success).
  std::string load() const {
    char* error = nullptr;
    int rc = sqlite3_load_extension(db_, STRATA_EXTENSION_PATH, nullptr, &error);
    std::string message = rc == SQLITE_OK ? "" : (error ? error : sqlite3_errstr(rc));
    sqlite3_free(error);
    return message;
  }

  std::set<std::string> rows(const char* sql) const {
    std::set<std::string> result;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      result.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
    sqlite3_finalize(stmt);
    return result;
  }

  bool has_strata() const {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, "SELECT strata_version()", -1, &stmt, nullptr);
    sqlite3_finalize(stmt);
    return rc == SQLITE_OK;
  }

  std::string scalar(const char* sql) const {
    std::set<std::string> all = rows(sql);
    return all.empty() ? "" : *all.begin();
  }

  // One line per function overload and per module, with everything a caller can observe.
  std::set<std::string> surface() const {
    std::set<std::string> lines = rows(
        "SELECT 'function ' || name || '/' || narg || ' type=' || type || ' enc=' || enc"
        "  || CASE WHEN flags & 0x800 THEN ' deterministic' ELSE '' END"
        "  || CASE WHEN flags & 0x80000 THEN ' directonly' ELSE '' END"
        "  || CASE WHEN flags & 0x200000 THEN ' innocuous' ELSE '' END"
        "  || CASE WHEN flags & 0x100000 THEN ' subtype' ELSE '' END"
        " FROM pragma_function_list");
    for (const std::string& module : rows("SELECT 'module ' || name FROM pragma_module_list")) {
      lines.insert(module);
    }
    return lines;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::set<std::string> added(const std::set<std::string>& before,
                            const std::set<std::string>& after) {
  std::set<std::string> difference;
  for (const std::string& line : after) {
    if (!before.contains(line)) difference.insert(line);
  }
  return difference;
}

std::set<std::string> read_surface_file() {
  std::set<std::string> lines;
  std::ifstream in(STRATA_SURFACE_FILE);
  EXPECT_TRUE(in.good()) << "cannot read " << STRATA_SURFACE_FILE;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') lines.insert(line);
  }
  return lines;
}

TEST(Loading, CApiLoadsAndVersionMatchesCMake) {
  Connection connection;
  ASSERT_EQ(connection.load(), "");
  EXPECT_EQ(connection.scalar("SELECT strata_version()"), STRATA_VERSION_EXPECTED);
}

TEST(Loading, FailsCleanlyWhenLoadingIsDisabled) {
  Connection connection;
  sqlite3_enable_load_extension(connection.get(), 0);
  EXPECT_NE(connection.load(), "");
  EXPECT_FALSE(connection.has_strata());
}

TEST(Loading, ExportedSurfaceMatchesTheCheckedInList) {
  Connection connection;
  std::set<std::string> before = connection.surface();
  ASSERT_EQ(connection.load(), "");
  std::set<std::string> after = connection.surface();
  for (const std::string& line : before) {
    EXPECT_TRUE(after.contains(line)) << "loading strata removed: " << line;
  }
  std::set<std::string> exported = added(before, after);

  if (std::getenv("STRATA_UPDATE_SURFACE") != nullptr) {
    std::ofstream out(STRATA_SURFACE_FILE);
    out << "# What loading strata adds to a connection (see tests/integration/test_loading.cpp).\n";
    for (const std::string& line : exported) out << line << "\n";
    GTEST_SKIP() << "rewrote " << STRATA_SURFACE_FILE;
  }
  std::set<std::string> expected = read_surface_file();
  EXPECT_FALSE(expected.empty());
  for (const std::string& line : added(expected, exported)) {
    ADD_FAILURE() << "exported but not in the checked-in list: " << line;
  }
  for (const std::string& line : added(exported, expected)) {
    ADD_FAILURE() << "in the checked-in list but not exported: " << line;
  }
}

TEST(Loading, LoadingTwiceIsHarmless) {
  Connection connection;
  ASSERT_EQ(connection.load(), "");
  std::set<std::string> once = connection.surface();
  ASSERT_EQ(connection.load(), "");
  EXPECT_EQ(connection.surface(), once);
  // Through SQL too, where the load runs inside a statement (replacing functions there would
  // fail with SQLITE_BUSY).
  std::string sql = std::string("SELECT load_extension('") + STRATA_EXTENSION_PATH + "')";
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(connection.get(), sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  EXPECT_EQ(connection.surface(), once);
  EXPECT_EQ(connection.scalar("SELECT strata_version()"), STRATA_VERSION_EXPECTED);
}

TEST(Loading, EachConnectionGetsItsOwnRegistration) {
  Connection first;
  Connection second;
  ASSERT_EQ(first.load(), "");
  EXPECT_EQ(first.scalar("SELECT strata_version()"), STRATA_VERSION_EXPECTED);
  EXPECT_FALSE(second.has_strata());
  ASSERT_EQ(second.load(), "");
  EXPECT_EQ(second.scalar("SELECT strata_version()"), STRATA_VERSION_EXPECTED);
}

}  // namespace
