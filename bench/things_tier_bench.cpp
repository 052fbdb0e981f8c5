// things_tier_bench — tiering of a things table (docs/tiering.md, "things tables") on the graph
// bench's data, in one run: N things (default 1,000,000) with the graph bench's JSON data, created
// over the last 24 months, and the graph bench's scale-free relationships (10 per thing), in a
// things table with tier= and hot_months=3 (all but the newest 3 months flushed), once on file:
// and once on s3rver (loopback, behind the strict SigV4 front).
//
//   the database file before and after the flush (after VACUUM), whole and its things part
//   tier_flush in things moved per second
//   a lookup by id of a cold thing's data (SELECT data FROM kb WHERE id = ?): the same things
//     before the flush (hot), then with a cold local cache (emptied, new connection) and a warm
//     one (new connection), with the requests each made
//   2-hop graph_traverse before and after the flush (the edges stay hot)
//
//   things_tier_bench [--things N] [--edges-per-thing M] [--lookups N] [--starts N] [--dir DIR]
//                     [--json PATH] [--no-s3] [--extension PATH]
//
// Medians; ratios are what to read (these machines are noisy). Every cold answer is checked
// against the thing's data.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_database.h"
#include "bench/graph_data.h"
#include "tests/unit/s3_test_server.h"

namespace {

using strata::bench::die;
using Database = strata::bench::BenchDatabase;
using strata::bench::median;
using strata::bench::seconds_of;
using namespace strata::bench::graph;

struct Options {
  size_t things = 1000000;
  size_t edges_per_thing = 10;
  size_t lookups = 500;
  size_t starts = 1000;
  int months = 24;
  std::string directory;
  std::string json_path = "things-tier-bench-results.json";
  bool s3 = true;
  std::string extension_path = STRATA_EXTENSION_PATH;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + argument);
      return argv[++i];
    };
    if (argument == "--things") options.things = std::stoul(value());
    else if (argument == "--edges-per-thing") options.edges_per_thing = std::stoul(value());
    else if (argument == "--lookups") options.lookups = std::stoul(value());
    else if (argument == "--starts") options.starts = std::stoul(value());
    else if (argument == "--dir") options.directory = value();
    else if (argument == "--json") options.json_path = value();
    else if (argument == "--no-s3") options.s3 = false;
    else if (argument == "--extension") options.extension_path = value();
    else die("unknown argument " + argument + " (--things N --edges-per-thing M --lookups N --starts N --dir DIR --json PATH --no-s3 --extension PATH)");
  }
  if (options.directory.empty()) {
    options.directory = (std::filesystem::temp_directory_path() / ("things_tier_bench_" + std::to_string(::getpid()))).string();
  }
  return options;
}

struct Result {
  std::string store;
  double bytes_before = 0, bytes_after = 0;
  double things_bytes_before = 0, things_bytes_after = 0;  // kb_things and its indexes (dbstat)
  double flushed_things = 0, flush_s = 0;
  double partitions = 0;
  double hot_lookup_us = 0, cold_lookup_us = 0, warm_lookup_us = 0;
  double cold_requests_per_lookup = 0, warm_requests = 0;
  double traverse_before_us = 0, traverse_after_us = 0;
};

double database_bytes(const Database& db) {
  return std::stod(db.answer("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"));
}

// kb_things, its indexes and the things index's: what tiering shrinks (the edges stay).
double things_bytes(const Database& db) {
  return std::stod(db.answer("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema"
                             " WHERE tbl_name IN ('kb_things', 'kb_cold_paths')) OR name IN ('kb_things', 'kb_cold_paths')"));
}

// Median µs of `sql` (one text argument) over `arguments`, each answer checked by `check`.
double median_us(const Database& db, const std::string& sql, const std::vector<std::string>& arguments,
                 const std::function<void(size_t, const std::string&)>& check) {
  sqlite3_stmt* statement = db.prepare(sql);
  std::vector<double> times;
  for (size_t a = 0; a < arguments.size(); ++a) {
    std::string first;
    size_t rows = 0;
    times.push_back(seconds_of([&] {
      sqlite3_bind_text(statement, 1, arguments[a].data(), static_cast<int>(arguments[a].size()), SQLITE_TRANSIENT);
      int rc;
      while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        if (rows++ == 0) {
          const unsigned char* text = sqlite3_column_text(statement, 0);
          first = text ? reinterpret_cast<const char*>(text) : "NULL";
        }
      }
      if (rc != SQLITE_DONE) die(sql + ": " + sqlite3_errmsg(db.get()));
      sqlite3_reset(statement);
    }) * 1e6);
    check(a, first + "#" + std::to_string(rows));
  }
  sqlite3_finalize(statement);
  return median(times);
}

