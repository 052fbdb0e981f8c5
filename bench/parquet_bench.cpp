// parquet_bench — strata's Parquet writer, reader and object stores against their anchors, in
// one run, on workload W1 (shared/bench/w1-events.sql):
//
//   write   parquet_export() of the W1 table vs DuckDB's COPY … (FORMAT parquet, COMPRESSION
//           zstd) of the same rows, DuckDB on one thread: rows/s, MB/s of the file, file sizes;
//           strata by default (one helper thread encodes row groups) and with threads = 1
//   read    every column of each file through the `parquet` table (max() of each column) vs
//           DuckDB's read_parquet() of the same file (max(COLUMNS(*)))
//   stores  strata's file put to and got from s3rver on loopback (behind the SigV4 front) vs
//           the file: store: MB/s
//
//   parquet_bench [--rows N] [--repetitions N] [--dir DIR] [--json PATH] [--quick]
//
// Medians of the repetitions; ratios are what to read (these machines are noisy). DuckDB runs
// in node (@duckdb/node-api in tests/peers, scripts/install-test-peers.sh installs it), timed
// inside node, so its start-up is not counted. Before timing, each side's answers are checked:
// both files hold the rows of the W1 table, as each engine reads them.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_database.h"
#include "tests/unit/duckdb_peer.h"
#include "tests/unit/s3_test_server.h"
#include "tiering/file_store.h"
#include "tiering/s3_store.h"

