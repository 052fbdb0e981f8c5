// Differential test: the same seeded random statements run against an ordinary SQLite table
// and a columnar table (each in its own database file); every statement must give the same
// rows, the same error (primary result code and message), the same last_insert_rowid() and,
// after INSERT/UPDATE/DELETE, the same changes(); after every statement the two tables must
// hold the same rows with the same storage classes and bytes. (After other statements,
// changes() may count strata's own shadow-table writes, as it does FTS5's: docs/columnar.md.)
//
// The generator aims at every way the table can answer a query: pushed =, IN (short lists,
// long sorted ones, IN (SELECT …)), ranges, IS, IS NULL, on UNIQUE columns, index= columns,
// bloom= columns, partition columns and the rowid; column-to-column terms SQLite keeps to
// itself; GROUP BY, DISTINCT and ORDER BY in both directions over mixed storage classes and
// NULLs; joins with an ordinary table (other affinities and collations on the other side);
// DML through all of those (UPDATE, DELETE, INSERT … SELECT, REPLACE, every conflict mode);
// transactions, savepoints, renames and reopening; and small chunk_rows, so that everything
// crosses chunk boundaries.
//
// Where SQL leaves an order open, both sides are made to agree: writes whose effect depends on
// the order rows are visited run on the ordinary table as `t NOT INDEXED` (rowid order, which
// is the columnar table's order too, with the same semantics); unordered results compare as
// multisets; ORDER BY on one column compares rows tied on the key as multisets.
//
// A mismatch fails with a minimized reproducer: the shortest script found (by removing
// statements while the mismatch persists) as SQL for the sqlite3 shell.
//
// Environment: STRATA_DIFFERENTIAL_SEEDS (seeds per shape, default 12), STRATA_DIFFERENTIAL_STATEMENTS
// (statements per seed, default 400), STRATA_DIFFERENTIAL_TRACE (print each statement).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ext/str_cat.h"
#include "tests/unit/test_database.h"
#include "vtab/columnar/partition.h"
#include "vtab/columnar/values.h"

namespace {

using strata::str_cat;
using strata::Value;
using strata::testing::ScratchDirectory;
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

// What a column holds, for drawing values that collide often and for comparing ties.
enum class Kind { kInteger, kText, kNoCase, kReal, kAny, kSeconds };

struct ColumnShape {
  std::string name;
  Kind kind;
};

struct TableShape {
  const char* name;
  const char* columns;               // the column definitions, shared by both tables
  std::vector<ColumnShape> writable;  // writable columns (no rowid alias)
  const char* key;                    // rowid alias, or "rowid"
  const char* columnar_options;       // extra options for the columnar table
};

// 70 columns: SQLite's colUsed has one bit for every column from 63 on, which the table decodes
// only when read (and eagerly for filters and grouping).
const char* wide_columns() {
  static const std::string columns = [] {
    std::string text = "id INTEGER PRIMARY KEY";
    for (int c = 1; c < 70; ++c) {
      const char* type = c % 3 == 0 ? " INTEGER" : c % 3 == 1 ? " TEXT" : "";
      text += ", c" + std::to_string(c) + type + (c == 66 ? " UNIQUE" : "");
    }
    return text;
  }();
  return columns.c_str();
}

// The column a shape's partition_by= reads ("" when it has none) and how.
struct ShapePartition {
  std::string column;
  strata::columnar::PartitionSpec spec;
};
ShapePartition partition_of(const TableShape& shape) {
  ShapePartition result;
  const std::string_view options = shape.columnar_options;
  const size_t at = options.find("partition_by='");
  if (at == std::string_view::npos) return result;
  std::string_view text = options.substr(at + 14);
  text = text.substr(0, text.find('\''));
  if (const size_t open = text.find('('); open != std::string_view::npos) {
    const std::string_view unit = text.substr(0, open);
    result.spec.unit = unit.starts_with("hour") ? strata::columnar::PartitionUnit::kHour
                       : unit.starts_with("day") ? strata::columnar::PartitionUnit::kDay
                       : unit.starts_with("month") ? strata::columnar::PartitionUnit::kMonth
                                                   : strata::columnar::PartitionUnit::kYear;
    result.spec.milliseconds = unit.ends_with("_ms");
    text = text.substr(open + 1, text.find(')') - open - 1);
  }
  result.column = std::string(text);
  return result;
}

// partition_of(v): the partition a row whose partition column holds v belongs to (the table's own
// rule, vtab/columnar/partition.h), on both connections, so that the ordinary table can delete
// exactly the rows tier_expire drops.
void register_partition_of(sqlite3* db, const strata::columnar::PartitionSpec* spec) {
  sqlite3_create_function_v2(
      db, "partition_of", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, const_cast<strata::columnar::PartitionSpec*>(spec),
      [](sqlite3_context* context, int, sqlite3_value** argv) {
        const auto* spec = static_cast<const strata::columnar::PartitionSpec*>(sqlite3_user_data(context));
        const Value value = strata::columnar::value_from_sqlite(argv[0]);
        strata::columnar::set_result(context, strata::columnar::partition_key(*spec, value.view()).view());
      },
      nullptr, nullptr, nullptr);
}

const std::vector<TableShape>& shapes() {
  static const std::vector<TableShape> all = {
      {"plain", "a INTEGER, b TEXT, c REAL, d, e NUMERIC",
       {{"a", Kind::kInteger}, {"b", Kind::kText}, {"c", Kind::kReal}, {"d", Kind::kAny}, {"e", Kind::kAny}},
       "rowid", ", bloom='a,b,c,e', index='a,b,e'"},
      {"keyed", "id INTEGER PRIMARY KEY, k TEXT UNIQUE, v INTEGER NOT NULL DEFAULT 5, w BLOB, n TEXT COLLATE NOCASE",
       {{"k", Kind::kText}, {"v", Kind::kInteger}, {"w", Kind::kAny}, {"n", Kind::kNoCase}},
       "id", ", bloom='k,v,n'"},
      {"composite",
       "id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT COLLATE NOCASE, y REAL DEFAULT 1.5, z, UNIQUE(x, y)",
       {{"x", Kind::kNoCase}, {"y", Kind::kReal}, {"z", Kind::kAny}},
       "id", ", bloom='x,y', index='y', compression=none"},
      // Several UNIQUE constraints (which one an error names), one with its own conflict clause.
      {"uniques", "u INTEGER UNIQUE, t TEXT UNIQUE, r REAL, p INTEGER, q UNIQUE ON CONFLICT IGNORE",
       {{"u", Kind::kInteger}, {"t", Kind::kText}, {"r", Kind::kReal}, {"p", Kind::kInteger}, {"q", Kind::kAny}},
       "rowid", ", partition_by='p', bloom='r,t', index='r', tier='file:lake', hot_partitions=0"},
      // Time partitions, a NOCASE index, an INTEGER PRIMARY KEY that is also the ordering key.
      {"events", "id INTEGER PRIMARY KEY, ts INTEGER, kind TEXT COLLATE NOCASE, amount REAL, tag",
       {{"ts", Kind::kSeconds}, {"kind", Kind::kNoCase}, {"amount", Kind::kReal}, {"tag", Kind::kAny}},
       "id", ", partition_by='day(ts)', bloom='tag', index='kind', tier='file:lake'"},
      // Multi-column UNIQUE with a REPLACE clause, and an untyped UNIQUE column.
      {"pairs", "a INTEGER NOT NULL, b TEXT, c, UNIQUE(a, b) ON CONFLICT REPLACE, UNIQUE(c)",
       {{"a", Kind::kInteger}, {"b", Kind::kText}, {"c", Kind::kAny}},
       "rowid", ", bloom='a', index='b'"},
      {"wide", wide_columns(),
       {{"c1", Kind::kText}, {"c3", Kind::kInteger}, {"c64", Kind::kText}, {"c65", Kind::kAny}, {"c66", Kind::kInteger},
        {"c67", Kind::kText}, {"c69", Kind::kInteger}},
       "id", ", bloom='c64,c69', index='c65'"},
  };
  return all;
}

class StatementGenerator {
 public:
  StatementGenerator(uint32_t seed, const TableShape& shape) : random_(seed), shape_(shape) {}

