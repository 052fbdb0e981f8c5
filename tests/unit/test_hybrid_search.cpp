// hybrid_search against the same Reciprocal Rank Fusion written by hand in SQL (the recipe it
// replaces, docs/hnsw.md) on a small corpus: the same rowids in the same order with the same
// scores and ranks, for default and custom options, with a filter, and with one side empty.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/unit/test_database.h"

namespace {

using strata::testing::TestDatabase;

// 300 documents of four words from a small vocabulary (so that full-text ranks tie and differ)
// and 8-element vectors, sharing rowids between docs_fts and docs_vec.
void make_corpus(TestDatabase& db) {
  db.exec("CREATE VIRTUAL TABLE docs_fts USING fts5(body)");
  db.exec("CREATE VIRTUAL TABLE docs_vec USING hnsw(embedding float[8], m=8)");
  db.exec("CREATE TABLE docs(id INTEGER PRIMARY KEY, lang TEXT)");
  const char* words[] = {"red", "green", "blue", "apple", "car", "sky", "river", "stone", "light", "paper", "glass", "wind"};
  std::mt19937 random(7);
  for (int id = 1; id <= 300; ++id) {
    std::string body;
    for (int w = 0; w < 4 + id % 3; ++w) body += std::string(words[random() % 12]) + " ";
    std::string vector = "[";
    for (int i = 0; i < 8; ++i) vector += std::to_string(static_cast<int>(random() % 100) / 10.0) + (i == 7 ? "]" : ",");
    db.exec("INSERT INTO docs_fts(rowid, body) VALUES (" + std::to_string(id) + ", '" + body + "')");
    db.exec("INSERT INTO docs_vec(rowid, embedding) VALUES (" + std::to_string(id) + ", '" + vector + "')");
    db.exec("INSERT INTO docs VALUES (" + std::to_string(id) + ", '" + (id % 3 == 0 ? "de" : "en") + "')");
  }
}

// The fusion by hand: each side numbered in its own order, joined, scored, ordered.
std::string by_hand(const std::string& text, const std::string& vector, int k, int fts_k, int vec_k, double fts_weight,
                    double vec_weight, double rrf_k, const std::string& filter) {
  const std::string allowed = filter.empty() ? "" : " AND rowid IN (" + filter + ")";
  const std::string text_sql = text.empty() ? "NULL" : "'" + text + "'";
  return "WITH fts AS (SELECT id, row_number() OVER () AS r FROM (SELECT rowid AS id FROM docs_fts WHERE docs_fts MATCH " +
         text_sql + allowed + " ORDER BY rank LIMIT " + std::to_string(fts_k) + ")), "
         "vec AS (SELECT id, row_number() OVER () AS r FROM (SELECT rowid AS id FROM docs_vec WHERE embedding MATCH '" + vector +
         "' AND k = " + std::to_string(vec_k) + allowed + " ORDER BY distance)), "
         "fused AS (SELECT coalesce(fts.id, vec.id) AS id, "
         "coalesce(" + std::to_string(fts_weight) + " / (" + std::to_string(rrf_k) + " + fts.r), 0) + "
         "coalesce(" + std::to_string(vec_weight) + " / (" + std::to_string(rrf_k) + " + vec.r), 0) AS score, "
         "fts.r AS fts_rank, vec.r AS vec_rank FROM fts FULL OUTER JOIN vec ON fts.id = vec.id) "
         "SELECT id, quote(score), fts_rank, vec_rank FROM fused ORDER BY score DESC, id LIMIT " + std::to_string(k);
}

std::string hybrid(const std::string& text, const std::string& vector, int k, const std::string& options) {
  return "SELECT rowid, quote(score), fts_rank, vec_rank FROM hybrid_search('docs_fts', 'docs_vec', " +
         (text.empty() ? std::string("NULL") : "'" + text + "'") + ", '" + vector + "', " + std::to_string(k) +
         (options.empty() ? "" : ", '" + options + "'") + ")";
}

TEST(HybridSearch, FusesLikeTheRecipeWrittenInSql) {
  TestDatabase db;
  make_corpus(db);
  const std::string vector = "[1,2,3,4,5,6,7,8]";
  int compared = 0;
  for (const std::string text : {"red", "apple OR car", "blue sky", "glass"}) {
    // Defaults: rrf_k 60, weights 1 and 1, k results from each side.
    std::vector<std::string> expected = db.rows(by_hand(text, vector, 10, 10, 10, 1, 1, 60, ""));
    ASSERT_EQ(expected.size(), 10u) << text;
    EXPECT_EQ(db.rows(hybrid(text, vector, 10, "")), expected) << text;
    // Every option at once.
    expected = db.rows(by_hand(text, vector, 7, 25, 15, 2.5, 0.5, 10, "SELECT id FROM docs WHERE lang = 'en'"));
    ASSERT_EQ(expected.size(), 7u) << text;
    EXPECT_EQ(db.rows(hybrid(text, vector, 7,
                             "{\"rrf_k\": 10, \"weights\": {\"fts\": 2.5, \"vec\": 0.5}, \"fts_k\": 25, \"vec_k\": 15, "
                             "\"filter\": \"SELECT id FROM docs WHERE lang = ''en''\"}")),
              expected)
        << text;
    for (const std::string& row : db.rows(hybrid(text, vector, 7, "{\"filter\": \"SELECT id FROM docs WHERE lang = ''en''\"}"))) {
      EXPECT_NE(std::stoi(row) % 3, 0) << "a filtered-out row came back: " << row;
    }
    compared += 2;
  }
  EXPECT_EQ(compared, 8);
  // Weights as a list; a word no document has leaves the vector side alone.
  EXPECT_EQ(db.rows(hybrid("red", vector, 5, "{\"weights\": [0, 1]}")).size(), 5u);
  std::vector<std::string> only_vectors = db.rows(by_hand("zebra", vector, 5, 5, 5, 1, 1, 60, ""));
  ASSERT_EQ(only_vectors.size(), 5u);
  EXPECT_EQ(db.rows(hybrid("zebra", vector, 5, "")), only_vectors);
  EXPECT_EQ(db.rows(hybrid("", vector, 5, "")), only_vectors);  // NULL text: the vector side only
  EXPECT_EQ(db.scalar("SELECT count(*) FROM hybrid_search('docs_fts', 'docs_vec', 'red', NULL, 4)"), "4");
}

TEST(HybridSearch, BadArgumentsAreClearErrors) {
  TestDatabase db;
  make_corpus(db);
  const std::string usage = "; call it as hybrid_search('fts_table', 'vector_table', 'query text', query_vector, k [, '{options}'])";
  EXPECT_EQ(db.error_of("SELECT * FROM hybrid_search('docs_fts', 'docs_vec', 'red', '[1,2,3,4,5,6,7,8]')"),
            "hybrid_search: missing arguments" + usage);
  EXPECT_EQ(db.error_of("SELECT * FROM hybrid_search('docs_fts', 'docs_vec', 'red', '[1,2,3,4,5,6,7,8]', 0)"),
            "hybrid_search: k must be an integer from 1 to 100000, got '0'");
  EXPECT_EQ(db.error_of("SELECT * FROM hybrid_search('docs_fts', 'nope', 'red', '[1,2,3,4,5,6,7,8]', 3)"),
            "hybrid_search: no vector table 'nope'");
  EXPECT_EQ(db.error_of("SELECT * FROM hybrid_search(1, 'docs_vec', 'red', '[1,2,3,4,5,6,7,8]', 3)"),
            "hybrid_search: the first two arguments must name the FTS5 table and the vector table" + usage);
  EXPECT_NE(db.error_of("SELECT * FROM hybrid_search('docs_fts', 'docs_vec', 'red', '[1,2,3,4,5,6,7,8]', 3, '{\"rrf\": 1}')")
                .find("hybrid_search: options: unknown option 'rrf'; expected a JSON object"),
            std::string::npos);
  EXPECT_NE(db.error_of("SELECT * FROM hybrid_search('docs_fts', 'docs_vec', 'red', '[1,2,3,4,5,6,7,8]', 3, 'not json')")
                .find("hybrid_search: options: not a JSON object"),
            std::string::npos);
  EXPECT_NE(db.error_of("SELECT * FROM hybrid_search('docs_fts', 'docs_vec', 'red', '[1,2]', 3)")
                .find("hybrid_search: the vector query failed: hnsw: expected 8 values, got 2"),
            std::string::npos);
  EXPECT_NE(db.error_of("SELECT * FROM hybrid_search('docs_vec', 'docs_vec', 'red', '[1,2,3,4,5,6,7,8]', 3)")
                .find("hybrid_search: the full-text query failed"),
            std::string::npos);
}

}  // namespace