namespace {

using strata::bench::die;
using strata::bench::duckdb_w1_query;
using strata::bench::median;
using strata::bench::median_of;
using strata::bench::read_text;
using strata::bench::replace_all;
using strata::bench::seconds_of;

struct Options {
  long long rows = 1000000;
  int repetitions = 3;
  std::string directory;
  std::string json_path = "parquet-bench.json";
  std::string extension_path = STRATA_EXTENSION_PATH;
};


// Integers only, so that both engines print them alike.
const char* const kCheck =
    "SELECT count(*) AS n, sum(f_i3) AS f_i3, count(DISTINCT f_s2) AS sessions, CAST(sum(amount) * 100 AS BIGINT) AS cents "
    "FROM @FROM@";

const char* const kEveryColumn =
    "SELECT max(id), max(ts), max(user_id), max(type), max(amount), max(country), max(f_i1), max(f_i2), max(f_i3), "
    "max(f_i4), max(f_i5), max(f_d1), max(f_d2), max(f_d3), max(f_d4), max(f_d5), max(f_s1), max(f_s2), max(f_s3), "
    "max(f_s4) FROM ";

rapidjson::Document run_duckdb(const std::string& request_path) {
  const strata::testing::PeerRun run = strata::testing::run_duckdb_peer("bench", request_path);
  if (!run.succeeded) die("the DuckDB peer failed (scripts/install-test-peers.sh installs @duckdb/node-api): " + run.output);
  rapidjson::Document document;
  document.Parse(run.output.c_str());
  if (document.HasParseError() || !document.IsObject()) die("the DuckDB peer printed no JSON: " + run.output.substr(0, 300));
  return document;
}

double median_ms(const rapidjson::Value& list) {
  std::vector<double> values;
  for (const auto& v : list.GetArray()) values.push_back(v.GetDouble() / 1000.0);
  return median(values);
}

struct Row {
  std::string measure, strata, anchor, ratio, target;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + argument);
      return argv[++i];
    };
    if (argument == "--rows") options.rows = std::stoll(value());
    else if (argument == "--repetitions") options.repetitions = std::stoi(value());
    else if (argument == "--dir") options.directory = value();
    else if (argument == "--json") options.json_path = value();
    else if (argument == "--extension") options.extension_path = value();
    else if (argument == "--quick") options.rows = 50000, options.repetitions = 1;
    else die("unknown argument " + argument + " (--rows N --repetitions N --dir DIR --json PATH --quick)");
  }
  if (options.directory.empty()) options.directory = (std::filesystem::temp_directory_path() / "strata-parquet-bench").string();
  std::filesystem::remove_all(options.directory);
  std::filesystem::create_directories(options.directory);
  const std::string dir = std::filesystem::absolute(options.directory).string();
  const std::string strata_file = dir + "/strata.parquet";
  const std::string duckdb_file = dir + "/duckdb.parquet";
  const double rows = static_cast<double>(options.rows);

  // The W1 table in SQLite.
  strata::bench::BenchDatabase db(dir + "/w1.db", options.extension_path);
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  std::string script = read_text(STRATA_W1_SCRIPT);
  script = replace_all(replace_all(script, "@N@", std::to_string(options.rows)), "@TABLE@", "w1");
  std::fprintf(stderr, "generating %lld W1 rows…\n", options.rows);
  db.exec("BEGIN; " + script + " COMMIT;");

  // strata writes.
  const std::string export_sql = "SELECT parquet_export('file:" + strata_file + "', 'SELECT * FROM w1')";
  const double strata_write = median_of(options.repetitions, [&] { db.answer(export_sql); });
  const double strata_bytes = static_cast<double>(std::filesystem::file_size(strata_file));
  // The same export with the encoding on the calling thread too; the file must not change.
  const std::string one_thread_file = dir + "/strata-1-thread.parquet";
  const std::string one_thread_sql =
      "SELECT parquet_export('file:" + one_thread_file + "', 'SELECT * FROM w1', '{\"threads\": 1}')";
  const double strata_write_1_thread = median_of(options.repetitions, [&] { db.answer(one_thread_sql); });
  if (read_text(one_thread_file) != read_text(strata_file)) die("parquet_export wrote another file with threads = 1");

  // DuckDB writes its file and reads both.
  rapidjson::Document request(rapidjson::kObjectType);
  auto& alloc = request.GetAllocator();
  request.AddMember("query", rapidjson::Value(duckdb_w1_query(options.rows).c_str(), alloc), alloc);
  request.AddMember("file", rapidjson::Value(duckdb_file.c_str(), alloc), alloc);
  rapidjson::Value reads(rapidjson::kArrayType);
  reads.PushBack(rapidjson::Value(duckdb_file.c_str(), alloc), alloc);
  reads.PushBack(rapidjson::Value(strata_file.c_str(), alloc), alloc);
  request.AddMember("read", reads, alloc);
  request.AddMember("check", rapidjson::Value(kCheck, alloc), alloc);
  request.AddMember("repetitions", options.repetitions, alloc);
  rapidjson::StringBuffer request_text;
  rapidjson::Writer<rapidjson::StringBuffer> request_writer(request_text);
  request.Accept(request_writer);
  std::ofstream(dir + "/duckdb-request.json") << request_text.GetString();
  std::fprintf(stderr, "DuckDB writing and reading…\n");
  rapidjson::Document duck = run_duckdb(dir + "/duckdb-request.json");
  const double duckdb_write = median_ms(duck["write_ms"]);
  const double duckdb_bytes = duck["bytes"].GetDouble();
  const double duckdb_reads_duckdb = median_ms(duck["read_ms"][duckdb_file.c_str()]);
  const double duckdb_reads_strata = median_ms(duck["read_ms"][strata_file.c_str()]);
  // DuckDB sees the same rows in its table, its file and strata's file.
  const std::string duck_table = duck["check"]["table"].GetString();
  if (duck["check"][duckdb_file.c_str()].GetString() != duck_table || duck["check"][strata_file.c_str()].GetString() != duck_table) {
    die("DuckDB reads different rows from the files than it wrote: " + duck_table);
  }

  // strata reads both files; both must hold what the W1 table holds.
  db.exec("CREATE VIRTUAL TABLE strata_file USING parquet('file:" + strata_file + "');"
          "CREATE VIRTUAL TABLE duckdb_file USING parquet('file:" + duckdb_file + "');");
  auto check = [&](const std::string& from) {
    sqlite3_stmt* stmt = db.prepare(replace_all(kCheck, "@FROM@", from));
    std::string row;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int c = 0; c < 4; ++c) row += std::to_string(sqlite3_column_int64(stmt, c)) + ",";
    }
    sqlite3_finalize(stmt);
    return row;
  };
  const std::string expected = check("w1");
  if (check("strata_file") != expected || check("duckdb_file") != expected) {
    die("strata reads different rows from the files: " + expected + " vs " + check("strata_file") + " / " + check("duckdb_file"));
  }
  if (duck_table.find(std::to_string(options.rows)) == std::string::npos) die("DuckDB's W1 has another row count: " + duck_table);
  const double strata_reads_strata = median_of(options.repetitions, [&] { db.answer(std::string(kEveryColumn) + "strata_file"); });
  const double strata_reads_duckdb = median_of(options.repetitions, [&] { db.answer(std::string(kEveryColumn) + "duckdb_file"); });
  const double sqlite_reads_table = median_of(options.repetitions, [&] { db.answer(std::string(kEveryColumn) + "w1"); });

  // Object stores: the strata file put and got, s3rver on loopback vs the file: store.
  std::fprintf(stderr, "object stores…\n");
  strata::testing::S3TestServer server(dir + "/s3");
  if (!server.problem().empty()) die(server.problem());
  auto s3 = strata::tiering::S3Store::open("s3://strata-test/bench", server.settings());
  auto files = strata::tiering::FileStore::open(dir + "/objects");
  if (!s3.is_ok() || !files.is_ok()) die("cannot open the stores");
  auto source = strata::tiering::FileSource::open(strata_file);
  if (!source.is_ok()) die("cannot open " + strata_file);
  auto timed_put = [&](strata::tiering::ObjectStore& store) {
    return median_of(options.repetitions, [&] {
      if (!store.put("w1.parquet", **source).is_ok()) die("put failed on " + store.location());
    });
  };
  auto timed_get = [&](strata::tiering::ObjectStore& store) {
    return median_of(options.repetitions, [&] {
      auto bytes = store.get("w1.parquet");
      if (!bytes.is_ok() || bytes->size() != (*source)->size()) die("get failed on " + store.location());
    });
  };
  const double s3_put = timed_put(**s3), file_put = timed_put(**files);
  const double s3_get = timed_get(**s3), file_get = timed_get(**files);

  // Report.
  const double mib = 1024.0 * 1024.0;
  auto fixed = [](double value, int digits) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", digits, value);
    return std::string(text);
  };
  auto rate = [&](double seconds, double bytes) {
    return fixed(rows / seconds / 1e6, 2) + " M rows/s, " + fixed(bytes / mib / seconds, 1) + " MiB/s";
  };
  const std::vector<Row> table = {
      {"file size", fixed(strata_bytes / mib, 1) + " MiB", fixed(duckdb_bytes / mib, 1) + " MiB",
       fixed(strata_bytes / duckdb_bytes, 3) + "x", "<= 1.1x"},
      {"write (strata: 1 helper thread)", rate(strata_write, strata_bytes), rate(duckdb_write, duckdb_bytes),
       fixed(duckdb_write / strata_write, 2) + "x the speed", ">= 0.5x"},
      {"write (strata: threads=1)", rate(strata_write_1_thread, strata_bytes), rate(duckdb_write, duckdb_bytes),
       fixed(duckdb_write / strata_write_1_thread, 2) + "x the speed", ""},
      {"read every column, own file", rate(strata_reads_strata, strata_bytes), rate(duckdb_reads_duckdb, duckdb_bytes),
       fixed(duckdb_reads_duckdb / strata_reads_strata, 3) + "x the speed", "(SQLite's row loop: " + fixed(sqlite_reads_table, 2) + " s on the table)"},
      {"read every column, the other's file", rate(strata_reads_duckdb, duckdb_bytes), rate(duckdb_reads_strata, strata_bytes),
       fixed(duckdb_reads_strata / strata_reads_duckdb, 3) + "x the speed", ""},
      {"put strata's file (s3rver vs file:)", fixed(strata_bytes / mib / s3_put, 1) + " MiB/s", fixed(strata_bytes / mib / file_put, 1) + " MiB/s",
       fixed(file_put / s3_put, 3) + "x the speed", ""},
      {"get strata's file (s3rver vs file:)", fixed(strata_bytes / mib / s3_get, 1) + " MiB/s", fixed(strata_bytes / mib / file_get, 1) + " MiB/s",
       fixed(file_get / s3_get, 3) + "x the speed", ""},
  };
  std::printf("W1, %lld rows, medians of %d (strata | anchor: DuckDB 1 thread, or the file: store)\n", options.rows, options.repetitions);
  for (const Row& row : table) {
    std::printf("%-38s %-36s %-36s %-18s %s\n", row.measure.c_str(), row.strata.c_str(), row.anchor.c_str(), row.ratio.c_str(),
                row.target.c_str());
  }

  rapidjson::StringBuffer json;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> out(json);
  out.StartObject();
  auto number = [&](const char* key, double value) {
    out.Key(key);
    out.Double(value);
  };
  out.Key("workload");
  out.String("w1");
  number("rows", rows);
  number("repetitions", options.repetitions);
  number("strata_file_bytes", strata_bytes);
  number("duckdb_file_bytes", duckdb_bytes);
  number("size_ratio", strata_bytes / duckdb_bytes);
  number("strata_write_s", strata_write);
  number("duckdb_write_s", duckdb_write);
  number("write_speed_ratio", duckdb_write / strata_write);
  number("strata_write_1_thread_s", strata_write_1_thread);
  number("write_1_thread_speed_ratio", duckdb_write / strata_write_1_thread);
  number("strata_write_rows_per_s", rows / strata_write);
  number("duckdb_write_rows_per_s", rows / duckdb_write);
  number("strata_read_own_s", strata_reads_strata);
  number("duckdb_read_own_s", duckdb_reads_duckdb);
  number("strata_read_duckdb_file_s", strata_reads_duckdb);
  number("duckdb_read_strata_file_s", duckdb_reads_strata);
  number("sqlite_read_table_s", sqlite_reads_table);
  number("read_speed_ratio", duckdb_reads_duckdb / strata_reads_strata);
  number("s3_put_mib_per_s", strata_bytes / mib / s3_put);
  number("file_put_mib_per_s", strata_bytes / mib / file_put);
  number("s3_get_mib_per_s", strata_bytes / mib / s3_get);
  number("file_get_mib_per_s", strata_bytes / mib / file_get);
  number("s3_put_speed_ratio", file_put / s3_put);
  number("s3_get_speed_ratio", file_get / s3_get);
  out.EndObject();
  std::ofstream(options.json_path) << json.GetString() << "\n";
  std::printf("%s\n", json.GetString());
  return 0;
}
