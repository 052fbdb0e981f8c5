// strata_slt — runs sqllogictest scripts against SQLite with the strata extension loaded.
//
//   strata_slt --extension build/libstrata.so [--module columnar] [--hash-threshold N]
//              [--db-dir DIR] [--verbose] FILE...
//
// Prints one line per script and a closing "N passed, N failed" line; exits 1 when any script
// failed (including a script whose database could not be opened or extension not loaded).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/slt/slt_runner.h"

namespace {

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "strata_slt: %s\n"
               "usage: strata_slt --extension PATH [--module NAME] [--hash-threshold N]\n"
               "                  [--db-dir DIR] [--verbose] FILE...\n",
               problem);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  strata::slt::RunnerOptions options;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + argument).c_str());
      return argv[++i];
    };
    if (argument == "--extension") {
      options.extension_path = value();
    } else if (argument == "--module") {
      options.module = value();
    } else if (argument == "--hash-threshold") {
      options.hash_threshold = std::atoi(value().c_str());
    } else if (argument == "--db-dir") {
      options.database_directory = value();
    } else if (argument == "--verbose") {
      options.verbose = true;
    } else if (argument.starts_with("--")) {
      usage(("unknown option " + argument).c_str());
    } else {
      files.push_back(argument);
    }
  }
  if (options.extension_path.empty()) usage("--extension is required");
  if (files.empty()) usage("no script given");

  strata::slt::ScriptRunner runner(options);
  int passed = 0;
  int failed = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: cannot open for reading\n", file.c_str());
      ++failed;
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    strata::slt::ScriptReport report = runner.run(file, text.str());
    for (const std::string& failure : report.failures) std::fprintf(stderr, "%s\n", failure.c_str());
    std::printf("%s: %d records run, %d skipped, %d allowed differences, %zu failures%s\n",
                file.c_str(), report.records_run, report.skipped, report.allowed_differences,
                report.failures.size(), report.halted ? " (halted)" : "");
    // A script that ran nothing proves nothing.
    if (report.passed() && report.records_run > 0) {
      ++passed;
    } else {
      if (report.records_run == 0 && report.passed()) {
        std::fprintf(stderr, "%s: no record was run\n", file.c_str());
      }
      ++failed;
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