Result run(const Options& options, const std::string& directory, const std::string& tier, const std::vector<Edge>& edges,
           const std::string& store) {
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  const std::string path = directory + "/kb.db";
  Result result;
  result.store = store;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t span_ms = static_cast<int64_t>(options.months) * 30 * 86'400'000LL;
  auto created_at = [&](uint32_t i) { return now_ms - span_ms + span_ms / static_cast<int64_t>(options.things) * i; };
  {
    Database db(path, options.extension_path);
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-1048576");
    db.exec("CREATE VIRTUAL TABLE kb USING things(tier='" + tier + "', hot_months=3);"
            "CREATE VIRTUAL TABLE kb_rel USING relationships(things=kb)");
    std::printf("%s: loading %zu things and %zu relationships ...\n", store.c_str(), options.things, edges.size());
    std::fflush(stdout);
    load_graph(db, "kb", "kb_rel", options.things, edges, created_at);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE); VACUUM");
    result.bytes_before = database_bytes(db);
    result.things_bytes_before = things_bytes(db);
  }
  // The things the lookups ask for: old enough to be cold after the flush.
  std::mt19937 random(7);
  std::vector<std::string> ids, starts;
  std::vector<std::string> expected;
  const size_t cold_things = static_cast<size_t>(static_cast<double>(options.things) * (options.months - 4) / options.months);
  // Spread evenly over the cold things, in random order, so that nearly every lookup needs
  // another row group (1,024 things of one type and month): a cold read each, not a decoded group
  // held from the lookup before.
  const size_t spacing = std::max<size_t>(1, cold_things / std::max<size_t>(1, options.lookups));
  std::vector<uint32_t> picked;
  for (size_t q = 0; q < options.lookups; ++q) picked.push_back(static_cast<uint32_t>(std::min(cold_things - 1, q * spacing + random() % (spacing / 4 + 1))));
  std::shuffle(picked.begin(), picked.end(), random);
  for (uint32_t i : picked) {
    ids.push_back(thing_id(i));
    expected.push_back(thing_data(i) + "#1");
  }
  for (size_t q = 0; q < options.starts; ++q) starts.push_back(thing_id(static_cast<uint32_t>(random() % options.things)));
  auto check_lookup = [&](size_t a, const std::string& answer) {
    if (answer != expected[a]) die("lookup of " + ids[a] + " answered " + answer + ", not " + expected[a]);
  };
  const std::string lookup = "SELECT data FROM kb WHERE id = ?1";
  const std::string traverse = "SELECT count(*) FROM graph_traverse('kb_rel', ?1, 2)";
  std::vector<std::string> traversal_counts(options.starts);
  {
    Database db(path, options.extension_path);
    (void)median_us(db, traverse, {starts.front()}, [](size_t, const std::string&) {});  // builds the adjacency
    result.traverse_before_us = median_us(db, traverse, starts, [&](size_t a, const std::string& answer) { traversal_counts[a] = answer; });
    result.hot_lookup_us = median_us(db, lookup, ids, check_lookup);
    result.flushed_things = std::stod(db.answer("SELECT count(*) FROM kb_things"));
    result.flush_s = seconds_of([&] { result.partitions = std::stod(db.answer("SELECT tier_flush('kb')")); });
    result.flushed_things = std::stod(db.answer("SELECT count(*) FROM kb_things WHERE cold_object IS NOT NULL"));
    db.exec("PRAGMA wal_checkpoint(TRUNCATE); VACUUM");
    result.bytes_after = database_bytes(db);
    result.things_bytes_after = things_bytes(db);
  }
  auto requests = [&](const Database& db) { return std::stod(db.answer("SELECT coalesce(sum(requests), 0) FROM tier_partitions WHERE tbl = 'kb'")); };
  {
    std::filesystem::remove_all(path + "-tiercache");
    Database db(path, options.extension_path);
    result.cold_lookup_us = median_us(db, lookup, ids, check_lookup);
    result.cold_requests_per_lookup = requests(db) / static_cast<double>(ids.size());
  }
  {
    Database db(path, options.extension_path);
    result.warm_lookup_us = median_us(db, lookup, ids, check_lookup);
    result.warm_requests = requests(db);
    (void)median_us(db, traverse, {starts.front()}, [](size_t, const std::string&) {});
    result.traverse_after_us = median_us(db, traverse, starts, [&](size_t a, const std::string& answer) {
      if (answer != traversal_counts[a]) die("traversal from " + starts[a] + " changed after the flush");
    });
    if (requests(db) != result.warm_requests) die("a traversal made a request");
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  std::printf("generating a scale-free graph: %zu things, %zu links each ...\n", options.things, options.edges_per_thing);
  const std::vector<Edge> edges = scale_free_graph(options.things, options.edges_per_thing, 42);
  std::vector<Result> results;
  results.push_back(run(options, options.directory + "/file", "file:lake", edges, "file"));
  std::unique_ptr<strata::testing::S3TestServer> server;
  if (options.s3) {
    server = std::make_unique<strata::testing::S3TestServer>(options.directory + "/s3server");
    if (!server->problem().empty()) die(server->problem());
    strata::testing::ScopedAwsEnvironment environment(*server);
    results.push_back(run(options, options.directory + "/s3", "s3://strata-test/lake", edges, "s3"));
  }

  const double mib = 1024.0 * 1024.0;
  std::printf("\n%zu things, %zu relationships, created over %d months; hot_months=3\n", options.things, edges.size(), options.months);
  std::printf("%-5s %12s %12s %7s %14s %14s %7s %12s %11s %11s %11s %9s %11s %11s %7s\n", "store", "db before", "db after", "shrink",
              "things before", "things after", "shrink", "flush th/s", "hot us", "cold us", "warm us", "GET/cold", "trav2 us",
              "after us", "ratio");
  for (const Result& r : results) {
    std::printf("%-5s %9.1f MiB %9.1f MiB %6.2fx %10.1f MiB %10.1f MiB %6.2fx %12.0f %11.1f %11.1f %11.1f %9.3f %11.1f %11.1f %6.2fx\n",
                r.store.c_str(), r.bytes_before / mib, r.bytes_after / mib, r.bytes_before / r.bytes_after, r.things_bytes_before / mib,
                r.things_bytes_after / mib, r.things_bytes_before / r.things_bytes_after, r.flushed_things / r.flush_s, r.hot_lookup_us,
                r.cold_lookup_us, r.warm_lookup_us, r.cold_requests_per_lookup, r.traverse_before_us, r.traverse_after_us,
                r.traverse_after_us / r.traverse_before_us);
  }

  rapidjson::StringBuffer json;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> out(json);
  out.StartObject();
  out.Key("workload");
  out.String("things-tiered");
  out.Key("things");
  out.Uint64(options.things);
  out.Key("relationships");
  out.Uint64(edges.size());
  out.Key("months");
  out.Int(options.months);
  out.Key("lookups");
  out.Uint64(options.lookups);
  out.Key("stores");
  out.StartArray();
  for (const Result& r : results) {
    out.StartObject();
    auto number = [&](const char* key, double value) {
      out.Key(key);
      out.Double(value);
    };
    out.Key("store");
    out.String(r.store.c_str());
    number("database_bytes_before", r.bytes_before);
    number("database_bytes_after", r.bytes_after);
    number("database_shrink", r.bytes_before / r.bytes_after);
    number("things_bytes_before", r.things_bytes_before);
    number("things_bytes_after", r.things_bytes_after);
    number("things_shrink", r.things_bytes_before / r.things_bytes_after);
    number("partitions_flushed", r.partitions);
    number("things_flushed", r.flushed_things);
    number("tier_flush_s", r.flush_s);
    number("flush_things_per_s", r.flushed_things / r.flush_s);
    number("hot_lookup_us", r.hot_lookup_us);
    number("cold_cache_lookup_us", r.cold_lookup_us);
    number("warm_cache_lookup_us", r.warm_lookup_us);
    number("requests_per_cold_cache_lookup", r.cold_requests_per_lookup);
    number("warm_cache_requests", r.warm_requests);
    number("traverse_2hop_before_us", r.traverse_before_us);
    number("traverse_2hop_after_us", r.traverse_after_us);
    number("traverse_after_vs_before", r.traverse_after_us / r.traverse_before_us);
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  std::ofstream(options.json_path) << json.GetString() << "\n";
  std::printf("\nJSON: %s\n", options.json_path.c_str());
  return 0;
}