  std::string exotic_value() {
    static const char* const kValues[] = {
        "NULL", "0", "1", "-1", "2", "3", "7", "42", "9223372036854775807", "-9223372036854775808",
        "-9223372036854775808.0", "1.5", "-0.0", "0.0", "3.0", "1e308", "-1e308", "9e999", "-9e999",
        "(9e999 - 9e999)", "2.5e-300", "''", "'abc'", "'ABC'", "'Abc'", "'12'", "' 12 '", "'1e3'", "'3.0'",
        "'x'", "'é'", "CAST(x'610062' AS TEXT)", "x''", "x'00ff'", "zeroblob(3)", "'  '", "'abc '",
        "'0x10'", "'-5'", "'+7'", "'9223372036854775808'", "4611686018427387904", "'0'", "'00'"};
    return kValues[pick(std::size(kValues))];
  }

  // Values from a small domain per kind, so that keys collide and groups form.
  std::string value(Kind kind) {
    if (pick(4) == 0) return exotic_value();
    switch (kind) {
      case Kind::kInteger: {
        static const char* const k[] = {"0", "1", "2", "3", "5", "8", "13", "'5'", "5.0", "NULL", "-4", "100"};
        return k[pick(std::size(k))];
      }
      case Kind::kText: {
        static const char* const k[] = {"'a'", "'b'", "'c'", "'d'", "'ab'", "'B'", "'5'", "5", "NULL", "'a '", "''"};
        return k[pick(std::size(k))];
      }
      case Kind::kNoCase: {
        static const char* const k[] = {"'abc'", "'ABC'", "'Abc'", "'x'", "'X'", "'y'", "'é'", "'É'", "NULL", "'abc '"};
        return k[pick(std::size(k))];
      }
      case Kind::kReal: {
        static const char* const k[] = {"0.5", "1.5", "2", "2.0", "-1.25", "1e10", "NULL", "3", "'1.5'", "0"};
        return k[pick(std::size(k))];
      }
      case Kind::kSeconds: {
        // Six days from 2023-11-14, and the day boundaries.
        int64_t day = 1699920000 + 86400 * static_cast<int64_t>(pick(6));
        switch (pick(5)) {
          case 0: return std::to_string(day);
          case 1: return std::to_string(day - 1);
          case 2: return "NULL";
          default: return std::to_string(day + static_cast<int64_t>(pick(86400)));
        }
      }
      case Kind::kAny: break;
    }
    static const char* const k[] = {"1", "2", "'1'", "1.0", "'a'", "'A'", "x'01'", "NULL", "2.5", "'2.5'"};
    return k[pick(std::size(k))];
  }

  const ColumnShape& column() { return shape_.writable[pick(shape_.writable.size())]; }
  std::string value_list(Kind kind, size_t count) {
    std::string list;
    for (size_t i = 0; i < count; ++i) list += (i ? ", " : "") + value(kind);
    return list;
  }

