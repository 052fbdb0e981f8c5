// The hnsw table through SQL: errors, KNN against exact search for each metric, filters at
// several selectivities, deletions, transactions and savepoints, persistence, two connections.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/clustered_vectors.h"
#include "tests/unit/test_database.h"
#include "vtab/hnsw/vector.h"

namespace {

using strata::testing::TestDatabase;

std::string blob_of(const std::vector<float>& vector) { return strata::hnsw::float_blob(vector); }

// Runs `sql` with ?1 bound to a vector BLOB; the first column of every row.
std::vector<int64_t> rowids(sqlite3* db, const std::string& sql, const std::string& vector) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db) << " in " << sql;
  std::vector<int64_t> out;
  if (stmt == nullptr) return out;
  sqlite3_bind_blob(stmt, 1, vector.data(), static_cast<int>(vector.size()), SQLITE_TRANSIENT);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) out.push_back(sqlite3_column_int64(stmt, 0));
  EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db) << " in " << sql;
  sqlite3_finalize(stmt);
  return out;
}

std::vector<std::vector<float>> clustered(size_t count, size_t dims, uint32_t seed) {
  return strata::testing::clustered_vectors(count, dims, seed);
}

// Rows rowid, embedding (and, with `with_category`, category = rowid % 10).
void insert_all(const TestDatabase& db, const std::vector<std::vector<float>>& points, int64_t first_rowid = 1,
                bool with_category = false) {
  db.exec("BEGIN");
  sqlite3_stmt* stmt = nullptr;
  const char* sql = with_category ? "INSERT INTO v(rowid, embedding, category) VALUES (?1, ?2, ?1 % 10)"
                                  : "INSERT INTO v(rowid, embedding) VALUES (?1, ?2)";
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), sql, -1, &stmt, nullptr), SQLITE_OK);
  for (size_t i = 0; i < points.size(); ++i) {
    std::string blob = blob_of(points[i]);
    sqlite3_bind_int64(stmt, 1, first_rowid + static_cast<int64_t>(i));
    sqlite3_bind_blob(stmt, 2, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db.get());
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  db.exec("COMMIT");
}

// recall@10 of the KNN query against exact search over the table's rows (with `where` on both).
double recall(const TestDatabase& db, const std::string& metric, const std::vector<std::vector<float>>& queries,
              const std::string& filter = "", int ef = 200) {
  size_t hits = 0, wanted = 0;
  for (const auto& query : queries) {
    std::string blob = blob_of(query);
    std::vector<int64_t> truth = rowids(db.get(), "SELECT rowid FROM v WHERE 1 " + filter +
                                                      " ORDER BY vec_distance_" + metric + "(embedding, ?1), rowid LIMIT 10", blob);
    std::vector<int64_t> found = rowids(db.get(), "SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10 AND ef_search = " +
                                                      std::to_string(ef) + " " + filter, blob);
    EXPECT_EQ(found.size(), truth.size()) << filter;
    std::set<int64_t> truth_set(truth.begin(), truth.end());
    for (int64_t rowid : found) hits += truth_set.count(rowid);
    wanted += truth.size();
  }
  return wanted == 0 ? 1.0 : static_cast<double>(hits) / static_cast<double>(wanted);
}

TEST(HnswTable, BadInputIsAClearError) {
  TestDatabase db;
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[0])"), "hnsw: dimension must be from 1 to 8192, got 0");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[8193])"), "hnsw: dimension must be from 1 to 8192, got 8193");
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[4], m=1)").find("hnsw: option 'm' must be an integer from 2 to 128"),
            std::string::npos);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[4], metric=dot)").find("'metric'"), std::string::npos);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[4], b float[4])").find("exactly one vector column"),
            std::string::npos);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding)").find("hnsw: column 'embedding': no type; supported: one vector column ('embedding float[768]')"), std::string::npos);
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding blob[4])").find("unknown element type 'blob'"), std::string::npos);
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[768], dims=1000)"),
            "hnsw: dims (the prefix to index) must be from 1 to the vector's 768 dimensions, got 1000");
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[8], quantization=pq)").find("'quantization'"),
            std::string::npos);
  db.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[768])");
  EXPECT_EQ(db.error_of("INSERT INTO v(embedding) VALUES (zeroblob(3070))"),
            "hnsw: expected 768 float32 values (3072 bytes), got 3070 bytes");
  EXPECT_EQ(db.error_of("INSERT INTO v(embedding) VALUES ('[1, 2]')"), "hnsw: expected 768 values, got 2");
  EXPECT_EQ(db.error_of("INSERT INTO v(embedding) VALUES (NULL)"), "hnsw: embedding must not be NULL");
  EXPECT_EQ(db.error_of("INSERT INTO v(embedding) VALUES (7)"), "hnsw: embedding must be a float32 BLOB or a JSON array of 768 numbers");
  EXPECT_EQ(db.error_of("INSERT INTO v(v) VALUES ('compact')"), "hnsw: unknown command 'compact'; the only command is 'optimize'");
  EXPECT_EQ(db.error_of("SELECT rowid FROM v WHERE embedding MATCH zeroblob(3072) AND k = 100001"),
            "hnsw: k must be an integer from 1 to 100000, got '100001'");
  EXPECT_EQ(db.error_of("SELECT rowid FROM v WHERE embedding MATCH zeroblob(3072) AND k = 2.5"),
            "hnsw: k must be an integer from 1 to 100000, got '2.5'");
  EXPECT_EQ(db.error_of("SELECT rowid FROM v WHERE embedding MATCH zeroblob(3072) AND k = 'ten'"),
            "hnsw: k must be an integer from 1 to 100000, got 'ten'");
  EXPECT_EQ(db.error_of("SELECT rowid FROM v WHERE embedding MATCH zeroblob(12) AND k = 5"),
            "hnsw: expected 768 float32 values (3072 bytes), got 12 bytes");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM v"), "0");
  EXPECT_EQ(db.scalar("SELECT hnsw_check('v')"), "ok");
  EXPECT_EQ(db.error_of("SELECT hnsw_check('nope')"), "hnsw_check: main.nope is not an hnsw table");
}

