// Differential test: the same seeded random statements run against an ordinary SQLite table
// (one database) and a columnar table (another database); every statement must give the same
// rows, the same error (primary result code and message), the same last_insert_rowid() and,
// after INSERT/UPDATE/DELETE, the same changes(); after every statement the two tables must
// hold the same rows with the same storage classes and bytes. (After other statements,
// changes() may count strata's own shadow-table writes, as it does FTS5's: docs/columnar.md.)
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ext/str_cat.h"
#include "tests/unit/test_database.h"

namespace {

using strata::testing::TestDatabase;

struct Outcome {
  int rc = SQLITE_OK;  // primary code
  std::string error;
  std::vector<std::string> rows;
  int64_t changes = 0;
  int64_t last_rowid = 0;

  bool operator==(const Outcome&) const = default;
};

std::string describe(const Outcome& outcome) {
  std::string text = "rc=" + std::to_string(outcome.rc) + " error='" + outcome.error +
                     "' changes=" + std::to_string(outcome.changes) +
                     " last_rowid=" + std::to_string(outcome.last_rowid) + " rows:";
  for (size_t i = 0; i < outcome.rows.size() && i < 12; ++i) text += "\n    " + outcome.rows[i];
  if (outcome.rows.size() > 12) text += "\n    … " + std::to_string(outcome.rows.size()) + " rows";
  return text;
}

Outcome run(sqlite3* db, const std::string& sql) {
  Outcome outcome;
  const char* tail = sql.c_str();
  while (*tail) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db, tail, -1, &stmt, &tail);
    if (rc != SQLITE_OK) {
      outcome.rc = rc & 0xff;
      outcome.error = sqlite3_errmsg(db);
      return outcome;
    }
    if (stmt == nullptr) break;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) row += strata::testing::exact_cell(stmt, c) + "|";
      outcome.rows.push_back(row);
    }
    if (rc != SQLITE_DONE) {
      outcome.rc = rc & 0xff;
      outcome.error = sqlite3_errmsg(db);
      sqlite3_finalize(stmt);
      break;
    }
    sqlite3_finalize(stmt);
  }
  outcome.changes = sqlite3_changes64(db);
  outcome.last_rowid = sqlite3_last_insert_rowid(db);
  return outcome;
}

struct TableShape {
  const char* name;
  const char* columns;                 // the column definitions, shared by both tables
  std::vector<std::string> names;      // writable columns (no rowid alias)
  const char* key;                     // rowid alias, or "rowid"
  const char* columnar_options;        // extra options for the columnar table
};

const std::vector<TableShape>& shapes() {
  static const std::vector<TableShape> all = {
      {"plain", "a INTEGER, b TEXT, c REAL, d, e NUMERIC", {"a", "b", "c", "d", "e"}, "rowid",
       ", bloom='a,b,c,e', index='a,b,e'"},
      {"keyed",
       "id INTEGER PRIMARY KEY, k TEXT UNIQUE, v INTEGER NOT NULL DEFAULT 5, w BLOB, "
       "n TEXT COLLATE NOCASE",
       {"k", "v", "w", "n"},
       "id",
       ", bloom='k,v,n'"},
      {"composite",
       "id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT COLLATE NOCASE, y REAL DEFAULT 1.5, z, "
       "UNIQUE(x, y)",
       {"x", "y", "z"},
       "id",
       ", bloom='x,y', index='y', compression=none"},
  };
  return all;
}

class StatementGenerator {
 public:
  StatementGenerator(uint32_t seed, const TableShape& shape) : random_(seed), shape_(shape) {}

  std::string value() {
    static const char* const kValues[] = {
        "NULL", "0", "1", "-1", "2", "3", "7", "42", "9223372036854775807", "-9223372036854775808",
        "1.5", "-0.0", "0.0", "3.0", "1e308", "-1e308", "9e999", "-9e999", "(9e999 - 9e999)",
        "2.5e-300", "''", "'abc'", "'ABC'", "'Abc'", "'12'", "' 12 '", "'1e3'", "'3.0'",
        "'x'", "'é'", "CAST(x'610062' AS TEXT)", "x''", "x'00ff'", "zeroblob(3)", "'  '",
        "'0x10'", "'-5'", "'+7'", "'9223372036854775808'", "4611686018427387904"};
    return kValues[pick(std::size(kValues))];
  }