  std::string predicate(int depth = 0) {
    const std::string key = shape_.key;
    const ColumnShape& c = column();
    switch (pick(24)) {
      case 0: return key + " = " + std::to_string(pick(40));
      case 1: return key + " > " + std::to_string(pick(40));
      case 2: return key + " BETWEEN " + std::to_string(pick(20)) + " AND " + std::to_string(pick(40));
      case 3: return key + " IN (" + std::to_string(pick(30)) + ", " + std::to_string(pick(30)) + ", " + value(Kind::kInteger) + ")";
      case 4: return c.name + " IS NULL";
      case 5: return c.name + " IS NOT NULL";
      case 6:
      case 7: return c.name + " = " + value(c.kind);
      case 8: return c.name + " < " + value(c.kind);
      case 9: return c.name + " >= " + value(c.kind);
      case 10: return c.name + " > " + value(c.kind) + " AND " + c.name + " <= " + value(c.kind);
      case 11: return c.name + " BETWEEN " + value(c.kind) + " AND " + value(c.kind);
      case 12: return c.name + " IS " + value(c.kind);
      case 13: return c.name + " IS NOT " + value(c.kind);
      case 14:
      case 15: return c.name + " IN (" + value_list(c.kind, 1 + pick(4)) + ")";
      // Long lists take the sorted probe.
      case 16: return c.name + " IN (" + value_list(c.kind, 8 + pick(24)) + ")";
      case 17: return c.name + " NOT IN (" + value_list(c.kind, 1 + pick(3)) + ")";
      case 18: return c.name + " IN (SELECT x FROM o WHERE o.rowid % 3 = " + std::to_string(pick(3)) + ")";
      // Terms SQLite never shows the table.
      case 19: return c.name + " = " + column().name;
      case 20: return c.name + " < " + column().name;
      case 21: return c.name + " COLLATE NOCASE = " + value(c.kind);
      case 22:
        if (depth < 2) return "(" + predicate(depth + 1) + (pick(2) ? " OR " : " AND ") + predicate(depth + 1) + ")";
        return "1";
      default:
        if (depth < 2) return "NOT (" + predicate(depth + 1) + ")";
        return c.name + " LIKE 'a%'";
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
    std::vector<const ColumnShape*> columns;
    for (const ColumnShape& c : shape_.writable) {
      if (pick(3) != 0) columns.push_back(&c);
    }
    bool with_key = pick(3) == 0;
    if (columns.empty() && !with_key) return "INSERT " + conflict() + "INTO t DEFAULT VALUES";
    std::string sql = pick(8) == 0 ? "REPLACE INTO t(" : "INSERT " + conflict() + "INTO t(";
    if (with_key) sql += shape_.key + std::string(columns.empty() ? "" : ", ");
    for (size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + columns[i]->name;
    sql += ") VALUES ";
    size_t rows = 1 + pick(4);
    for (size_t r = 0; r < rows; ++r) {
      sql += r ? ", (" : "(";
      if (with_key) sql += (pick(4) == 0 ? "NULL" : std::to_string(pick(40))) + std::string(columns.empty() ? "" : ", ");
      for (size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + value(columns[i]->kind);
      sql += ")";
    }
    return sql;
  }

  // A write: `ordinary` gets the statement for the ordinary table (which visits rows in rowid
  // order through NOT INDEXED, as the columnar table does), the return value the columnar one.
  std::string write(std::string& ordinary) {
    size_t choice = pick(100);
    if (choice < 40) return ordinary = insert();
    if (choice < 65) {
      std::string mode = conflict();
      // Under OR REPLACE an ordinary table may update a row twice (docs/columnar.md), so the
      // SET must not depend on the row's values there.
      bool idempotent = mode == "OR REPLACE ";
      std::string set;
      if (pick(5) == 0) {
        set = std::string(shape_.key) + " = " +
              (idempotent || pick(2) ? std::to_string(pick(50)) : std::string(shape_.key) + " + " + std::to_string(pick(5)));
      } else {
        const ColumnShape& c = column();
        set = c.name + " = " + (!idempotent && pick(4) == 0 ? c.name + " || 'x'" : value(c.kind));
        if (pick(3) == 0) {
          const ColumnShape& other = column();
          set += ", " + other.name + " = " + value(other.kind);
        }
      }
      std::string tail = " SET " + set + " WHERE " + predicate();
      ordinary = "UPDATE " + mode + "t NOT INDEXED" + tail;
      return "UPDATE " + mode + "t" + tail;
    }
    if (choice < 85) {
      std::string tail = " WHERE " + predicate();
      ordinary = "DELETE FROM t NOT INDEXED" + tail;
      return "DELETE FROM t" + tail;
    }
    const ColumnShape& c = column();
    if (pick(2) == 0) {
      return ordinary = "INSERT " + conflict() + "INTO t(" + c.name + ") SELECT " + c.name + " FROM t WHERE " + predicate() +
                        " ORDER BY rowid";
    }
    return ordinary = "INSERT " + conflict() + "INTO t(" + c.name + ") SELECT x FROM o WHERE " + predicate_on_o() + " ORDER BY rowid";
  }

  std::string predicate_on_o() {
    switch (pick(3)) {
      case 0: return "rowid % 2 = " + std::to_string(pick(2));
      case 1: return "x IS NOT NULL";
      default: return "rowid < " + std::to_string(pick(12));
    }
  }

  // kTiesOnFirstColumn: rows tied on the first column (the ORDER BY key) in any order;
  // kDistinctKeys: DISTINCT keeps whichever of the tied values (5, 5.0) it met first.
  enum class Compare { kExact, kMultiset, kTiesOnFirstColumn, kDistinctKeys };

  std::string select(Compare& compare, bool& tie_nocase) {
    compare = Compare::kExact;
    tie_nocase = false;
    const ColumnShape& c = column();
    std::string where = pick(3) == 0 ? std::string() : " WHERE " + predicate();
    std::string direction = pick(2) ? " DESC" : "";
    switch (pick(14)) {
      case 0: return "SELECT rowid, * FROM t" + where + " ORDER BY rowid" + direction;
      case 1:
        compare = Compare::kMultiset;
        return "SELECT rowid, * FROM t" + where;
      // Grouped delivery: one row per group, nothing that depends on the order within a group.
      case 2:
        return "SELECT min(quote(" + c.name + ")), count(*), max(rowid) FROM t" + where + " GROUP BY " + c.name +
               " ORDER BY " + c.name + direction;
      case 3:
        compare = Compare::kMultiset;
        return "SELECT min(quote(" + c.name + ")), count(*), sum(rowid) FROM t" + where + " GROUP BY " + c.name;
      case 4: return "SELECT count(*) FROM (SELECT DISTINCT " + c.name + " FROM t" + where + ")";
      case 5:
        compare = Compare::kTiesOnFirstColumn;
        tie_nocase = c.kind == Kind::kNoCase;
        return "SELECT " + c.name + ", rowid FROM t" + where + " ORDER BY " + c.name + direction;
      case 6:
        compare = Compare::kDistinctKeys;
        tie_nocase = c.kind == Kind::kNoCase;
        return "SELECT DISTINCT " + c.name + " FROM t" + where + " ORDER BY " + c.name + direction;
      case 7:
        return "SELECT rowid, * FROM t" + where + " ORDER BY rowid LIMIT " + std::to_string(pick(5)) +
               (pick(2) ? " OFFSET " + std::to_string(pick(6)) : std::string());
      case 8:
        return "SELECT rowid FROM t WHERE " + c.name + " = " + column().name + " ORDER BY rowid LIMIT " + std::to_string(1 + pick(3));
      // min()/max() of values that compare equal (5 and 5.0) return whichever comes first;
      // quote() makes every value distinct.
      case 9:
        return "SELECT count(*), count(" + c.name + "), min(quote(" + c.name + ")), max(quote(" + c.name + ")) FROM t" + where;
      // Joins: the other side's affinity and collation decide the comparison.
      case 10:
        compare = Compare::kMultiset;
        return "SELECT t.rowid, o.rowid FROM o JOIN t ON t." + c.name + " = o." + (pick(2) ? "x" : "y");
      case 11:
        compare = Compare::kMultiset;
        return "SELECT t.rowid, o.rowid FROM o JOIN t ON o." + std::string(pick(2) ? "x" : "y") + " = t." + c.name +
               (pick(2) ? " COLLATE NOCASE" : "");
      case 12:
        // sum() and total() depend on the order values arrive in (integer overflow, float
        // rounding), so both tables feed them in rowid order.
        return "SELECT sum(v), total(v) FROM (SELECT " + c.name + " AS v FROM t" + where + " ORDER BY rowid)";
      default: return "SELECT typeof(" + c.name + "), length(" + c.name + ") FROM t" + where + " ORDER BY rowid DESC";
    }
  }

  enum class StepKind { kWrite, kSelect, kTransaction, kRename, kReopen, kTier };

  // The next statement for each side; `compare` says how to compare a SELECT's rows.
  StepKind next(std::string& ordinary, std::string& columnar, bool& in_transaction, int& savepoints, Compare& compare,
             bool& tie_nocase) {
    size_t choice = pick(100);
    // Tiered shapes: partitions move to the lake and back at random points (docs/tiering.md),
    // between transactions; the ordinary table does nothing then.
    if (std::string_view(shape_.columnar_options).find("tier=") != std::string_view::npos && choice >= 35 && choice < 45 &&
        !in_transaction) {
      columnar = tier_operation(ordinary);
      return StepKind::kTier;
    }
    if (choice < 45) {
      columnar = write(ordinary);
      return StepKind::kWrite;
    }
    if (choice < 75) {
      ordinary = columnar = select(compare, tie_nocase);
      return StepKind::kSelect;
    }
    if (choice < 83) {
      if (!in_transaction) {
        in_transaction = true;
        ordinary = columnar = "BEGIN";
      } else {
        in_transaction = false;
        savepoints = 0;
        ordinary = columnar = pick(3) == 0 ? "ROLLBACK" : "COMMIT";
      }
      return StepKind::kTransaction;
    }
    if (choice < 93) {
      if (savepoints == 0 || pick(2) == 0) {
        ++savepoints;
        ordinary = columnar = "SAVEPOINT s" + std::to_string(savepoints);
      } else {
        int target = 1 + static_cast<int>(pick(static_cast<size_t>(savepoints)));
        if (pick(2) == 0) {
          savepoints = target - 1;
          ordinary = columnar = "RELEASE s" + std::to_string(target);
        } else {
          savepoints = target;
          ordinary = columnar = "ROLLBACK TO s" + std::to_string(target);
        }
      }
      return StepKind::kTransaction;
    }
    if (choice < 96) {
      ordinary = columnar = "ALTER TABLE t RENAME TO t_renamed; ALTER TABLE t_renamed RENAME TO t";
      return StepKind::kRename;
    }
    ordinary = columnar = "-- reopen";
    return StepKind::kReopen;
  }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random_); }

  // The columnar side of a tiering step; the ordinary side does nothing, or for tier_expire
  // deletes the rows of the partition expired.
  std::string tier_operation(std::string& ordinary) {
    ordinary = "SELECT 1";
    // A partition the table has (NULL when the offset is past the last chunk).
    const std::string partition = "(SELECT partition_key FROM t_chunks ORDER BY chunk_id LIMIT 1 OFFSET " +
                                  std::to_string(pick(6)) + ")";
    if (pick(8) == 0) {
      // The partition of some row (NULL past the last one) goes, hot or cold. It is picked by a
      // statement of its own: tier_expire refuses to run while a scan of t is open.
      const std::string column = partition_of(shape_).column;
      const std::string picked = "DELETE FROM picked; INSERT INTO picked SELECT partition_of(" + column +
                                 ") FROM t ORDER BY rowid LIMIT 1 OFFSET " + std::to_string(pick(40)) + "; ";
      ordinary = picked + "DELETE FROM t WHERE partition_of(" + column + ") IS (SELECT v FROM picked)";
      return picked + "SELECT tier_expire('t', (SELECT v FROM picked))";
    }
    switch (pick(6)) {
      case 0:
      case 1: return "SELECT tier_flush('t')";
      case 2: return "SELECT tier_flush('t', " + partition + ")";
      case 3:
      case 4: return "SELECT tier_restore('t', " + partition + ")";
      default: return "SELECT tier_gc('t')";
    }
  }

  std::mt19937 random_;
  const TableShape& shape_;
};

// One statement of a script, as each side runs it.
struct Step {
  std::string ordinary;
  std::string columnar;
  StatementGenerator::StepKind kind;
  StatementGenerator::Compare compare = StatementGenerator::Compare::kExact;
  bool tie_nocase = false;
};

struct Setup {
  const TableShape* shape;
  int chunk_rows;
  std::string ordinary_create() const { return str_cat("CREATE TABLE t(", shape->columns, ")"); }
  std::string columnar_create() const {
    return str_cat("CREATE VIRTUAL TABLE t USING columnar(", shape->columns, ", chunk_rows=", std::to_string(chunk_rows),
                   shape->columnar_options, ")");
  }
  // The ordinary helper tables both databases have: o for joins and IN (SELECT …), picked for
  // the partition a tier_expire step drops.
  static const char* helper() {
    return "CREATE TABLE picked(v); CREATE TABLE o(x, y TEXT COLLATE NOCASE);"
           "INSERT INTO o VALUES (1, 'abc'), ('1', 'ABC'), (2.0, 'x'), ('a', 'b'), ('A', 'a'), (NULL, NULL),"
           " (5, '5'), ('abc', 'abc '), (x'01', 'é'), (1699920000, '3'), (3, 'y'), ('c', 'B')";
  }
};

// What ORDER BY compares of a row's first cell (exact_cell text): numbers by value (5 and 5.0
// tie), text under NOCASE lowered.
std::string tie_key(const std::string& row, bool nocase) {
  std::string cell = row.substr(0, row.find('|'));
  if (cell.empty()) return cell;
  auto number = [](long double value) {
    char text[64];
    std::snprintf(text, sizeof text, "n%.21Lg", value == 0 ? 0.0L : value);  // -0.0 ties with 0
    return std::string(text);
  };
  if (cell[0] == 'i') return number(static_cast<long double>(std::stoll(cell.substr(1))));
  if (cell[0] == 'r') return number(static_cast<long double>(std::bit_cast<double>(std::stoull(cell.substr(1)))));
  if (cell[0] == 't' && nocase) {
    for (char& ch : cell) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
  }
  return cell;
}

// Splits rows into runs whose first cells tie under ORDER BY, and sorts each run, so that the
// order SQL leaves open among ties does not count.
std::vector<std::string> normalize_ties(std::vector<std::string> rows, bool nocase) {
  size_t start = 0;
  for (size_t i = 1; i <= rows.size(); ++i) {
    if (i == rows.size() || tie_key(rows[i], nocase) != tie_key(rows[start], nocase)) {
      std::sort(rows.begin() + static_cast<long>(start), rows.begin() + static_cast<long>(i));
      start = i;
    }
  }
  return rows;
}

// Runs a script against fresh databases; returns a description of the first mismatch, if any.
class DifferentialRun {
 public:
  DifferentialRun(const Setup& setup, const ScratchDirectory& scratch) : setup_(setup), scratch_(scratch) {
    open();
    ordinary_->exec(setup_.ordinary_create());
    columnar_->exec(setup_.columnar_create());
    ordinary_->exec(Setup::helper());
    columnar_->exec(Setup::helper());
  }
  ~DifferentialRun() {
    ordinary_.reset();
    columnar_.reset();
    std::remove(scratch_.path("ordinary.db").c_str());
    std::remove(scratch_.path("columnar.db").c_str());
  }