TEST(HnswTable, LargeKRealKAndReadablePlans) {
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[2], m=8, ef_construction=40)");
  db.exec("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 12000) "
          "INSERT INTO v(rowid, embedding) SELECT i, json_array(i % 97, i / 97) FROM s");
  // k beyond sqlite-vec's 4,096: all 12,000 rows, nearest first, none twice.
  EXPECT_EQ(db.scalar("SELECT count(*) || ' ' || count(DISTINCT rowid) FROM v WHERE embedding MATCH '[0, 0]' AND k = 12000"),
            "12000 12000");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM v WHERE embedding MATCH '[0, 0]' AND k = 10000"), "10000");
  // A REAL with an integral value is a k (a JavaScript number binds as one).
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), "SELECT count(*) FROM v WHERE embedding MATCH '[0, 0]' AND k = ?", -1, &stmt, nullptr), SQLITE_OK);
  sqlite3_bind_double(stmt, 1, 3.0);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 3);
  sqlite3_finalize(stmt);
  auto plan = [&](const std::string& query) {
    std::vector<std::string> rows = db.rows("EXPLAIN QUERY PLAN " + query);
    return rows.empty() ? std::string() : rows.back();
  };
  EXPECT_NE(plan("SELECT rowid FROM v WHERE embedding MATCH '[0, 0]' AND k = 5")
                .find("KNN on embedding (l2, k = ?, ef_search 64)"),
            std::string::npos);
  EXPECT_NE(plan("SELECT rowid FROM v WHERE embedding MATCH '[0, 0]' AND k = 5 AND ef_search = 9 AND rowid IN (1, 2, 3)")
                .find("KNN on embedding (l2, k = ?, ef_search = ?, filtered by rowid IN (...))"),
            std::string::npos);
  EXPECT_NE(plan("SELECT rowid FROM v WHERE rowid = 5").find("lookup by rowid"), std::string::npos);
  EXPECT_NE(plan("SELECT rowid FROM v").find("full scan in rowid order (no MATCH)"), std::string::npos);
}

struct IndexCase {
  std::string metric;
  std::string quantization;
  int indexed_dimensions;  // dims=K, 0 for all 32
};

void PrintTo(const IndexCase& c, std::ostream* out) {
  *out << "metric=" << c.metric << " quantization=" << c.quantization << " dims=" << c.indexed_dimensions;
}

class Indexes : public ::testing::TestWithParam<IndexCase> {};

TEST_P(Indexes, KnnMatchesExactSearchThroughDeletesAndUpdates) {
  const std::string metric = GetParam().metric;
  const std::string quantization = GetParam().quantization;
  strata::testing::ScratchDirectory directory("hnsw_indexes");
  const std::string path = directory.path("test.db");
  auto owned = std::make_unique<TestDatabase>(path);
  const TestDatabase& db = *owned;
  db.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[32], metric=" + metric + ", quantization=" + quantization +
          (GetParam().indexed_dimensions ? ", dims=" + std::to_string(GetParam().indexed_dimensions) : std::string()) +
          ", m=12, ef_construction=100)");
  auto points = clustered(2000 + 40 + 600, 32, 1);
  std::vector<std::vector<float>> data(points.begin(), points.begin() + 2000);
  std::vector<std::vector<float>> queries(points.begin() + 2000, points.begin() + 2040);
  std::vector<std::vector<float>> more(points.begin() + 2040, points.end());
  insert_all(db, data);
  // Inner product walks a Euclidean space too (space.h), so one bar serves every case.
  const double bar = 0.99;
  EXPECT_GE(recall(db, metric, queries), bar);
  // Distances are the metric's (vec_distance_*), nearest first.
  std::string q = blob_of(queries[0]);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), ("SELECT distance, vec_distance_" + metric +
                                          "(embedding, ?1) FROM v WHERE embedding MATCH ?1 AND k = 10").c_str(),
                               -1, &stmt, nullptr), SQLITE_OK);
  sqlite3_bind_blob(stmt, 1, q.data(), static_cast<int>(q.size()), SQLITE_TRANSIENT);
  double previous = -1e300;
  int rows = 0;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    double distance = sqlite3_column_double(stmt, 0);
    EXPECT_NEAR(distance, sqlite3_column_double(stmt, 1), 1e-4 * (1 + std::abs(distance)));
    EXPECT_GE(distance, previous);
    previous = distance;
    ++rows;
  }
  sqlite3_finalize(stmt);
  EXPECT_EQ(rows, 10);

  // Delete 30%, insert new ones, update some: recall holds.
  db.exec("DELETE FROM v WHERE rowid % 10 IN (1, 4, 7)");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM v"), "1400");
  EXPECT_GE(recall(db, metric, queries), bar - 0.01);
  insert_all(db, more, 5001);
  std::string json = "[", shown = "[";
  for (int i = 0; i < 32; ++i) {
    json += i == 31 ? "1]" : "0,";
    shown += i == 31 ? "1.000000]" : "0.000000,";
  }
  db.exec("UPDATE v SET embedding = vec_f32('" + json + "') WHERE rowid = 2");
  EXPECT_EQ(db.scalar("SELECT vec_to_json(embedding) FROM v WHERE rowid = 2"), shown);
  EXPECT_GE(recall(db, metric, queries), bar);
  EXPECT_EQ(db.scalar("SELECT hnsw_check('v')"), "ok");

  // Filters at 50%, 10%, 1% and 0.1%: exactly the k nearest allowed rows whenever k exist.
  for (int modulus : {2, 10, 100, 1000}) {
    std::string filter = "AND rowid IN (SELECT value FROM json_each((SELECT json_group_array(rowid) FROM v_vectors WHERE rowid % " +
                         std::to_string(modulus) + " = 0)))";
    // ef 64: at 50% the graph is walked with the filter; from 10% on the allowed rows are
    // searched exactly (hnsw_table.cpp says when).
    EXPECT_GE(recall(db, metric, queries, filter, 64), 0.95) << "1 in " << modulus;
  }
  db.exec("INSERT INTO v(v) VALUES ('optimize')");
  EXPECT_EQ(db.scalar("SELECT hnsw_check('v')"), "ok");
  EXPECT_GE(recall(db, metric, queries), bar);
  // Closed and opened again: the graph is loaded from the shadow tables.
  owned.reset();
  {
    TestDatabase reopened(path);
    EXPECT_GE(recall(reopened, metric, queries), bar);
    EXPECT_EQ(reopened.scalar("SELECT hnsw_check('v')"), "ok");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Hnsw, Indexes,
    ::testing::Values(IndexCase{"l2", "none", 0}, IndexCase{"cosine", "none", 0}, IndexCase{"ip", "none", 0},
                      IndexCase{"l2", "int8", 0}, IndexCase{"cosine", "int8", 0}, IndexCase{"ip", "int8", 0},
                      IndexCase{"l2", "binary", 0}, IndexCase{"cosine", "binary", 0}, IndexCase{"cosine", "none", 16},
                      IndexCase{"l2", "int8", 16}, IndexCase{"ip", "none", 16}, IndexCase{"l1", "none", 0},
                      IndexCase{"l1", "none", 16}),
    [](const auto& info) {
      return info.param.metric + "_" + info.param.quantization +
             (info.param.indexed_dimensions ? "_dims" + std::to_string(info.param.indexed_dimensions) : std::string());
    });