  std::string column() { return shape_.names[pick(shape_.names.size())]; }

  // For statements whose effect depends on the order rows are visited (OR FAIL, OR IGNORE,
  // OR REPLACE, INSERT … SELECT), `for_write` writes +column: the unary plus keeps an ordinary
  // table from walking a UNIQUE index instead of rowid order. SQL leaves that order open, so
  // both tables must be made to visit rows the same way to be comparable.
  std::string predicate(bool for_write = false) {
    std::string key = shape_.key;
    std::string plus = for_write ? "+" : "";
    switch (pick(14)) {
      case 9: return plus + column() + " >= " + value();
      case 10: return plus + column() + " > " + value() + " AND " + plus + column() + " <= " + value();
      case 11: return plus + column() + " IS " + value();
      case 12: return plus + column() + " IN (" + value() + ", " + value() + ", " + value() + ")";
      case 13: return plus + column() + " IS NOT NULL AND " + plus + column() + " = " + value();
      case 0: return key + " = " + std::to_string(pick(40));
      case 1: return key + " > " + std::to_string(pick(40));
      case 2: return key + " BETWEEN " + std::to_string(pick(20)) + " AND " + std::to_string(pick(40));
      case 3: return plus + column() + " IS NULL";
      case 4: return plus + column() + " = " + value();
      case 5: return plus + column() + " < " + value();
      case 6: return plus + column() + " IN (" + value() + ", " + value() + ")";
      case 7: return plus + column() + " IS NOT " + value();
      default: return "1";
    }
  }

  std::string conflict() {
    static const char* const kModes[] = {"", "", "", "OR IGNORE ", "OR REPLACE ", "OR FAIL ",
                                         "OR ABORT ", "OR ROLLBACK "};
    std::string mode = kModes[pick(std::size(kModes))];
    // On an AUTOINCREMENT table SQLite forgets the rowids of rows an OR FAIL statement kept
    // before failing (sqlite_sequence is written when a statement completes), so it may reuse
    // them; strata never does (docs/columnar.md). Not comparable, so not generated there.
    if (mode == "OR FAIL " && std::string_view(shape_.columns).find("AUTOINCREMENT") != std::string_view::npos) {
      mode = "OR ABORT ";
    }
    return mode;
  }

