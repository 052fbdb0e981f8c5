// graph_bench — things/relationships and the graph functions against the same data in ordinary
// SQLite tables queried with recursive CTEs, in one run. Prints a table plus JSON.
//
//   graph_bench [--quick] [--things N] [--edges-per-thing M] [--starts N] [--cte-starts N]
//               [--json PATH] [--dir DIR] [--extension PATH]
//
// Data: a deterministic scale-free graph grown by preferential attachment — each new thing links
// to M (default 10) earlier ones chosen with probability proportional to their degree, each link
// of one of 3 types — 1,000,000 things with JSON data and 10,000,000 relationships
// (--quick: 100,000 / 1,000,000).
// Baseline: ordinary tables (id TEXT PRIMARY KEY things with a type index; relationships with
// UNIQUE (from_id, to_id, type) and an index on (to_id, type)), the same PRAGMAs.
// Reported: insert rates (one transaction each); bytes per thing; 1-, 2- and 3-hop traversal
// (out, all types) and shortest path (out, to a node known reachable within 4 hops), as the
// median over random starts for both sides and the ratio; JSON-path lookup with and without
// things_index (and the ordinary table with an expression index).
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_database.h"
#include "bench/graph_data.h"

namespace {

using strata::bench::die;
using Database = strata::bench::BenchDatabase;
using namespace strata::bench::graph;
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Options {
  bool quick = false;
  size_t things = 0;
  size_t edges_per_thing = 10;
  size_t starts = 1000;
  size_t cte_starts = 0;
  std::string json_path = "graph-bench-results.json";
  std::string directory;
  std::string extension_path = STRATA_EXTENSION_PATH;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + argument);
      return argv[++i];
    };
    if (argument == "--quick") options.quick = true;
    else if (argument == "--things") options.things = std::stoul(value());
    else if (argument == "--edges-per-thing") options.edges_per_thing = std::stoul(value());
    else if (argument == "--starts") options.starts = std::stoul(value());
    else if (argument == "--cte-starts") options.cte_starts = std::stoul(value());
    else if (argument == "--json") options.json_path = value();
    else if (argument == "--dir") options.directory = value();
    else if (argument == "--extension") options.extension_path = value();
    else die("unknown argument " + argument);
  }
  if (options.things == 0) options.things = options.quick ? 100000 : 1000000;
  if (options.cte_starts == 0) options.cte_starts = options.starts;
  if (options.directory.empty()) options.directory = std::filesystem::temp_directory_path() / "strata-graph-bench";
  return options;
}

// The graph bench's timestamps: 1700000000000 + i.
int64_t fixed_created_at(uint32_t i) { return 1700000000000 + i; }

struct Timing {
  double median_us = 0;
  double rows = 0;  // mean rows per query
};

// Runs `stmt` once per argument list and returns the median time and the mean row count.
Timing time_queries(const Database& db, sqlite3_stmt* stmt, const std::vector<std::vector<std::string>>& arguments, std::vector<size_t>* counts) {
  std::vector<double> times;
  double rows = 0;
  for (const auto& args : arguments) {
    auto start = Clock::now();
    for (size_t i = 0; i < args.size(); ++i) {
      if (!args[i].empty() && args[i][0] == '#') {
        sqlite3_bind_int64(stmt, static_cast<int>(i) + 1, std::stoll(args[i].substr(1)));
      } else {
        bind_text(stmt, static_cast<int>(i) + 1, args[i]);
      }
    }
    size_t count = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) ++count;
    if (rc != SQLITE_DONE) die(std::string("query: ") + sqlite3_errmsg(db.get()));
    sqlite3_reset(stmt);
    times.push_back(seconds_since(start) * 1e6);
    rows += static_cast<double>(count);
    if (counts) counts->push_back(count);
  }
  std::sort(times.begin(), times.end());
  return {times.empty() ? 0 : times[times.size() / 2], arguments.empty() ? 0 : rows / static_cast<double>(arguments.size())};
}

struct Comparison {
  std::string name;
  Timing strata;
  Timing baseline;
  size_t strata_queries = 0;
  size_t baseline_queries = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  std::filesystem::remove_all(options.directory);
  std::filesystem::create_directories(options.directory);
  const std::string strata_path = options.directory + "/strata.db";
  const std::string plain_path = options.directory + "/plain.db";
  const size_t things = options.things;

