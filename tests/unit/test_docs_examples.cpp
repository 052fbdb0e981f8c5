// Every ```sql block in README.md and docs/*.md runs as written, so that a pasted example works:
// the blocks of one page run in order on one fresh database file, with the page's scratch
// directory as the working directory (relative file: paths land there). A statement followed by
// a comment `-- → VALUE` must return one row whose first column reads VALUE. A block preceded by
// a line `<!-- not run: REASON -->` is a reference (placeholders, bound parameters, a bucket) and
// is skipped; the reason is required.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/test_database.h"

namespace {

struct Block {
  int line = 0;  // of the opening fence
  std::string sql;
};

struct Page {
  std::vector<Block> runnable;
  std::vector<std::string> problems;  // blocks skipped without a reason
};

Page read_page(const std::string& path) {
  Page page;
  std::ifstream in(path);
  std::string line, previous;
  int number = 0;
  bool inside = false;
  bool skipped = false;
  Block block;
  while (std::getline(in, line)) {
    ++number;
    if (!inside && line.starts_with("```sql")) {
      inside = true;
      skipped = previous.starts_with("<!-- not run");
      if (skipped && previous.find("not run:") == std::string::npos) {
        page.problems.push_back(path + ":" + std::to_string(number) + ": a skipped block must say why (<!-- not run: … -->)");
      }
      block = Block{number, ""};
    } else if (inside && line.starts_with("```")) {
      inside = false;
      if (!skipped) page.runnable.push_back(block);
    } else if (inside) {
      block.sql += line + "\n";
    }
    if (!line.empty()) previous = line;
  }
  return page;
}

// Splits a block into statements, each with the expected value its `-- → ` comment gives.
struct Statement {
  std::string sql;
  std::optional<std::string> expected;
};

std::vector<Statement> statements_of(const std::string& sql) {
  std::vector<Statement> statements;
  const char* rest = sql.c_str();
  while (*rest != '\0') {
    const char* start = rest;
    // sqlite3_complete tells where a statement ends: grow the text line by line.
    std::string text;
    const char* end = start;
    while (*end != '\0') {
      const char* newline = std::strchr(end, '\n');
      const char* line_end = newline ? newline + 1 : end + std::strlen(end);
      text.assign(start, line_end);
      end = line_end;
      if (sqlite3_complete(text.c_str())) break;
    }
    rest = end;
    if (text.find_first_not_of(" \n\t") == std::string::npos) continue;
    Statement statement{text, std::nullopt};
    const std::string arrow = "-- \xe2\x86\x92 ";  // "-- → "
    size_t at = text.rfind(arrow);
    if (at != std::string::npos) {
      std::string value = text.substr(at + arrow.size());
      while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
      statement.expected = value;
    }
    statements.push_back(std::move(statement));
  }
  return statements;
}

std::vector<std::string> pages() {
  std::vector<std::string> paths = {std::string(STRATA_SOURCE_DIR) + "/README.md"};
  for (const auto& entry : std::filesystem::directory_iterator(std::string(STRATA_SOURCE_DIR) + "/docs")) {
    if (entry.path().extension() == ".md") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(DocsExamples, EverySqlBlockRunsAsWritten) {
  int blocks = 0, checked_values = 0;
  for (const std::string& path : pages()) {
    Page page = read_page(path);
    for (const std::string& problem : page.problems) ADD_FAILURE() << problem;
    if (page.runnable.empty()) continue;
    strata::testing::ScratchDirectory scratch("docs_" + std::filesystem::path(path).stem().string());
    const std::filesystem::path working = std::filesystem::current_path();
    std::filesystem::current_path(scratch.path(""));
    {
      strata::testing::TestDatabase db(scratch.path("example.db"));
      for (const Block& block : page.runnable) {
        ++blocks;
        for (const Statement& statement : statements_of(block.sql)) {
          sqlite3_stmt* stmt = nullptr;
          int rc = sqlite3_prepare_v2(db.get(), statement.sql.c_str(), -1, &stmt, nullptr);
          std::string first;
          int rows = 0;
          if (rc == SQLITE_OK && stmt != nullptr) {
            while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
              if (rows++ == 0) {
                const unsigned char* text = sqlite3_column_text(stmt, 0);
                first = text ? reinterpret_cast<const char*>(text) : "NULL";
              }
            }
            if (rc == SQLITE_DONE) rc = SQLITE_OK;
          }
          std::string error = rc == SQLITE_OK ? "" : sqlite3_errmsg(db.get());
          sqlite3_finalize(stmt);
          EXPECT_EQ(rc, SQLITE_OK) << path << ":" << block.line << ": " << statement.sql << "fails: " << error;
          if (statement.expected && rc == SQLITE_OK) {
            ++checked_values;
            EXPECT_EQ(rows, 1) << path << ":" << block.line << ": " << statement.sql;
            EXPECT_EQ(first, *statement.expected) << path << ":" << block.line << ": " << statement.sql;
          }
        }
      }
    }
    std::filesystem::current_path(working);
  }
  EXPECT_GT(blocks, 5);
  std::printf("docs examples: %d blocks run, %d shown values checked\n", blocks, checked_values);
}

// docs/extension.md shows the errors a bad module argument gives: each must be the message
// strata really gives (they drifted once).
TEST(DocsExamples, ExtensionPageShowsTheRealErrorMessages) {
  std::ifstream in(std::string(STRATA_SOURCE_DIR) + "/docs/extension.md");
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const char* const statements[] = {
      "CREATE VIRTUAL TABLE e USING columnar(a, chunk_row=5)",
      "CREATE VIRTUAL TABLE e USING columnar(a, chunk_rows=lots)",
      "CREATE VIRTUAL TABLE e USING hnsw(e float[2], metric=euclid)",
      "CREATE VIRTUAL TABLE e USING columnar(a, bloom='a', bloom='a')",
      "CREATE VIRTUAL TABLE e USING columnar(a, bloom=)",
      "CREATE VIRTUAL TABLE e USING columnar(a, tier=a b)",
  };
  strata::testing::TestDatabase db;
  for (const char* statement : statements) {
    const std::string error = db.error_of(statement);
    ASSERT_FALSE(error.empty()) << statement;
    EXPECT_NE(page.find("`" + error + "`"), std::string::npos) << "docs/extension.md does not show: " << error;
  }
}

}  // namespace
