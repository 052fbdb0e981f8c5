// Running the DuckDB peer (tests/peers/duckdb_parquet.mjs, @duckdb/node-api installed there by
// scripts/install-test-peers.sh) from C++: the interop tests and bench/parquet_bench both use it.
// Header-only and free of GoogleTest, so that the benchmark can include it.
#pragma once

#include <cstdio>
#include <string>

namespace strata::testing {

struct PeerRun {
  bool succeeded = false;  // node ran and exited with status 0
  std::string output;      // its standard output (JSON when it succeeded)
};

// `node duckdb_parquet.mjs COMMAND REQUEST_FILE` (needs STRATA_SOURCE_DIR).
inline PeerRun run_duckdb_peer(const std::string& command, const std::string& request_file) {
  const std::string script = std::string(STRATA_SOURCE_DIR) + "/tests/peers/duckdb_parquet.mjs";
  const std::string shell = "node '" + script + "' " + command + " '" + request_file + "'";
  PeerRun run;
  FILE* pipe = popen(shell.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[65536];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, n);
  run.succeeded = pclose(pipe) == 0;
  return run;
}

}  // namespace strata::testing
