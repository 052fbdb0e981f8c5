// vector_bench — the hnsw table against hnswlib (the same data, M and ef_construction, in the
// same process), plus the exact scan an SQLite user gets without an index (vec_distance_l2
// over every row, as sqlite-vec's vec0 does). Prints a table plus JSON.
//
//   vector_bench [--quick] [--json PATH] [--rows N] [--queries N] [--dir DIR] [--extension PATH]
//                [--quantization none|int8|binary] [--dims K]
//
// Data: deterministic clustered synthetic vectors, 100,000 x 128 float32 (--quick: 10,000),
// 1,000 queries from the same clusters (--quick: 100), exact ground truth by brute force.
// Reported: build time (one transaction of INSERTs vs hnswlib's single-threaded addPoint);
// recall@10 and single-thread QPS (median of three alternating rounds) for ef_search 10 … 320
// for both; database bytes per vector
// against the raw 512 bytes; time to the first query after reopening; filtered-query QPS (10% of
// the rows allowed through rowid IN) against an exact scan of the allowed rows.
#include <hnswlib/hnswlib.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_database.h"

namespace {

struct Options {
  bool quick = false;
  std::string json_path = "vector-bench-results.json";
  size_t rows = 0;
  size_t queries = 0;
  std::string directory;
  std::string extension_path = STRATA_EXTENSION_PATH;
  std::string quantization = "none";
  size_t indexed_dimensions = 0;  // dims=K; 0: all
};

using strata::bench::die;
using Database = strata::bench::BenchDatabase;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

constexpr size_t kDimensions = 128;
constexpr size_t kM = 16;
constexpr size_t kEfConstruction = 200;
constexpr size_t kK = 10;

std::vector<float> clustered(size_t count, uint32_t seed, size_t clusters) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(clusters * kDimensions);
  for (float& x : centres) x = normal(random) * 2;
  std::vector<float> points(count * kDimensions);
  for (size_t i = 0; i < count; ++i) {
    size_t centre = random() % clusters;
    for (size_t d = 0; d < kDimensions; ++d) points[i * kDimensions + d] = centres[centre * kDimensions + d] + normal(random);
  }
  return points;
}

float l2_squared(const float* a, const float* b) {
  float sum = 0;
  for (size_t d = 0; d < kDimensions; ++d) sum += (a[d] - b[d]) * (a[d] - b[d]);
  return sum;
}

// The k nearest rowids (1-based, as stored) among `allowed` (all rows when empty).
std::vector<int64_t> exact_nearest(const std::vector<float>& data, const float* query, const std::vector<bool>* allowed) {
  size_t rows = data.size() / kDimensions;
  std::vector<std::pair<float, int64_t>> best;
  for (size_t i = 0; i < rows; ++i) {
    if (allowed != nullptr && !(*allowed)[i]) continue;
    best.emplace_back(l2_squared(&data[i * kDimensions], query), static_cast<int64_t>(i + 1));
  }
  size_t k = std::min(kK, best.size());
  std::partial_sort(best.begin(), best.begin() + static_cast<long>(k), best.end());
  std::vector<int64_t> ids;
  for (size_t i = 0; i < k; ++i) ids.push_back(best[i].second);
  return ids;
}

double recall_of(const std::vector<std::vector<int64_t>>& found, const std::vector<std::vector<int64_t>>& truth) {
  size_t hits = 0, wanted = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    std::set<int64_t> expected(truth[q].begin(), truth[q].end());
    for (int64_t id : found[q]) hits += expected.count(id);
    wanted += truth[q].size();
  }
  return wanted ? static_cast<double>(hits) / static_cast<double>(wanted) : 1.0;
}

std::vector<int64_t> run_knn(sqlite3_stmt* stmt, const float* query, int ef) {
  sqlite3_reset(stmt);
  sqlite3_bind_blob(stmt, 1, query, static_cast<int>(kDimensions * sizeof(float)), SQLITE_STATIC);
  if (ef > 0) sqlite3_bind_int(stmt, 2, ef);
  std::vector<int64_t> ids;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(stmt, 0));
  if (rc != SQLITE_DONE) die(std::string("query failed: ") + sqlite3_errmsg(sqlite3_db_handle(stmt)));
  return ids;
}

