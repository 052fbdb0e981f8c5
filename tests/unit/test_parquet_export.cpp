// parquet_export(): a query's rows into a Parquet object on file: and s3:// stores, read back
// with the Parquet reader and compared with what SQLite returns for the same query.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "codecs/parquet/parquet_reader.h"
#include "tests/unit/s3_test_server.h"
#include "tests/unit/test_database.h"
#include "tiering/s3_store.h"

namespace strata {
namespace {

using testing::ScratchDirectory;
using testing::TestDatabase;

// Loads a Parquet file's rows into a new table `name` (untyped columns c0, c1, …; rowid = row
// number from 1), binding each value with its own storage class.
void load_parquet(sqlite3* db, const std::string& name, const std::string& bytes) {
  const parquet::RangeReader read = parquet::memory_range_reader(bytes);
  auto reader = parquet::FileReader::open(read, bytes.size());
  ASSERT_TRUE(reader.is_ok()) << reader.status().message();
  const size_t width = reader->columns().size();
  std::string create = "CREATE TABLE " + name + "(", insert = "INSERT INTO " + name + " VALUES (";
  for (size_t c = 0; c < width; ++c) {
    create += (c ? ", c" : "c") + std::to_string(c);
    insert += c ? ", ?" : "?";
  }
  ASSERT_EQ(sqlite3_exec(db, (create + ")").c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, (insert + ")").c_str(), -1, &stmt, nullptr), SQLITE_OK);
  for (size_t g = 0; g < reader->row_groups(); ++g) {
    std::vector<ColumnVector> columns;
    for (size_t c = 0; c < width; ++c) {
      auto values = reader->read_column(read, g, c);
      ASSERT_TRUE(values.is_ok()) << values.status().message();
      columns.push_back(std::move(values).value());
    }
    for (int64_t r = 0; r < reader->row_group_rows(g); ++r) {
      for (size_t c = 0; c < width; ++c) {
        const ValueView v = columns[c].get(static_cast<size_t>(r));
        const int at = static_cast<int>(c) + 1;
        switch (v.type) {
          case ValueType::kNull: sqlite3_bind_null(stmt, at); break;
          case ValueType::kInteger: sqlite3_bind_int64(stmt, at, v.integer); break;
          case ValueType::kReal: sqlite3_bind_double(stmt, at, v.real); break;
          case ValueType::kText: sqlite3_bind_text(stmt, at, v.bytes.data(), static_cast<int>(v.bytes.size()), SQLITE_TRANSIENT); break;
          case ValueType::kBlob: sqlite3_bind_blob(stmt, at, v.bytes.data(), static_cast<int>(v.bytes.size()), SQLITE_TRANSIENT); break;
        }
      }
      ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE);
      sqlite3_reset(stmt);
    }
  }
  sqlite3_finalize(stmt);
}

// How many rows of `query` (its columns named in `columns`) differ, in value or storage class,
// from the same row of table `loaded`; -1 when the row counts differ.
std::string differences(const TestDatabase& db, const std::string& query, const std::vector<std::string>& columns,
                        const std::string& loaded) {
  std::string differs;
  for (size_t c = 0; c < columns.size(); ++c) {
    const std::string ours = "src." + columns[c], theirs = loaded + ".c" + std::to_string(c);
    differs += (c ? " OR " : "") + std::string("NOT (") + ours + " IS " + theirs + " AND typeof(" + ours +
               ") = typeof(" + theirs + "))";
  }
  return db.scalar("WITH src AS (SELECT row_number() OVER () AS rn, * FROM (" + query + ")) SELECT CASE WHEN "
                   "(SELECT count(*) FROM src) <> (SELECT count(*) FROM " + loaded + ") THEN -1 ELSE "
                   "(SELECT count(*) FROM src JOIN " + loaded + " ON " + loaded + ".rowid = src.rn WHERE " + differs +
                   ") END");
}

class ParquetExport : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.exec(
        "CREATE TABLE events(id INTEGER PRIMARY KEY, ts INTEGER, kind TEXT, amount REAL, raw BLOB, anything);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
        "INSERT INTO events SELECT i, 1700000000000 + i, "
        "  CASE i % 4 WHEN 0 THEN 'click' WHEN 1 THEN 'view' WHEN 2 THEN NULL ELSE '' END, "
        "  CASE WHEN i % 9 = 0 THEN NULL ELSE i * 0.1 END, "
        "  CASE WHEN i % 5 = 0 THEN randomblob(i % 7) ELSE NULL END, "
        "  CASE i % 5 WHEN 0 THEN i WHEN 1 THEN 'text ' || i WHEN 2 THEN i / 3.0 WHEN 3 THEN x'00ff' END "
        "FROM n;");
  }

  TestDatabase db_;
  ScratchDirectory scratch_{"parquet_export"};
};

