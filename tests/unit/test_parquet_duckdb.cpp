// Parquet interop with DuckDB (@duckdb/node-api, tests/peers/duckdb_parquet.mjs), an independent
// reader and writer:
//  - a 1M-row file strata writes (every storage class, NULLs, int64 extremes, empty and long
//    strings, a mixed-class column, nine row groups) reads in DuckDB with identical values;
//    parquet_metadata() shows strata's statistics and parquet_bloom_probe() agrees with strata's
//    filters;
//  - files DuckDB writes (snappy, zstd, gzip, uncompressed V2 pages, small row groups) read in
//    strata with the values DuckDB holds.
// Values are compared through a canonical text form and its SHA-256 (see the .mjs).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <random>

#include "codecs/parquet/parquet_reader.h"
#include "codecs/parquet/parquet_writer.h"
#include "ext/str_cat.h"
#include "tests/unit/duckdb_peer.h"
#include "tests/unit/test_database.h"
#include "tiering/digest.h"

namespace strata::parquet {
namespace {

// Runs the DuckDB peer; its stdout parsed as JSON.
rapidjson::Document run_duckdb(const std::string& command, const std::string& request, const std::string& scratch) {
  const std::string request_file = scratch + "/request.json";
  std::ofstream(request_file) << request;
  const testing::PeerRun run = testing::run_duckdb_peer(command, request_file);
  const std::string& output = run.output;
  rapidjson::Document document;
  EXPECT_TRUE(run.succeeded) << "the DuckDB peer failed (is @duckdb/node-api installed? scripts/install-test-peers.sh installs it "
                          "in tests/peers): "
                       << output;
  document.Parse(output.c_str());
  EXPECT_FALSE(document.HasParseError()) << output.substr(0, 500);
  return document;
}

std::string json_string(const rapidjson::Value& v) { return v.IsString() ? v.GetString() : std::string("<null>"); }

// The canonical form of one value (duckdb_parquet.mjs has the same).
void append_canonical(const ValueView& v, std::string& out) {
  static const char* digits = "0123456789abcdef";
  switch (v.type) {
    case ValueType::kNull: out += 'n'; break;
    case ValueType::kInteger: out += 'i'; out += std::to_string(v.integer); break;
    case ValueType::kReal: {
      out += 'r';
      const uint64_t bits = std::bit_cast<uint64_t>(v.real);
      for (int shift = 60; shift >= 0; shift -= 4) out += digits[(bits >> shift) & 0xf];
      break;
    }
    case ValueType::kText:
    case ValueType::kBlob:
      out += v.type == ValueType::kText ? 't' : 'b';
      for (char c : v.bytes) {
        out += digits[static_cast<uint8_t>(c) >> 4];
        out += digits[static_cast<uint8_t>(c) & 0xf];
      }
      break;
  }
}

std::string digest(const std::string& canonical) { return tiering::hex(tiering::sha256(canonical)); }

// ---- strata writes, DuckDB reads -------------------------------------------------------------

TEST(ParquetDuckDB, DuckDBReadsAMillionRowsStrataWrote) {
  testing::ScratchDirectory scratch("parquet_duckdb");
  const std::string file = scratch.path("strata.parquet");
  constexpr int64_t kRows = 1000000;
  const std::vector<ColumnSpec> columns = {{"id"}, {"small"}, {"extremes"}, {"price"}, {"name"},
                                           {"payload"}, {"mixed"}, {"nothing"}};
  // Canonical text per DuckDB column: the leaves strata writes (mixed has three siblings).
  const std::vector<std::string> leaves = {"id", "small", "extremes", "price", "name", "payload",
                                           "mixed", "mixed__real", "mixed__text", "mixed__blob", "nothing"};
  std::map<std::string, std::string> expected;
  std::mt19937_64 random(2026);
  const std::string long_name(5000, 'L');
  {
    const int fd = ::open(file.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    FileDescriptorSink sink(fd);
    WriterOptions options;  // defaults: 122,880-row groups, zstd, dictionaries, their bloom filters
    options.bloom_filter_columns = {"id"};
    Writer writer(columns, options, sink);
    ASSERT_TRUE(writer.start().is_ok());
    std::vector<Value> row(columns.size());
    std::vector<ValueView> views(columns.size());
    const int64_t extremes[] = {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 0, -1};
    const double reals[] = {-0.0, 1e308, -1e-300, std::numeric_limits<double>::denorm_min(), -INFINITY};
    for (int64_t r = 0; r < kRows; ++r) {
      row[0] = Value(ValueView::of_integer(r));
      row[1] = Value(ValueView::of_integer(r % 100));
      row[2] = r % 7 == 0 ? Value() : Value(ValueView::of_integer(extremes[r % 4]));
      row[3] = r % 5 == 0 ? Value() : Value(ValueView::of_real(r % 1000 == 1 ? reals[(r / 1000) % 5] : r * 0.25));
      std::string name = r % 1000 == 0 ? std::string() : r % 9973 == 0 ? long_name : "name-" + std::to_string(r % 5000);
      row[4] = Value(ValueView::of_text(name));
      std::string payload(random() % 21, '\0');
      for (char& c : payload) c = static_cast<char>(random());
      row[5] = r % 3 == 0 ? Value() : Value(ValueView::of_blob(payload));
      if (r % 19 == 0) row[6] = Value();
      else if (r % 17 == 0) row[6] = Value(ValueView::of_blob("\x01\x02"));
      else if (r % 13 == 0) row[6] = Value(ValueView::of_real(r / 8.0));
      else if (r % 10 == 0) row[6] = Value(ValueView::of_text(std::to_string(r)));
      else row[6] = Value(ValueView::of_integer(r));
      row[7] = Value();
      for (size_t c = 0; c < columns.size(); ++c) views[c] = row[c].view();
      ASSERT_TRUE(writer.append_row(views).is_ok());
      // Expected per leaf: the value where it belongs, NULL in the mixed column's other leaves.
      for (size_t c = 0; c < 6; ++c) {
        std::string& text = expected[leaves[c]];
        if (r > 0) text += '\n';
        append_canonical(views[c], text);
      }
      const ValueType mixed_type = views[6].type;
      const std::pair<const char*, ValueType> mixed_leaves[] = {
          {"mixed", ValueType::kInteger}, {"mixed__real", ValueType::kReal},
          {"mixed__text", ValueType::kText}, {"mixed__blob", ValueType::kBlob}};
      for (const auto& [leaf, type] : mixed_leaves) {
        std::string& text = expected[leaf];
        if (r > 0) text += '\n';
        append_canonical(mixed_type == type ? views[6] : ValueView::null(), text);
      }
      std::string& nothing = expected["nothing"];
      if (r > 0) nothing += '\n';
      nothing += 'n';
    }
    Status finished = writer.finish();
    ASSERT_TRUE(finished.is_ok()) << finished.message();
    ASSERT_EQ(::fsync(fd), 0);
    ::close(fd);
  }

  // Probes: present and absent values of the columns with filters ('small' and 'name' are
  // dictionary-encoded; 'id' was asked for) and of one without ('price').
  const std::vector<std::pair<std::string, std::string>> probes = {
      {"small", "42"},       {"small", "100"},          {"small", "-7"},
      {"name", "'name-17'"}, {"name", "'name-5000'"},   {"name", "'no such name'"},
      {"id", "123456"},      {"id", "1000001"},         {"id", "-5"},
      {"price", "2.5"}};
  std::string request = "{\"file\": \"" + file + "\", \"probes\": [";
  for (size_t i = 0; i < probes.size(); ++i) {
    if (i) request += ", ";
    request += "{\"column\": \"" + probes[i].first + "\", \"value\": \"" + probes[i].second + "\"}";
  }
  request += "]}";
  rapidjson::Document duck = run_duckdb("read", request, scratch.path(""));
  ASSERT_TRUE(duck.IsObject());

  // Identical values, column by column.
  const auto& duck_columns = duck["columns"];
  ASSERT_EQ(duck_columns.Size(), leaves.size());
  for (rapidjson::SizeType c = 0; c < duck_columns.Size(); ++c) {
    const std::string name = json_string(duck_columns[c]["name"]);
    EXPECT_EQ(name, leaves[c]);
    EXPECT_EQ(duck_columns[c]["rows"].GetInt64(), kRows);
    EXPECT_EQ(json_string(duck_columns[c]["sha256"]), digest(expected[name]))
        << "DuckDB reads column '" << name << "' (" << json_string(duck_columns[c]["type"]) << ") differently";
  }
  EXPECT_EQ(json_string(duck["file"]["created_by"]).rfind("strata version ", 0), 0u);
  EXPECT_EQ(json_string(duck["file"]["num_row_groups"]), "9");

  // parquet_metadata() shows the statistics strata's reader sees.
  const std::string bytes = testing::read_file_bytes(file);
  const RangeReader read = memory_range_reader(bytes);
  auto reader = FileReader::open(read, bytes.size());
  ASSERT_TRUE(reader.is_ok());
  const auto& metadata = duck["metadata"];
  ASSERT_EQ(metadata.Size(), 9 * leaves.size());
  int compared = 0;
  for (rapidjson::SizeType i = 0; i < metadata.Size(); ++i) {
    const auto& row = metadata[i];
    const size_t group = std::stoul(json_string(row["row_group_id"]));
    const size_t leaf = i % leaves.size();
    ASSERT_EQ(json_string(row["path_in_schema"]), leaves[leaf]);
    EXPECT_EQ(json_string(row["compression"]), "ZSTD");
    const ChunkStatistics ours = reader->chunk_statistics(group, leaf);
    EXPECT_EQ(json_string(row["stats_null_count"]), std::to_string(ours.null_count.value_or(-1))) << leaves[leaf];
    if (!ours.min) {
      EXPECT_TRUE(row["stats_min_value"].IsNull()) << leaves[leaf];
      continue;
    }
    const std::string min = json_string(row["stats_min_value"]), max = json_string(row["stats_max_value"]);
    switch (ours.min->type) {
      case ValueType::kInteger:
        EXPECT_EQ(min, std::to_string(ours.min->integer)) << leaves[leaf];
        EXPECT_EQ(max, std::to_string(ours.max->integer)) << leaves[leaf];
        break;
      case ValueType::kReal:
        // DuckDB shows no bound that is infinite (strata writes it: the format allows it).
        if (!(std::isinf(ours.min->real) && row["stats_min_value"].IsNull())) {
          EXPECT_EQ(std::strtod(min.c_str(), nullptr), ours.min->real) << leaves[leaf] << " " << min;
        }
        if (!(std::isinf(ours.max->real) && row["stats_max_value"].IsNull())) {
          EXPECT_EQ(std::strtod(max.c_str(), nullptr), ours.max->real) << leaves[leaf] << " " << max;
        }
        break;
      case ValueType::kText:
        EXPECT_EQ(min, ours.min->bytes) << leaves[leaf];
        EXPECT_EQ(max, ours.max->bytes) << leaves[leaf];
        break;
      default: break;  // blobs: DuckDB shows them escaped; their bounds are covered by the reader tests
    }
    ++compared;
  }
  EXPECT_GT(compared, 50);

  // parquet_bloom_probe() agrees with strata's filters, row group by row group.
  const auto& duck_probes = duck["probes"];
  ASSERT_EQ(duck_probes.Size(), probes.size());
  int excluded = 0, kept = 0;
  for (rapidjson::SizeType p = 0; p < duck_probes.Size(); ++p) {
    const std::string column = probes[p].first;
    const size_t leaf = static_cast<size_t>(std::find(leaves.begin(), leaves.end(), column) - leaves.begin());
    Value probe;
    const std::string& literal = probes[p].second;
    if (literal[0] == '\'') probe = Value(ValueView::of_text(literal.substr(1, literal.size() - 2)));
    else if (column == "price") probe = Value(ValueView::of_real(std::strtod(literal.c_str(), nullptr)));
    else probe = Value(ValueView::of_integer(std::stoll(literal)));
    const auto& groups = duck_probes[p]["row_groups"];
    ASSERT_EQ(groups.Size(), 9u);
    for (rapidjson::SizeType g = 0; g < groups.Size(); ++g) {
      auto filter = reader->read_bloom_filter(read, g, leaf);
      ASSERT_TRUE(filter.is_ok());
      const bool ours_excludes = filter->has_value() && !(*filter)->may_contain(probe.view());
      EXPECT_EQ(groups[g]["bloom_filter_excludes"].GetBool(), ours_excludes)
          << column << " = " << literal << " in row group " << g;
      ours_excludes ? ++excluded : ++kept;
    }
  }
  EXPECT_GT(excluded, 20);  // the filters do exclude row groups
  EXPECT_GT(kept, 10);
}

// ---- DuckDB writes, strata reads -------------------------------------------------------------

TEST(ParquetDuckDB, StrataReadsWhatDuckDBWrites) {
  testing::ScratchDirectory scratch("parquet_duckdb_write");
  // Types DuckDB maps to the features strata reads; exact binary fractions for the decimals, so
  // that value / 10^scale is exact in both.
  const std::string query =
      "SELECT range AS big, (range % 1000)::INTEGER AS int32, (range % 7)::SMALLINT AS int16, "
      "CASE WHEN range % 11 = 0 THEN NULL ELSE range * 0.5 END::DOUBLE AS dbl, "
      "(range % 100)::FLOAT AS flt, "
      "CASE WHEN range % 13 = 0 THEN NULL ELSE 'v' || (range % 300)::VARCHAR END AS str, "
      "repeat('x', (range % 50)::INTEGER) AS grow, "
      "CASE WHEN range % 2 = 0 THEN NULL ELSE ('\\x00\\xFF' || (range % 10)::VARCHAR)::BLOB END AS bin, "
      "range % 3 = 0 AS flag, (range * 0.125)::DECIMAL(18,3) AS dec64, "
      "(range * 0.25)::DECIMAL(30,2) AS dec128, (range % 10)::DECIMAL(4,1) AS dec32 "
      "FROM range(50000)";
  const std::vector<std::string> options = {
      "FORMAT parquet",
      "FORMAT parquet, COMPRESSION zstd",
      "FORMAT parquet, COMPRESSION gzip",
      "FORMAT parquet, COMPRESSION uncompressed, PARQUET_VERSION v2",
      "FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 2048, PARQUET_VERSION v2",
  };
  for (size_t k = 0; k < options.size(); ++k) {
    const std::string file = scratch.path("duck" + std::to_string(k) + ".parquet");
    rapidjson::Document request(rapidjson::kObjectType);
    auto& alloc = request.GetAllocator();
    request.AddMember("file", rapidjson::Value(file.c_str(), alloc), alloc);
    request.AddMember("query", rapidjson::Value(query.c_str(), alloc), alloc);
    request.AddMember("options", rapidjson::Value(options[k].c_str(), alloc), alloc);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> json(buffer);
    request.Accept(json);
    rapidjson::Document duck = run_duckdb("write", buffer.GetString(), scratch.path(""));
    ASSERT_TRUE(duck.IsObject()) << options[k];

    const std::string bytes = testing::read_file_bytes(file);
    const RangeReader read = memory_range_reader(bytes);
    auto reader = FileReader::open(read, bytes.size());
    ASSERT_TRUE(reader.is_ok()) << options[k] << ": " << reader.status().message();
    const auto& duck_columns = duck["columns"];
    ASSERT_EQ(duck_columns.Size(), reader->columns().size());
    for (size_t c = 0; c < reader->columns().size(); ++c) {
      std::string canonical;
      bool first = true;
      for (size_t g = 0; g < reader->row_groups(); ++g) {
        auto values = reader->read_column(read, g, c);
        ASSERT_TRUE(values.is_ok()) << options[k] << ": " << values.status().message();
        for (size_t r = 0; r < values->size(); ++r) {
          if (!first) canonical += '\n';
          first = false;
          append_canonical(values->get(r), canonical);
        }
      }
      EXPECT_EQ(digest(canonical), json_string(duck_columns[static_cast<rapidjson::SizeType>(c)]["sha256"]))
          << options[k] << ": strata reads column '" << reader->columns()[c].name << "' ("
          << json_string(duck_columns[static_cast<rapidjson::SizeType>(c)]["type"]) << ") differently";
    }
  }
}

// DuckDB's hive-partitioned output (k=0/, k=1/, k=2/ directories, the partition column not in
// the files) read through the parquet virtual table: the same rows as SQLite computes, and
// DuckDB's statistics and bloom filters prune.
TEST(ParquetDuckDB, TheParquetTableReadsDuckDBsPartitionedOutput) {
  testing::ScratchDirectory scratch("parquet_duckdb_hive");
  const std::string directory = scratch.path("lake");
  const std::string request = std::string("{\"file\": \"") + directory +
                              "\", \"query\": \"SELECT range AS id, (range % 3)::INTEGER AS k, 'v' || (range % 300)::VARCHAR AS s, "
                              "range * 0.5 AS d FROM range(30000)\", \"options\": \"FORMAT parquet, PARTITION_BY (k), "
                              "COMPRESSION snappy, ROW_GROUP_SIZE 2048\"}";
  ASSERT_TRUE(run_duckdb("write", request, scratch.path("")).IsObject());
  testing::TestDatabase db;
  db.exec("CREATE VIRTUAL TABLE duck USING parquet('file:" + directory + "/')");
  EXPECT_EQ(db.rows("SELECT name, type FROM pragma_table_info('duck')"),
            (std::vector<std::string>{"id|INTEGER", "s|TEXT", "d|REAL", "k|INTEGER"}));
  db.exec(
      "CREATE TABLE ref AS WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < 29999) "
      "SELECT i AS id, 'v' || (i % 300) AS s, i * 0.5 AS d, i % 3 AS k FROM r");
  EXPECT_EQ(db.exact_rows("SELECT id, s, d, k FROM duck ORDER BY id"), db.exact_rows("SELECT id, s, d, k FROM ref ORDER BY id"));
  EXPECT_EQ(db.rows("SELECT id, s FROM duck WHERE k = 1 AND id = 12346"), (std::vector<std::string>{"12346|v46"}));
  const std::string stats = db.scalar("SELECT parquet_scan_stats('duck')");
  EXPECT_NE(stats.find("\"files\":3,\"files_pruned\":2"), std::string::npos) << stats;
  // 'v10x' lies between every row group's bounds ('v0' … 'v99') and in no row group.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM duck WHERE s = 'v10x'"), "0");
  rapidjson::Document scan;
  scan.Parse(db.scalar("SELECT parquet_scan_stats('duck')").c_str());
  ASSERT_TRUE(scan.IsObject());
  EXPECT_GT(scan["row_groups"].GetUint64(), 3u);
  EXPECT_EQ(scan["row_groups_pruned_by_bloom_filter"].GetUint64(), scan["row_groups"].GetUint64());
}

// DuckDB probes a bloom filter with the hash of the literal it is given, and 0.0 = -0.0: a DOUBLE
// column holding either zero has both in its filter.
TEST(ParquetDuckDB, DoubleBloomFiltersHoldBothZeros) {
  testing::ScratchDirectory scratch("parquet_duckdb_zeros");
  for (const char* zero : {"0.0", "-0.0"}) {
    const std::string file = scratch.path(std::string("zero") + zero + ".parquet");
    testing::TestDatabase db;
    ASSERT_EQ(db.scalar(str_cat("SELECT parquet_export('file:", file, "', 'SELECT ", zero,
                                " AS d UNION ALL SELECT 1.5', '{\"bloom_filter_columns\": [\"d\"]}')")),
              "2");
    std::string request = "{\"file\": \"" + file + "\", \"probes\": [{\"column\": \"d\", \"value\": \"0.0\"}, "
                          "{\"column\": \"d\", \"value\": \"-0.0\"}, {\"column\": \"d\", \"value\": \"2.5\"}]}";
    rapidjson::Document duck = run_duckdb("read", request, scratch.path(""));
    ASSERT_TRUE(duck.IsObject() && duck.HasMember("probes"));
    const auto& probes = duck["probes"];
    ASSERT_EQ(probes.Size(), 3u);
    EXPECT_FALSE(probes[0]["row_groups"][0]["bloom_filter_excludes"].GetBool()) << zero << " probed as 0.0";
    EXPECT_FALSE(probes[1]["row_groups"][0]["bloom_filter_excludes"].GetBool()) << zero << " probed as -0.0";
    EXPECT_TRUE(probes[2]["row_groups"][0]["bloom_filter_excludes"].GetBool()) << "2.5 is absent";
  }
}

// TEXT that is not valid UTF-8 (SQLite allows it) must not make the file unreadable to other
// engines: such values go to a plain BYTE_ARRAY sibling, which DuckDB reads as BLOB, and strata
// reads them back as TEXT, byte for byte.
TEST(ParquetDuckDB, TextThatIsNotUtf8KeepsTheFileReadable) {
  testing::ScratchDirectory scratch("parquet_duckdb_utf8");
  const std::string file = scratch.path("text.parquet");
  testing::TestDatabase db;
  db.exec("CREATE TABLE t(id INTEGER, s TEXT); INSERT INTO t VALUES (1, 'ok'), (2, CAST(x'ff00fe41' AS TEXT)), (3, 'é'),"
          " (4, NULL), (5, CAST(x'c0af' AS TEXT)), (6, CAST(x'eda080' AS TEXT)), (7, CAST(x'f4908080' AS TEXT))");
  ASSERT_EQ(db.scalar(str_cat("SELECT parquet_export('file:", file, "', 'SELECT id, s FROM t')")), "7");
  rapidjson::Document duck = run_duckdb("read", "{\"file\": \"" + file + "\"}", scratch.path(""));
  ASSERT_TRUE(duck.IsObject() && duck.HasMember("columns"));
  std::vector<std::string> names;
  for (const auto& column : duck["columns"].GetArray()) {
    names.push_back(column["name"].GetString());
    EXPECT_EQ(column["rows"].GetInt64(), 7);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"id", "s", "s__text_bytes"}));
  db.exec(str_cat("CREATE VIRTUAL TABLE back USING parquet('file:", file, "')"));
  EXPECT_EQ(db.rows("SELECT id, hex(s), typeof(s) FROM back ORDER BY id"),
            db.rows("SELECT id, hex(s), typeof(s) FROM t ORDER BY id"));
}

}  // namespace
}  // namespace strata::parquet