// Metadata filters on a table large enough that the walk, not an exact search of the matching
// rows, answers (from ~45% of the rows at ef 64 here): k rows whenever k match, and the recall of
// an unfiltered search; through deletes (tombstones never pass) and reopening.
TEST(HnswTable, MetadataFiltersWalkTheGraphWhenManyRowsMatch) {
  strata::testing::ScratchDirectory directory("hnsw_metadata");
  const std::string path = directory.path("test.db");
  auto points = clustered(6000 + 40, 32, 9);
  std::vector<std::vector<float>> data(points.begin(), points.begin() + 6000);
  std::vector<std::vector<float>> queries(points.begin() + 6000, points.end());
  {
    TestDatabase db(path);
    db.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[32], category INTEGER, m=12, ef_construction=100)");
    insert_all(db, data, 1, true);
    for (const char* filter : {"AND category != 3", "AND category < 9", "AND category IN (1, 2, 3, 4, 5, 6, 7, 8)"}) {
      EXPECT_GE(recall(db, "l2", queries, filter, 64), 0.97) << filter;  // the walk (90% pass)
    }
    EXPECT_GE(recall(db, "l2", queries, "AND category < 5", 24), 0.9);  // the walk at ef 24 (50% pass)
    EXPECT_GE(recall(db, "l2", queries, "AND category < 5", 64), 0.99);  // exact at ef 64
    EXPECT_GE(recall(db, "l2", queries, "AND category = 3", 64), 0.99);  // exact (10%)
    EXPECT_EQ(recall(db, "l2", queries, "AND category = 11", 64), 1.0);  // none match: no rows
    db.exec("DELETE FROM v WHERE rowid % 7 = 0");
    EXPECT_GE(recall(db, "l2", queries, "AND category != 3", 64), 0.97);
    // With a rowid list too (both filters apply).
    EXPECT_GE(recall(db, "l2", queries,
                     "AND category != 3 AND rowid IN (SELECT value FROM json_each((SELECT json_group_array(rowid) FROM v_vectors "
                     "WHERE rowid % 2 = 0)))",
                     64),
              0.97);
  }
  TestDatabase reopened(path);
  EXPECT_GE(recall(reopened, "l2", queries, "AND category != 3", 64), 0.97);
  EXPECT_EQ(reopened.scalar("SELECT hnsw_check('v')"), "ok");
}

