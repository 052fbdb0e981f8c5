// rollup_bench — rollups (docs/timeseries.md) on workload W1 (shared/bench/w1-events.sql), in one
// run:
//
//   insert   W1's bulk INSERT into a columnar table without rollups, and into one with two
//            rollups: hourly by type and country (count, sum, avg, min, max of amount,
//            count(DISTINCT user_id)) and daily by country (count, sum of amount). Rows/s and
//            their ratio (target: with rollups ≥ 0.7x).
//   d1 … d3  dashboards: d1 the last 24 hours by type, d2 the whole history by day and country,
//            d3 the top countries of the month. Each on the rollups (d1 on the hourly one; d2 and
//            d3 on the hourly one and on the daily one), and as the same GROUP BY over the raw
//            rows in an ordinary table, in the columnar table and in DuckDB (@duckdb/node-api,
//            one thread, through tests/peers/duckdb_parquet.mjs). Medians; ratios (targets: the
//            rollup ≥ 10x faster than DuckDB and ≥ 100x faster than the ordinary table). Every
//            answer is compared with the ordinary table's (counts and sums in cents).
//
//   rollup_bench [--rows N] [--repetitions N] [--dir DIR] [--json PATH] [--extension PATH] [--quick]
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_database.h"
#include "tests/unit/duckdb_peer.h"

namespace {

using strata::bench::BenchDatabase;
using strata::bench::die;
using strata::bench::median;
using strata::bench::median_of;
using strata::bench::read_text;
using strata::bench::replace_all;
using strata::bench::seconds_of;

struct Options {
  long long rows = 10'000'000;
  int repetitions = 5;
  std::string directory;
  std::string json_path = "rollup-bench.json";
  std::string extension_path = STRATA_EXTENSION_PATH;
};

constexpr const char* kHourly =
    "CREATE VIRTUAL TABLE events_hourly USING rollup(source='events', bucket='hour_ms(ts)', group_by='type, country', "
    "measures='count(*), sum(amount), avg(amount), min(amount), max(amount), count(DISTINCT user_id)')";
constexpr const char* kDaily =
    "CREATE VIRTUAL TABLE events_daily USING rollup(source='events', bucket='day_ms(ts)', group_by='country', "
    "measures='count(*), sum(amount)')";

// Every row of a query, values as text, '|' between columns and '\n' between rows (as the DuckDB
// peer prints them).
std::string all_rows(const BenchDatabase& db, const std::string& sql) {
  sqlite3_stmt* stmt = db.prepare(sql);
  std::string out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (!out.empty()) out += "\n";
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const unsigned char* text = sqlite3_column_text(stmt, c);
      out += std::string(c ? "|" : "") + (text ? reinterpret_cast<const char*>(text) : "NULL");
    }
  }
  if (rc != SQLITE_DONE) die(sql + ": " + sqlite3_errmsg(db.get()));
  sqlite3_finalize(stmt);
  return out;
}

// Loads W1 into `path` (after `setup`), returning the INSERT's seconds.
double load(const std::string& path, const Options& options, const std::string& create, const std::string& insert,
            const std::vector<std::string>& setup = {}) {
  std::filesystem::remove(path);
  BenchDatabase db(path, options.extension_path);
  db.exec("PRAGMA journal_mode=WAL");
  db.exec(create);
  for (const std::string& statement : setup) db.exec(statement);
  return seconds_of([&] { db.exec(insert); });
}