  std::printf("generating a scale-free graph: %zu things, %zu links each ...\n", things, options.edges_per_thing);
  std::vector<Edge> edges = scale_free_graph(things, options.edges_per_thing, 42);

  Database strata(strata_path, options.extension_path);
  Database plain(plain_path, options.extension_path);
  for (const Database* db : {&strata, &plain}) db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-1048576");
  strata.exec("CREATE VIRTUAL TABLE kb USING things; CREATE VIRTUAL TABLE kb_rel USING relationships(things=kb)");
  plain.exec(
      "CREATE TABLE things(id TEXT PRIMARY KEY, type TEXT NOT NULL, data JSON, embedding BLOB, created_at INTEGER, updated_at INTEGER);"
      "CREATE INDEX things_type ON things(type);"
      "CREATE TABLE relationships(id TEXT PRIMARY KEY, from_id TEXT NOT NULL REFERENCES things(id), to_id TEXT NOT NULL REFERENCES things(id),"
      " type TEXT NOT NULL, data JSON, created_at INTEGER, UNIQUE (from_id, to_id, type));"
      "CREATE INDEX relationships_to ON relationships(to_id, type);");

  std::printf("loading ...\n");
  auto [strata_things_s, strata_edges_s] = load_graph(strata, "kb", "kb_rel", things, edges, fixed_created_at);
  strata.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  auto [plain_things_s, plain_edges_s] = load_graph(plain, "things", "relationships", things, edges, fixed_created_at);
  plain.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  auto bytes = [](const Database& db) { return std::stod(db.answer("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")); };
  double strata_bytes = bytes(strata), plain_bytes = bytes(plain);
  auto thing_bytes = [](const Database& db, const std::string& like) {
    return std::stod(db.answer("SELECT sum(pgsize) FROM dbstat WHERE name LIKE '" + like + "'"));
  };
  double strata_thing_bytes = thing_bytes(strata, "kb_things") + thing_bytes(strata, "sqlite_autoindex_kb_things%");
  double plain_thing_bytes = thing_bytes(plain, "things") + thing_bytes(plain, "things_type") + thing_bytes(plain, "sqlite_autoindex_things%");

  // Random starts; the first query builds the adjacency (timed on its own).
  std::mt19937_64 random(7);
  std::vector<std::string> starts;
  for (size_t i = 0; i < options.starts; ++i) starts.push_back(thing_id(static_cast<uint32_t>(random() % things)));
  auto first = Clock::now();
  strata.answer("SELECT count(*) FROM graph_traverse('kb_rel', 'u0', 0)");
  double build_seconds = seconds_since(first);

