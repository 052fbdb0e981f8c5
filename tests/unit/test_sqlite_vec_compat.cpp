// strata's vec_* functions against sqlite-vec 0.1.9 itself (npm `sqlite-vec-linux-x64`, installed
// in tests/peers by scripts/install-test-peers.sh): the same expressions, fixed ones for each
// documented edge and random vectors of every type and many lengths, give the same result byte
// for byte (quote() of it, which writes reals exactly) or both fail.
//
// The reference runs in its own `sqlite3` shell process with only vec0.so loaded. In this process
// strata is registered on every connection; loading vec0.so after it (so that its functions
// replace strata's) and strata's functions again after that (so that strata's replace vec0's)
// must give the same answers too: loading both extensions in either order changes nothing.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/test_database.h"
#include "vtab/hnsw/vector_functions.h"

namespace strata::hnsw {
namespace {

using strata::testing::ScratchDirectory;
using strata::testing::TestDatabase;

const std::string kVec0 = std::string(STRATA_SOURCE_DIR) + "/tests/peers/node_modules/sqlite-vec-linux-x64/vec0.so";
constexpr std::string_view kFailed = "<error>";

std::string hex_of(const std::string& bytes) {
  static const char digits[] = "0123456789ABCDEF";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  return hex;
}

std::string blob_literal(const std::string& bytes) { return "X'" + hex_of(bytes) + "'"; }

// Each edge the probe of sqlite-vec 0.1.9 showed, by function.
std::vector<std::string> fixed_cases() {
  return {
      "vec_version()",
      "vec_length('[1,2,3]')", "vec_length(vec_int8('[1,2]'))", "vec_length(vec_bit(X'FF00'))", "vec_length(X'0000803F')",
      "vec_length(X'00')", "vec_length(NULL)", "vec_length(1)", "vec_length(X'')", "vec_length('[1]'||char(0)||'2]')",
      "vec_length(json_array(1,2,3))", "vec_length(vec_to_json('[1,2]'))",
      "vec_type('[1,2]')", "vec_type(vec_int8('[1,2]'))", "vec_type(vec_bit(X'01'))", "vec_type(vec_f32(X'0000803F'))",
      "vec_type(vec_to_json(vec_int8('[1,2]')))", "vec_type(vec_quantize_binary('[1,-1,0.5,0,-2,3,4,5]'))",
      "vec_type(vec_quantize_int8('[1]','unit'))", "vec_type(vec_slice(vec_int8('[1,2,3]'),1,3))",
      "vec_type(vec_add(vec_int8('[1]'), vec_int8('[2]')))",
      "vec_f32('[1,2]')", "vec_f32(X'0000803F')", "vec_f32(vec_int8('[1,2]'))", "vec_f32(vec_int8('[1,2,3,4]'))",
      "vec_int8('[1,-2,127,-128]')", "vec_int8('[128]')", "vec_int8('[1.5]')", "vec_int8(X'0102')", "vec_int8(vec_f32('[1]'))",
      "vec_bit(X'0102')", "vec_bit('[1,0]')", "vec_bit(vec_int8('[1,2]'))", "vec_bit(NULL)",
      "vec_to_json('[1,2.5,0.1,1e20,-0.0,3.3333333]')", "vec_to_json(vec_int8('[1,-2]'))", "vec_to_json(vec_bit(X'05'))",
      "vec_to_json(X'0000C07F')", "vec_to_json(X'0000807F')", "vec_to_json(X'000080FF')", "vec_to_json('[1e-7, 123456789, -5.5]')",
      "vec_to_json('  [1 , 2 ]  ')", "vec_to_json('[1,2,]')", "vec_to_json('[]')", "vec_to_json('[1,\"a\"]')",
      "vec_to_json('[true]')", "vec_to_json('[1e400]')", "vec_to_json('[1]x')", "vec_to_json(NULL)", "vec_to_json('[nan]')",
      "vec_to_json('[inf, -inf]')", "vec_to_json('[0x10]')", "vec_to_json('[1e-400]')", "vec_to_json('[1e39]')",
      "vec_to_json('[1 2]')", "vec_to_json('[1,,2]')", "vec_to_json('[1')", "vec_to_json('x[1]')", "vec_to_json('[,1]')",
      "vec_to_json('[1e-40]')", "vec_to_json('[-]')", "vec_to_json('[.5]')", "vec_to_json('[5.]')",
      "vec_to_json('[123456789012345678]')", "vec_to_json('[0.0000005]')", "vec_to_json('[-0.0000005]')",
      "vec_to_json('[0.0000015]')", "vec_to_json(char(10)||'[1]')", "vec_to_json(json_array(1,2,3))",
      "vec_to_json(vec_int8('[ 1 , -2 ,]'))", "vec_to_json(vec_int8('[+3, 0x1]'))", "vec_to_json(vec_int8('[1, 2'))",
      "vec_to_json(vec_int8('[99999999999999999999]'))", "vec_to_json(vec_int8('[]'))",
      "vec_add('[1,2]','[3,4]')", "vec_add(vec_int8('[1,2]'), vec_int8('[100,127]'))", "vec_add(vec_int8('[1,2]'), '[1,2]')",
      "vec_add(vec_bit(X'01'), vec_bit(X'01'))", "vec_add('[1,2]', '[1,2,3]')", "vec_add(NULL, '[1]')", "vec_add('[1e38]','[1e38]')",
      "vec_sub('[1,2]','[3,5]')", "vec_sub(vec_int8('[-128,2]'), vec_int8('[1,5]'))", "vec_sub(vec_int8('[127]'),vec_int8('[-1]'))",
      "vec_distance_l1('[1,2]','[3,5]')", "vec_distance_l1(vec_int8('[1,2]'), vec_int8('[3,-5]'))",
      "vec_distance_l1(vec_bit(X'01'), vec_bit(X'03'))", "vec_distance_l1('[0.1,0.2,0.3]','[0.7,0.05,1.3]')",
      "vec_distance_l2('[1,2]','[3,5]')", "vec_distance_l2(vec_int8('[1,2]'), vec_int8('[3,-5]'))",
      "vec_distance_l2(vec_bit(X'0F'), vec_bit(X'F1'))", "vec_distance_l2('[1,2]', vec_int8('[1,2]'))",
      "vec_distance_l2('[1,2]', '[1,2,3]')", "vec_distance_l2(NULL, '[1]')", "vec_distance_l2('[0.1,0.2,0.3]','[0.4,0.5,0.6]')",
      "vec_distance_l2(vec_to_json('[1,2]'), '[1,2]')",
      "vec_distance_cosine('[1,2]','[3,5]')", "vec_distance_cosine(vec_int8('[1,2]'), vec_int8('[3,-5]'))",
      "vec_distance_cosine('[0,0]','[1,2]')", "vec_distance_cosine(vec_int8('[0,0]'), vec_int8('[1,1]'))",
      "vec_distance_cosine(vec_bit(X'01'), vec_bit(X'01'))",
      "vec_distance_hamming(vec_bit(X'0F'), vec_bit(X'F1'))",
      "vec_distance_hamming(vec_bit(X'0F00000000000000'), vec_bit(X'F100000000000001'))",
      "vec_distance_hamming('[1,2]','[1,2]')", "vec_distance_hamming(vec_int8('[1]'), vec_int8('[1]'))",
      "vec_quantize_int8('[0.5,-1,1,0.001,2,-2,0.996,-0.5]', 'unit')", "vec_quantize_int8('[0.5]', 'other')",
      "vec_quantize_int8(vec_int8('[1]'), 'unit')", "vec_quantize_int8(X'0000C07F','unit')",
      "vec_quantize_int8(X'0000807F000080FF','unit')", "vec_quantize_int8('[0.5]', 'UNIT')", "vec_quantize_int8('[0.5]', 'unit ')",
      "vec_quantize_int8('[0.9999,-0.9999,0.99,1.0039,1.0040,1.0079,-1.0039,-1.004]','unit')",
      "vec_quantize_binary('[1,-1,0.5,0,-2,3,4,5]')", "vec_quantize_binary('[1,-1,0.5,0,-2,3,4]')",
      "vec_quantize_binary(vec_int8('[1,-1,0,0,-2,3,4,5]'))", "vec_quantize_binary(vec_bit(X'01'))",
      "vec_slice('[1,2,3]',1,3)", "vec_slice(vec_int8('[1,2,3]'),1,3)", "vec_slice(vec_bit(X'FF00'),0,8)",
      "vec_slice(vec_bit(X'FF00'),1,8)", "vec_slice(vec_bit(X'FF00'),0,9)", "vec_slice('[1,2,3]',0,0)", "vec_slice('[1,2,3]',2,1)",
      "vec_slice('[1,2,3]',-1,2)", "vec_slice('[1,2,3]',0,4)", "vec_slice('[1,2,3]','0',2)", "vec_slice('[1,2,3]',1.9,3)",
      "vec_slice('[1,2,3]',NULL,2)",
      "vec_normalize('[3,4]')", "vec_normalize('[0,0]')", "vec_normalize(vec_int8('[3,4]'))", "vec_normalize(X'0000807F00000000')",
      "(SELECT group_concat(rowid || ':' || quote(value) || ':' || typeof(value), ' ') FROM vec_each('[1.5, 2, -0.25]'))",
      "(SELECT group_concat(rowid || ':' || quote(value), ' ') FROM vec_each(vec_int8('[1, -2, 127]')))",
      "(SELECT group_concat(rowid || ':' || quote(value), ' ') FROM vec_each(vec_bit(X'05F0')))",
      "(SELECT count(*) FROM vec_each('[]'))",
  };
}

// The same functions over random vectors of each type, lengths 1 to 300.
std::vector<std::string> random_cases() {
  std::mt19937 random(20261205);
  std::normal_distribution<float> normal;
  std::vector<std::string> cases;
  for (size_t n : {1, 3, 7, 8, 16, 17, 64, 128, 300}) {
    for (int round = 0; round < 3; ++round) {
      std::string fa, fb, ia, ib, ba, bb, json = "[";
      for (size_t i = 0; i < n; ++i) {
        const float x = normal(random) * (round == 2 ? 1000.0f : 1.0f), y = normal(random);
        fa.append(reinterpret_cast<const char*>(&x), 4);
        fb.append(reinterpret_cast<const char*>(&y), 4);
        ia += static_cast<char>(random() % 256);
        ib += static_cast<char>(random() % 256);
        char number[32];
        std::snprintf(number, sizeof number, "%s%.7g", i == 0 ? "" : (i % 3 == 0 ? " ," : ","), static_cast<double>(x));
        json += number;
      }
      json += "]";
      for (size_t i = 0; i < (n + 7) / 8; ++i) {
        ba += static_cast<char>(random() % 256);
        bb += static_cast<char>(random() % 256);
      }
      const std::string a = blob_literal(fa), b = blob_literal(fb);
      const std::string i8a = "vec_int8(" + blob_literal(ia) + ")", i8b = "vec_int8(" + blob_literal(ib) + ")";
      const std::string bita = "vec_bit(" + blob_literal(ba) + ")", bitb = "vec_bit(" + blob_literal(bb) + ")";
      for (const std::string& f : {std::string("l2"), std::string("cosine"), std::string("l1")}) {
        cases.push_back("vec_distance_" + f + "(" + a + ", " + b + ")");
        cases.push_back("vec_distance_" + f + "(" + i8a + ", " + i8b + ")");
      }
      cases.push_back("vec_distance_hamming(" + bita + ", " + bitb + ")");
      cases.push_back("vec_distance_l2('" + json + "', " + b + ")");
      cases.push_back("vec_to_json('" + json + "')");
      cases.push_back("vec_f32('" + json + "')");
      for (const std::string& v : {a, i8a, bita}) {
        cases.push_back("vec_to_json(" + v + ")");
        cases.push_back("vec_length(" + v + ")");
        cases.push_back("vec_type(" + v + ")");
        cases.push_back("(SELECT group_concat(quote(value)) FROM vec_each(" + v + "))");
        cases.push_back("vec_slice(" + v + ", " + std::to_string(n / 2 / 8 * 8) + ", " + std::to_string(n) + ")");
        cases.push_back("vec_quantize_binary(" + v + ")");
      }
      cases.push_back("vec_add(" + a + ", " + b + ")");
      cases.push_back("vec_sub(" + i8a + ", " + i8b + ")");
      cases.push_back("vec_add(" + i8a + ", " + i8b + ")");
      cases.push_back("vec_normalize(" + a + ")");
      cases.push_back("vec_quantize_int8(" + a + ", 'unit')");
      cases.push_back("vec_to_json(vec_quantize_int8(vec_normalize(" + a + "), 'unit'))");
    }
  }
  return cases;
}

std::vector<std::string> all_cases() {
  std::vector<std::string> cases = fixed_cases();
  for (std::string& c : random_cases()) cases.push_back(std::move(c));
  return cases;
}

// quote() of each case's value in this process's connection, or kFailed.
std::vector<std::string> answers_here(sqlite3* db, const std::vector<std::string>& cases) {
  std::vector<std::string> answers;
  for (const std::string& c : cases) {
    sqlite3_stmt* stmt = nullptr;
    std::string answer(kFailed);
    if (sqlite3_prepare_v2(db, ("SELECT quote((" + c + "))").c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      answer = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    answers.push_back(answer);
  }
  return answers;
}

// What a shell command prints.
std::string output_of(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[65536];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  pclose(pipe);
  return output;
}

// The same from a `sqlite3` shell with only vec0.so loaded: each case follows a marker line, and
// a case that fails prints nothing on standard output.
std::vector<std::string> answers_of_sqlite_vec(const std::vector<std::string>& cases, const std::string& script_path) {
  {
    std::ofstream script(script_path);
    script << ".load " << kVec0.substr(0, kVec0.size() - 3) << "\n";
    for (size_t i = 0; i < cases.size(); ++i) {
      script << "SELECT 'case " << i << "';\nSELECT quote((" << cases[i] << "));\n";
    }
  }
  std::vector<std::string> answers(cases.size(), std::string(kFailed));
  const std::string output = output_of("sqlite3 :memory: < '" + script_path + "' 2>/dev/null");
  long current = -1;
  size_t markers = 0;
  for (size_t at = 0; at < output.size();) {
    size_t end = output.find('\n', at);
    if (end == std::string::npos) end = output.size();
    const std::string line = output.substr(at, end - at);
    at = end + 1;
    if (line.rfind("case ", 0) == 0) {
      current = std::stol(line.substr(5));
      ++markers;
    } else if (current >= 0 && static_cast<size_t>(current) < cases.size()) {
      answers[static_cast<size_t>(current)] = line;
    }
  }
  if (markers != cases.size()) return {};  // the shell or vec0.so did not run them all
  return answers;
}

void expect_same(const std::vector<std::string>& cases, const std::vector<std::string>& expected,
                 const std::vector<std::string>& actual, std::string_view where) {
  ASSERT_EQ(actual.size(), expected.size());
  int differences = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (actual[i] != expected[i] && ++differences <= 10) {
      ADD_FAILURE() << where << ": " << cases[i] << "\n  sqlite-vec: " << expected[i] << "\n  here:       " << actual[i];
    }
  }
  EXPECT_EQ(differences, 0) << where;
}

class SqliteVecCompatibility : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kVec0)) << kVec0 << " is missing: run scripts/install-test-peers.sh";
    cases_ = all_cases();
    reference_ = answers_of_sqlite_vec(cases_, scratch_.path("cases.sql"));
    ASSERT_EQ(reference_.size(), cases_.size()) << "the sqlite3 shell with vec0.so did not answer every case";
  }
  static void load_sqlite_vec(sqlite3* db) {
    sqlite3_enable_load_extension(db, 1);
    char* error = nullptr;
    ASSERT_EQ(sqlite3_load_extension(db, kVec0.c_str(), "sqlite3_vec_init", &error), SQLITE_OK) << (error ? error : "");
    sqlite3_enable_load_extension(db, 0);
  }

  ScratchDirectory scratch_{"vec_compat"};
  std::vector<std::string> cases_;
  std::vector<std::string> reference_;
};