  std::string insert() {
    std::vector<std::string> columns;
    for (const std::string& name : shape_.names) {
      if (pick(3) != 0) columns.push_back(name);
    }
    bool with_key = pick(3) == 0;
    if (with_key) columns.insert(columns.begin(), shape_.key);
    if (columns.empty()) {
      return "INSERT " + conflict() + "INTO t DEFAULT VALUES";
    }
    std::string sql = pick(8) == 0 ? "REPLACE INTO t(" : "INSERT " + conflict() + "INTO t(";
    for (size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + columns[i];
    sql += ") VALUES ";
    size_t rows = 1 + pick(3);
    for (size_t r = 0; r < rows; ++r) {
      sql += r ? ", (" : "(";
      for (size_t i = 0; i < columns.size(); ++i) {
        sql += i ? ", " : "";
        sql += (with_key && i == 0) ? (pick(4) == 0 ? "NULL" : std::to_string(pick(40))) : value();
      }
      sql += ")";
    }
    return sql;
  }

  std::string next_statement(bool& in_transaction, int& savepoints) {
    size_t choice = pick(100);
    if (choice < 30) return insert();
    if (choice < 42) {
      std::string sql = "UPDATE " + conflict() + "t SET " + column() + " = " + value();
      if (pick(3) == 0) sql += ", " + column() + " = " + value();
      if (pick(5) == 0) sql = "UPDATE " + conflict() + "t SET " + shape_.key + " = " + std::to_string(pick(50));
      return sql + " WHERE " + predicate(true);
    }
    if (choice < 50) return "DELETE FROM t WHERE " + predicate(true);
    if (choice < 53) {
      return "INSERT " + conflict() + "INTO t(" + shape_.names[0] + ") SELECT " + shape_.names[0] +
             " FROM t WHERE " + predicate(true) + " ORDER BY rowid";
    }
    if (choice < 70) {
      switch (pick(11)) {
        // Grouped delivery: GROUP BY / DISTINCT / ORDER BY one column. The results avoid showing
        // a group's representative value, which SQL leaves to the order rows arrive in.
        case 8: {
          std::string c = column();
          return "SELECT count(*), count(" + c + "), total(length(" + c + ")) FROM t WHERE " + predicate() +
                 " GROUP BY " + c + " ORDER BY " + c;
        }
        case 9: return "SELECT count(*) FROM (SELECT DISTINCT " + column() + " FROM t)";
        case 10: {
          std::string c = column();
          return "SELECT count(*), sum(n) FROM (SELECT " + c + ", count(*) AS n FROM t GROUP BY " + c + ")";
        }
        case 6: return "SELECT rowid, * FROM t ORDER BY rowid LIMIT " + std::to_string(static_cast<int>(pick(6)) - 1) +
                       " OFFSET " + std::to_string(static_cast<int>(pick(30)) - 2);
        case 7: return "SELECT rowid, * FROM t WHERE " + predicate() + " ORDER BY rowid LIMIT " + std::to_string(pick(4)) +
                       (pick(2) ? " OFFSET " + std::to_string(pick(5)) : std::string());
        case 0: return "SELECT rowid, * FROM t WHERE " + predicate() + " ORDER BY rowid";
        // min()/max() of values that compare equal (5 and 5.0, 'abc' and 'ABC' under NOCASE)
        // return whichever comes first; quote() makes every value distinct.
        case 1: return "SELECT count(*), count(" + column() + "), min(quote(" + column() + ")), max(quote(" + column() + ")) FROM t";
        case 2: {
          // Grouped under BINARY: under NOCASE, which spelling a group shows ('abc' or 'Abc')
          // depends on the order rows arrive in, which SQL leaves open.
          std::string c = column();
          return "SELECT " + c + " COLLATE BINARY AS g, count(*) FROM t GROUP BY g ORDER BY g";
        }
        case 3: return "SELECT * FROM t WHERE " + std::string(shape_.key) + " = " + std::to_string(pick(40));
        case 4: return "SELECT typeof(" + column() + "), length(" + column() + ") FROM t ORDER BY rowid DESC";
        default:
          // sum() and total() depend on the order values arrive in (integer overflow, float
          // rounding), so both tables feed them in rowid order.
          return "SELECT sum(a), total(b) FROM (SELECT " + column() + " AS a, " + column() +
                 " AS b FROM t WHERE " + predicate(true) + " ORDER BY rowid)";
      }
    }
    if (choice < 78) {
      if (!in_transaction) {
        in_transaction = true;
        return "BEGIN";
      }
      in_transaction = false;
      savepoints = 0;
      return pick(3) == 0 ? "ROLLBACK" : "COMMIT";
    }
    if (choice < 88) {
      if (savepoints == 0 || pick(2) == 0) {
        ++savepoints;
        return "SAVEPOINT s" + std::to_string(savepoints);
      }
      int target = 1 + static_cast<int>(pick(static_cast<size_t>(savepoints)));
      if (pick(2) == 0) {
        savepoints = target - 1;
        if (savepoints == 0 && !in_transaction) {}
        return "RELEASE s" + std::to_string(target);
      }
      savepoints = target;
      return "ROLLBACK TO s" + std::to_string(target);
    }
    return insert();
  }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random_); }

  std::mt19937 random_;
  const TableShape& shape_;
};

