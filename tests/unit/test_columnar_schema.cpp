#include "vtab/columnar/schema.h"
#include "vtab/columnar/table.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace strata::columnar {
namespace {

Result<TableSchema> parse(std::vector<const char*> arguments) { return parse_table_schema(arguments); }

std::string error_of(std::vector<const char*> arguments) {
  Result<TableSchema> schema = parse(std::move(arguments));
  EXPECT_FALSE(schema.is_ok());
  return schema.is_ok() ? "" : schema.status().message();
}

TEST(AffinityOfDeclaredType, SqliteRules) {
  EXPECT_EQ(affinity_of_declared_type("INTEGER"), Affinity::kInteger);
  EXPECT_EQ(affinity_of_declared_type("bigint"), Affinity::kInteger);
  EXPECT_EQ(affinity_of_declared_type("POINT"), Affinity::kInteger);  // contains INT
  EXPECT_EQ(affinity_of_declared_type("VARCHAR(10)"), Affinity::kText);
  EXPECT_EQ(affinity_of_declared_type("CLOB"), Affinity::kText);
  EXPECT_EQ(affinity_of_declared_type("CHARINT"), Affinity::kInteger);  // INT wins
  EXPECT_EQ(affinity_of_declared_type(""), Affinity::kBlob);
  EXPECT_EQ(affinity_of_declared_type("BLOB"), Affinity::kBlob);
  EXPECT_EQ(affinity_of_declared_type("DOUBLE PRECISION"), Affinity::kReal);
  EXPECT_EQ(affinity_of_declared_type("FLOAT"), Affinity::kReal);
  EXPECT_EQ(affinity_of_declared_type("DECIMAL(10,5)"), Affinity::kNumeric);
  EXPECT_EQ(affinity_of_declared_type("JSON"), Affinity::kNumeric);
  EXPECT_EQ(affinity_of_declared_type("STRING"), Affinity::kNumeric);
}

TEST(TableSchema, ColumnsConstraintsAndOptions) {
  Result<TableSchema> schema = parse({"id INTEGER PRIMARY KEY AUTOINCREMENT", "ts INTEGER NOT NULL",
                                      "kind TEXT COLLATE NOCASE DEFAULT 'a,b'", "\"odd name\" REAL UNIQUE",
                                      "amount DECIMAL(10, 2) DEFAULT (1 + 2)", "UNIQUE(kind, ts)",
                                      "chunk_rows=1000", "partition_by='day(ts)'", "bloom='kind, ts'",
                                      "index=kind", "compression='zstd:9'", "tier='file:cold'"});
  ASSERT_TRUE(schema.is_ok()) << schema.status().message();
  ASSERT_EQ(schema->columns.size(), 5u);
  EXPECT_EQ(schema->rowid_alias, 0);
  EXPECT_TRUE(schema->autoincrement);
  EXPECT_TRUE(schema->columns[1].not_null);
  EXPECT_EQ(schema->columns[2].collation, "NOCASE");
  EXPECT_EQ(schema->columns[2].default_sql, "'a,b'");
  EXPECT_EQ(schema->columns[3].name, "odd name");
  EXPECT_EQ(schema->columns[4].declared_type, "DECIMAL(10, 2)");
  EXPECT_EQ(schema->columns[4].affinity, Affinity::kNumeric);
  EXPECT_EQ(schema->columns[4].default_sql, "(1 + 2)");
  ASSERT_EQ(schema->key_indexes.size(), 3u);  // two UNIQUE constraints, then index=kind
  EXPECT_FALSE(schema->key_indexes[2].unique);
  EXPECT_EQ(schema->key_indexes[2].columns, std::vector<int>{2});
  EXPECT_EQ(schema->key_indexes[0].columns, std::vector<int>{3});
  EXPECT_EQ(schema->key_indexes[1].columns, (std::vector<int>{2, 1}));
  EXPECT_EQ(schema->key_indexes[1].collations[0], "NOCASE");  // the column's own collation
  EXPECT_EQ(schema->chunk_rows, 1000);
  ASSERT_TRUE(schema->partition);
  EXPECT_EQ(schema->partition->unit, PartitionUnit::kDay);
  EXPECT_EQ(schema->partition->column, 1);
  EXPECT_EQ(schema->bloom_columns, (std::vector<int>{2, 1}));
  EXPECT_EQ(schema->index_columns, std::vector<int>{2});
  EXPECT_EQ(schema->compression.level, 9);
  EXPECT_EQ(schema->tier, "file:cold");
  EXPECT_EQ(schema->declaration_sql(),
            "CREATE TABLE x(\"id\" INTEGER, \"ts\" INTEGER NOT NULL, \"kind\" TEXT DEFAULT 'a,b' COLLATE "
            "\"NOCASE\", \"odd name\" REAL, \"amount\" DECIMAL(10, 2) DEFAULT (1 + 2))");
}

TEST(TableSchema, RowidAliasRules) {
  EXPECT_EQ(parse({"id INTEGER PRIMARY KEY", "v"})->rowid_alias, 0);
  EXPECT_EQ(parse({"id integer primary key", "v"})->rowid_alias, 0);
  EXPECT_EQ(parse({"id INTEGER", "v", "PRIMARY KEY(id)"})->rowid_alias, 0);
  // Not aliases: DESC, INT, a composite key — those are unique constraints.
  Result<TableSchema> descending = parse({"id INTEGER PRIMARY KEY DESC", "v"});
  EXPECT_EQ(descending->rowid_alias, -1);
  EXPECT_EQ(descending->key_indexes.size(), 1u);
  EXPECT_EQ(parse({"id INT PRIMARY KEY", "v"})->rowid_alias, -1);
  EXPECT_EQ(parse({"a INTEGER", "b", "PRIMARY KEY(a, b)"})->key_indexes.size(), 1u);
}

TEST(TableSchema, RefusesWhatItCannotEnforceByName) {
  EXPECT_EQ(error_of({"a INTEGER CHECK (a > 0)"}),
            "columnar: CHECK constraint \"CHECK (a > 0)\" is not supported: a columnar table cannot "
            "enforce CHECK; enforce it in the application or with a view");
  EXPECT_EQ(error_of({"a", "CONSTRAINT positive CHECK(a > 0)"}),
            "columnar: CHECK constraint \"CONSTRAINT positive CHECK(a > 0)\" is not supported: a "
            "columnar table cannot enforce CHECK; enforce it in the application or with a view");
  EXPECT_EQ(error_of({"p INTEGER REFERENCES parent(id)"}),
            "columnar: foreign key constraint \"REFERENCES parent(id)\" is not supported: a columnar "
            "table cannot enforce foreign keys");
  EXPECT_EQ(error_of({"p", "FOREIGN KEY(p) REFERENCES parent(id)"}),
            "columnar: foreign key constraint \"FOREIGN KEY(p) REFERENCES parent(id)\" is not "
            "supported: a columnar table cannot enforce foreign keys");
  EXPECT_EQ(error_of({"a", "b AS (a * 2)"}),
            "columnar: generated column \"AS (a * 2)\" is not supported: virtual tables cannot have "
            "generated columns");
}

TEST(TableSchema, MalformedDefinitions) {
  EXPECT_EQ(error_of({}), "columnar: a columnar table needs at least one column, e.g. USING "
                          "columnar(id INTEGER PRIMARY KEY, v)");
  EXPECT_EQ(error_of({"a", "A"}), "columnar: duplicate column name: A");
  EXPECT_EQ(error_of({"a INTEGER PRIMARY KEY", "b INTEGER PRIMARY KEY"}),
            "columnar: table has more than one primary key");
  EXPECT_EQ(error_of({"a TEXT PRIMARY KEY AUTOINCREMENT"}),
            "columnar: AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY");
  EXPECT_EQ(error_of({"a", "UNIQUE(b)"}), "columnar: no such column in key: b");
  EXPECT_EQ(error_of({"a DEFAULT"}), "columnar: DEFAULT needs a value");
  EXPECT_EQ(error_of({"a 'unterminated"}), "columnar: unterminated string in: 'unterminated");
  EXPECT_EQ(error_of({"a NOT"}), "columnar: expected NULL after NOT");
}

TEST(TableSchema, OptionErrorsNameTheOptionAndWhatIsAllowed) {
  EXPECT_EQ(error_of({"a", "chunk_row=5"}),
            "columnar: unknown option 'chunk_row', expected one of: chunk_rows, partition_by, bloom, "
            "index, compression, tier, hot_partitions, retention");
  EXPECT_EQ(error_of({"a", "chunk_rows=0"}),
            "columnar: option 'chunk_rows' must be an integer from 1 to 4194304, got '0'");
  EXPECT_EQ(error_of({"a", "partition_by=b"}), "columnar: option 'partition_by' names no such column: b");
  EXPECT_EQ(error_of({"a", "partition_by='week(a)'"}),
            "columnar: option 'partition_by': unknown function 'week', expected one of: hour, day, month, "
            "year, hour_ms, day_ms, month_ms, year_ms");
  EXPECT_EQ(error_of({"a", "bloom='a,,a'"}),
            "columnar: option 'bloom' must be a comma-separated list of column names, got 'a,,a'");
  EXPECT_EQ(error_of({"a", "bloom='a,a'"}), "columnar: option 'bloom' names column a twice");
  EXPECT_EQ(error_of({"a", "index=zz"}), "columnar: option 'index' names no such column: zz");
  EXPECT_EQ(error_of({"a", "compression=lz4"}),
            "columnar: option 'compression' must be 'none', 'zstd' or 'zstd:N' with N from 1 to 22, got 'lz4'");
  EXPECT_EQ(error_of({"a", "compression='zstd:99'"}),
            "columnar: option 'compression' must be 'none', 'zstd' or 'zstd:N' with N from 1 to 22, got 'zstd:99'");
  EXPECT_EQ(error_of({"a", "tier='ftp://x'"}),
            "columnar: option 'tier' must be 'file:DIR' or 's3://bucket/prefix', got 'ftp://x'");
  EXPECT_EQ(error_of({"a", "tier='s3:///prefix'"}),
            "columnar: option 'tier' must be 'file:DIR' or 's3://bucket/prefix', got 's3:///prefix'");
  EXPECT_TRUE(parse({"a", "compression=none", "tier='s3://bucket'"}).is_ok());
}

}  // namespace
}  // namespace strata::columnar