TEST_F(SqliteVecCompatibility, ScalarFunctionsGiveSqliteVecsAnswersByteForByte) {
  // The reference has every kind of answer: values, NULLs and errors.
  size_t errors = 0;
  for (const std::string& answer : reference_) errors += answer == kFailed ? 1 : 0;
  EXPECT_GT(errors, 40u);
  EXPECT_LT(errors, cases_.size() / 4);
  TestDatabase strata;
  expect_same(cases_, reference_, answers_here(strata.get(), cases_), "strata alone");
}

TEST_F(SqliteVecCompatibility, LoadingBothInEitherOrderChangesNoAnswer) {
  TestDatabase strata_then_vec;  // strata is registered on every connection first
  load_sqlite_vec(strata_then_vec.get());
  expect_same(cases_, reference_, answers_here(strata_then_vec.get(), cases_), "strata, then sqlite-vec");
  TestDatabase vec_then_strata;
  load_sqlite_vec(vec_then_strata.get());
  ASSERT_TRUE(register_vector_functions(vec_then_strata.get()).is_ok());
  expect_same(cases_, reference_, answers_here(vec_then_strata.get(), cases_), "sqlite-vec, then strata");
  // strata's own functions stay: sqlite-vec has no vec_distance_ip.
  EXPECT_EQ(strata_then_vec.scalar("SELECT vec_distance_ip('[1, 2]', '[3, 4]')"), "-11.0");
}