// int8[N] and bit[N] columns: stored as given, compared exactly (l2 over the integers; Hamming
// over the bits), the k nearest by distance (ties make rowids ambiguous, so distances are compared).
TEST(HnswTable, Int8AndBitVectors) {
  TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE small USING hnsw(embedding int8[4])");
  db.exec("INSERT INTO small(rowid, embedding) VALUES (1, '[1, -2, 3, 127]'), (2, x'01FE037E')");
  EXPECT_EQ(db.scalar("SELECT group_concat(hex(embedding)) FROM small"), "01FE037F,01FE037E");
  EXPECT_EQ(db.scalar("SELECT rowid || ':' || distance FROM small WHERE embedding MATCH '[1, -2, 3, 126]' AND k = 1"), "2:0.0");
  EXPECT_EQ(db.error_of("INSERT INTO small(embedding) VALUES ('[1, 2, 3, 200]')"),
            "hnsw: element 3 is 200; int8 vectors hold integers from -128 to 127");
  EXPECT_EQ(db.error_of("INSERT INTO small(embedding) VALUES (x'0102')"), "hnsw: expected 4 int8 values (4 bytes), got 2 bytes");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE b2 USING hnsw(embedding bit[16], metric=cosine)"),
            "hnsw: metric=cosine does not apply to bit[N] vectors; bit[N] takes metric=hamming, float[N] and int8[N] take l2, cosine, ip or l1");
  EXPECT_NE(db.error_of("CREATE VIRTUAL TABLE b3 USING hnsw(embedding float[16], metric=hamming)").find("does not apply"),
            std::string::npos);

  std::mt19937 random(9);
  for (bool bits : {false, true}) {
    const size_t dims = bits ? 64 : 16;
    db.exec(std::string("CREATE VIRTUAL TABLE ") + (bits ? "vb" : "vi") + " USING hnsw(embedding " + (bits ? "bit" : "int8") +
            "[" + std::to_string(dims) + "])");
    std::vector<std::string> rows;
    sqlite3_stmt* insert = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db.get(), bits ? "INSERT INTO vb(embedding) VALUES (?1)" : "INSERT INTO vi(embedding) VALUES (?1)",
                                 -1, &insert, nullptr), SQLITE_OK);
    for (int i = 0; i < 800; ++i) {
      std::string blob(bits ? dims / 8 : dims, '\0');
      int centre = i % 8;
      for (size_t d = 0; d < blob.size(); ++d) {
        blob[d] = static_cast<char>(bits ? (random() & (random() | (centre * 37 + d))) : (centre * 15 - 60 + static_cast<int>(random() % 21)));
      }
      rows.push_back(blob);
      sqlite3_bind_blob(insert, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE) << sqlite3_errmsg(db.get());
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    auto distance = [&](const std::string& a, const std::string& b) {
      double sum = 0;
      for (size_t d = 0; d < a.size(); ++d) {
        if (bits) {
          sum += std::popcount(static_cast<unsigned>(static_cast<unsigned char>(a[d]) ^ static_cast<unsigned char>(b[d])));
        } else {
          double diff = static_cast<int8_t>(a[d]) - static_cast<int8_t>(b[d]);
          sum += diff * diff;
        }
      }
      return bits ? sum : std::sqrt(sum);
    };
    for (int q = 0; q < 20; ++q) {
      const std::string& query = rows[random() % rows.size()];
      std::vector<double> truth;
      for (const std::string& row : rows) truth.push_back(distance(query, row));
      std::sort(truth.begin(), truth.end());
      truth.resize(10);
      sqlite3_stmt* knn = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db.get(), bits ? "SELECT distance FROM vb WHERE embedding MATCH ?1 AND k = 10 AND ef_search = 200"
                                                  : "SELECT distance FROM vi WHERE embedding MATCH ?1 AND k = 10 AND ef_search = 200",
                                   -1, &knn, nullptr), SQLITE_OK);
      sqlite3_bind_blob(knn, 1, query.data(), static_cast<int>(query.size()), SQLITE_TRANSIENT);
      std::vector<double> found;
      while (sqlite3_step(knn) == SQLITE_ROW) found.push_back(sqlite3_column_double(knn, 0));
      sqlite3_finalize(knn);
      ASSERT_EQ(found.size(), truth.size());
      for (size_t i = 0; i < truth.size(); ++i) EXPECT_NEAR(found[i], truth[i], 1e-3) << (bits ? "bit" : "int8") << " rank " << i;
    }
    EXPECT_EQ(db.scalar(std::string("SELECT hnsw_check('") + (bits ? "vb" : "vi") + "')"), "ok");
  }
}

class HnswFile : public ::testing::Test {
 protected:
  strata::testing::ScratchDirectory directory_{"hnsw"};
  std::string path_ = directory_.path("test.db");
};