  std::vector<Comparison> comparisons;
  sqlite3_stmt* traverse = strata.prepare("SELECT node, depth FROM graph_traverse('kb_rel', ?1, ?2, NULL, 'out')");
  sqlite3_stmt* cte = plain.prepare(
      "WITH RECURSIVE r(node, depth) AS (SELECT ?1, 0 UNION SELECT e.to_id, r.depth + 1 FROM r JOIN relationships e ON e.from_id = r.node"
      " WHERE r.depth < ?2) SELECT node, min(depth) FROM r GROUP BY node");
  for (int hops = 1; hops <= 3; ++hops) {
    std::vector<std::vector<std::string>> arguments;
    for (const std::string& start : starts) arguments.push_back({start, numbered("#", hops)});
    std::vector<std::vector<std::string>> cte_arguments(arguments.begin(), arguments.begin() + std::min(arguments.size(), options.cte_starts));
    std::vector<size_t> strata_counts, plain_counts;
    Comparison comparison{std::to_string(hops) + "-hop traversal (out)", time_queries(strata, traverse, arguments, &strata_counts),
                          time_queries(plain, cte, cte_arguments, &plain_counts), arguments.size(), cte_arguments.size()};
    for (size_t i = 0; i < plain_counts.size(); ++i) {
      if (plain_counts[i] != strata_counts[i]) die("traversal answers differ for " + starts[i]);
    }
    comparisons.push_back(comparison);
  }
  {
    sqlite3_stmt* neighbors = strata.prepare("SELECT node FROM graph_neighbors('kb_rel', ?1, NULL, 'out')");
    sqlite3_stmt* plain_neighbors = plain.prepare("SELECT to_id FROM relationships WHERE from_id = ?1");
    std::vector<std::vector<std::string>> arguments;
    for (const std::string& start : starts) arguments.push_back({start});
    comparisons.push_back({"1-hop graph_neighbors (out)", time_queries(strata, neighbors, arguments, nullptr),
                           time_queries(plain, plain_neighbors, arguments, nullptr), arguments.size(), arguments.size()});
    sqlite3_finalize(neighbors);
    sqlite3_finalize(plain_neighbors);
  }
  {
    // Shortest path to a node reachable within 4 hops out (found with the traversal).
    std::vector<std::vector<std::string>> strata_arguments, cte_arguments;
    for (const std::string& start : starts) {
      sqlite3_stmt* reach = strata.prepare("SELECT node, depth FROM graph_traverse('kb_rel', ?1, 4, NULL, 'out') WHERE depth > 0");
      bind_text(reach, 1, start);
      std::vector<std::pair<std::string, int>> reached;
      while (sqlite3_step(reach) == SQLITE_ROW) {
        reached.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(reach, 0)), sqlite3_column_int(reach, 1));
      }
      sqlite3_finalize(reach);
      if (reached.empty()) continue;
      auto [target, depth] = reached[random() % reached.size()];
      strata_arguments.push_back({start, target});
      if (cte_arguments.size() < options.cte_starts) cte_arguments.push_back({start, target, numbered("#", depth)});
    }
    sqlite3_stmt* path = strata.prepare("SELECT step, node FROM graph_shortest_path('kb_rel', ?1, ?2, NULL, 'out')");
    // The CTE is told the depth to stop at (the best case for it: it cannot stop at the target).
    sqlite3_stmt* path_cte = plain.prepare(
        "WITH RECURSIVE r(node, depth) AS (SELECT ?1, 0 UNION SELECT e.to_id, r.depth + 1 FROM r JOIN relationships e ON e.from_id = r.node"
        " WHERE r.depth < ?3) SELECT min(depth) FROM r WHERE node = ?2");
    comparisons.push_back({"shortest path (out, reachable)", time_queries(strata, path, strata_arguments, nullptr),
                           time_queries(plain, path_cte, cte_arguments, nullptr), strata_arguments.size(), cte_arguments.size()});
    sqlite3_finalize(path);
    sqlite3_finalize(path_cte);
  }

  // JSON-path lookups of random emails.
  std::vector<std::vector<std::string>> emails;
  for (size_t i = 0; i < options.starts; ++i) emails.push_back({numbered("user", random() % things, "@example.com")});
  std::vector<std::vector<std::string>> few(emails.begin(), emails.begin() + std::min<size_t>(5, emails.size()));
  sqlite3_stmt* scan = strata.prepare("SELECT id FROM kb WHERE json_extract(data, '$.email') = ?1");
  Timing strata_unindexed = time_queries(strata, scan, few, nullptr);
  auto index_start = Clock::now();
  strata.exec("SELECT things_index('kb', '$.email')");
  double index_seconds = seconds_since(index_start);
  sqlite3_stmt* lookup = strata.prepare("SELECT id FROM kb WHERE json_path = '$.email' AND json_value = ?1");
  Timing strata_indexed = time_queries(strata, lookup, emails, nullptr);
  sqlite3_stmt* plain_scan = plain.prepare("SELECT id FROM things WHERE json_extract(data, '$.email') = ?1");
  Timing plain_unindexed = time_queries(plain, plain_scan, few, nullptr);
  plain.exec("CREATE INDEX things_email ON things(json_extract(data, '$.email'))");
  Timing plain_indexed = time_queries(plain, plain_scan, emails, nullptr);

  const double e = static_cast<double>(edges.size());
  const double n = static_cast<double>(things);
  std::printf("\ngraph: %zu things, %zu relationships (3 types), %zu starts (CTE: %zu)\n\n", things, edges.size(), starts.size(),
              std::min(starts.size(), options.cte_starts));
  std::printf("insert things          strata %9.0f /s   ordinary %9.0f /s   ratio %.2f\n", n / strata_things_s, n / plain_things_s,
              plain_things_s / strata_things_s);
  std::printf("insert relationships   strata %9.0f /s   ordinary %9.0f /s   ratio %.2f\n", e / strata_edges_s, e / plain_edges_s,
              plain_edges_s / strata_edges_s);
  std::printf("bytes per thing        strata %9.0f      ordinary %9.0f\n", strata_thing_bytes / n, plain_thing_bytes / n);
  std::printf("database               strata %9.1f MiB  ordinary %9.1f MiB\n", strata_bytes / 1048576, plain_bytes / 1048576);
  std::printf("adjacency build (first graph query): %.2f s\n\n", build_seconds);
  std::printf("%-34s %14s %14s %10s %9s\n", "query (median)", "strata us", "CTE/SQL us", "faster by", "rows");
  for (const Comparison& c : comparisons) {
    std::printf("%-34s %14.1f %14.1f %9.1fx %9.1f\n", c.name.c_str(), c.strata.median_us, c.baseline.median_us,
                c.baseline.median_us / c.strata.median_us, c.strata.rows);
  }
  std::printf("\nJSON path lookup ($.email = ?), median us:\n");
  std::printf("  strata without things_index %12.1f   with %8.1f   (index built in %.2f s)\n", strata_unindexed.median_us,
              strata_indexed.median_us, index_seconds);
  std::printf("  ordinary table without index %11.1f   with %8.1f\n", plain_unindexed.median_us, plain_indexed.median_us);

  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> json(buffer);
  json.StartObject();
  json.Key("things"); json.Uint64(things);
  json.Key("relationships"); json.Uint64(edges.size());
  json.Key("insert_things_per_s"); json.StartObject();
  json.Key("strata"); json.Double(n / strata_things_s); json.Key("ordinary"); json.Double(n / plain_things_s);
  json.Key("ratio"); json.Double(plain_things_s / strata_things_s); json.EndObject();
  json.Key("insert_relationships_per_s"); json.StartObject();
  json.Key("strata"); json.Double(e / strata_edges_s); json.Key("ordinary"); json.Double(e / plain_edges_s);
  json.Key("ratio"); json.Double(plain_edges_s / strata_edges_s); json.EndObject();
  json.Key("bytes_per_thing"); json.StartObject();
  json.Key("strata"); json.Double(strata_thing_bytes / n); json.Key("ordinary"); json.Double(plain_thing_bytes / n); json.EndObject();
  json.Key("database_bytes"); json.StartObject();
  json.Key("strata"); json.Double(strata_bytes); json.Key("ordinary"); json.Double(plain_bytes); json.EndObject();
  json.Key("adjacency_build_s"); json.Double(build_seconds);
  json.Key("queries"); json.StartArray();
  for (const Comparison& c : comparisons) {
    json.StartObject();
    json.Key("name"); json.String(c.name.c_str());
    json.Key("strata_median_us"); json.Double(c.strata.median_us);
    json.Key("baseline_median_us"); json.Double(c.baseline.median_us);
    json.Key("faster_by"); json.Double(c.baseline.median_us / c.strata.median_us);
    json.Key("mean_rows"); json.Double(c.strata.rows);
    json.Key("strata_queries"); json.Uint64(c.strata_queries);
    json.Key("baseline_queries"); json.Uint64(c.baseline_queries);
    json.EndObject();
  }
  json.EndArray();
  json.Key("json_path_lookup_us"); json.StartObject();
  json.Key("strata_without_index"); json.Double(strata_unindexed.median_us);
  json.Key("strata_with_things_index"); json.Double(strata_indexed.median_us);
  json.Key("ordinary_without_index"); json.Double(plain_unindexed.median_us);
  json.Key("ordinary_with_index"); json.Double(plain_indexed.median_us);
  json.Key("things_index_build_s"); json.Double(index_seconds);
  json.EndObject();
  json.EndObject();
  std::ofstream(options.json_path) << buffer.GetString() << "\n";
  std::printf("\nJSON written to %s\n", options.json_path.c_str());
  for (sqlite3_stmt* stmt : {traverse, cte, scan, lookup, plain_scan}) sqlite3_finalize(stmt);
  return 0;
}