void run_differential(const TableShape& shape, uint32_t seed, int statements) {
  TestDatabase ordinary;
  TestDatabase columnar;
  std::mt19937 sizes(seed);
  int chunk_rows = std::vector<int>{2, 3, 7, 64, 1000}[sizes() % 5];
  ordinary.exec(std::string("CREATE TABLE t(") + shape.columns + ")");
  columnar.exec(std::string("CREATE VIRTUAL TABLE t USING columnar(") + shape.columns +
                ", chunk_rows=" + std::to_string(chunk_rows) + shape.columnar_options + ")");
  StatementGenerator generator(seed, shape);
  bool in_transaction = false;
  int savepoints = 0;
  std::string content = "SELECT rowid, * FROM t ORDER BY rowid";
  for (int i = 0; i < statements; ++i) {
    std::string sql = generator.next_statement(in_transaction, savepoints);
    if (std::getenv("STRATA_DIFFERENTIAL_TRACE") != nullptr) std::fprintf(stderr, "%d: %s\n", i, sql.c_str());
    Outcome expected = run(ordinary.get(), sql);
    if (std::getenv("STRATA_DIFFERENTIAL_TRACE") != nullptr && sql.starts_with("SELECT")) {
      for (const std::string& row : run(columnar.get(), "EXPLAIN QUERY PLAN " + sql).rows) std::fprintf(stderr, "   plan %s\n", row.c_str());
    }
    Outcome actual = run(columnar.get(), sql);
    bool modifies_rows = sql.starts_with("INSERT") || sql.starts_with("REPLACE") ||
                         sql.starts_with("UPDATE") || sql.starts_with("DELETE");
    if (!modifies_rows) actual.changes = expected.changes;
    // SQLite lists an UPDATE's rows before changing any and calls xUpdate for each, even for
    // one that an earlier row's OR REPLACE has removed since; the row is skipped (the content
    // check below holds) but SQLite counts the call in changes() (docs/columnar.md).
    if (sql.starts_with("UPDATE OR REPLACE")) actual.changes = expected.changes;
    // The generator's idea of the transaction state can drift (ROLLBACK TO keeps a savepoint,
    // OR ROLLBACK ends the transaction); both databases see the same statements regardless.
    in_transaction = !sqlite3_get_autocommit(ordinary.get());
    if (!in_transaction) savepoints = 0;
    ASSERT_EQ(expected, actual) << "shape " << shape.name << " seed " << seed << " chunk_rows "
                                << chunk_rows << " statement " << i << ": " << sql
                                << "\n  ordinary: " << describe(expected) << "\n  columnar: " << describe(actual);
    ASSERT_EQ(sqlite3_get_autocommit(ordinary.get()), sqlite3_get_autocommit(columnar.get()))
        << "transaction state differs after: " << sql;
    Outcome expected_content = run(ordinary.get(), content);
    Outcome actual_content = run(columnar.get(), content);
    ASSERT_EQ(expected_content.rows, actual_content.rows)
        << "content differs after statement " << i << ": " << sql << " (shape " << shape.name
        << " seed " << seed << " chunk_rows " << chunk_rows << ")\n  ordinary: " << describe(expected_content)
        << "\n  columnar: " << describe(actual_content);
  }
  if (!sqlite3_get_autocommit(columnar.get())) {
    Outcome expected = run(ordinary.get(), "COMMIT");
    Outcome actual = run(columnar.get(), "COMMIT");
    ASSERT_EQ(expected.rc, actual.rc) << actual.error;
  }
  Outcome check = run(columnar.get(), "SELECT columnar_check('t')");
  ASSERT_EQ(check.rows, std::vector<std::string>{"tok|"}) << describe(check);
  // Compaction keeps every row and rowid.
  Outcome before = run(columnar.get(), content);
  ASSERT_EQ(run(columnar.get(), "SELECT columnar_compact('t')").rc, SQLITE_OK);
  ASSERT_EQ(run(columnar.get(), content).rows, before.rows);
  ASSERT_EQ(run(columnar.get(), "SELECT columnar_check('t')").rows, std::vector<std::string>{"tok|"});
}

class ColumnarDifferential : public ::testing::TestWithParam<std::tuple<size_t, uint32_t>> {};

TEST_P(ColumnarDifferential, SameResultsAsAnOrdinaryTable) {
  auto [shape_index, seed] = GetParam();
  run_differential(shapes()[shape_index], seed, 500);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ColumnarDifferential,
                         ::testing::Combine(::testing::Values(0u, 1u, 2u),
                                            ::testing::Range(1u, 21u)),
                         [](const auto& info) {
                           return std::string(shapes()[std::get<0>(info.param)].name) + "_seed" +
                                  std::to_string(std::get<1>(info.param));
                         });

}  // namespace