// Statements run one after another; each statement's output rows as the shell's list mode
// prints them ('|' between columns, NULL empty), or kFailed.
std::vector<std::string> outputs_here(sqlite3* db, const std::vector<std::string>& statements) {
  std::vector<std::string> outputs;
  for (const std::string& sql : statements) {
    sqlite3_stmt* stmt = nullptr;
    std::string output;
    int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const unsigned char* text = sqlite3_column_text(stmt, c);
        output += (c > 0 ? "|" : "") + std::string(text ? reinterpret_cast<const char*>(text) : "");
      }
      output += "\n";
      rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) output = std::string(kFailed);
    sqlite3_finalize(stmt);
    outputs.push_back(output);
  }
  return outputs;
}

std::vector<std::string> outputs_of_sqlite_vec(const std::vector<std::string>& statements, const std::string& script_path) {
  {
    std::ofstream script(script_path);
    script << ".load " << kVec0.substr(0, kVec0.size() - 3) << "\n";
    for (size_t i = 0; i < statements.size(); ++i) script << "SELECT 'statement " << i << "';\n" << statements[i] << ";\n";
    script << "SELECT 'statement " << statements.size() << "';\n";
  }
  std::vector<std::string> outputs(statements.size());
  const std::string output = output_of("sqlite3 :memory: < '" + script_path + "' 2>&1");
  long current = -1;
  for (size_t at = 0; at < output.size();) {
    size_t end = output.find('\n', at);
    if (end == std::string::npos) end = output.size();
    const std::string line = output.substr(at, end - at);
    at = end + 1;
    if (line.rfind("statement ", 0) == 0) {
      current = std::stol(line.substr(10));
    } else if (current >= 0 && static_cast<size_t>(current) < statements.size()) {
      // The shell reports an error on standard error ("Runtime error near line …" or "Parse error …").
      if (line.find("error") != std::string::npos && line.find("near line") != std::string::npos) {
        outputs[static_cast<size_t>(current)] = std::string(kFailed);
      } else if (outputs[static_cast<size_t>(current)] != kFailed) {
        outputs[static_cast<size_t>(current)] += line + "\n";
      }
    }
  }
  return current == static_cast<long>(statements.size()) ? outputs : std::vector<std::string>();
}