TEST_F(ParquetExport, FileRoundTripKeepsEveryValueAndClass) {
  const std::string query = "SELECT * FROM events ORDER BY id";
  const std::string target = scratch_.path("out/events.parquet");
  EXPECT_EQ(db_.scalar("SELECT parquet_export('file:" + target + "', '" + query + "', '{\"row_group_rows\": 1000}')"),
            "3000");
  load_parquet(db_.get(), "back", testing::read_file_bytes(target));
  EXPECT_EQ(differences(db_, query, {"id", "ts", "kind", "amount", "raw", "anything"}, "back"), "0");
  EXPECT_EQ(db_.scalar("SELECT count(DISTINCT typeof(c5)) FROM back"), "5");  // the mixed column kept its classes (and NULLs)
  // Nothing but the file is left in the directory (no temporary files).
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(scratch_.path("out"))) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"events.parquet"});
}

TEST_F(ParquetExport, ExpressionsEmptyResultsAndOptions) {
  const std::string target = scratch_.path("expr.parquet");
  EXPECT_EQ(db_.scalar("SELECT parquet_export('file:" + target +
                       "', 'SELECT id * 2 AS twice, upper(kind) AS k, NULL AS no_value FROM events WHERE id <= 10', "
                       "'{\"compression\": \"none\", \"dictionary\": false, \"bloom_filters\": \"all\", "
                       "\"key_value_metadata\": {\"origin\": \"test\"}}')"),
            "10");
  const std::string bytes = testing::read_file_bytes(target);
  load_parquet(db_.get(), "back", bytes);
  EXPECT_EQ(differences(db_, "SELECT id * 2 AS twice, upper(kind) AS k, NULL AS no_value FROM events WHERE id <= 10",
                        {"twice", "k", "no_value"}, "back"),
            "0");
  const parquet::RangeReader read = parquet::memory_range_reader(bytes);
  auto reader = parquet::FileReader::open(read, bytes.size());
  ASSERT_TRUE(reader.is_ok());
  EXPECT_EQ(reader->columns()[0].name, "twice");
  EXPECT_EQ(reader->metadata().row_groups[0].columns[0].meta_data->codec, 0);
  EXPECT_TRUE(reader->metadata().row_groups[0].columns[0].meta_data->bloom_filter_offset.has_value());
  bool has_origin = false;
  for (const auto& kv : reader->metadata().key_value_metadata) has_origin |= kv.key == "origin" && kv.value == "test";
  EXPECT_TRUE(has_origin);

  const std::string empty = scratch_.path("empty.parquet");
  EXPECT_EQ(db_.scalar("SELECT parquet_export('file:" + empty + "', 'SELECT id, kind FROM events WHERE 0')"), "0");
  load_parquet(db_.get(), "empty_back", testing::read_file_bytes(empty));
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM empty_back"), "0");
}

