// Every Parquet file in ../shared/parquet-testing (the selection in data/ and the whole
// apache/parquet-testing corpus in corpus/, bad_data included) read by strata's `parquet` table
// and by DuckDB (tests/peers/duckdb_parquet.mjs, command corpus), column by column: the same
// names, row counts and values (SHA-256 of the canonical form both sides compute, after DuckDB's
// values are put in the form strata's reader gives them, docs/format-parquet.md).
//
// The target: every file DuckDB reads, strata reads the same. Files where that does not hold yet
// are listed in kKnownDifferences with the reason; the test fails on any other difference, and
// also when a listed file starts to agree, so that the list only shrinks.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ext/str_cat.h"
#include "tests/unit/duckdb_peer.h"
#include "tests/unit/test_database.h"
#include "tiering/digest.h"

namespace strata {
namespace {

// Files not compared at all.
const std::set<std::string> kNotRead = {
    // DuckDB tries to allocate 8 GiB for it (a test of strings near 2 GiB): too big for CI.
    "large_string_map.brotli.parquet",
};

// Files strata does not read as DuckDB does yet, and why.
const std::map<std::string, std::string> kKnownDifferences = {
    // Invalid files (parquet-testing's bad_data) that DuckDB reads anyway: the first repetition
    // level is 1, which arrow refuses too; a page claims more values than its chunk, which
    // arrow-rs refuses too. strata says what is wrong instead of guessing.
    {"ARROW-GH-45185.parquet", "its first repetition level is 1: refused as corrupt"},
    {"ARROW-RS-GH-6229-LEVELS.parquet", "a page holds more values than its chunk: refused as corrupt"},
    // Its last value's Julian day (-105862232) lies beyond 64-bit microseconds: DuckDB wraps it
    // to a wrong date, strata refuses it with an error naming the column.
    {"int96_from_spark.parquet", "an INT96 value beyond int64 microseconds is refused"},
};

std::string canonical_digest(sqlite3_stmt* stmt, int column, std::string& canonical) {
  static const char* digits = "0123456789abcdef";
  auto hex = [&](const void* data, int size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (int i = 0; i < size; ++i) {
      canonical += digits[bytes[i] >> 4];
      canonical += digits[bytes[i] & 0xf];
    }
  };
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_INTEGER: canonical += 'i' + std::to_string(sqlite3_column_int64(stmt, column)); break;
    case SQLITE_FLOAT: {
      canonical += 'r';
      const uint64_t bits = std::bit_cast<uint64_t>(sqlite3_column_double(stmt, column));
      for (int shift = 60; shift >= 0; shift -= 4) canonical += digits[(bits >> shift) & 0xf];
      break;
    }
    case SQLITE_TEXT:
      canonical += 't';
      hex(sqlite3_column_text(stmt, column), sqlite3_column_bytes(stmt, column));
      break;
    case SQLITE_BLOB:
      canonical += 'b';
      hex(sqlite3_column_blob(stmt, column), sqlite3_column_bytes(stmt, column));
      break;
    default: canonical += 'n'; break;
  }
  return canonical;
}

struct StrataColumn {
  std::string canonical;
  int64_t rows = 0;
};

// Reads a file through the parquet table: per column its canonical text; or the error.
std::string read_with_strata(const std::string& path, std::map<std::string, StrataColumn>& columns) {
  testing::TestDatabase db;
  std::string error = db.error_of(str_cat("CREATE VIRTUAL TABLE f USING parquet('file:", path, "')"));
  if (!error.empty()) return error;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), "SELECT * FROM f", -1, &stmt, nullptr) != SQLITE_OK) return sqlite3_errmsg(db.get());
  std::vector<StrataColumn*> by_index;
  for (int c = 0; c < sqlite3_column_count(stmt); ++c) by_index.push_back(&columns[sqlite3_column_name(stmt, c)]);
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    for (size_t c = 0; c < by_index.size(); ++c) {
      StrataColumn& column = *by_index[c];
      if (column.rows++ > 0) column.canonical += '\n';
      canonical_digest(stmt, static_cast<int>(c), column.canonical);
    }
  }
  std::string message = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db.get());
  sqlite3_finalize(stmt);
  return message;
}

TEST(ParquetCorpus, EveryFileDuckDBReadsStrataReadsTheSame) {
  testing::ScratchDirectory scratch("parquet_corpus");
  const std::string root = STRATA_PARQUET_TESTING;
  std::vector<std::string> files;
  for (const char* folder : {"/data", "/corpus/data", "/corpus/bad_data"}) {
    if (!std::filesystem::is_directory(root + folder)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(root + folder)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() == ".parquet" && !kNotRead.contains(name)) files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 50u) << "the parquet-testing corpus is missing under " << root;

  rapidjson::Document request(rapidjson::kObjectType);
  rapidjson::Value list(rapidjson::kArrayType);
  for (const std::string& file : files) list.PushBack(rapidjson::Value(file.c_str(), request.GetAllocator()), request.GetAllocator());
  request.AddMember("files", list, request.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  request.Accept(writer);
  const std::string request_file = scratch.path("request.json");
  std::ofstream(request_file) << buffer.GetString();
  const testing::PeerRun run = testing::run_duckdb_peer("corpus", request_file);
  ASSERT_TRUE(run.succeeded) << "the DuckDB peer failed (scripts/install-test-peers.sh installs it): " << run.output.substr(0, 2000);
  rapidjson::Document answer;
  answer.Parse(run.output.c_str());
  ASSERT_FALSE(answer.HasParseError());

  int same = 0, duckdb_cannot = 0, known = 0;
  std::set<std::string> differing;
  for (const auto& entry : answer["files"].GetArray()) {
    const std::string path = entry["file"].GetString();
    const std::string name = std::filesystem::path(path).filename().string();
    if (entry.HasMember("error")) {
      ++duckdb_cannot;
      continue;
    }
    std::map<std::string, StrataColumn> columns;
    std::string problem = read_with_strata(path, columns);
    if (problem.empty()) {
      for (const auto& column : entry["columns"].GetArray()) {
        const std::string column_name = column["name"].GetString();
        auto found = columns.find(column_name);
        if (found == columns.end()) {
          problem = "no column " + column_name;
          break;
        }
        const int64_t rows = column["rows"].GetInt64();
        const std::string digest = tiering::hex(tiering::sha256(found->second.canonical));
        if ((rows > 0 && found->second.rows != rows) || digest != column["sha256"].GetString()) {
          problem = str_cat("column ", column_name, " differs (", std::to_string(found->second.rows), " rows against ",
                            std::to_string(rows), "; first values: ", found->second.canonical.substr(0, 80), ")");
          break;
        }
      }
    }
    if (problem.empty()) {
      ++same;
      EXPECT_FALSE(kKnownDifferences.contains(name)) << name << " now reads as DuckDB reads it: take it off kKnownDifferences";
      continue;
    }
    differing.insert(name);
    if (kKnownDifferences.contains(name)) {
      ++known;
      std::printf("known difference, %s: %s\n", name.c_str(), problem.c_str());
      continue;
    }
    ADD_FAILURE() << name << ": strata does not read it as DuckDB does: " << problem;
  }
  std::printf("parquet corpus: %zu files; %d read the same by strata and DuckDB, %d DuckDB cannot read, %d known differences\n",
              files.size(), same, duckdb_cannot, known);
}

}  // namespace
}  // namespace strata