// A vec0 table with every kind of column, written to and queried with KNN filters on every
// kind of filterable column, under each distance_metric vec0 has: `hnsw` answers as vec0 does
// (distances rounded to 4 decimals, l2's to 2: the two sum in different orders; the vectors'
// elements are integers, so l1 sums are exact). 300 rows and ef_search = 400 make the walk exact.
class SqliteVecTableSyntax : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { ASSERT_TRUE(std::filesystem::exists(kVec0)) << kVec0 << " is missing: run scripts/install-test-peers.sh"; }
  ScratchDirectory scratch_{"vec_table"};
};

TEST_P(SqliteVecTableSyntax, WritesAndFilteredKnnAgree) {
  const std::string metric = GetParam();
  // l2 distances here reach 1,000 with sums of squares past 2^24, where float sums in another
  // order differ in the fourth decimal.
  const std::string rounding = metric == "l2" ? "%.2f" : "%.4f";
  std::vector<std::string> statements = {
      "CREATE VIRTUAL TABLE docs USING MODULE(id INTEGER PRIMARY KEY, embedding float[8] distance_metric=" + metric + ", genre TEXT, "
      "year INTEGER, rating FLOAT, flag BOOLEAN, user_id INTEGER PARTITION KEY, +contents TEXT, chunk_size=64)"};
  std::mt19937 random(42);
  const char* genres[] = {"drama", "comedy", "horror", "news", "sport"};
  auto vector = [&] {
    std::string text = "[";
    for (int i = 0; i < 8; ++i) text += std::to_string(static_cast<int>(random() % 2001) - 1000) + (i == 7 ? "]" : ",");
    return text;
  };
  for (int id = 1; id <= 300; ++id) {
    statements.push_back("INSERT INTO docs(id, embedding, genre, year, rating, flag, user_id, contents) VALUES (" + std::to_string(id) +
                         ", '" + vector() + "', '" + genres[random() % 5] + "', " + std::to_string(1990 + random() % 35) + ", " +
                         std::to_string(random() % 50) + ".5, " + std::to_string(random() % 2) + ", " +
                         (id % 17 == 0 ? std::string("NULL") : std::to_string(random() % 10)) + ", " +
                         (id % 5 == 0 ? std::string("NULL") : "'text " + std::to_string(id) + "'") + ")");
  }
  statements.push_back("DELETE FROM docs WHERE id % 7 = 3");
  // One row at a time: vec0 refuses an UPDATE that scans (it takes the unchanged partition key
  // for a changed one), which hnsw does not.
  for (int id = 1; id <= 300; id += 11) statements.push_back("UPDATE docs SET genre = 'news', year = 2020 WHERE id = " + std::to_string(id));
  for (int id = 2; id <= 300; id += 13) statements.push_back("UPDATE docs SET contents = 'changed' WHERE id = " + std::to_string(id));
  statements.push_back("UPDATE docs SET embedding = '[1,1,1,1,1,1,1,1]' WHERE id = 44");
  const std::vector<std::string> filters = {
      "", "AND genre = 'drama'", "AND genre != 'drama'", "AND year BETWEEN 2000 AND 2010", "AND year > 2015",
      "AND year <= 1995", "AND rating < 10.0", "AND rating >= 40.5", "AND flag = 1", "AND flag = 0 AND genre = 'news'",
      "AND user_id = 3", "AND user_id = 3 AND year >= 2000", "AND genre IN ('comedy', 'sport')", "AND user_id > 7",
      "AND genre = 'horror' AND year < 2000 AND rating > 20.0", "AND genre = 'nothing'", "AND id IN (1, 2, 5, 44, 45)",
  };
  for (const std::string& query : {std::string("[1,2,3,4,5,6,7,8]"), std::string("[-500,20,0,9,300,-3,1,1]")}) {
    for (const std::string& filter : filters) {
      for (int k : {1, 10, 40}) {
        statements.push_back("SELECT id, printf('" + rounding + "', distance), genre, year, rating, flag, user_id, contents FROM docs WHERE embedding MATCH '" +
                             query + "' AND k = " + std::to_string(k) + " " + filter + " ORDER BY distance");
      }
    }
  }
  statements.push_back("SELECT count(*), sum(year), sum(rating), count(user_id), count(contents) FROM docs");
  statements.push_back("SELECT group_concat(id || genre || coalesce(contents, '-'), ',') FROM (SELECT * FROM docs ORDER BY id)");
  statements.push_back("SELECT id, genre, contents FROM docs WHERE id IN (2, 15, 44, 301)");
  // Wrong types are refused by both.
  statements.push_back("INSERT INTO docs(id, embedding, genre, year, rating, flag, user_id) VALUES (500, '[1,1,1,1,1,1,1,1]', 'x', 'y', 1.5, 1, 1)");
  statements.push_back("INSERT INTO docs(id, embedding, genre, year, rating, flag, user_id) VALUES (500, '[1,1,1,1,1,1,1,1]', 'x', 1, 1, 1, 1)");
  statements.push_back("INSERT INTO docs(id, embedding, genre, year, rating, flag, user_id) VALUES (500, '[1,1,1,1,1,1,1,1]', 'x', 1, 1.5, 2, 1)");
  statements.push_back("INSERT INTO docs(id, embedding, genre, year, rating, flag, user_id) VALUES (500, '[1,1,1,1,1,1,1,1]', NULL, 1, 1.5, 1, 1)");
  statements.push_back("INSERT INTO docs(id, embedding, genre, year, rating, flag, user_id) VALUES (500, '[1,1,1,1,1,1,1,1]', 'x', 1, 1.5, 1, 'u')");
  statements.push_back("SELECT id FROM docs WHERE embedding MATCH '[1,1,1,1,1,1,1,1]' AND k = 3 AND contents = 'x'");
  statements.push_back("SELECT count(*) FROM docs");

  std::vector<std::string> vec0 = statements;
  for (std::string& sql : vec0) {
    if (size_t at = sql.find("USING MODULE("); at != std::string::npos) sql.replace(at, 13, "USING vec0(");
  }
  std::vector<std::string> reference = outputs_of_sqlite_vec(vec0, scratch_.path("table.sql"));
  ASSERT_EQ(reference.size(), statements.size()) << "the sqlite3 shell with vec0.so did not run the script";
  std::vector<std::string> strata = statements;
  for (std::string& sql : strata) {
    if (size_t at = sql.find("USING MODULE("); at != std::string::npos) sql.replace(at, 13, "USING hnsw(");
    if (sql.find(" AND k = ") != std::string::npos) sql.replace(sql.find(" AND k = "), 9, " AND ef_search = 400 AND k = ");
  }
  TestDatabase db;
  std::vector<std::string> here = outputs_here(db.get(), strata);
  int differences = 0, knn_rows = 0;
  for (size_t i = 0; i < statements.size(); ++i) {
    if (statements[i].find("MATCH") != std::string::npos) knn_rows += static_cast<int>(std::count(here[i].begin(), here[i].end(), '\n'));
    if (here[i] != reference[i] && ++differences <= 10) {
      ADD_FAILURE() << statements[i] << "\n  vec0:\n" << reference[i] << "  hnsw:\n" << here[i];
    }
  }
  EXPECT_EQ(differences, 0);
  EXPECT_GT(knn_rows, 1000);  // the queries return rows, not only errors and empty answers
  EXPECT_EQ(db.scalar("SELECT hnsw_check('docs')"), "ok");
}

INSTANTIATE_TEST_SUITE_P(Metrics, SqliteVecTableSyntax, ::testing::Values("cosine", "l2", "L1"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

}  // namespace
}  // namespace strata::hnsw
