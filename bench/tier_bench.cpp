// tier_bench — tiering (docs/tiering.md) on workload W1 (shared/bench/w1-events.sql), in one run:
// a columnar table partitioned by day (partition_by='day_ms(ts)': W1's ts is unix milliseconds,
// 10M rows span 12 days), bloom='f_s2', with all but the newest day flushed to the tier, once on
// file: and once on s3rver (loopback, behind the strict SigV4 front).
//
//   per query q1–q7 of W1 and q8 (the newest day only): the time all hot, with a cold local
//     cache (emptied, new connection) and with a warm one (new connection), the requests and bytes
//     fetched with the cold cache, and for the full scans the bytes fetched against the
//     compressed size of the column chunks the query reads (from the footers kept hot). "All hot"
//     runs on a copy of the database taken before the flush, alternating with the warm runs, so
//     that each warm/hot pair is measured seconds apart: this host's speed drifts by up to 2x
//     over minutes, and a ratio of runs minutes apart shows the drift more than the tiering.
//   the database file before and after the flush (after VACUUM)
//   tier_flush of the 11 cold days against parquet_export of the same rows
//   tier_restore of one day against re-inserting its rows into a fresh columnar table
//
//   tier_bench [--rows N] [--repetitions N] [--dir DIR] [--json PATH] [--quick] [--no-s3]
//              [--extension PATH]
//
// Medians of the repetitions; ratios are what to read (these machines are noisy). Every answer
// is checked against the all-hot answer before it is timed.
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
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_database.h"
#include "codecs/parquet/parquet_reader.h"
#include "tests/unit/s3_test_server.h"

namespace {

using strata::bench::BenchDatabase;
using strata::bench::die;
using strata::bench::median;
using strata::bench::read_text;
using strata::bench::replace_all;
using strata::bench::seconds_of;

struct Options {
  long long rows = 10'000'000;
  int repetitions = 3;
  std::string directory;
  std::string json_path = "tier-bench.json";
  std::string extension_path = STRATA_EXTENSION_PATH;
  bool s3 = true;
};


long long file_bytes(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? -1 : static_cast<long long>(size);
}

// Every row of a query's result, as text, for comparing answers.
std::string all_rows(const BenchDatabase& db, const std::string& sql) {
  sqlite3_stmt* stmt = db.prepare(sql);
  std::string out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const unsigned char* text = sqlite3_column_text(stmt, c);
      out += text ? reinterpret_cast<const char*>(text) : "NULL";
      out += '|';
    }
    out += '\n';
  }
  if (rc != SQLITE_DONE) die(sql + ": " + sqlite3_errmsg(db.get()));
  sqlite3_finalize(stmt);
  return out;
}

struct Query {
  std::string name;
  std::string sql;
  std::vector<std::string> scanned_columns;  // full scans: the columns every chunk is read for
};

// W1's queries with their parameters, and q8: the newest day only.
std::vector<Query> w1_queries(long long rows, long long newest_day_ms) {
  const std::string script = read_text(STRATA_W1_SCRIPT);
  const long long lo = 1700000000000LL + (rows / 2) * 100;
  const long long hi = lo + (rows / 100) * 100 - 1;
  const long long id = rows / 2 + 17;
  std::vector<Query> queries;
  size_t at = 0;
  while ((at = script.find("\n-- q", at)) != std::string::npos) {
    const size_t end = script.find('\n', at + 1);
    const std::string line = script.substr(at + 4, end - at - 4);
    at = end;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string sql = line.substr(colon + 1);
    sql = sql.substr(0, sql.rfind(';'));
    sql = replace_all(sql, "@TABLE@", "events");
    sql = replace_all(sql, "LO", std::to_string(lo));
    sql = replace_all(sql, "HI", std::to_string(hi));
    sql = replace_all(sql, "= ID", "= " + std::to_string(id));
    queries.push_back({line.substr(0, colon), sql, {}});
  }
  if (queries.size() < 7) die("the W1 script has fewer than 7 queries");
  queries[1].scanned_columns = {"amount"};
  queries[2].scanned_columns = {"type", "amount"};
  queries[5].scanned_columns = {"user_id", "amount"};
  queries.push_back({"q8", "SELECT count(*), sum(amount) FROM events WHERE ts >= " + std::to_string(newest_day_ms), {}});
  return queries;
}