TEST_F(HnswFile, TransactionsSavepointsAndReopen) {
  auto points = clustered(600, 8, 3);
  std::string query = blob_of(points[599]);
  std::vector<int64_t> before;
  std::string ip_before;
  {
    TestDatabase db(path_);
    // An ip table too: its walk depends on a norm bound that must survive reopening.
    db.exec("CREATE VIRTUAL TABLE w USING hnsw(embedding float[8], metric=ip)");
    db.exec("INSERT INTO w(rowid, embedding) SELECT value, json_array(value % 7, value % 5 - 2, value % 3, 1, "
            "value % 11 - 5, value % 2, value % 13 * 0.5, -1) FROM json_each('[' || (WITH RECURSIVE c(x) AS "
            "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300) SELECT group_concat(x) FROM c) || ']')");
    // Norms 100 then 110 (within a quarter: no growth) under falling rowids: rebuilt from the
    // rows in rowid order, the bound would come out larger than it was chosen.
    db.exec("INSERT INTO w(rowid, embedding) VALUES (10000, '[100, 0, 0, 0, 0, 0, 0, 0]')");
    db.exec("INSERT INTO w(rowid, embedding) VALUES (9000, '[0, 110, 0, 0, 0, 0, 0, 0]')");
    ip_before = db.scalar("SELECT group_concat(rowid || ':' || distance) FROM w WHERE embedding MATCH "
                          "'[3, -1, 2, 1, 4, 0, 5, -1]' AND k = 10 AND ef_search = 20");
    db.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[8], metric=cosine)");
    insert_all(db, std::vector<std::vector<float>>(points.begin(), points.begin() + 400));
    before = rowids(db.get(), "SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10", query);
    ASSERT_EQ(before.size(), 10u);
    // ROLLBACK undoes inserts and deletes.
    db.exec("BEGIN; DELETE FROM v WHERE rowid <= 200; INSERT INTO v(rowid, embedding) VALUES (1000, '[1,1,1,1,1,1,1,1]')");
    EXPECT_EQ(db.scalar("SELECT count(*) FROM v"), "201");
    db.exec("ROLLBACK");
    EXPECT_EQ(db.scalar("SELECT count(*) FROM v"), "400");
    EXPECT_EQ(rowids(db.get(), "SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10", query), before);
    // ROLLBACK TO a savepoint, and a statement that fails halfway, leave the rest.
    db.exec("BEGIN; INSERT INTO v(rowid, embedding) VALUES (2000, '[2,2,2,2,2,2,2,2]'); SAVEPOINT s;"
            "DELETE FROM v WHERE rowid > 300; ROLLBACK TO s; RELEASE s");
    EXPECT_EQ(db.error_of("WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < 100) "
                          "INSERT INTO v(rowid, embedding) SELECT value + 3000, CASE WHEN value = 50 THEN '[1]' "
                          "ELSE '[0,0,0,0,0,0,0,1]' END FROM s"),
              "hnsw: expected 8 values, got 1");
    db.exec("COMMIT");
    EXPECT_EQ(db.scalar("SELECT count(*) FROM v"), "401");
    EXPECT_EQ(db.scalar("SELECT hnsw_check('v')"), "ok");
    EXPECT_EQ(db.error_of("INSERT INTO v(rowid, embedding) VALUES (2000, '[1,1,1,1,1,1,1,1]')"), "UNIQUE constraint failed: v.rowid");
    db.exec("INSERT OR REPLACE INTO v(rowid, embedding) VALUES (2000, '[3,3,3,3,3,3,3,3]')");
  }
  TestDatabase reopened(path_);
  EXPECT_EQ(reopened.scalar("SELECT count(*) FROM v"), "401");
  EXPECT_EQ(reopened.scalar("SELECT vec_to_json(embedding) FROM v WHERE rowid = 2000"),
            "[3.000000,3.000000,3.000000,3.000000,3.000000,3.000000,3.000000,3.000000]");
  EXPECT_EQ(rowids(reopened.get(), "SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10", query), before);
  EXPECT_EQ(reopened.scalar("SELECT hnsw_check('v')"), "ok");
  EXPECT_EQ(reopened.scalar("SELECT group_concat(rowid || ':' || distance) FROM w WHERE embedding MATCH "
                            "'[3, -1, 2, 1, 4, 0, 5, -1]' AND k = 10 AND ef_search = 20"),
            ip_before);
  EXPECT_NE(ip_before, "");
  // The stored bound covers every norm, by at most a quarter, and a reopened table keeps it
  // (a short vector inserted after reopening does not move it).
  std::string bound = reopened.scalar("SELECT value FROM w_config WHERE key = 'ip_norm_bound'");
  double largest = std::stod(reopened.scalar("SELECT max(vec_distance_l2(embedding, '[0,0,0,0,0,0,0,0]')) FROM w"));
  EXPECT_GE(std::stod(bound), largest);
  EXPECT_LE(std::stod(bound), largest * 1.25 + 1e-6);
  reopened.exec("INSERT INTO w(rowid, embedding) VALUES (9999, '[0.1, 0, 0, 0, 0, 0, 0, 0]')");
  EXPECT_EQ(reopened.scalar("SELECT value FROM w_config WHERE key = 'ip_norm_bound'"), bound);
}