struct Dashboard {
  std::string name;
  std::string raw;     // over `events` in SQLite (the ordinary and the columnar table)
  std::string duckdb;  // the same over DuckDB's table `t`
  std::vector<std::pair<std::string, std::string>> rollups;  // (which, SQL)
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
    else if (argument == "--quick") options.rows = 200'000, options.repetitions = 1;
    else die("unknown argument " + argument);
  }
  if (options.directory.empty()) options.directory = (std::filesystem::temp_directory_path() / "strata-rollup-bench").string();
  const std::string dir = options.directory;
  std::filesystem::create_directories(dir);

  const strata::bench::W1Statements w1 = strata::bench::w1_statements(read_text(STRATA_W1_SCRIPT), "events", options.rows);
  const std::string columnar = strata::bench::w1_columnar_create(w1, "events", "");
  std::fprintf(stderr, "rollup_bench: loading %lld rows three times…\n", options.rows);
  const double plain_s = load(dir + "/plain.db", options, w1.create, w1.insert);
  const double columnar_s = load(dir + "/columnar.db", options, columnar, w1.insert);
  const double rollups_s = load(dir + "/rollups.db", options, columnar, w1.insert, {kHourly, kDaily});

  BenchDatabase plain(dir + "/plain.db", options.extension_path);
  BenchDatabase bare(dir + "/columnar.db", options.extension_path);
  BenchDatabase rolled(dir + "/rollups.db", options.extension_path);

  // The last 24 hours start at the hour 23 hours before the newest row's; the month is the first row's.
  const long long newest = std::stoll(plain.answer("SELECT max(ts) FROM events"));
  const long long day_start = (newest / 3'600'000 - 23) * 3'600'000;
  const std::string day_bucket = plain.answer("SELECT strftime('%Y-%m-%dT%H', " + std::to_string(day_start / 1000) + ", 'unixepoch')");
  const std::string month = plain.answer("SELECT strftime('%Y-%m', min(ts) / 1000, 'unixepoch') FROM events");
  const std::string next_month = plain.answer("SELECT strftime('%Y-%m', '" + month + "-01', '+1 month')");
  const std::string month_start = std::to_string(std::stoll(plain.answer("SELECT unixepoch('" + month + "-01')")) * 1000);
  const std::string month_end = std::to_string(std::stoll(plain.answer("SELECT unixepoch('" + next_month + "-01')")) * 1000);

  const std::vector<Dashboard> dashboards = {
      {"d1 last 24 hours by type",
       "SELECT type, count(*), CAST(round(sum(amount) * 100) AS INTEGER) FROM events WHERE ts >= " + std::to_string(day_start) +
           " GROUP BY type ORDER BY type",
       "SELECT type, count(*), CAST(round(sum(amount) * 100) AS BIGINT) FROM t WHERE ts >= " + std::to_string(day_start) +
           " GROUP BY type ORDER BY type",
       {{"hourly", "SELECT type, sum(count), CAST(round(sum(sum_amount) * 100) AS INTEGER) FROM events_hourly WHERE bucket >= '" +
                       day_bucket + "' GROUP BY type ORDER BY type"}}},
      {"d2 history by day and country",
       "SELECT strftime('%Y-%m-%d', ts / 1000, 'unixepoch'), country, count(*), CAST(round(sum(amount) * 100) AS INTEGER) "
       "FROM events GROUP BY 1, 2 ORDER BY 1, 2",
       "SELECT strftime(epoch_ms(ts), '%Y-%m-%d'), country, count(*), CAST(round(sum(amount) * 100) AS BIGINT) "
       "FROM t GROUP BY 1, 2 ORDER BY 1, 2",
       {{"hourly", "SELECT substr(bucket, 1, 10), country, sum(count), CAST(round(sum(sum_amount) * 100) AS INTEGER) "
                   "FROM events_hourly GROUP BY 1, 2 ORDER BY 1, 2"},
        {"daily", "SELECT bucket, country, count, CAST(round(sum_amount * 100) AS INTEGER) FROM events_daily ORDER BY 1, 2"}}},
      {"d3 top countries of the month",
       "SELECT country, count(*) AS n FROM events WHERE ts >= " + month_start + " AND ts < " + month_end +
           " GROUP BY country ORDER BY n DESC, country LIMIT 5",
       "SELECT country, count(*) AS n FROM t WHERE ts >= " + month_start + " AND ts < " + month_end +
           " GROUP BY country ORDER BY n DESC, country LIMIT 5",
       {{"hourly", "SELECT country, sum(count) AS n FROM events_hourly WHERE bucket >= '" + month + "' AND bucket < '" + next_month +
                       "' GROUP BY country ORDER BY n DESC, country LIMIT 5"},
        {"daily", "SELECT country, sum(count) AS n FROM events_daily WHERE bucket >= '" + month + "' AND bucket < '" + next_month +
                      "' GROUP BY country ORDER BY n DESC, country LIMIT 5"}}},
  };

  // DuckDB over the raw rows, all queries in one peer run.
  rapidjson::Document request(rapidjson::kObjectType);
  auto& alloc = request.GetAllocator();
  request.AddMember("query", rapidjson::Value(strata::bench::duckdb_w1_query(options.rows).c_str(), alloc), alloc);
  request.AddMember("repetitions", options.repetitions, alloc);
  rapidjson::Value queries(rapidjson::kArrayType);
  for (const Dashboard& dashboard : dashboards) {
    rapidjson::Value query(rapidjson::kObjectType);
    query.AddMember("name", rapidjson::Value(dashboard.name.c_str(), alloc), alloc);
    query.AddMember("sql", rapidjson::Value(dashboard.duckdb.c_str(), alloc), alloc);
    queries.PushBack(query, alloc);
  }
  request.AddMember("queries", queries, alloc);
  const std::string request_path = dir + "/duckdb-request.json";
  {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    request.Accept(writer);
    std::ofstream(request_path) << buffer.GetString();
  }
  std::fprintf(stderr, "rollup_bench: DuckDB…\n");
  const strata::testing::PeerRun run = strata::testing::run_duckdb_peer("timed", request_path);
  if (!run.succeeded) die("the DuckDB peer failed (scripts/install-test-peers.sh installs @duckdb/node-api): " + run.output);
  rapidjson::Document duck;
  duck.Parse(run.output.c_str());
  if (duck.HasParseError() || !duck.IsObject() || !duck.HasMember("ms")) die("the DuckDB peer printed no timings: " + run.output.substr(0, 300));

  rapidjson::StringBuffer json_buffer;
  rapidjson::Writer<rapidjson::StringBuffer> json(json_buffer);
  json.StartObject();
  json.Key("rows");
  json.Int64(options.rows);
  json.Key("repetitions");
  json.Int(options.repetitions);
  const double rows = static_cast<double>(options.rows);
  std::printf("W1 %lld rows (medians of %d; ratios: how many times faster the rollup is)\n\n", options.rows, options.repetitions);
  std::printf("%-40s %14s %14s %8s\n", "bulk INSERT (rows/s)", "no rollup", "two rollups", "ratio");
  std::printf("%-40s %14.0f %14.0f %7.2fx   (target >= 0.70x; ordinary table %.0f rows/s)\n", "columnar table", rows / columnar_s,
              rows / rollups_s, columnar_s / rollups_s, rows / plain_s);
  json.Key("insert_rows_per_s");
  json.StartObject();
  json.Key("ordinary");
  json.Double(rows / plain_s);
  json.Key("columnar");
  json.Double(rows / columnar_s);
  json.Key("columnar_two_rollups");
  json.Double(rows / rollups_s);
  json.Key("ratio");
  json.Double(columnar_s / rollups_s);
  json.EndObject();

  std::printf("\n%-40s %10s %10s %10s %10s %9s %9s %9s\n", "dashboard (ms)", "rollup", "DuckDB", "ordinary", "columnar", "vs DuckDB",
              "vs ord.", "vs col.");
  json.Key("dashboards");
  json.StartArray();
  bool all_agree = true;
  for (const Dashboard& dashboard : dashboards) {
    std::string expected, columnar_answer;  // expected: the ordinary table's answer
    const double plain_ms = 1000 * median_of(options.repetitions, [&] { expected = all_rows(plain, dashboard.raw); });
    const double columnar_ms = 1000 * median_of(options.repetitions, [&] { columnar_answer = all_rows(bare, dashboard.raw); });
    std::vector<double> duck_times;
    for (const auto& ms : duck["ms"][dashboard.name.c_str()].GetArray()) duck_times.push_back(ms.GetDouble());
    const double duck_ms = median(duck_times);
    const std::string duck_answer = duck["rows"][dashboard.name.c_str()].GetString();
    const bool raw_agree = columnar_answer == expected && duck_answer == expected;
    all_agree &= raw_agree;
    for (const auto& [which, sql] : dashboard.rollups) {
      std::string answer;
      const double rollup_ms = 1000 * median_of(options.repetitions, [&] { answer = all_rows(rolled, sql); });
      const bool agree = answer == expected;
      all_agree &= agree;
      const std::string label = dashboard.name + " (" + which + ")";
      std::printf("%-40s %10.2f %10.2f %10.1f %10.1f %8.1fx %8.1fx %8.1fx%s\n", label.c_str(), rollup_ms, duck_ms, plain_ms, columnar_ms,
                  duck_ms / rollup_ms, plain_ms / rollup_ms, columnar_ms / rollup_ms,
                  agree && raw_agree ? "" : "   ANSWERS DIFFER");
      json.StartObject();
      json.Key("name");
      json.String(label.c_str());
      json.Key("rollup_ms");
      json.Double(rollup_ms);
      json.Key("duckdb_ms");
      json.Double(duck_ms);
      json.Key("ordinary_ms");
      json.Double(plain_ms);
      json.Key("columnar_ms");
      json.Double(columnar_ms);
      json.Key("speedup_vs_duckdb");
      json.Double(duck_ms / rollup_ms);
      json.Key("speedup_vs_ordinary");
      json.Double(plain_ms / rollup_ms);
      json.Key("speedup_vs_columnar");
      json.Double(columnar_ms / rollup_ms);
      json.Key("answers_agree");
      json.Bool(agree && raw_agree);
      json.EndObject();
    }
  }
  json.EndArray();
  json.Key("rollup_rows");
  json.StartObject();
  json.Key("hourly");
  json.Int64(std::stoll(rolled.answer("SELECT count(*) FROM events_hourly")));
  json.Key("daily");
  json.Int64(std::stoll(rolled.answer("SELECT count(*) FROM events_daily")));
  json.EndObject();
  json.EndObject();
  std::ofstream(options.json_path) << json_buffer.GetString() << "\n";
  std::printf("\nrollup rows: %s hourly, %s daily; JSON in %s\n", rolled.answer("SELECT count(*) FROM events_hourly").c_str(),
              rolled.answer("SELECT count(*) FROM events_daily").c_str(), options.json_path.c_str());
  if (!all_agree) die("some answers differ from the ordinary table's");
  return 0;
}