// The compressed bytes of `columns` over every row group of the table's live objects.
long long compressed_bytes(const BenchDatabase& db, const std::vector<std::string>& columns) {
  sqlite3_stmt* stmt = db.prepare("SELECT footer, size FROM events_objects WHERE state = 'live'");
  long long total = 0;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string_view footer(static_cast<const char*>(sqlite3_column_blob(stmt, 0)), static_cast<size_t>(sqlite3_column_bytes(stmt, 0)));
    auto reader = strata::parquet::FileReader::from_metadata(footer, static_cast<uint64_t>(sqlite3_column_int64(stmt, 1)));
    if (!reader.is_ok()) die("a footer does not parse: " + reader.status().message());
    for (size_t group = 0; group < reader->row_groups(); ++group) {
      for (const strata::parquet::Column& column : reader->columns()) {
        if (std::find(columns.begin(), columns.end(), column.name) == columns.end()) continue;
        for (size_t leaf : column.leaves) {
          auto range = reader->chunk_range(group, leaf);
          if (range.is_ok()) total += static_cast<long long>(range->length);
        }
      }
    }
  }
  sqlite3_finalize(stmt);
  return total;
}

struct QueryResult {
  std::string name;
  double hot_s = 0, cold_s = 0, warm_s = 0;
  double warm_vs_hot = 0;  // the median of each repetition's warm/hot pair
  long long requests = 0, bytes_fetched = 0, warm_requests = 0, needed_bytes = 0;
};

struct TierResult {
  std::string store;
  long long bytes_before = 0, bytes_after = 0, lake_bytes = 0;
  double flush_s = 0, export_s = 0, restore_s = 0, reinsert_s = 0;
  long long flushed = 0;
  std::vector<QueryResult> queries;
};