// sqlite-vec's column kinds beyond the vector: a text primary key, metadata, partition keys and
// auxiliary columns survive reopening, rollbacks, 'optimize' and a rename, and filter the walk.
TEST_F(HnswFile, Vec0ColumnsPersistRollBackAndFilter) {
  const std::string knn = "SELECT group_concat(name) FROM (SELECT name FROM items WHERE embedding MATCH '[0, 0]' AND k = 3 ";
  {
    TestDatabase db(path_);
    db.exec("CREATE VIRTUAL TABLE items USING hnsw(name TEXT PRIMARY KEY, embedding float[2], shop INTEGER PARTITION KEY, "
            "colour TEXT, price FLOAT, +note)");
    EXPECT_EQ(db.scalar("SELECT value FROM items_config WHERE key = 'format_version'"), "3");
    db.exec("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200) "
            "INSERT INTO items(name, embedding, shop, colour, price, note) "
            "SELECT 'item' || i, json_array(i, 0), i % 4, CASE i % 3 WHEN 0 THEN 'red' WHEN 1 THEN 'blue' ELSE 'green' END, "
            "i * 1.5, CASE WHEN i % 2 THEN x'00ff' ELSE i END FROM s");
    EXPECT_EQ(db.scalar(knn + "AND shop = 1 AND colour = 'red')"), "item9,item21,item33");
    EXPECT_EQ(db.error_of("INSERT INTO items(name, embedding, shop, colour, price) VALUES ('item5', '[1, 1]', 1, 'red', 1.0)"),
              "UNIQUE constraint failed: items.name");
    EXPECT_EQ(db.error_of("INSERT INTO items(name, embedding, shop, colour, price) VALUES (7, '[1, 1]', 1, 'red', 1.0)"),
              "hnsw: primary key name holds text values, got INTEGER");
    EXPECT_EQ(db.error_of("INSERT INTO items(name, embedding, shop, colour, price) VALUES ('x', '[1, 1]', 1, 'red', 1)"),
              "hnsw: metadata column price holds float values, got INTEGER (write 3.0 for 3)");
    db.exec("BEGIN");
    db.exec("UPDATE items SET colour = 'red' WHERE name = 'item1'");
    db.exec("DELETE FROM items WHERE name = 'item9'");
    EXPECT_EQ(db.scalar(knn + "AND shop = 1 AND colour = 'red')"), "item1,item21,item33");
    db.exec("ROLLBACK");
    EXPECT_EQ(db.scalar(knn + "AND shop = 1 AND colour = 'red')"), "item9,item21,item33");
    db.exec("INSERT OR REPLACE INTO items(name, embedding, shop, colour, price) VALUES ('item21', '[300, 0]', 1, 'red', 2.0)");
    EXPECT_EQ(db.scalar(knn + "AND shop = 1 AND colour = 'red')"), "item9,item33,item45");
  }
  TestDatabase reopened(path_);
  EXPECT_EQ(reopened.scalar(knn + "AND shop = 1 AND colour = 'red')"), "item9,item33,item45");
  EXPECT_EQ(reopened.scalar(knn + "AND price > 100.0 AND colour IN ('blue', 'green'))"), "item67,item68,item70");
  EXPECT_EQ(reopened.scalar("SELECT typeof(note) || ':' || hex(note) FROM items WHERE name = 'item3'"), "blob:00FF");
  reopened.exec("INSERT INTO items(items) VALUES ('optimize')");
  EXPECT_EQ(reopened.scalar(knn + "AND shop = 1 AND colour = 'red')"), "item9,item33,item45");
  reopened.exec("ALTER TABLE items RENAME TO things_for_sale");
  EXPECT_EQ(reopened.scalar("SELECT group_concat(name) FROM (SELECT name FROM things_for_sale WHERE embedding MATCH '[0, 0]' "
                            "AND k = 2 AND shop = 3 AND price <= 100.0)"),
            "item3,item7");
  EXPECT_EQ(reopened.scalar("SELECT count(*) FROM things_for_sale_columns"), "200");
  EXPECT_EQ(reopened.scalar("SELECT hnsw_check('things_for_sale')"), "ok");
  reopened.exec("DROP TABLE things_for_sale");
  EXPECT_EQ(reopened.scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE 'things_for_sale%'"), "0");
}

// Deleted rows stay in the graph as tombstones (walked through, never returned) until there are
// more of them than live rows, a rowid is written again, or 'optimize'; through reopening and
// rollbacks.
TEST_F(HnswFile, DeletedRowsAreTombstonesUntilPurged) {
  auto points = clustered(400, 8, 5);
  TestDatabase db(path_);
  db.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[8], m=8)");
  db.exec("BEGIN");
  for (size_t i = 0; i < points.size(); ++i) {
    sqlite3_stmt* insert = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db.get(), "INSERT INTO v(rowid, embedding) VALUES (?1, ?2)", -1, &insert, nullptr), SQLITE_OK);
    sqlite3_bind_int64(insert, 1, static_cast<int64_t>(i + 1));
    const std::string blob = blob_of(points[i]);
    sqlite3_bind_blob(insert, 2, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE);
    sqlite3_finalize(insert);
  }
  db.exec("COMMIT");
  const std::string everything = "SELECT count(*) FROM v WHERE embedding MATCH zeroblob(32) AND k = 400";
  db.exec("DELETE FROM v WHERE rowid % 10 < 3");
  EXPECT_EQ(db.scalar("SELECT count(*) || ' ' || (SELECT count(*) FROM v_tombstones) || ' ' || (SELECT count(*) FROM v_links) FROM v"),
            "280 120 400");
  EXPECT_EQ(db.scalar(everything), "280");  // every live row, no tombstone
  EXPECT_EQ(db.scalar("SELECT count(*) FROM v WHERE embedding MATCH zeroblob(32) AND k = 400 AND rowid % 10 < 3"), "0");
  EXPECT_EQ(db.scalar("SELECT hnsw_check('v')"), "ok");
  db.exec("BEGIN; DELETE FROM v WHERE rowid % 10 = 5; ROLLBACK");
  EXPECT_EQ(db.scalar(everything), "280");
  // A deleted rowid written again: its tombstone goes first.
  db.exec("INSERT INTO v(rowid, embedding) VALUES (10, zeroblob(32))");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM v_tombstones"), "119");
  EXPECT_EQ(db.scalar("SELECT rowid FROM v WHERE embedding MATCH zeroblob(32) AND k = 1"), "10");
  {
    TestDatabase reopened(path_);
    EXPECT_EQ(reopened.scalar(everything), "281");
    EXPECT_EQ(reopened.scalar("SELECT hnsw_check('v')"), "ok");
  }
  // More tombstones than live rows: all are purged, relinking their neighbours. (The DELETE goes
  // in rowid order: after 82 of its 160 rows, 201 tombstones outnumber 199 live rows; the 78
  // rows after that are tombstones again.)
  db.exec("DELETE FROM v WHERE rowid % 10 IN (3, 4, 5, 6)");
  EXPECT_EQ(db.scalar("SELECT count(*) || ' ' || (SELECT count(*) FROM v_tombstones) FROM v"), "121 78");
  EXPECT_EQ(db.scalar(everything), "121");
  EXPECT_EQ(db.scalar("SELECT hnsw_check('v')"), "ok");
  db.exec("DELETE FROM v WHERE rowid % 10 = 7");
  EXPECT_EQ(db.scalar("SELECT count(*) || ' ' || (SELECT count(*) FROM v_tombstones) FROM v"), "81 18");
  db.exec("INSERT INTO v(v) VALUES ('optimize')");
  EXPECT_EQ(db.scalar("SELECT count(*) || ' ' || (SELECT count(*) FROM v_tombstones) || ' ' || (SELECT count(*) FROM v_links) FROM v"),
            "81 0 81");
  EXPECT_EQ(db.scalar(everything), "81");
  EXPECT_EQ(db.scalar("SELECT hnsw_check('v')"), "ok");
}

