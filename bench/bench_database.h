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
