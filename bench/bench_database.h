// What the benchmark programs need of SQLite: a connection with the extension loaded and calls
// that end the program with a message when they fail (a benchmark has no error path to take).
#pragma once

#include <errno.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

namespace strata::bench {

[[noreturn]] inline void die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, message.c_str());
  std::exit(1);
}

// Timing and text helpers the benchmark programs share.
inline double seconds_of(const std::function<void()>& run) {
  const auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

inline double median_of(int repetitions, const std::function<void()>& run) {
  std::vector<double> times;
  for (int r = 0; r < repetitions; ++r) times.push_back(seconds_of(run));
  return median(times);
}

inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  return text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// W1's schema and data statements (shared/bench/w1-events.sql, its text in `script`) for a table
// `table` of `rows` rows: CREATE TABLE table (…) and the INSERT.
struct W1Statements {
  std::string create;
  std::string insert;
};
inline W1Statements w1_statements(const std::string& script, const std::string& table, long long rows) {
  std::string statements;  // the script without its comment lines
  for (size_t at = 0; at < script.size();) {
    size_t end = script.find('\n', at);
    if (end == std::string::npos) end = script.size();
    const std::string line = script.substr(at, end - at);
    if (line.rfind("--", 0) != 0) statements += line + "\n";
    at = end + 1;
  }
  const size_t create_end = statements.find(';');
  const size_t insert_end = statements.find(';', create_end + 1);
  if (create_end == std::string::npos || insert_end == std::string::npos) die("the W1 script does not have the expected shape");
  return {replace_all(statements.substr(0, create_end), "@TABLE@", table),
          replace_all(replace_all(statements.substr(create_end + 1, insert_end - create_end - 1), "@TABLE@", table), "@N@",
                      std::to_string(rows))};
}
// The columnar variant of W1's CREATE TABLE, with `options` (", bloom='f_s2'" …) after the columns.
inline std::string w1_columnar_create(const W1Statements& w1, const std::string& table, const std::string& options) {
  std::string create = replace_all(w1.create, "CREATE TABLE " + table + " (", "CREATE VIRTUAL TABLE " + table + " USING columnar(");
  return create.substr(0, create.rfind(')')) + options + ")";
}

// W1's rows in DuckDB: the script's formulas, with DOUBLE for SQLite's REAL (DuckDB's REAL is
// 32-bit) and range() for the recursive CTE.
inline std::string duckdb_w1_query(long long rows) {
  return "SELECT i AS id, 1700000000000 + i * 100 AS ts, (i * 2654435761) % 100000 AS user_id, "
         "CASE (h2 % 1000003) % 8 WHEN 0 THEN 'click' WHEN 1 THEN 'view' WHEN 2 THEN 'purchase' WHEN 3 THEN 'signup' "
         "WHEN 4 THEN 'login' WHEN 5 THEN 'logout' WHEN 6 THEN 'share' WHEN 7 THEN 'search' END AS type, "
         "CAST(h2 % 100000 AS DOUBLE) / 100.0 AS amount, 'C' || CAST(10 + (h1 % 50) AS VARCHAR) AS country, "
         "i % 1000 AS f_i1, (i * 7) % 65536 AS f_i2, h1 % 1000000 AS f_i3, (i * 31) % 97 AS f_i4, "
         "(1700000000000 + i * 100) % 86400000 AS f_i5, CAST(i % 10007 AS DOUBLE) * 0.5 AS f_d1, "
         "CAST(h2 % 1000000 AS DOUBLE) / 1000.0 AS f_d2, CAST(i % 360 AS DOUBLE) AS f_d3, "
         "CAST((i * 13) % 10000 AS DOUBLE) / 7.0 AS f_d4, CAST(h1 % 99991 AS DOUBLE) * 0.01 AS f_d5, "
         "'tag' || CAST(i % 20 AS VARCHAR) AS f_s1, 'sess-' || CAST(h2 % 1000000 AS VARCHAR) AS f_s2, "
         "CASE i % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'ios' ELSE 'android' END AS f_s3, "
         "'v' || CAST(1 + i % 5 AS VARCHAR) || '.' || CAST(i % 10 AS VARCHAR) AS f_s4 "
         "FROM (SELECT i, (i * 2654435761) % 4294967296 AS h1, (i * 2246822519 + 3266489917) % 4294967296 AS h2 "
         "FROM (SELECT range AS i FROM range(1, " +
         std::to_string(rows + 1) + ")))";
}

class BenchDatabase {
 public:
  BenchDatabase(const std::string& path, const std::string& extension_path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) die("cannot open " + path);
    sqlite3_enable_load_extension(db_, 1);
    char* error = nullptr;
    if (sqlite3_load_extension(db_, extension_path.c_str(), nullptr, &error) != SQLITE_OK) {
      die("cannot load " + extension_path + ": " + (error ? error : "?"));
    }
  }
  ~BenchDatabase() { sqlite3_close(db_); }
  BenchDatabase(const BenchDatabase&) = delete;
  BenchDatabase& operator=(const BenchDatabase&) = delete;

  sqlite3* get() const { return db_; }

  void exec(const std::string& sql) const {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) die(sql + ": " + (error ? error : "?"));
  }

  sqlite3_stmt* prepare(const std::string& sql) const {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) die(sql + ": " + sqlite3_errmsg(db_));
    return stmt;
  }

  // The first column of the first row as text ("NULL" for NULL): the answer both sides of a
  // comparison must agree on.
  std::string answer(const std::string& sql) const {
    sqlite3_stmt* stmt = prepare(sql);
    std::string result;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (result.empty()) {
        const unsigned char* text = sqlite3_column_text(stmt, 0);
        result = text ? reinterpret_cast<const char*>(text) : "NULL";
      }
    }
    if (rc != SQLITE_DONE) die(sql + ": " + sqlite3_errmsg(db_));
    sqlite3_finalize(stmt);
    return result;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace strata::bench