TEST(HnswTable, Vec0ColumnDefinitionErrorsSayWhatIsSupported) {
  TestDatabase db;
  const std::string supported = "supported: one vector column ('embedding float[768]')";
  for (const char* bad : {"embedding float[2], genre BLOB", "embedding float[2], genre TEXT NOT NULL", "embedding float[2], +note BOOLEAN",
                          "embedding float[2], id REAL PRIMARY KEY", "embedding float[2], u FLOAT PARTITION KEY", "embedding float[2], \"odd name\" TEXT"}) {
    EXPECT_NE(db.error_of(std::string("CREATE VIRTUAL TABLE a USING hnsw(") + bad + ")").find(supported), std::string::npos) << bad;
  }
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[2], k INTEGER)"),
            "hnsw: a column cannot be named 'k': distance, k and ef_search are the table's hidden columns, and rowid is the key");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[2], chunk_size=7)"),
            "hnsw: chunk_size (vec0's storage setting, accepted and ignored) must be a multiple of 8, as vec0 requires; got 7");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[2] distance_metric=manhattan)"),
            "hnsw: distance_metric=manhattan is not supported; supported: l2, cosine, ip, l1, hamming");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[2] distance_metric=L1, quantization=int8)"),
            "hnsw: quantization=int8 works with metric l2, cosine or ip; metric=l1 walks the float vectors (quantization=none)");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[2] distance_metric=cosine, metric=l2)"),
            "hnsw: metric=l2 and distance_metric=cosine disagree; give one");
  EXPECT_EQ(db.error_of("CREATE VIRTUAL TABLE a USING hnsw(embedding float[2], a TEXT, A INTEGER)"), "hnsw: two columns are named 'A'");
  db.exec("CREATE VIRTUAL TABLE ok USING hnsw(id INTEGER PRIMARY KEY, embedding float[2] distance_metric=cosine, +body TEXT)");
  EXPECT_EQ(db.scalar("SELECT value FROM ok_config WHERE key = 'metric'"), "cosine");
  db.exec("INSERT INTO ok(id, embedding, body) VALUES (5, '[1, 0]', 'five')");
  EXPECT_EQ(db.scalar("SELECT rowid || ':' || id || ':' || body FROM ok"), "5:5:five");
  EXPECT_EQ(db.error_of("SELECT id FROM ok WHERE embedding MATCH '[1, 0]' AND k = 1 AND body = 'five'"),
            "hnsw: auxiliary column body cannot be filtered in a KNN query (it is stored, not indexed); declare it without '+' as a metadata column to filter on it");
  EXPECT_EQ(db.error_of("INSERT INTO ok(id, embedding, body) VALUES (6, '[1, 0]', 6)"), "hnsw: auxiliary column body holds text values (or NULL), got INTEGER");
  db.exec("CREATE VIRTUAL TABLE plain USING hnsw(embedding float[2])");
  EXPECT_EQ(db.scalar("SELECT value FROM plain_config WHERE key = 'format_version'"), "3");
}

TEST_F(HnswFile, TwoConnectionsSeeEachOthersCommits) {
  TestDatabase a(path_);
  a.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[2])");
  TestDatabase b(path_);
  a.exec("INSERT INTO v(rowid, embedding) VALUES (1, '[0,0]'), (2, '[10,10]')");
  EXPECT_EQ(b.scalar("SELECT group_concat(rowid) FROM v WHERE embedding MATCH '[9,9]' AND k = 1"), "2");
  b.exec("INSERT INTO v(rowid, embedding) VALUES (3, '[9,9]')");
  EXPECT_EQ(a.scalar("SELECT group_concat(rowid) FROM v WHERE embedding MATCH '[9,9]' AND k = 1"), "3");
  b.exec("DELETE FROM v WHERE rowid = 3");
  EXPECT_EQ(a.scalar("SELECT group_concat(rowid) FROM v WHERE embedding MATCH '[9,9]' AND k = 1"), "2");
  a.exec("BEGIN; INSERT INTO v(rowid, embedding) VALUES (4, '[9,9]')");
  EXPECT_EQ(b.scalar("SELECT group_concat(rowid) FROM v WHERE embedding MATCH '[9,9]' AND k = 1"), "2");
  a.exec("COMMIT");
  EXPECT_EQ(b.scalar("SELECT group_concat(rowid) FROM v WHERE embedding MATCH '[9,9]' AND k = 1"), "4");
}

