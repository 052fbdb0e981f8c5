// Running the DuckDB peer (tests/peers/duckdb_parquet.mjs, @duckdb/node-api installed there by
// scripts/install-test-peers.sh) from C++: the interop tests and bench/parquet_bench both use it.
// column_digests() computes what the peer prints, for a query on SQLite. Header-only and free
// of GoogleTest, so that the benchmark can include it.
#pragma once

#include <sqlite3.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "tiering/digest.h"

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

// The canonical form tests/peers/duckdb_parquet.mjs digests (one line per row: n | i<decimal> |
// r<16 hex digits of the double's bits> | t<hex> | b<hex>), per column of a query's result.
inline std::vector<std::string> column_digests(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) return {};
  const int columns = sqlite3_column_count(statement);
  std::vector<std::string> text(static_cast<size_t>(columns));
  bool first = true;
  static const char* digits = "0123456789abcdef";
  auto hex_of = [&](const unsigned char* bytes, int size, std::string& out) {
    for (int i = 0; i < size; ++i) {
      out += digits[bytes[i] >> 4];
      out += digits[bytes[i] & 15];
    }
  };
  while (sqlite3_step(statement) == SQLITE_ROW) {
    for (int c = 0; c < columns; ++c) {
      std::string& out = text[static_cast<size_t>(c)];
      if (!first) out += '\n';
      switch (sqlite3_column_type(statement, c)) {
        case SQLITE_NULL: out += 'n'; break;
        case SQLITE_INTEGER: out += 'i' + std::to_string(sqlite3_column_int64(statement, c)); break;
        case SQLITE_FLOAT: {
          const uint64_t bits = std::bit_cast<uint64_t>(sqlite3_column_double(statement, c));
          out += 'r';
          for (int shift = 60; shift >= 0; shift -= 4) out += digits[(bits >> shift) & 15];
          break;
        }
        case SQLITE_TEXT:
          out += 't';
          hex_of(sqlite3_column_text(statement, c), sqlite3_column_bytes(statement, c), out);
          break;
        default:
          out += 'b';
          hex_of(static_cast<const unsigned char*>(sqlite3_column_blob(statement, c)), sqlite3_column_bytes(statement, c), out);
          break;
      }
    }
    first = false;
  }
  sqlite3_finalize(statement);
  std::vector<std::string> digests;
  for (const std::string& column : text) digests.push_back(tiering::hex(tiering::sha256(column)));
  return digests;
}

}  // namespace strata::testing