  std::optional<std::string> step(const Step& step) {
    using StepKind = StatementGenerator::StepKind;
    using Compare = StatementGenerator::Compare;
    if (step.kind == StepKind::kReopen) {
      if (!sqlite3_get_autocommit(ordinary_->get())) return std::nullopt;
      open();
      return std::nullopt;
    }
    Outcome expected = run(ordinary_->get(), step.ordinary);
    Outcome actual = run(columnar_->get(), step.columnar);
    if (step.kind == StepKind::kTier) {
      // It moves storage, not rows: it must succeed; the content check below compares the rows.
      if (actual.rc != SQLITE_OK) return str_cat("tiering failed: ", step.columnar, ": ", describe(actual));
      if (std::getenv("STRATA_DIFFERENTIAL_TRACE") != nullptr) std::fprintf(stderr, "  -> %s\n", describe(actual).c_str());
      actual.rows = expected.rows;
      actual.changes = expected.changes;
    }
    bool modifies_rows = step.kind == StepKind::kWrite;
    if (!modifies_rows) actual.changes = expected.changes;
    // SQLite lists an UPDATE's rows before changing any and calls xUpdate for each, even for
    // one that an earlier row's OR REPLACE has removed since; the row is skipped (the content
    // check below holds) but SQLite counts the call in changes() (docs/columnar.md). A row a
    // constraint's own ON CONFLICT IGNORE drops is counted too.
    if (step.columnar.starts_with("UPDATE OR REPLACE") || std::string_view(setup_.shape->columns).find("IGNORE") != std::string_view::npos ||
        (std::string_view(setup_.shape->columns).find("ON CONFLICT REPLACE") != std::string_view::npos && step.columnar.starts_with("UPDATE"))) {
      actual.changes = expected.changes;
    }
    if (step.compare == Compare::kMultiset) {
      std::sort(expected.rows.begin(), expected.rows.end());
      std::sort(actual.rows.begin(), actual.rows.end());
    } else if (step.compare == Compare::kTiesOnFirstColumn) {
      expected.rows = normalize_ties(std::move(expected.rows), step.tie_nocase);
      actual.rows = normalize_ties(std::move(actual.rows), step.tie_nocase);
    } else if (step.compare == Compare::kDistinctKeys) {
      for (std::string& row : expected.rows) row = tie_key(row, step.tie_nocase);
      for (std::string& row : actual.rows) row = tie_key(row, step.tie_nocase);
    }
    if (!(expected == actual)) {
      return str_cat("statement gives different results: ", step.columnar, "\n  ordinary: ", describe(expected),
                     "\n  columnar: ", describe(actual));
    }
    if (sqlite3_get_autocommit(ordinary_->get()) != sqlite3_get_autocommit(columnar_->get())) {
      return str_cat("transaction state differs after: ", step.columnar);
    }
    const std::string content = "SELECT rowid, * FROM t ORDER BY rowid";
    Outcome expected_content = run(ordinary_->get(), content);
    Outcome actual_content = run(columnar_->get(), content);
    if (expected_content.rows != actual_content.rows) {
      return str_cat("content differs after: ", step.columnar, "\n  ordinary: ", describe(expected_content),
                     "\n  columnar: ", describe(actual_content));
    }
    return std::nullopt;
  }