TEST_F(ParquetExport, BadInputIsAClearErrorAndWritesNothing) {
  const std::string target = scratch_.path("bad.parquet");
  const std::string file = "'file:" + target + "'";
  EXPECT_NE(db_.error_of("SELECT parquet_export('ftp://x/y.parquet', 'SELECT 1')").find("must start with file:"),
            std::string::npos);
  EXPECT_NE(db_.error_of("SELECT parquet_export(" + file + ", 'SELECT * FROM missing')").find("no such table"),
            std::string::npos);
  EXPECT_NE(db_.error_of("SELECT parquet_export(" + file + ", 'SELECT id, id FROM events')").find("appears twice"),
            std::string::npos);
  // A metadata key strata writes itself is refused, not written twice.
  EXPECT_NE(db_.error_of("SELECT parquet_export(" + file + ", 'SELECT id FROM events',"
                         " '{\"key_value_metadata\": {\"strata.storage_classes\": \"0:integer\"}}')")
                .find("written by strata itself"),
            std::string::npos);
  EXPECT_NE(db_.error_of("SELECT parquet_export(" + file + ", 'DELETE FROM events')").find("parquet_export"),
            std::string::npos);
  EXPECT_NE(db_.error_of("SELECT parquet_export(" + file + ", 'SELECT 1; SELECT 2')").find("more than one"),
            std::string::npos);
  EXPECT_NE(db_.error_of("SELECT parquet_export(" + file + ", 'SELECT 1', '{\"row_groups\": 5}')").find("'row_groups' is unknown"),
            std::string::npos);
  EXPECT_NE(db_.error_of("SELECT parquet_export(" + file + ", 'SELECT 1', '{\"row_group_rows\": 0}')").find("positive integer"),
            std::string::npos);
  EXPECT_NE(db_.error_of("SELECT parquet_export(" + file + ", 'SELECT 1', 'not json')").find("JSON object"),
            std::string::npos);
  EXPECT_NE(db_.error_of("SELECT parquet_export(" + file + ", 'SELECT 1', '{\"threads\": 3}')").find("'threads' must be 1 or 2"),
            std::string::npos);
  EXPECT_NE(db_.error_of("SELECT parquet_export(" + file + ", 42)").find("argument 2 must be text"), std::string::npos);
  // A query that fails midway (an error raised by the 2001st row) leaves no file, also while
  // the helper thread is writing row groups.
  for (const std::string options : {"{}", "{\"row_group_rows\": 300}", "{\"row_group_rows\": 300, \"threads\": 1}"}) {
    EXPECT_NE(db_.error_of("SELECT parquet_export(" + file +
                           ", 'SELECT CASE WHEN id > 2000 THEN json(''not json'') ELSE id END FROM events', '" + options + "')")
                  .find("the query failed"),
              std::string::npos) << options;
  }
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM events"), "3000");  // nothing changed
  EXPECT_FALSE(std::filesystem::exists(target));
  // Not from triggers or views: it writes files.
  db_.exec("CREATE VIEW exporting AS SELECT parquet_export(" + file + ", 'SELECT 1')");
  EXPECT_NE(db_.error_of("SELECT * FROM exporting").find("unsafe use of parquet_export"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST(ParquetExportS3, WritesTheObjectThroughTheS3Store) {
  testing::S3TestServer server;
  ASSERT_TRUE(server.problem().empty()) << server.problem();
  testing::ScopedAwsEnvironment environment(server);
  TestDatabase db;
  db.exec("CREATE TABLE t(a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'one'), (2, NULL), (3, 'three');");
  EXPECT_EQ(db.scalar("SELECT parquet_export('s3://strata-test/exports/t.parquet', 'SELECT * FROM t')"), "3");
  auto store = tiering::S3Store::open("s3://strata-test", server.settings());
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  auto object = (*store)->get("exports/t.parquet");
  ASSERT_TRUE(object.is_ok()) << object.status().message();
  load_parquet(db.get(), "back", *object);
  EXPECT_EQ(db.rows("SELECT c0, c1 FROM back"), (std::vector<std::string>{"1|one", "2|NULL", "3|three"}));
  // A wrong secret is refused, and nothing is written.
  setenv("AWS_SECRET_ACCESS_KEY", "wrong", 1);
  EXPECT_NE(db.error_of("SELECT parquet_export('s3://strata-test/exports/u.parquet', 'SELECT * FROM t')")
                .find("parquet_export"),
            std::string::npos);
  EXPECT_EQ((*store)->head("exports/u.parquet").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace strata
