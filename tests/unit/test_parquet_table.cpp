// The read-only `parquet` virtual table: the same SQL against an ordinary SQLite table and
// against Parquet files holding its rows must give the same rows (differential, with seeded
// random WHERE clauses); pruning is observed through parquet_scan_stats(); schemas, growing
// lakes, other writers' files, S3 and bad input are checked one by one.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "ext/str_cat.h"
#include "tests/unit/s3_test_server.h"
#include "tests/unit/test_database.h"

namespace strata {
namespace {

using testing::ScratchDirectory;
using testing::TestDatabase;

std::vector<std::string> sorted(std::vector<std::string> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

// parquet_scan_stats() of a table, as numbers by name.
struct ScanStats {
  uint64_t files = 0, files_pruned = 0, row_groups = 0, by_statistics = 0, by_bloom = 0, requests = 0, bytes = 0;
};

ScanStats scan_stats(const TestDatabase& db, const std::string& table) {
  const std::string json = db.scalar(str_cat("SELECT parquet_scan_stats('", table, "')"));
  rapidjson::Document document;
  document.Parse(json.c_str());
  EXPECT_TRUE(document.IsObject()) << json;
  ScanStats stats;
  if (!document.IsObject()) return stats;
  stats.files = document["files"].GetUint64();
  stats.files_pruned = document["files_pruned"].GetUint64();
  stats.row_groups = document["row_groups"].GetUint64();
  stats.by_statistics = document["row_groups_pruned_by_statistics"].GetUint64();
  stats.by_bloom = document["row_groups_pruned_by_bloom_filter"].GetUint64();
  stats.requests = document["requests"].GetUint64();
  stats.bytes = document["bytes_read"].GetUint64();
  return stats;
}

// `ref` (an ordinary table) holds 20,000 rows of every storage class; `lake` (parquet) reads the
// same rows from two files below p=0/ and p=1/ (p = id % 2, a hive partition column), written
// in id order with 1,000-row groups, so that statistics can prune.
class ParquetTable : public ::testing::Test {
 protected:
  ParquetTable() : directory_("parquet_table") {}

  void SetUp() override {
    db_.exec(
        "CREATE TABLE ref(id INTEGER, g INTEGER, v REAL, s TEXT, m, b BLOB, n TEXT, p INTEGER);"
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 20000) "
        "INSERT INTO ref SELECT i, (i * 7919) % 101 - 50, CASE WHEN i % 17 = 0 THEN NULL ELSE i * 0.25 - 900 END, "
        "  CASE WHEN i % 13 = 0 THEN NULL ELSE printf('k%05d', (i * 31) % 20000) END, "
        "  CASE i % 5 WHEN 0 THEN i WHEN 1 THEN printf('t%d', i) WHEN 2 THEN i + 0.5 WHEN 3 THEN x'00ff' ELSE NULL END, "
        "  CASE WHEN i % 3 = 0 THEN randomblob(4) END, CASE WHEN i > 19990 THEN 'late' END, i % 2 FROM r;");
    for (int part : {0, 1}) {
      const std::string path = directory_.path(str_cat("lake/p=", std::to_string(part), "/data.parquet"));
      db_.exec(str_cat("SELECT parquet_export('file:", path, "', 'SELECT id, g, v, s, m, b, n FROM ref WHERE p = ",
                       std::to_string(part), " ORDER BY id', '{\"row_group_rows\": 1000, \"bloom_filter_columns\": [\"s\", \"id\"]}')"));
    }
    db_.exec(str_cat("CREATE VIRTUAL TABLE lake USING parquet('file:", directory_.path("lake/"), "')"));
  }

  void expect_same(const std::string& select_list, const std::string& where) {
    const std::string tail = where.empty() ? "" : " WHERE " + where;
    EXPECT_EQ(sorted(db_.exact_rows(str_cat("SELECT ", select_list, " FROM lake", tail))),
              sorted(db_.exact_rows(str_cat("SELECT ", select_list, " FROM ref", tail))))
        << "WHERE " << where;
  }

  ScratchDirectory directory_;
  TestDatabase db_;
};

TEST_F(ParquetTable, ColumnsAreTheFilesColumnsThenThePartitionKeys) {
  EXPECT_EQ(db_.rows("SELECT name, type FROM pragma_table_info('lake')"),
            (std::vector<std::string>{"id|INTEGER", "g|INTEGER", "v|REAL", "s|TEXT", "m|", "b|BLOB", "n|TEXT", "p|INTEGER"}));
  EXPECT_EQ(db_.rows("SELECT position, name, source, kind, declared_type FROM lake_columns WHERE kind = 'partition'"),
            (std::vector<std::string>{"7|p|p|partition|INTEGER"}));
}

TEST_F(ParquetTable, EveryRowAndClassReadsBackAsSQLiteHasIt) {
  expect_same("*", "");
  expect_same("count(*), count(m), count(b), sum(id), total(v), sum(typeof(m) = 'text'), sum(typeof(m) = 'real'), sum(typeof(m) = 'blob')", "");
  expect_same("p, count(*), min(s), max(s)", "1 GROUP BY p");
  // Only some columns used: the others are not fetched.
  db_.scalar("SELECT sum(g) FROM lake");
  const ScanStats one_column = scan_stats(db_, "lake");
  db_.scalar("SELECT sum(length(b)) + sum(length(s)) + sum(g) + sum(v) FROM lake");
  const ScanStats four_columns = scan_stats(db_, "lake");
  EXPECT_LT(one_column.bytes * 3, four_columns.bytes);
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake"), "20000");
  EXPECT_EQ(scan_stats(db_, "lake").bytes, 0u) << "count(*) reads no column";
}

TEST_F(ParquetTable, ChosenQueriesMatchTheOrdinaryTable) {
  const char* const wheres[] = {
      "id = 777", "id = 777.0", "id = '777'", "id = 777.5", "id IN (1, 2, 19999, 40000)", "id BETWEEN 4000 AND 4100",
      "id > 19950", "id < 3 OR id > 19998", "id >= 'abc'", "g = -50", "g IN (SELECT g FROM ref WHERE id < 5)",
      "v > 3000.125", "v <= -899", "v = 100", "v IS NULL", "v IS NOT NULL AND id < 40", "s = 'k00031'",
      "s = 'k0003x'", "s IN ('k00062', 'nope', 'k19999')", "s > 'k19990'", "s < 'k00010'", "s IS NULL AND id < 200",
      "s = 31", "s = 'K00031' COLLATE NOCASE", "s LIKE 'k0000%'", "m = 10", "m = 't11'", "m IS NULL",
      "m > 19990", "m = x'00ff' AND id < 30", "b IS NOT NULL AND id < 10", "n = 'late'", "n IS NOT NULL",
      "p = 1 AND id < 20", "p = '0' AND id > 19990", "p IN (0) AND id BETWEEN 10 AND 20", "p > 0 AND s = 'k00031'",
      "p IS NULL", "id = (SELECT max(id) FROM ref)", "s >= 'k1' AND s < 'k2' AND g = 3",
  };
  for (const char* where : wheres) expect_same("*", where);
  expect_same("count(*)", "id IN (SELECT id FROM ref WHERE g = 7)");
  // The parquet table as the inner side of a join: one scan per outer row, pruned each time.
  EXPECT_EQ(sorted(db_.exact_rows("SELECT r.id, l.s FROM ref r JOIN lake l ON l.id = r.id WHERE r.g = 7 AND r.id < 3000")),
            sorted(db_.exact_rows("SELECT r.id, l.s FROM ref r JOIN ref l ON l.id = r.id WHERE r.g = 7 AND r.id < 3000")));
}

TEST_F(ParquetTable, RandomWhereClausesMatchTheOrdinaryTable) {
  std::mt19937 random(20261121);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  const char* const ops[] = {"=", "<", "<=", ">", ">=", "!=", "IS", "IS NOT"};
  auto literal = [&](const std::string& column) -> std::string {
    switch (pick(6)) {
      case 0: return std::to_string(pick(22000) - 1000);
      case 1: return str_cat(std::to_string(pick(8000) - 1000), ".", std::to_string(pick(100)));
      case 2: return str_cat("'", std::to_string(pick(20000)), "'");
      case 3: return str_cat("'k", std::to_string(10000 + pick(10000)).substr(1), "'");
      case 4: return column == "m" ? "'t" + std::to_string(pick(20000)) + "'" : "NULL";
      default: return "x'00ff'";
    }
  };
  const char* const columns[] = {"id", "g", "v", "s", "m", "n", "p"};
  for (int q = 0; q < 250; ++q) {
    std::string where;
    const int terms = 1 + pick(3);
    for (int t = 0; t < terms; ++t) {
      const std::string column = columns[pick(7)];
      std::string term;
      switch (pick(5)) {
        case 0: term = str_cat(column, " IN (", literal(column), ", ", literal(column), ", ", literal(column), ")"); break;
        case 1: term = str_cat(column, " BETWEEN ", literal(column), " AND ", literal(column)); break;
        case 2: term = str_cat(column, pick(2) ? " IS NULL" : " IS NOT NULL"); break;
        default: term = str_cat(column, " ", ops[pick(8)], " ", literal(column)); break;
      }
      where += (t == 0 ? "" : pick(4) == 0 ? " OR " : " AND ") + term;
    }
    expect_same("id, m, p", where);
    if (HasFailure()) break;
  }
}

TEST_F(ParquetTable, StatisticsBloomFiltersAndPartitionsPrune) {
  // 20 row groups: 10 per file.
  EXPECT_EQ(db_.rows("SELECT s FROM lake WHERE id = 7777"), (std::vector<std::string>{"k01087"}));
  // 7777 is odd: in the p=1 file; within the bounds of one row group of the p=0 file too,
  // whose bloom filter (of id) rules it out.
  ScanStats stats = scan_stats(db_, "lake");
  EXPECT_EQ(stats.row_groups, 20u);
  EXPECT_EQ(stats.by_statistics, 18u);
  EXPECT_EQ(stats.by_bloom, 1u);
  EXPECT_EQ(stats.files_pruned, 0u);

  // A key inside every row group's [min, max] but in none: only the bloom filters rule it out.
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake WHERE s = 'k09999x'"), "0");
  stats = scan_stats(db_, "lake");
  EXPECT_EQ(stats.by_statistics, 0u);
  EXPECT_EQ(stats.by_bloom, 20u);

  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake WHERE p = 1 AND id <= 2000"), "1000");
  stats = scan_stats(db_, "lake");
  EXPECT_EQ(stats.files_pruned, 1u);
  EXPECT_EQ(stats.row_groups, 10u);
  EXPECT_EQ(stats.by_statistics, 9u);

  // 5 and 19995 are odd: within the bounds of two row groups of each file, in the bloom filters
  // (of id) of the p=1 file's only.
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake WHERE id IN (5, 19995)"), "2");
  stats = scan_stats(db_, "lake");
  EXPECT_EQ(stats.by_statistics, 16u);
  EXPECT_EQ(stats.by_bloom, 2u);
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake WHERE n IS NOT NULL"), "10");
  EXPECT_EQ(scan_stats(db_, "lake").by_statistics, 18u);
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake WHERE s < 'k00002'"), "2");
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake WHERE v > 4100"), "0");
  EXPECT_EQ(scan_stats(db_, "lake").by_statistics, 20u);
  // NOCASE equality cannot use BINARY bounds or filters: nothing pruned, and still right.
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake WHERE s = 'K00031' COLLATE NOCASE"), "1");
  EXPECT_EQ(scan_stats(db_, "lake").by_statistics + scan_stats(db_, "lake").by_bloom, 0u);
}

TEST_F(ParquetTable, TheListIsReadAgainForEachStatement) {
  const std::string added = directory_.path("lake/p=2/more.parquet");
  db_.exec(str_cat("SELECT parquet_export('file:", added, "', 'SELECT 99999 AS id, ''extra'' AS s, 1 AS extra_column')"));
  EXPECT_EQ(db_.rows("SELECT id, s, g, p FROM lake WHERE id > 20000"), (std::vector<std::string>{"99999|extra|NULL|2"}));
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM pragma_table_info('lake') WHERE name = 'extra_column'"), "0");
  // Replaced in place: the footer is read again (its size and modification time changed).
  db_.exec(str_cat("SELECT parquet_export('file:", added, "', 'SELECT 5 AS id UNION ALL SELECT 6')"));
  EXPECT_EQ(db_.rows("SELECT id, p FROM lake WHERE id < 7 ORDER BY id, p"),
            (std::vector<std::string>{"1|1", "2|0", "3|1", "4|0", "5|1", "5|2", "6|0", "6|2"}));
  std::filesystem::remove(added);
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake"), "20000");
  // Hidden files and directories (Spark's _SUCCESS, .crc, _temporary/) are not data.
  std::filesystem::create_directories(directory_.path("lake/_temporary"));
  std::filesystem::copy_file(directory_.path("lake/p=0/data.parquet"), directory_.path("lake/_temporary/x.parquet"));
  std::ofstream(directory_.path("lake/_SUCCESS")) << "";
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake"), "20000");
}

TEST_F(ParquetTable, OpeningNeedsNoStoreAndDropLeavesTheFiles) {
  const std::string path = directory_.path("db.sqlite");
  {
    TestDatabase db(path);
    db.exec(str_cat("CREATE VIRTUAL TABLE one USING parquet('file:", directory_.path("lake/p=1/data.parquet"), "')"));
    EXPECT_EQ(db.scalar("SELECT count(*) FROM one"), "10000");
    db.exec("ALTER TABLE one RENAME TO renamed");
    EXPECT_EQ(db.scalar("SELECT count(*) FROM renamed_columns"), "7");
  }
  std::filesystem::rename(directory_.path("lake"), directory_.path("moved"));
  {
    TestDatabase db(path);
    EXPECT_EQ(db.rows("SELECT name FROM pragma_table_info('renamed') LIMIT 2"), (std::vector<std::string>{"id", "g"}));
    const std::string error = db.error_of("SELECT count(*) FROM renamed");
    EXPECT_NE(error.find("parquet: file store: no directory"), std::string::npos) << error;
    db.exec("DROP TABLE renamed");
    EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema"), "0");
  }
  EXPECT_TRUE(std::filesystem::exists(directory_.path("moved/p=1/data.parquet")));
}

TEST_F(ParquetTable, BadInputIsAClearError) {
  auto error_of_create = [&](const std::string& arguments) {
    return db_.error_of(str_cat("CREATE VIRTUAL TABLE bad USING parquet(", arguments, ")"));
  };
  EXPECT_NE(error_of_create("").find("parquet: expects one location"), std::string::npos);
  EXPECT_NE(error_of_create("'file:a/', 'file:b/'").find("parquet: expects one location"), std::string::npos);
  EXPECT_NE(error_of_create("'http://x/y.parquet'").find("must start with file:"), std::string::npos);
  EXPECT_NE(error_of_create("'file:" + directory_.path("none.parquet") + "'").find("parquet: no object"), std::string::npos);
  EXPECT_NE(error_of_create("'file:" + directory_.path("lake/") + "', hive_partitioning=maybe").find("hive_partitioning"),
            std::string::npos);
  EXPECT_NE(error_of_create("'file:" + directory_.path("lake/") + "', colour=red").find("unknown option"), std::string::npos);
  std::filesystem::create_directories(directory_.path("empty"));
  EXPECT_NE(error_of_create("'file:" + directory_.path("empty/") + "'").find("no .parquet files below"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(directory_.path("missing"))) << "a reader makes no directories";
  EXPECT_NE(error_of_create("'file:" + directory_.path("missing/") + "'").find("parquet: "), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(directory_.path("missing")));
  // Not Parquet: refused at CREATE with the file's name.
  std::ofstream(directory_.path("junk.parquet")) << "this is not a parquet file at all";
  EXPECT_NE(error_of_create("'file:" + directory_.path("junk.parquet") + "'").find("junk.parquet"), std::string::npos);
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'bad%'"), "0");
  // Read-only.
  EXPECT_NE(db_.error_of("INSERT INTO lake(id) VALUES (1)").find("parquet: the table is read-only"), std::string::npos);
  EXPECT_NE(db_.error_of("DELETE FROM lake").find("read-only"), std::string::npos);
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM lake"), "20000");
  // A file damaged after CREATE: the statement fails naming it; nothing crashes.
  const std::string victim = directory_.path("lake/p=0/data.parquet");
  std::string bytes = testing::read_file_bytes(victim);
  for (size_t i = bytes.size() / 4; i < bytes.size() / 2; ++i) bytes[i] = 0;  // pages of several columns
  std::ofstream(victim, std::ios::binary | std::ios::trunc) << bytes;
  const std::string error = db_.error_of("SELECT * FROM lake");
  EXPECT_NE(error.find("p=0/data.parquet"), std::string::npos) << "error: " << error;
  EXPECT_NE(db_.error_of("SELECT parquet_scan_stats('ref')").find("is not a parquet table"), std::string::npos);
  EXPECT_NE(db_.error_of("SELECT parquet_scan_stats('nope')").find("no such table"), std::string::npos);
}

TEST(ParquetTableSchemas, FilesThatDifferAreReadByColumnName) {
  ScratchDirectory directory("parquet_schemas");
  TestDatabase db;
  auto put = [&](const std::string& name, const std::string& select) {
    db.exec(str_cat("SELECT parquet_export('file:", directory.path(name), "', '", select, "')"));
  };
  put("d/a.parquet", "SELECT 1 AS x, ''one'' AS y, 1.5 AS Z");
  put("d/b.parquet", "SELECT ''two'' AS x, 2 AS w, 2.5 AS z");  // x is text here: declared without a type
  put("d/c.parquet", "SELECT 3 AS x UNION ALL SELECT ''three'' UNION ALL SELECT x''0102'' UNION ALL SELECT NULL");  // mixed
  db.exec(str_cat("CREATE VIRTUAL TABLE t USING parquet('file:", directory.path("d"), "')"));  // a directory without '/'
  EXPECT_EQ(db.rows("SELECT name, type FROM pragma_table_info('t')"),
            (std::vector<std::string>{"x|", "y|TEXT", "Z|REAL", "w|INTEGER", "z_2|REAL"}));
  EXPECT_EQ(db.exact_rows("SELECT x, y, Z, z_2, w FROM t"),
            (std::vector<std::string>{"i1|tone|r4609434218613702656|r4609434218613702656|n|",
                                      "ttwo|n|r4612811918334230528|r4612811918334230528|i2|", "i3|n|n|n|n|", "tthree|n|n|n|n|",
                                      "b\x01\x02|n|n|n|n|", "n|n|n|n|n|"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t WHERE x IS NULL"), "1");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t WHERE x = 'three'"), "1");

  // hive_partitioning=false: directories are not columns; NULL and escaped partition values.
  put("h/k=__HIVE_DEFAULT_PARTITION__/a.parquet", "SELECT 1 AS v");
  put("h/k=a%2Fb/a.parquet", "SELECT 2 AS v");
  put("h/k=007/a.parquet", "SELECT 3 AS v");
  db.exec(str_cat("CREATE VIRTUAL TABLE h USING parquet('file:", directory.path("h/"), "')"));
  EXPECT_EQ(db.rows("SELECT v, quote(k) FROM h ORDER BY v"), (std::vector<std::string>{"1|NULL", "2|'a/b'", "3|'007'"}));
  db.exec(str_cat("CREATE VIRTUAL TABLE flat USING parquet('file:", directory.path("h/"), "', hive_partitioning=false)"));
  EXPECT_EQ(db.rows("SELECT name FROM pragma_table_info('flat')"), (std::vector<std::string>{"v"}));
}

TEST(ParquetTableOtherWriters, ParquetTestingFilesReadWithTheirValues) {
  const std::string data = std::string(STRATA_PARQUET_TESTING) + "/data/";
  TestDatabase db;
  db.exec(str_cat("CREATE VIRTUAL TABLE plain USING parquet('file:", data, "alltypes_plain.parquet')"));
  EXPECT_EQ(db.rows("SELECT id, bool_col, int_col, bigint_col, float_col, double_col, string_col FROM plain WHERE id IN (0, 7) ORDER BY id"),
            (std::vector<std::string>{"0|1|0|0|0.0|0.0|0", "7|0|1|10|1.10000002384186|10.1|1"}));
  db.exec(str_cat("CREATE VIRTUAL TABLE bloom USING parquet('file:", data, "data_index_bloom_encoding_stats.parquet')"));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM bloom"), "14");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM bloom WHERE String = 'Hello'"), "1");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM bloom WHERE String = 'absent'"), "0");
}

// FIXED_LEN_BYTE_ARRAY values stored BYTE_STREAM_SPLIT and read as BLOB: each value its own bytes
// (the reader once kept views of one reused buffer, so every value read as the last one).
TEST(ParquetTableOtherWriters, ByteStreamSplitFixedLengthValuesAreEachTheirOwn) {
  TestDatabase db;
  db.exec(str_cat("CREATE VIRTUAL TABLE split USING parquet('file:", STRATA_PARQUET_TESTING,
                  "/corpus/data/byte_stream_split_extended.gzip.parquet')"));
  EXPECT_EQ(db.rows("SELECT count(*), count(DISTINCT flba5_byte_stream_split), sum(flba5_plain = flba5_byte_stream_split),"
                    " sum(decimal_plain = decimal_byte_stream_split), sum(float_plain = float_byte_stream_split) FROM split"),
            (std::vector<std::string>{"200|200|200|200|200"}));
}

// LIST, MAP and STRUCT columns (and bare repeated fields) read as JSON text in the shape DuckDB's
// to_json gives them, so SQLite's JSON functions work on them; the corpus test compares every
// such file with DuckDB.
TEST(ParquetTableOtherWriters, NestedColumnsReadAsJson) {
  const std::string data = std::string(STRATA_PARQUET_TESTING) + "/corpus/data/";
  TestDatabase db;
  db.exec(str_cat("CREATE VIRTUAL TABLE lists USING parquet('file:", data, "nested_lists.snappy.parquet')"));
  EXPECT_EQ(db.rows("SELECT a, b FROM lists LIMIT 2"),
            (std::vector<std::string>{R"([[["a","b"],["c"]],[null,["d"]]]|1)", R"([[["a","b"],["c","d"]],[null,["e"]]]|1)"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM lists, json_tree(lists.a) WHERE json_tree.type = 'text'"), "15");
  db.exec(str_cat("CREATE VIRTUAL TABLE maps USING parquet('file:", data, "nested_maps.snappy.parquet')"));
  EXPECT_EQ(db.rows("SELECT a FROM maps LIMIT 4"),
            (std::vector<std::string>{R"({"a":{"1":true,"2":false}})", R"({"b":{"1":true}})", R"({"c":null})", R"({"d":{}})"}));
  EXPECT_EQ(db.scalar("SELECT typeof(a) FROM maps LIMIT 1"), "text");
  db.exec(str_cat("CREATE VIRTUAL TABLE impala USING parquet('file:", data, "nullable.impala.parquet')"));
  EXPECT_EQ(db.rows("SELECT id, int_array, int_map, int_Map_Array FROM impala WHERE id <= 4 ORDER BY id"),
            (std::vector<std::string>{R"(1|[1,2,3]|{"k1":1,"k2":100}|[{"k1":1}])",
                                      R"(2|[null,1,2,null,3,null]|{"k1":2,"k2":null}|[{"k3":null,"k1":1},null,{}])",
                                      R"(3|[]|{}|[null,null])", "4|NULL|{}|[]"}));
  EXPECT_EQ(db.scalar("SELECT json_extract(nested_struct, '$.g.foo.H.i[0]') FROM impala WHERE id = 1"), "1.1");
  db.exec(str_cat("CREATE VIRTUAL TABLE phones USING parquet('file:", data, "repeated_no_annotation.parquet')"));
  EXPECT_EQ(db.rows("SELECT id, phoneNumbers FROM phones WHERE id IN (2, 3, 4) ORDER BY id"),
            (std::vector<std::string>{"2|NULL", R"(3|{"phone":[]})", R"(4|{"phone":[{"number":5555555555,"kind":null}]})"}));
}

// Columns at position 63 or later share one colUsed bit: reading one of them fetches that column
// alone, when it is first read, not every column from 63 on.
TEST(ParquetTableFiles, ColumnsFrom63OnAreFetchedOnlyWhenRead) {
  ScratchDirectory scratch("parquet_wide");
  TestDatabase db;
  // The query as an SQL string literal: its own quotes doubled.
  std::string select = "SELECT value AS c0";
  for (int c = 1; c < 70; ++c) select += str_cat(", ''column ", std::to_string(c), " row '' || value AS c", std::to_string(c));
  select += " FROM numbers";
  db.exec("CREATE TABLE numbers(value); WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000) "
          "INSERT INTO numbers SELECT i FROM s");
  const std::string file = scratch.path("wide.parquet");
  ASSERT_EQ(db.scalar(str_cat("SELECT parquet_export('file:", file, "', '", select, "', '{\"row_group_rows\": 500}')")), "2000");
  db.exec(str_cat("CREATE VIRTUAL TABLE wide USING parquet('file:", file, "')"));
  EXPECT_EQ(db.scalar("SELECT c65 FROM wide WHERE c0 = 1234"), "column 65 row 1234");
  EXPECT_EQ(db.scalar("SELECT count(DISTINCT c66) FROM wide"), "2000");
  const int64_t one = std::stoll(db.scalar("SELECT json_extract(parquet_scan_stats('wide'), '$.bytes_read')"));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM wide WHERE c64 || c65 || c66 || c67 || c68 || c69 IS NOT NULL"), "2000");
  const int64_t six = std::stoll(db.scalar("SELECT json_extract(parquet_scan_stats('wide'), '$.bytes_read')"));
  EXPECT_GT(six, 3 * one) << "six columns read, not one: " << one << " bytes against " << six;
}

// Relative file: paths resolve against the database file's directory: the same database opened
// from another working directory keeps its Parquet tables.
TEST(ParquetTableFiles, RelativePathsAreRelativeToTheDatabaseFile) {
  ScratchDirectory scratch("parquet_relative");
  std::filesystem::create_directories(scratch.path("app/data"));
  std::filesystem::create_directories(scratch.path("elsewhere"));
  const std::filesystem::path working = std::filesystem::current_path();
  std::filesystem::current_path(scratch.path("elsewhere"));
  {
    TestDatabase db(scratch.path("app/data/app.db"));
    EXPECT_EQ(db.scalar("SELECT parquet_export('file:lake/x.parquet', 'SELECT 1 AS a UNION ALL SELECT 2')"), "2");
    db.exec("CREATE VIRTUAL TABLE x USING parquet('file:lake/x.parquet')");
    EXPECT_EQ(db.scalar("SELECT sum(a) FROM x"), "3");
  }
  EXPECT_TRUE(std::filesystem::exists(scratch.path("app/data/lake/x.parquet")));
  EXPECT_FALSE(std::filesystem::exists(scratch.path("elsewhere/lake")));
  std::filesystem::current_path(scratch.path(""));
  {
    TestDatabase db(scratch.path("app/data/app.db"));
    EXPECT_EQ(db.scalar("SELECT sum(a) FROM x"), "3");
  }
  std::filesystem::current_path(working);
}

TEST(ParquetTableS3, ReadsAPrefixThroughTheS3Store) {
  testing::S3TestServer server;
  ASSERT_TRUE(server.problem().empty()) << server.problem();
  testing::ScopedAwsEnvironment environment(server);
  TestDatabase db;
  db.exec(
      "CREATE TABLE src(id INTEGER, day TEXT);"
      "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 5000) "
      "INSERT INTO src SELECT i, CASE WHEN i <= 2500 THEN '2024-01-01' ELSE '2024-01-02' END FROM r;");
  db.exec("SELECT parquet_export('s3://strata-test/events/day=2024-01-01/a.parquet', 'SELECT id FROM src WHERE day = ''2024-01-01''', '{\"row_group_rows\": 500}')");
  db.exec("SELECT parquet_export('s3://strata-test/events/day=2024-01-02/a.parquet', 'SELECT id FROM src WHERE day = ''2024-01-02''', '{\"row_group_rows\": 500}')");
  db.exec("CREATE VIRTUAL TABLE events USING parquet('s3://strata-test/events/')");
  EXPECT_EQ(db.rows("SELECT day, count(*), sum(id) FROM events GROUP BY day"),
            (std::vector<std::string>{"2024-01-01|2500|3126250", "2024-01-02|2500|9376250"}));
  EXPECT_EQ(db.rows("SELECT id FROM events WHERE day >= '2024-01-02' AND id = 4321"), (std::vector<std::string>{"4321"}));
  const ScanStats stats = scan_stats(db, "events");
  EXPECT_EQ(stats.files_pruned, 1u);
  EXPECT_EQ(stats.by_statistics, 4u);
  EXPECT_EQ(stats.requests, 1u);
  db.exec("CREATE VIRTUAL TABLE one USING parquet('s3://strata-test/events/day=2024-01-02/a.parquet')");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM one"), "2500");
  setenv("AWS_SECRET_ACCESS_KEY", "wrong", 1);
  const std::string error = db.error_of("SELECT count(*) FROM one");
  EXPECT_NE(error.find("parquet: "), std::string::npos) << error;
  EXPECT_EQ(error.find("wrong"), std::string::npos) << "credentials never appear in messages";
}

}  // namespace
}  // namespace strata