  bool in_transaction() const { return !sqlite3_get_autocommit(ordinary_->get()); }

  // The checks at the end of a script: integrity, and compaction keeping every row.
  std::optional<std::string> finish() {
    if (!sqlite3_get_autocommit(columnar_->get())) {
      Outcome expected = run(ordinary_->get(), "COMMIT");
      Outcome actual = run(columnar_->get(), "COMMIT");
      if (expected.rc != actual.rc) return str_cat("COMMIT differs: ", actual.error);
    }
    const std::string content = "SELECT rowid, * FROM t ORDER BY rowid";
    Outcome check = run(columnar_->get(), "SELECT columnar_check('t')");
    if (check.rows != std::vector<std::string>{"tok|"}) return "columnar_check: " + describe(check);
    Outcome before = run(columnar_->get(), content);
    if (run(columnar_->get(), "SELECT columnar_compact('t')").rc != SQLITE_OK) return std::string("columnar_compact failed");
    if (run(columnar_->get(), content).rows != before.rows) return std::string("columnar_compact changed the rows");
    if (run(columnar_->get(), "SELECT columnar_check('t')").rows != std::vector<std::string>{"tok|"}) {
      return std::string("columnar_check after columnar_compact is not ok");
    }
    if (std::string_view(setup_.shape->columnar_options).find("tier=") != std::string_view::npos) {
      // Everything cold but the newest partitions, reopened, then everything hot again.
      if (run(columnar_->get(), "SELECT tier_flush('t')").rc != SQLITE_OK) return std::string("the final tier_flush failed");
      open();
      if (run(columnar_->get(), content).rows != before.rows) return std::string("tier_flush changed the rows");
      if (run(columnar_->get(), "SELECT columnar_check('t')").rows != std::vector<std::string>{"tok|"}) {
        return std::string("columnar_check after tier_flush is not ok");
      }
      Outcome restored = run(columnar_->get(), "SELECT count(tier_restore('t', partition)) FROM tier_partitions WHERE tbl = 't'");
      if (restored.rc != SQLITE_OK) return "restoring every partition failed: " + describe(restored);
      if (run(columnar_->get(), content).rows != before.rows) return std::string("tier_restore changed the rows");
      if (run(columnar_->get(), "SELECT count(*) FROM t_objects").rows != std::vector<std::string>{"i0|"}) {
        return std::string("objects are left after every partition was restored");
      }
    }
    return std::nullopt;
  }