namespace strata::columnar {
namespace {

// A chunk's rowids as a run (its directory's range, nothing read) or a list: the same rows.
TEST(ChunkRowids, ARunAndAListOfTheSameRowidsAgree) {
  ChunkInfo dense;
  dense.row_count = 5;
  dense.min_rowid = -2;
  dense.max_rowid = 2;
  ASSERT_TRUE(ChunkRowids::is_run(dense));
  ChunkInfo sparse = dense;
  sparse.max_rowid = 3;
  EXPECT_FALSE(ChunkRowids::is_run(sparse));
  ChunkInfo extreme;
  extreme.row_count = 2;
  extreme.min_rowid = INT64_MIN;
  extreme.max_rowid = INT64_MAX;
  EXPECT_FALSE(ChunkRowids::is_run(extreme));
  const ChunkRowids run = ChunkRowids::run(-2, 5);
  const ChunkRowids list = ChunkRowids::list({-2, -1, 0, 1, 2});
  ASSERT_EQ(run.size(), 5u);
  ASSERT_EQ(list.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(run[i], list[i]);
  for (int64_t rowid : {INT64_MIN, int64_t{-3}, int64_t{-2}, int64_t{0}, int64_t{2}, int64_t{3}, INT64_MAX}) {
    EXPECT_EQ(run.find(rowid), list.find(rowid)) << rowid;
  }
  EXPECT_EQ(run.find(1), std::optional<size_t>(3));
  EXPECT_EQ(run.memory_bytes(), 0u);
}

// The cache's byte count is what its entries hold: erased and evicted entries give back all they
// were charged (blooms too), and the entry being filled is never the one evicted.
TEST(ChunkCache, GivesBackWhatEachEntryWasCharged) {
  ChunkCache cache;
  constexpr size_t kMiB = size_t{1} << 20;
  cache.entry(1).rowids = std::make_shared<const ChunkRowids>(ChunkRowids::list(std::vector<int64_t>(1000, 0)));
  cache.charge(1, 8000);
  cache.charge(1, 4096);  // say, its bloom filter
  cache.entry(2);
  cache.charge(2, 3 * kMiB);
  EXPECT_EQ(cache.bytes(), 8000 + 4096 + 3 * kMiB);
  cache.erase(1);
  EXPECT_EQ(cache.bytes(), 3 * kMiB);
  cache.erase(1);  // already gone
  EXPECT_EQ(cache.bytes(), 3 * kMiB);

  // Over capacity: the oldest others go, never the entry being charged, even if it is oldest.
  cache.charge(2, ChunkCache::kCapacityBytes);
  EXPECT_EQ(cache.bytes(), ChunkCache::kCapacityBytes + 3 * kMiB);  // nothing else to evict
  cache.entry(3);
  cache.charge(3, kMiB);
  EXPECT_EQ(cache.bytes(), kMiB);  // entry 2 went; entry 3 stays
  cache.entry(4);
  cache.charge(4, kMiB);
  EXPECT_EQ(cache.bytes(), 2 * kMiB);
  cache.clear();
  EXPECT_EQ(cache.bytes(), 0u);
}

}  // namespace
}  // namespace strata::columnar