TierResult run_tier(const Options& options, const std::string& directory, const std::string& tier) {
  TierResult result;
  result.store = tier.substr(0, tier.find(':'));
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  const std::string path = directory + "/w1.db";
  const std::string cache = directory + "/cache";
  const std::string script = read_text(STRATA_W1_SCRIPT);
  const long long n = options.rows;
  auto db = std::make_unique<BenchDatabase>(path, options.extension_path);
  db->exec("PRAGMA journal_mode=WAL");
  db->exec("SELECT tier_cache('" + cache + "', '4 GiB')");
  const strata::bench::W1Statements w1 = strata::bench::w1_statements(script, "events", n);
  const std::string create = strata::bench::w1_columnar_create(w1, "events", ", partition_by='day_ms(ts)', bloom='f_s2', tier='" + tier + "'");
  const std::string& insert = w1.insert;
  std::fprintf(stderr, "%s: loading %lld rows…\n", result.store.c_str(), n);
  db->exec(create);
  db->exec(insert);
  db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db->exec("VACUUM");
  db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  result.bytes_before = file_bytes(path);
  const std::string newest = db->answer("SELECT max(partition) FROM tier_partitions WHERE tbl = 'events'");
  const long long newest_ms = std::stoll(db->answer("SELECT CAST(unixepoch('" + newest + "') AS INTEGER) * 1000"));
  const std::vector<Query> queries = w1_queries(n, newest_ms);
  std::map<std::string, std::string> answers;
  for (const Query& query : queries) {
    answers[query.name] = all_rows(*db, query.sql);
    result.queries.push_back({.name = query.name});
  }
  // The all-hot copy the warm runs are compared with.
  const std::string hot_path = directory + "/w1-hot.db";
  std::filesystem::copy_file(path, hot_path);
  // Each timed run on a new connection (its decoded-chunk cache empty, the table connected by a
  // trivial query first), so that hot, cold-cache and warm-cache runs start alike.
  auto connect = [&](const std::string& database) {
    db = std::make_unique<BenchDatabase>(database, options.extension_path);
    db->answer("SELECT count(*) FROM events WHERE rowid = 0");
  };

  // parquet_export of the rows tier_flush moves (every day but the newest).
  std::fprintf(stderr, "%s: parquet_export and tier_flush…\n", result.store.c_str());
  const std::string cold_rows = "SELECT * FROM events WHERE ts < " + std::to_string(newest_ms);
  std::vector<double> exports;
  for (int r = 0; r < options.repetitions; ++r) {
    exports.push_back(seconds_of([&] {
      db->answer("SELECT parquet_export('file:" + directory + "/export.parquet', '" + cold_rows + "')");
    }));
  }
  result.export_s = median(exports);
  std::filesystem::remove(directory + "/export.parquet");
  result.flush_s = seconds_of([&] { result.flushed = std::stoll(db->answer("SELECT tier_flush('events')")); });
  db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db->exec("VACUUM");
  db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  result.bytes_after = file_bytes(path);
  result.lake_bytes = std::stoll(db->answer("SELECT sum(size) FROM events_objects WHERE state = 'live'"));

  std::fprintf(stderr, "%s: queries with a cold and a warm cache…\n", result.store.c_str());
  const std::string counters = "SELECT coalesce(sum(requests), 0), coalesce(sum(bytes_fetched), 0) FROM tier_partitions WHERE tbl = 'events'";
  auto counted = [&](const BenchDatabase& on) {
    const std::string row = all_rows(on, counters);
    return std::pair<long long, long long>(std::stoll(row.substr(0, row.find('|'))), std::stoll(row.substr(row.find('|') + 1)));
  };
  for (size_t q = 0; q < queries.size(); ++q) {
    const Query& query = queries[q];
    QueryResult& timing = result.queries[q];
    std::vector<double> cold, warm, hot, warm_vs_hot;
    for (int r = 0; r < options.repetitions; ++r) {
      std::filesystem::remove_all(cache);
      connect(path);
      std::string answer;
      cold.push_back(seconds_of([&] { answer = all_rows(*db, query.sql); }));
      if (answer != answers[query.name]) die(query.name + " cold: " + answer + " instead of " + answers[query.name]);
      const auto [requests, bytes] = counted(*db);
      timing.requests = requests;
      timing.bytes_fetched = bytes;
      connect(hot_path);
      hot.push_back(seconds_of([&] { answer = all_rows(*db, query.sql); }));
      if (answer != answers[query.name]) die(query.name + " hot: wrong answer");
      connect(path);
      warm.push_back(seconds_of([&] { answer = all_rows(*db, query.sql); }));
      if (answer != answers[query.name]) die(query.name + " warm: wrong answer");
      timing.warm_requests = counted(*db).first;
      warm_vs_hot.push_back(warm.back() / hot.back());
    }
    timing.hot_s = median(hot);
    timing.warm_vs_hot = median(warm_vs_hot);
    timing.cold_s = median(cold);
    timing.warm_s = median(warm);
    if (!query.scanned_columns.empty()) timing.needed_bytes = compressed_bytes(*db, query.scanned_columns);
  }

  // tier_restore of one cold day against re-inserting its rows into a fresh columnar table.
  std::fprintf(stderr, "%s: tier_restore…\n", result.store.c_str());
  const std::string day = db->answer("SELECT min(partition) FROM tier_partitions WHERE tbl = 'events' AND tier = 'cold'");
  const std::string day_ms = std::to_string(std::stoll(db->answer("SELECT CAST(unixepoch('" + day + "') AS INTEGER) * 1000")));
  const std::string day_rows = "SELECT * FROM events WHERE ts >= " + day_ms + " AND ts < " + day_ms + " + 86400000";
  db->exec("CREATE TEMP TABLE day_copy AS " + day_rows);
  db->exec(replace_all(create.substr(0, create.find(", partition_by")) + ")", "VIRTUAL TABLE events", "VIRTUAL TABLE reinserted"));
  result.reinsert_s = seconds_of([&] { db->exec("INSERT INTO reinserted SELECT * FROM temp.day_copy"); });
  result.restore_s = seconds_of([&] { db->answer("SELECT tier_restore('events', '" + day + "')"); });
  if (all_rows(*db, "SELECT count(*), sum(amount) FROM events WHERE ts >= " + day_ms + " AND ts < " + day_ms + " + 86400000") !=
      all_rows(*db, "SELECT count(*), sum(amount) FROM reinserted")) {
    die("the restored day differs from its rows");
  }
  return result;
}

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(argument + " needs a value");
      return argv[++i];
    };
    if (argument == "--rows") options.rows = std::stoll(value());
    else if (argument == "--repetitions") options.repetitions = std::stoi(value());
    else if (argument == "--dir") options.directory = value();
    else if (argument == "--json") options.json_path = value();
    else if (argument == "--quick") options.rows = 200000, options.repetitions = 1;
    else if (argument == "--no-s3") options.s3 = false;
    else if (argument == "--extension") options.extension_path = value();
    else die("unknown argument " + argument + " (--rows N --repetitions N --dir DIR --json PATH --quick --no-s3 --extension PATH)");
  }
  if (options.directory.empty()) {
    options.directory = (std::filesystem::temp_directory_path() / ("tier_bench_" + std::to_string(::getpid()))).string();
  }
  std::vector<TierResult> results;
  results.push_back(run_tier(options, options.directory + "/file", "file:lake"));
  std::unique_ptr<strata::testing::S3TestServer> server;
  if (options.s3) {
    server = std::make_unique<strata::testing::S3TestServer>(options.directory + "/s3server");
    if (!server->problem().empty()) die(server->problem());
    strata::testing::ScopedAwsEnvironment environment(*server);
    results.push_back(run_tier(options, options.directory + "/s3", "s3://strata-test/lake"));
  }

  const double mib = 1024.0 * 1024.0;
  rapidjson::StringBuffer json;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> out(json);
  out.StartObject();
  out.Key("workload");
  out.String("w1-tiered");
  out.Key("rows");
  out.Int64(options.rows);
  out.Key("repetitions");
  out.Int(options.repetitions);
  out.Key("stores");
  out.StartArray();
  for (const TierResult& result : results) {
    std::printf("\nW1 %lld rows, day partitions, all but the newest flushed to %s (medians of %d)\n", options.rows,
                result.store.c_str(), options.repetitions);
    std::printf("  database %.1f MiB before, %.1f MiB after the flush: %.1fx smaller (target >= 10x); lake %.1f MiB\n",
                result.bytes_before / mib, result.bytes_after / mib, double(result.bytes_before) / double(result.bytes_after),
                result.lake_bytes / mib);
    std::printf("  tier_flush %.2f s, parquet_export of the same rows %.2f s: %.2fx its speed (target >= 0.7x)\n", result.flush_s,
                result.export_s, result.export_s / result.flush_s);
    std::printf("  tier_restore of a day %.3f s, re-inserting its rows %.3f s: %.2fx its speed (target >= 0.7x)\n",
                result.restore_s, result.reinsert_s, result.reinsert_s / result.restore_s);
    std::printf("  %-4s %10s %10s %10s %9s %9s %10s %12s %14s\n", "", "hot s", "cold s", "warm s", "warm/hot", "requests",
                "MiB", "warm reqs", "fetched/needed");
    for (const QueryResult& q : result.queries) {
      std::printf("  %-4s %10.3f %10.3f %10.3f %9.2f %9lld %10.2f %12lld %14s\n", q.name.c_str(), q.hot_s, q.cold_s, q.warm_s,
                  q.warm_vs_hot, q.requests, q.bytes_fetched / mib, q.warm_requests,
                  q.needed_bytes > 0 ? fixed(double(q.bytes_fetched) / double(q.needed_bytes), 3).c_str() : "");
    }
    out.StartObject();
    auto number = [&](const char* key, double value) {
      out.Key(key);
      out.Double(value);
    };
    out.Key("store");
    out.String(result.store.c_str());
    number("database_bytes_before", double(result.bytes_before));
    number("database_bytes_after", double(result.bytes_after));
    number("database_shrink", double(result.bytes_before) / double(result.bytes_after));
    number("lake_bytes", double(result.lake_bytes));
    number("partitions_flushed", double(result.flushed));
    number("tier_flush_s", result.flush_s);
    number("parquet_export_s", result.export_s);
    number("flush_speed_vs_export", result.export_s / result.flush_s);
    number("tier_restore_s", result.restore_s);
    number("reinsert_s", result.reinsert_s);
    number("restore_speed_vs_reinsert", result.reinsert_s / result.restore_s);
    out.Key("queries");
    out.StartArray();
    for (const QueryResult& q : result.queries) {
      out.StartObject();
      out.Key("query");
      out.String(q.name.c_str());
      number("hot_s", q.hot_s);
      number("cold_cache_s", q.cold_s);
      number("warm_cache_s", q.warm_s);
      number("warm_vs_hot", q.warm_vs_hot);  // median of the pairs

      number("requests", double(q.requests));
      number("bytes_fetched", double(q.bytes_fetched));
      number("warm_requests", double(q.warm_requests));
      if (q.needed_bytes > 0) number("fetched_vs_needed", double(q.bytes_fetched) / double(q.needed_bytes));
      out.EndObject();
    }
    out.EndArray();
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  std::ofstream(options.json_path) << json.GetString() << "\n";
  std::printf("%s\n", json.GetString());
  return 0;
}