 private:
  void open() {
    ordinary_.reset();
    columnar_.reset();
    ordinary_ = std::make_unique<TestDatabase>(scratch_.path("ordinary.db"));
    columnar_ = std::make_unique<TestDatabase>(scratch_.path("columnar.db"));
    register_partition_of(ordinary_->get(), &partition_.spec);
    register_partition_of(columnar_->get(), &partition_.spec);
  }

  const Setup& setup_;
  const ScratchDirectory& scratch_;
  const ShapePartition partition_ = partition_of(*setup_.shape);
  std::unique_ptr<TestDatabase> ordinary_;
  std::unique_ptr<TestDatabase> columnar_;
};

std::optional<std::string> run_script(const Setup& setup, const ScratchDirectory& scratch, const std::vector<Step>& steps,
                                      bool with_finish) {
  DifferentialRun differential(setup, scratch);
  for (const Step& step : steps) {
    if (std::optional<std::string> mismatch = differential.step(step)) return mismatch;
  }
  if (with_finish) return differential.finish();
  return std::nullopt;
}

// Delta debugging: drops chunks of statements, then single ones, while the script still fails.
std::vector<Step> minimize(const Setup& setup, const ScratchDirectory& scratch, std::vector<Step> steps, bool with_finish) {
  for (size_t chunk = std::max<size_t>(1, steps.size() / 2);; chunk /= 2) {
    for (size_t start = 0; start < steps.size();) {
      std::vector<Step> candidate;
      for (size_t i = 0; i < steps.size(); ++i) {
        if (i < start || i >= start + chunk) candidate.push_back(steps[i]);
      }
      if (!candidate.empty() && run_script(setup, scratch, candidate, with_finish)) {
        steps = std::move(candidate);
      } else {
        start += chunk;
      }
    }
    if (chunk == 1) break;
  }
  return steps;
}

std::string reproducer(const Setup& setup, const std::vector<Step>& steps) {
  std::string ordinary = setup.ordinary_create() + ";\n" + Setup::helper() + ";\n";
  std::string columnar = ".load ./build/libstrata\n" + setup.columnar_create() + ";\n" + Setup::helper() + ";\n";
  for (const Step& step : steps) {
    ordinary += step.ordinary + ";\n";
    columnar += step.columnar + ";\n";
  }
  return "-- columnar:\n" + columnar + "-- ordinary table:\n" + ordinary;
}

int environment_number(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && std::atoi(text) > 0 ? std::atoi(text) : fallback;
}

void run_differential(const TableShape& shape, uint32_t seed, int statements) {
  ScratchDirectory scratch("differential");
  std::mt19937 sizes(seed);
  Setup setup{&shape, std::vector<int>{1, 2, 3, 7, 64, 1000}[sizes() % 6]};
  StatementGenerator generator(seed, shape);
  bool in_transaction = false;
  int savepoints = 0;
  bool trace = std::getenv("STRATA_DIFFERENTIAL_TRACE") != nullptr;
  std::vector<Step> steps;
  std::optional<std::string> mismatch;
  {
    DifferentialRun differential(setup, scratch);
    for (int i = 0; i < statements && !mismatch; ++i) {
      Step step;
      step.kind = generator.next(step.ordinary, step.columnar, in_transaction, savepoints, step.compare, step.tie_nocase);
      if (trace) std::fprintf(stderr, "%d: %s\n", i, step.columnar.c_str());
      steps.push_back(step);
      mismatch = differential.step(step);
      // The generator's idea of the transaction state can drift (ROLLBACK TO keeps a savepoint,
      // OR ROLLBACK ends the transaction): ask the database.
      in_transaction = differential.in_transaction();
      if (!in_transaction) savepoints = 0;
    }
    if (!mismatch) mismatch = differential.finish();
  }
  if (!mismatch) return;
  bool at_finish = run_script(setup, scratch, steps, false) == std::nullopt;
  std::vector<Step> minimal = minimize(setup, scratch, steps, at_finish);
  std::optional<std::string> minimal_mismatch = run_script(setup, scratch, minimal, at_finish);
  FAIL() << "shape " << shape.name << " seed " << seed << " chunk_rows " << setup.chunk_rows << ": " << *mismatch
         << "\n\nminimized (" << minimal.size() << " of " << steps.size() << " statements): "
         << minimal_mismatch.value_or("(no longer fails)") << "\n" << reproducer(setup, minimal);
}

class ColumnarDifferential : public ::testing::TestWithParam<std::tuple<size_t, uint32_t>> {};

TEST_P(ColumnarDifferential, SameResultsAsAnOrdinaryTable) {
  auto [shape_index, seed] = GetParam();
  run_differential(shapes()[shape_index], seed, environment_number("STRATA_DIFFERENTIAL_STATEMENTS", 400));
}

INSTANTIATE_TEST_SUITE_P(Seeds, ColumnarDifferential,
                         ::testing::Combine(::testing::Range(size_t{0}, shapes().size()),
                                            ::testing::Range(1u, 1u + static_cast<uint32_t>(environment_number(
                                                                          "STRATA_DIFFERENTIAL_SEEDS", 12)))),
                         [](const auto& info) {
                           return std::string(shapes()[std::get<0>(info.param)].name) + "_seed" +
                                  std::to_string(std::get<1>(info.param));
                         });

// The reproducers the independent testing found, each as it was reported.
TEST(ColumnarDifferentialRegressions, ReportedWrongAnswers) {
  struct Case {
    const char* setup;    // the same on both sides but for `USING columnar` (one table, created first)
    const char* options;  // the columnar table's options
    const char* query;
  };
  const Case cases[] = {
      {"CREATE TABLE c(k INTEGER UNIQUE, v); INSERT INTO c VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e');"
       "DELETE FROM c WHERE k IN (2,4); UPDATE c SET v = 'x' WHERE k IN (1,3,5);",
       "", "SELECT * FROM c ORDER BY rowid"},
      {"CREATE TABLE tu(k TEXT UNIQUE, v); INSERT INTO tu VALUES ('00', 1), ('0', 2), (0.0, 3);"
       "UPDATE tu SET v = v + 100 WHERE k = 0; DELETE FROM tu WHERE k = 0.0;",
       "", "SELECT * FROM tu ORDER BY rowid"},
      {"CREATE TABLE g(x INTEGER); INSERT INTO g VALUES (1),(2),(3),(2),(NULL);", "",
       "SELECT x, count(*) FROM g GROUP BY x ORDER BY x DESC"},
      {"CREATE TABLE r(id INTEGER PRIMARY KEY, v); INSERT INTO r VALUES (1,'a'),(2,'b'),(3,'c');"
       "UPDATE r SET id = id + 10, rowid = -rowid; UPDATE r SET rowid = rowid - 1, id = id + 20 WHERE id = -1;",
       "", "SELECT rowid, * FROM r ORDER BY rowid"},
      {"CREATE TABLE cc(a, b); INSERT INTO cc VALUES (1,2),(3,3);", "", "SELECT * FROM cc WHERE a = b LIMIT 1"},
      {"CREATE TABLE nk(k INTEGER UNIQUE); INSERT INTO nk VALUES ('Abc');", "",
       "SELECT * FROM nk WHERE k COLLATE NOCASE = 'abc'"},
      {"CREATE TABLE bm(k INTEGER); INSERT INTO bm VALUES (-9223372036854775808);", ", bloom='k'",
       "SELECT count(*) FROM bm WHERE k = -9223372036854775808.0"},
      {"CREATE TABLE mx(v); INSERT INTO mx(rowid, v) VALUES (9223372036854775807, 1); INSERT INTO mx(v) VALUES (2);", "",
       "SELECT count(*), count(DISTINCT rowid), min(rowid) > 0 FROM mx"},
      {"CREATE TABLE uu(a UNIQUE, b UNIQUE, c); INSERT INTO uu VALUES (1, 1, 1);", "", "INSERT INTO uu VALUES (1, 1, 2)"},
      {"CREATE TABLE ui(a UNIQUE ON CONFLICT IGNORE, b); INSERT INTO ui VALUES (1, 1); INSERT INTO ui VALUES (1, 2);", "",
       "SELECT * FROM ui"},
  };
  for (const Case& c : cases) {
    TestDatabase ordinary;
    TestDatabase columnar;
    ordinary.exec(c.setup);
    std::string columnar_setup = c.setup;
    size_t name_end = columnar_setup.find('(');
    std::string name = columnar_setup.substr(13, name_end - 13);
    size_t close = columnar_setup.find(");");
    std::string columns = columnar_setup.substr(name_end + 1, close - name_end - 1);
    columnar_setup.replace(0, close + 1, str_cat("CREATE VIRTUAL TABLE ", name, " USING columnar(", columns,
                                                 ", chunk_rows=2", c.options, ")"));
    columnar.exec(columnar_setup);
    Outcome expected = run(ordinary.get(), c.query);
    Outcome actual = run(columnar.get(), c.query);
    actual.changes = expected.changes;
    actual.last_rowid = expected.last_rowid;  // drawn at random once the largest rowid is taken
    EXPECT_EQ(expected, actual) << c.setup << "\n" << c.query << "\n  ordinary: " << describe(expected)
                                << "\n  columnar: " << describe(actual);
  }
}

TEST(ColumnarDifferentialRegressions, RenameFreesTheOldNameForANewTable) {
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE t USING columnar(a INTEGER UNIQUE, b, index='b'); INSERT INTO t VALUES (1, 2), (3, 4)");
  db.exec("ALTER TABLE t RENAME TO t_old");
  db.exec("CREATE VIRTUAL TABLE t USING columnar(a INTEGER UNIQUE, b, index='b'); INSERT INTO t VALUES (5, 6)");
  EXPECT_EQ(db.rows("SELECT a FROM t_old WHERE a = 3"), std::vector<std::string>{"3"});
  EXPECT_EQ(db.rows("SELECT a FROM t WHERE b = 6"), std::vector<std::string>{"5"});
  EXPECT_EQ(db.scalar("SELECT columnar_check('t_old') || columnar_check('t')"), "okok");
  db.exec("DROP TABLE t_old");
  db.exec("ALTER TABLE t RENAME TO t_old");
  EXPECT_EQ(db.scalar("SELECT columnar_check('t_old')"), "ok");
}

TEST(ColumnarDifferentialRegressions, ChunksWhoseRowsAreAllDeletedAreRemoved) {
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE d USING columnar(a, b, chunk_rows=1); INSERT INTO d VALUES (1, 'x')");
  db.exec("UPDATE d SET b = 'q1'; UPDATE d SET b = 'q2'; UPDATE d SET b = 'q3'");
  EXPECT_EQ(db.rows("SELECT rows, deleted_rows FROM columnar_chunks WHERE tbl = 'd'"), std::vector<std::string>{"1|0"});
  EXPECT_EQ(db.rows("SELECT a, b FROM d"), std::vector<std::string>{"1|q3"});
}

TEST(ColumnarDifferentialRegressions, LongInListsScaleWithTheTableNotTheProduct) {
  // 20,000 values against 200,000 rows: a pass over the list per row would take minutes.
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE big USING columnar(k INTEGER, v TEXT, bloom='k')");
  db.exec("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200000) "
          "INSERT INTO big SELECT i, 'v' || i FROM s");
  db.exec("CREATE TABLE wanted(k); WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000) "
          "INSERT INTO wanted SELECT i * 7 FROM s");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM big WHERE k IN (SELECT k FROM wanted)"), "20000");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM big WHERE k IN (SELECT k FROM wanted) AND v LIKE 'v7%'"),
            db.scalar("SELECT count(*) FROM big WHERE k % 7 = 0 AND v LIKE 'v7%'"));
}

}  // namespace