// A flipped bit in a stored vector would move the row in the graph's space without a trace:
// each vector carries a checksum, checked whenever it is read (loading the graph, returning
// the embedding) and by hnsw_check.
TEST_F(HnswFile, DamagedVectorsAreFoundByQueriesAndHnswCheck) {
  {
    TestDatabase db(path_);
    db.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[4])");
    db.exec("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 40) "
            "INSERT INTO v(rowid, embedding) SELECT n, vec_f32(json_array(n, n * 2, sin(n), 1)) FROM c");
    EXPECT_EQ(db.scalar("SELECT hnsw_check('v')"), "ok");
    EXPECT_EQ(db.scalar("SELECT length(vector) FROM v_vectors WHERE rowid = 7"), "20");  // 16 + checksum
    sqlite3_blob* blob = nullptr;
    ASSERT_EQ(sqlite3_blob_open(db.get(), "main", "v_vectors", "vector", 7, 1, &blob), SQLITE_OK);
    unsigned char byte = 0;
    ASSERT_EQ(sqlite3_blob_read(blob, &byte, 1, 5), SQLITE_OK);
    byte ^= 0x10;
    ASSERT_EQ(sqlite3_blob_write(blob, &byte, 1, 5), SQLITE_OK);
    sqlite3_blob_close(blob);
  }
  TestDatabase db(path_);
  EXPECT_EQ(db.result_code_of("SELECT rowid FROM v WHERE embedding MATCH '[1, 2, 0.8, 1]' AND k = 3"), SQLITE_CORRUPT_VTAB);
  EXPECT_NE(db.error_of("SELECT hex(embedding) FROM v WHERE rowid = 7").find("the vector of rowid 7 is damaged"),
            std::string::npos);
  EXPECT_NE(db.scalar("SELECT hnsw_check('v')").find("the vector of rowid 7 is damaged"), std::string::npos);
}

// A table written at format 1 (vectors without checksums) reads and writes as before; 'optimize'
// upgrades it to format 2.
TEST_F(HnswFile, FormatOneTablesWorkAndOptimizeUpgradesThem) {
  std::filesystem::copy_file(std::string(STRATA_SOURCE_DIR) + "/tests/data/hnsw-format-1.db", path_);
  TestDatabase db(path_);
  const char* content = "SELECT rowid, hex(embedding) FROM {} ORDER BY rowid";
  auto on = [](std::string sql, const std::string& table) { return sql.replace(sql.find("{}"), 2, table); };
  EXPECT_EQ(db.rows(on(content, "v")), db.rows(on(content, "expected")));
  EXPECT_EQ(db.scalar("SELECT hnsw_check('v')"), "ok");
  const char* nearest = "SELECT rowid FROM v WHERE embedding MATCH (SELECT embedding FROM expected WHERE rowid = 5) AND k = 1";
  EXPECT_EQ(db.scalar(nearest), "5");
  db.exec("INSERT INTO v(rowid, embedding) VALUES (100, '[1, 1, 1, 1]'); "
          "INSERT INTO expected VALUES (100, vec_f32('[1, 1, 1, 1]'))");
  EXPECT_EQ(db.scalar("SELECT length(vector) FROM v_vectors WHERE rowid = 100"), "16");  // still format 1
  EXPECT_EQ(db.scalar("SELECT value FROM v_config WHERE key = 'format_version'"), "1");

  db.exec("BEGIN; INSERT INTO v(v) VALUES ('optimize'); ROLLBACK");
  EXPECT_EQ(db.scalar("SELECT value FROM v_config WHERE key = 'format_version'"), "1");
  EXPECT_EQ(db.rows(on(content, "v")), db.rows(on(content, "expected")));

  db.exec("INSERT INTO v(v) VALUES ('optimize')");
  EXPECT_EQ(db.scalar("SELECT value FROM v_config WHERE key = 'format_version'"), "3");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM v_vectors WHERE length(vector) <> 20"), "0");
  EXPECT_EQ(db.rows(on(content, "v")), db.rows(on(content, "expected")));
  EXPECT_EQ(db.scalar(nearest), "5");
  EXPECT_EQ(db.scalar("SELECT hnsw_check('v')"), "ok");
  TestDatabase other(path_);
  EXPECT_EQ(other.rows(on(content, "v")), other.rows(on(content, "expected")));
}

}  // namespace

// Damaged settings are SQLITE_CORRUPT_VTAB with a message naming the value, not an internal
// error from a failed number conversion.
TEST_F(HnswFile, DamagedConfigIsCorruption) {
  const std::vector<std::pair<std::string, std::string>> damages = {
      {"dimensions", "x"}, {"m", "16x"}, {"ef_search", "0"}, {"format_version", ""}};
  {
    TestDatabase db(path_);
    for (size_t i = 0; i < damages.size(); ++i) {
      db.exec("CREATE VIRTUAL TABLE d" + std::to_string(i) + " USING hnsw(embedding float[2]); INSERT INTO d" +
              std::to_string(i) + "(rowid, embedding) VALUES (1, '[1, 2]')");
    }
  }
  sqlite3* raw = nullptr;  // without strata: the shadow tables are written as a damaged file would hold them
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  for (size_t i = 0; i < damages.size(); ++i) {
    std::string damage = "UPDATE d" + std::to_string(i) + "_config SET value = '" + damages[i].second + "' WHERE key = '" +
                         damages[i].first + "'";
    ASSERT_EQ(sqlite3_exec(raw, damage.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << damage;
  }
  sqlite3_close(raw);
  TestDatabase db(path_);
  for (size_t i = 0; i < damages.size(); ++i) {
    std::string query = "SELECT count(*) FROM d" + std::to_string(i);
    EXPECT_EQ(db.result_code_of(query), SQLITE_CORRUPT_VTAB) << damages[i].first;
    EXPECT_NE(db.error_of(query).find("hnsw"), std::string::npos) << db.error_of(query);
  }
}
