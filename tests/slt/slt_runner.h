// A sqllogictest runner for SQLite with the strata extension loaded.
//
// It reads the format of SQLite's sqllogictest (https://sqlite.org/sqllogictest):
//
//   statement ok|error          SQL on the following lines, up to a blank line
//   query <types> [<sort> [<label>]]
//                               types: one of T I R per column; sort: nosort|rowsort|valuesort;
//                               SQL, then "----", then the expected values one per line, or
//                               "N values hashing to <md5>"
//   hash-threshold N            results with more than N values are compared by MD5 (default 8)
//   skipif|onlyif <engine>      applies to the record that follows (the engine here is "SQLite")
//   halt                        stop reading the script
//   # comment
//
// Values are rendered as SQLite's reference driver does: NULL as "NULL", I as a 32-bit integer
// (sqlite3_column_int), R with "%.3f", T as text with "" shown as "(empty)" and every byte
// outside 0x20..0x7e replaced by '@'. A labelled query's hash must equal every other query with
// the same label. Unlike the reference driver, the number of expected lines must match exactly.
//
// Every script runs on a new database file with the extension loaded; a script whose extension
// cannot be loaded fails. With `module` set, every `CREATE TABLE t(…)` is rewritten to
// `CREATE VIRTUAL TABLE t USING <module>(…)` (see create_table_rewrite.h); statements SQLite
// refuses for every virtual table (CREATE INDEX / CREATE TRIGGER on it) are then counted as
// "allowed differences" instead of failures.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::slt {

struct RunnerOptions {
  std::string extension_path;        // loaded into every database; required
  std::optional<std::string> module;  // columnar mode: the module CREATE TABLE is rewritten to
  std::string database_directory;    // where each script's database file goes
  std::optional<int> hash_threshold;  // overrides the scripts' hash-threshold records
  bool verbose = false;
};

struct ScriptReport {
  int records_run = 0;
  int skipped = 0;
  int allowed_differences = 0;
  std::vector<std::string> failures;  // "file:line: what went wrong"
  bool halted = false;

  bool passed() const { return failures.empty(); }
};

// Lower-case hex MD5, as the reference driver prints it.
std::string md5_hex(std::string_view data);

class ScriptRunner {
 public:
  explicit ScriptRunner(RunnerOptions options) : options_(std::move(options)) {}

  // Runs one script. `name` is used in messages and for the database file name.
  ScriptReport run(std::string_view name, std::string_view script_text);

 private:
  RunnerOptions options_;
};

}  // namespace strata::slt