struct EfPoint {
  int ef;
  double strata_recall, strata_qps, hnswlib_recall, hnswlib_qps;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + argument);
      return argv[++i];
    };
    if (argument == "--quick") options.quick = true;
    else if (argument == "--json") options.json_path = value();
    else if (argument == "--rows") options.rows = std::stoul(value());
    else if (argument == "--queries") options.queries = std::stoul(value());
    else if (argument == "--dir") options.directory = value();
    else if (argument == "--extension") options.extension_path = value();
    else if (argument == "--quantization") options.quantization = value();
    else if (argument == "--dims") options.indexed_dimensions = std::stoul(value());
    else die("unknown argument " + argument + " (see the comment at the top of bench/vector_bench.cpp)");
  }
  if (options.rows == 0) options.rows = options.quick ? 10'000 : 100'000;
  if (options.queries == 0) options.queries = options.quick ? 100 : 1'000;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  const size_t rows = options.rows, query_count = options.queries;
  std::vector<float> all = clustered(rows + query_count, 42, 100);
  std::vector<float> data(all.begin(), all.begin() + static_cast<long>(rows * kDimensions));
  std::vector<float> queries(all.begin() + static_cast<long>(rows * kDimensions), all.end());
  std::vector<std::vector<int64_t>> truth(query_count);
  for (size_t q = 0; q < query_count; ++q) truth[q] = exact_nearest(data, &queries[q * kDimensions], nullptr);

  std::string directory = options.directory.empty()
                              ? (std::filesystem::temp_directory_path() / ("strata-vector-bench-" + std::to_string(::getpid()))).string()
                              : options.directory;
  std::filesystem::create_directories(directory);
  std::string path = directory + "/vectors.db";
  std::filesystem::remove(path);

  // Build: strata (one transaction of INSERTs) and hnswlib (single-threaded addPoint).
  double strata_build_s, hnswlib_build_s;
  {
    Database db(path, options.extension_path);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[128], metric=l2, m=16, ef_construction=200, quantization=" +
            options.quantization +
            (options.indexed_dimensions ? ", dims=" + std::to_string(options.indexed_dimensions) : std::string()) + ")");
    sqlite3_stmt* insert = db.prepare("INSERT INTO v(rowid, embedding) VALUES (?1, ?2)");
    auto start = Clock::now();
    db.exec("BEGIN");
    for (size_t i = 0; i < rows; ++i) {
      sqlite3_reset(insert);
      sqlite3_bind_int64(insert, 1, static_cast<int64_t>(i + 1));
      sqlite3_bind_blob(insert, 2, &data[i * kDimensions], static_cast<int>(kDimensions * sizeof(float)), SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) die(std::string("insert failed: ") + sqlite3_errmsg(db.get()));
    }
    db.exec("COMMIT");
    strata_build_s = seconds_since(start);
    sqlite3_finalize(insert);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  hnswlib::L2Space space(kDimensions);
  hnswlib::HierarchicalNSW<float> reference(&space, rows, kM, kEfConstruction, 42);
  {
    auto start = Clock::now();
    for (size_t i = 0; i < rows; ++i) reference.addPoint(&data[i * kDimensions], i + 1);
    hnswlib_build_s = seconds_since(start);
  }

  // Time to the first query after reopening, then recall and QPS per ef.
  Database db(path, options.extension_path);
  double first_query_ms;
  {
    sqlite3_stmt* knn = db.prepare("SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10");
    auto start = Clock::now();
    run_knn(knn, &queries[0], 0);
    first_query_ms = seconds_since(start) * 1000;
    sqlite3_finalize(knn);
  }
  double bytes_per_vector = static_cast<double>(std::filesystem::file_size(path)) / static_cast<double>(rows);

  std::vector<EfPoint> points;
  sqlite3_stmt* knn = db.prepare("SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10 AND ef_search = ?2");
  // Each ef: three rounds, strata and hnswlib alternating, and the median QPS of each (this
  // machine's speed drifts by tens of percent within a minute).
  auto median = [](std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  };
  for (int ef : {10, 20, 40, 80, 160, 320}) {
    EfPoint point{ef, 0, 0, 0, 0};
    std::vector<double> strata_qps, hnswlib_qps;
    std::vector<std::vector<int64_t>> found(query_count);
    reference.setEf(static_cast<size_t>(ef));
    for (int round = 0; round < 3; ++round) {
      auto start = Clock::now();
      for (size_t q = 0; q < query_count; ++q) found[q] = run_knn(knn, &queries[q * kDimensions], ef);
      strata_qps.push_back(static_cast<double>(query_count) / seconds_since(start));
      point.strata_recall = recall_of(found, truth);
      start = Clock::now();
      for (size_t q = 0; q < query_count; ++q) {
        auto result = reference.searchKnn(&queries[q * kDimensions], kK);
        found[q].clear();
        while (!result.empty()) {
          found[q].push_back(static_cast<int64_t>(result.top().second));
          result.pop();
        }
      }
      hnswlib_qps.push_back(static_cast<double>(query_count) / seconds_since(start));
      point.hnswlib_recall = recall_of(found, truth);
    }
    point.strata_qps = median(strata_qps);
    point.hnswlib_qps = median(hnswlib_qps);
    points.push_back(point);
  }
  sqlite3_finalize(knn);

  // Exact scan without an index (vec_distance_l2 over every row of the plain shadow table, each
  // vector without its 4-byte checksum), on a few queries.
  size_t scan_queries = std::min<size_t>(query_count, options.quick ? 10 : 20);
  double scan_qps;
  {
    sqlite3_stmt* scan = db.prepare("SELECT rowid FROM v_vectors ORDER BY vec_distance_l2(substr(vector, 1, length(vector) - 4), ?1) LIMIT 10");
    auto start = Clock::now();
    for (size_t q = 0; q < scan_queries; ++q) run_knn(scan, &queries[q * kDimensions], 0);
    scan_qps = static_cast<double>(scan_queries) / seconds_since(start);
    sqlite3_finalize(scan);
  }

  // Filtered: 10% of the rows allowed, through rowid IN (SELECT …).
  std::vector<bool> allowed(rows, false);
  db.exec("CREATE TEMP TABLE allowed(id INTEGER PRIMARY KEY)");
  {
    std::mt19937 random(7);
    db.exec("BEGIN");
    sqlite3_stmt* add = db.prepare("INSERT INTO allowed VALUES (?1)");
    for (size_t i = 0; i < rows; ++i) {
      if (random() % 10 != 0) continue;
      allowed[i] = true;
      sqlite3_reset(add);
      sqlite3_bind_int64(add, 1, static_cast<int64_t>(i + 1));
      sqlite3_step(add);
    }
    sqlite3_finalize(add);
    db.exec("COMMIT");
  }
  std::vector<std::vector<int64_t>> filtered_truth(query_count), filtered_found(query_count);
  for (size_t q = 0; q < query_count; ++q) filtered_truth[q] = exact_nearest(data, &queries[q * kDimensions], &allowed);
  double filtered_qps, filtered_recall, filtered_scan_qps;
  {
    sqlite3_stmt* filtered = db.prepare(
        "SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10 AND ef_search = ?2 AND rowid IN (SELECT id FROM allowed)");
    auto start = Clock::now();
    for (size_t q = 0; q < query_count; ++q) filtered_found[q] = run_knn(filtered, &queries[q * kDimensions], 64);
    filtered_qps = static_cast<double>(query_count) / seconds_since(start);
    filtered_recall = recall_of(filtered_found, filtered_truth);
    sqlite3_finalize(filtered);
    sqlite3_stmt* scan = db.prepare(
        "SELECT rowid FROM v_vectors WHERE rowid IN (SELECT id FROM allowed) "
        "ORDER BY vec_distance_l2(substr(vector, 1, length(vector) - 4), ?1) LIMIT 10");
    start = Clock::now();
    for (size_t q = 0; q < scan_queries; ++q) run_knn(scan, &queries[q * kDimensions], 0);
    filtered_scan_qps = static_cast<double>(scan_queries) / seconds_since(start);
    sqlite3_finalize(scan);
  }

  // Report.
  std::printf("vectors: %zu x %zu float32, %zu queries, k = %zu, M = %zu, ef_construction = %zu, quantization = %s%s\n\n",
              rows, kDimensions, query_count, kK, kM, kEfConstruction, options.quantization.c_str(),
              options.indexed_dimensions ? (", dims = " + std::to_string(options.indexed_dimensions)).c_str() : "");
  std::printf("build            strata %8.2f s (%8.0f vectors/s)   hnswlib %8.2f s (%8.0f vectors/s)   ratio %.2f\n",
              strata_build_s, static_cast<double>(rows) / strata_build_s, hnswlib_build_s,
              static_cast<double>(rows) / hnswlib_build_s, hnswlib_build_s / strata_build_s);
  std::printf("database         %.0f bytes per vector (raw vector: %zu bytes; ratio %.2f)\n", bytes_per_vector,
              kDimensions * sizeof(float), bytes_per_vector / static_cast<double>(kDimensions * sizeof(float)));
  std::printf("first query after reopen: %.1f ms\n\n", first_query_ms);
  std::printf("%6s  %14s %12s  %14s %12s  %9s\n", "ef", "strata recall", "strata QPS", "hnswlib recall", "hnswlib QPS", "QPS ratio");
  for (const EfPoint& point : points) {
    std::printf("%6d  %14.4f %12.0f  %14.4f %12.0f  %9.2f\n", point.ef, point.strata_recall, point.strata_qps,
                point.hnswlib_recall, point.hnswlib_qps, point.strata_qps / point.hnswlib_qps);
  }
  std::printf("\nexact scan in SQLite (vec_distance_l2 over every row): %.1f QPS\n", scan_qps);
  std::printf("filtered (10%% allowed, ef 64): strata %.0f QPS, recall %.4f; exact scan of the allowed rows %.1f QPS\n",
              filtered_qps, filtered_recall, filtered_scan_qps);

  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> json(buffer);
  json.StartObject();
  json.Key("rows"); json.Uint64(rows);
  json.Key("dimensions"); json.Uint64(kDimensions);
  json.Key("queries"); json.Uint64(query_count);
  json.Key("quantization"); json.String(options.quantization.c_str());
  json.Key("indexed_dimensions"); json.Uint64(options.indexed_dimensions);
  json.Key("build_seconds"); json.StartObject();
  json.Key("strata"); json.Double(strata_build_s);
  json.Key("hnswlib"); json.Double(hnswlib_build_s);
  json.Key("rate_ratio"); json.Double(hnswlib_build_s / strata_build_s);
  json.EndObject();
  json.Key("bytes_per_vector"); json.Double(bytes_per_vector);
  json.Key("bytes_ratio_to_raw"); json.Double(bytes_per_vector / static_cast<double>(kDimensions * sizeof(float)));
  json.Key("first_query_after_reopen_ms"); json.Double(first_query_ms);
  json.Key("ef"); json.StartArray();
  for (const EfPoint& point : points) {
    json.StartObject();
    json.Key("ef"); json.Int(point.ef);
    json.Key("strata_recall"); json.Double(point.strata_recall);
    json.Key("strata_qps"); json.Double(point.strata_qps);
    json.Key("hnswlib_recall"); json.Double(point.hnswlib_recall);
    json.Key("hnswlib_qps"); json.Double(point.hnswlib_qps);
    json.Key("qps_ratio"); json.Double(point.strata_qps / point.hnswlib_qps);
    json.EndObject();
  }
  json.EndArray();
  json.Key("exact_scan_qps"); json.Double(scan_qps);
  json.Key("filtered"); json.StartObject();
  json.Key("allowed_fraction"); json.Double(0.1);
  json.Key("strata_qps"); json.Double(filtered_qps);
  json.Key("strata_recall"); json.Double(filtered_recall);
  json.Key("exact_scan_qps"); json.Double(filtered_scan_qps);
  json.EndObject();
  json.EndObject();
  std::ofstream(options.json_path) << buffer.GetString() << "\n";
  std::printf("\nJSON written to %s\n", options.json_path.c_str());
  if (options.directory.empty()) std::filesystem::remove_all(directory);
  return 0;
}
