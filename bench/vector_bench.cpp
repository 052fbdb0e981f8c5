// vector_bench — the hnsw table against hnswlib (the same data, M and ef_construction, in the
// same process), plus the exact scan an SQLite user gets without an index (vec_distance_l2
// over every row, as sqlite-vec's vec0 does). Prints a table plus JSON.
//
//   vector_bench [--quick] [--json PATH] [--rows N] [--queries N] [--dir DIR] [--extension PATH]
//                [--quantization none|int8|binary] [--dims K] [--data clustered|sift]
//                [--vec0 PATH] [--skip deletes,churn,vec0]
//
// Data: deterministic clustered synthetic vectors, 100,000 x 128 float32 (--quick: 10,000),
// 1,000 queries from the same clusters (--quick: 100), exact ground truth by brute force; or
// (--data sift) SIFT-like descriptors: 4 x 4 cells of 8 orientation bins of non-negative
// integers, mostly small, with many zeros and near-ties, normalised, clipped at 0.2 and scaled
// to 0..255 as SIFT does (no network here to fetch the real set).
// Deletes: 30% of the rows deleted (strata DELETE, hnswlib markDelete), then recall@10 of the
// survivors and QPS at ef 64 and 200 for both, and for strata again after reopening and after
// 'optimize' (a graph built again from the survivors), against hnswlib built on the survivors.
// Churn: rounds of deleting 20% of the rows and inserting as many: database size, tombstones and
// recall per round.
// Reported: build time (one transaction of INSERTs vs hnswlib's single-threaded addPoint);
// recall@10 and single-thread QPS (median of three alternating rounds) for ef_search 10 … 320
// for both; database bytes per vector
// against the raw 512 bytes; time to the first query after reopening and the memory the loaded
// index takes; filtered-query QPS (10% of the rows allowed through rowid IN) against an exact
// scan of the allowed rows.
// Against vec0 (sqlite-vec 0.1.9's vec0.so, loaded into its own connection of this process):
// the same table (the vector and a `category integer` metadata column, 0..99 uniform) and the
// same KNN query filtered by category at 50, 10 and 1% selectivity: recall, QPS, short answers.
// The 1M x 128 point: --rows 1000000 --skip churn (docs in bench/README.md).
#include <hnswlib/hnswlib.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
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
  std::string data = "clustered";
  // sqlite-vec 0.1.9's vec0.so (npm sqlite-vec-linux-x64, installed by scripts/install-test-peers.sh).
  std::string vec0_path = std::string(STRATA_SOURCE_DIR) + "/tests/peers/node_modules/sqlite-vec-linux-x64/vec0.so";
  std::set<std::string> skip;  // sections left out: deletes, churn, vec0

  bool skipped(const std::string& section) const { return skip.count(section) != 0; }
};

// This process's resident memory, MiB.
double resident_mib() {
  std::ifstream statm("/proc/self/statm");
  long long total_pages = 0, resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return static_cast<double>(resident_pages) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

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

// SIFT-like descriptors: per vector, a few dominant orientations per cell (a smooth patch has
// one or two), gradient magnitudes with a heavy tail; then SIFT's normalisation: unit length,
// each element clipped at 0.2, unit length again, times 512, rounded and capped at 255. The
// result is integer-valued with many zeros, so many distances tie or nearly tie.
std::vector<float> sift_like(size_t count, uint32_t seed) {
  std::mt19937 random(seed);
  std::gamma_distribution<float> magnitude(0.6f, 1.0f);
  std::uniform_int_distribution<int> orientation(0, 7);
  // Descriptors of the same kind of patch share their dominant orientations: 200 patch kinds.
  constexpr size_t kKinds = 200;
  std::vector<int> dominant(kKinds * 16);
  for (int& o : dominant) o = orientation(random);
  std::vector<float> points(count * kDimensions);
  for (size_t i = 0; i < count; ++i) {
    float* v = &points[i * kDimensions];
    const size_t kind = random() % kKinds;
    for (size_t cell = 0; cell < 16; ++cell) {
      const int main = (random() % 4 == 0) ? orientation(random) : dominant[kind * 16 + cell];
      for (int bin = 0; bin < 8; ++bin) {
        const int distance = std::min((bin - main + 8) % 8, (main - bin + 8) % 8);
        float value = magnitude(random) * (distance == 0 ? 6.0f : distance == 1 ? 2.0f : 0.5f);
        if (random() % 3 == 0) value = 0;  // empty bins, as in real descriptors
        v[cell * 8 + static_cast<size_t>(bin)] = value;
      }
    }
    auto normalise = [&] {
      float sum = 0;
      for (size_t d = 0; d < kDimensions; ++d) sum += v[d] * v[d];
      const float scale = sum > 0 ? 1.0f / std::sqrt(sum) : 0;
      for (size_t d = 0; d < kDimensions; ++d) v[d] *= scale;
    };
    normalise();
    for (size_t d = 0; d < kDimensions; ++d) v[d] = std::min(v[d], 0.2f);
    normalise();
    for (size_t d = 0; d < kDimensions; ++d) v[d] = std::min(255.0f, std::round(v[d] * 512.0f));
  }
  return points;
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

// hnswlib's k nearest labels (rowids), nearest last as its queue gives them.
std::vector<int64_t> hnswlib_nearest(hnswlib::HierarchicalNSW<float>& index, const float* query) {
  auto result = index.searchKnn(query, kK);
  std::vector<int64_t> ids;
  while (!result.empty()) {
    ids.push_back(static_cast<int64_t>(result.top().second));
    result.pop();
  }
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
    else if (argument == "--data") options.data = value();
    else if (argument == "--vec0") options.vec0_path = value();
    else if (argument == "--skip") {
      std::string list = value();
      for (size_t start = 0; start <= list.size();) {
        size_t comma = std::min(list.find(',', start), list.size());
        std::string section = list.substr(start, comma - start);
        if (section != "deletes" && section != "churn" && section != "vec0") die("--skip takes a list of deletes, churn, vec0");
        options.skip.insert(section);
        start = comma + 1;
      }
    }
    else die("unknown argument " + argument + " (see the comment at the top of bench/vector_bench.cpp)");
  }
  if (options.data != "clustered" && options.data != "sift") die("--data takes clustered or sift");
  if (options.rows == 0) options.rows = options.quick ? 10'000 : 100'000;
  if (options.queries == 0) options.queries = options.quick ? 100 : 1'000;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  const size_t rows = options.rows, query_count = options.queries;
  std::vector<float> all = options.data == "sift" ? sift_like(rows + query_count, 42) : clustered(rows + query_count, 42, 100);
  std::vector<float> data(all.begin(), all.begin() + static_cast<long>(rows * kDimensions));
  std::vector<float> queries(all.begin() + static_cast<long>(rows * kDimensions), all.end());
  std::vector<std::vector<int64_t>> truth(query_count);
  for (size_t q = 0; q < query_count; ++q) truth[q] = exact_nearest(data, &queries[q * kDimensions], nullptr);

  std::string directory = options.directory.empty()
                              ? (std::filesystem::temp_directory_path() / ("strata-vector-bench-" + std::to_string(::getpid()))).string()
                              : options.directory;
  std::filesystem::create_directories(directory);
  std::string path = directory + "/vectors.db";
  // A metadata column for the filtered queries: 0..99, uniform, independent of the vector.
  std::vector<int> category(rows);
  {
    std::mt19937 random(13);
    for (int& c : category) c = static_cast<int>(random() % 100);
  }
  std::filesystem::remove(path);

  // Build: strata (one transaction of INSERTs) and hnswlib (single-threaded addPoint).
  double strata_build_s, hnswlib_build_s;
  {
    Database db(path, options.extension_path);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("CREATE VIRTUAL TABLE v USING hnsw(embedding float[128], category integer, metric=l2, m=16, ef_construction=200, quantization=" +
            options.quantization +
            (options.indexed_dimensions ? ", dims=" + std::to_string(options.indexed_dimensions) : std::string()) + ")");
    sqlite3_stmt* insert = db.prepare("INSERT INTO v(rowid, embedding, category) VALUES (?1, ?2, ?3)");
    auto start = Clock::now();
    db.exec("BEGIN");
    for (size_t i = 0; i < rows; ++i) {
      sqlite3_reset(insert);
      sqlite3_bind_int64(insert, 1, static_cast<int64_t>(i + 1));
      sqlite3_bind_blob(insert, 2, &data[i * kDimensions], static_cast<int>(kDimensions * sizeof(float)), SQLITE_STATIC);
      sqlite3_bind_int(insert, 3, category[i]);
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

  // Time to the first query after reopening (which loads the graph: the memory it takes is
  // the resident growth across it), then recall and QPS per ef.
  const double resident_before_open = resident_mib();
  Database db(path, options.extension_path);
  double first_query_ms, loaded_mib;
  {
    sqlite3_stmt* knn = db.prepare("SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10");
    auto start = Clock::now();
    run_knn(knn, &queries[0], 0);
    first_query_ms = seconds_since(start) * 1000;
    sqlite3_finalize(knn);
  }
  loaded_mib = resident_mib() - resident_before_open;
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
        found[q] = hnswlib_nearest(reference, &queries[q * kDimensions]);
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

  // Metadata-filtered KNN against sqlite-vec's vec0: the same declaration (the vector and the
  // category column), the same rows and the same query text in both. vec0 answers exactly (a scan
  // of the rows whose metadata match); hnsw filters inside the walk, or measures the allowed rows
  // when there are few. Three rounds each, alternating, median QPS.
  struct StrataFiltered {
    int ef = 0;  // 0: the table's default (64), the query text exactly as vec0's
    double qps = 0, recall = 0;
    size_t short_answers = 0;  // queries that returned fewer than k rows
  };
  struct FilteredPoint {
    std::string condition;
    double selectivity = 0, vec0_qps = 0, vec0_recall = 0;
    size_t vec0_short = 0;
    std::vector<StrataFiltered> strata;  // the same text, then with ef_search = 200
  };
  std::vector<FilteredPoint> vec0_points;
  double vec0_insert_s = 0;
  const bool with_vec0 = !options.skipped("vec0") && std::filesystem::exists(options.vec0_path);
  if (with_vec0) {
    const std::string vec0_db_path = directory + "/vec0.db";
    std::filesystem::remove(vec0_db_path);
    Database vec0(vec0_db_path, options.vec0_path);
    vec0.exec("PRAGMA journal_mode=WAL");
    vec0.exec("CREATE VIRTUAL TABLE v USING vec0(embedding float[128], category integer)");
    sqlite3_stmt* insert = vec0.prepare("INSERT INTO v(rowid, embedding, category) VALUES (?1, ?2, ?3)");
    vec0_insert_s = strata::bench::seconds_of([&] {
      vec0.exec("BEGIN");
      for (size_t i = 0; i < rows; ++i) {
        sqlite3_reset(insert);
        sqlite3_bind_int64(insert, 1, static_cast<int64_t>(i + 1));
        sqlite3_bind_blob(insert, 2, &data[i * kDimensions], static_cast<int>(kDimensions * sizeof(float)), SQLITE_STATIC);
        sqlite3_bind_int(insert, 3, category[i]);
        if (sqlite3_step(insert) != SQLITE_DONE) die(std::string("vec0 insert failed: ") + sqlite3_errmsg(vec0.get()));
      }
      vec0.exec("COMMIT");
    });
    sqlite3_finalize(insert);
    const size_t vec0_queries = std::min<size_t>(query_count, options.quick ? 30 : 100);
    for (auto [condition, low, high] : {std::tuple<const char*, int, int>{"category < 50", 0, 50}, {"category < 10", 0, 10}, {"category = 0", 0, 1}}) {
      FilteredPoint point;
      point.condition = condition;
      std::vector<bool> passes(rows);
      size_t passing = 0;
      for (size_t i = 0; i < rows; ++i) passing += (passes[i] = category[i] >= low && category[i] < high);
      point.selectivity = static_cast<double>(passing) / static_cast<double>(rows);
      std::vector<std::vector<int64_t>> expected(query_count), found(query_count);
      for (size_t q = 0; q < query_count; ++q) expected[q] = exact_nearest(data, &queries[q * kDimensions], &passes);
      auto measure = [&](sqlite3_stmt* query, size_t count, int ef, double* recall, size_t* short_answers) {
        const double qps = static_cast<double>(count) / strata::bench::seconds_of([&] {
          for (size_t q = 0; q < count; ++q) found[q] = run_knn(query, &queries[q * kDimensions], ef);
        });
        found.resize(count);
        *recall = recall_of(found, std::vector<std::vector<int64_t>>(expected.begin(), expected.begin() + static_cast<long>(count)));
        *short_answers = 0;
        for (size_t q = 0; q < count; ++q) *short_answers += found[q].size() < expected[q].size();
        found.resize(query_count);
        return qps;
      };
      const std::string sql = std::string("SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10 AND ") + condition;
      sqlite3_stmt* vec0_query = vec0.prepare(sql);
      for (int ef : {0, 200}) {
        StrataFiltered run;
        run.ef = ef;
        sqlite3_stmt* strata_query = db.prepare(ef == 0 ? sql : sql + " AND ef_search = ?2");
        std::vector<double> strata_qps, vec0_qps;
        for (int round = 0; round < 3; ++round) {
          strata_qps.push_back(measure(strata_query, query_count, ef, &run.recall, &run.short_answers));
          if (ef == 0) vec0_qps.push_back(measure(vec0_query, vec0_queries, 0, &point.vec0_recall, &point.vec0_short));
        }
        sqlite3_finalize(strata_query);
        run.qps = strata::bench::median(strata_qps);
        if (ef == 0) point.vec0_qps = strata::bench::median(vec0_qps);
        point.strata.push_back(run);
      }
      sqlite3_finalize(vec0_query);
      vec0_points.push_back(point);
    }
  }

  // Deletes: 30% of the rows go, from both; recall of the survivors.
  struct DeletePoint {
    int ef;
    double strata_recall, strata_qps, hnswlib_recall, hnswlib_qps, reopened_recall, optimized_recall, hnswlib_fresh_recall;
  };
  std::vector<DeletePoint> delete_points;
  double delete_seconds = 0;
  if (!options.skipped("deletes")) {
    std::vector<bool> survives(rows, true);
    std::mt19937 random(11);
    for (size_t i = 0; i < rows; ++i) survives[i] = random() % 10 >= 3;
    auto start = Clock::now();
    db.exec("BEGIN");
    sqlite3_stmt* erase = db.prepare("DELETE FROM v WHERE rowid = ?1");
    for (size_t i = 0; i < rows; ++i) {
      if (survives[i]) continue;
      sqlite3_reset(erase);
      sqlite3_bind_int64(erase, 1, static_cast<int64_t>(i + 1));
      if (sqlite3_step(erase) != SQLITE_DONE) die(std::string("delete failed: ") + sqlite3_errmsg(db.get()));
    }
    sqlite3_finalize(erase);
    db.exec("COMMIT");
    delete_seconds = seconds_since(start);
    for (size_t i = 0; i < rows; ++i) {
      if (!survives[i]) reference.markDelete(i + 1);
    }
    std::vector<std::vector<int64_t>> survivors_truth(query_count), found(query_count);
    for (size_t q = 0; q < query_count; ++q) survivors_truth[q] = exact_nearest(data, &queries[q * kDimensions], &survives);
    auto strata_recall_at = [&](Database& on, int ef, double* qps) {
      sqlite3_stmt* query = on.prepare("SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10 AND ef_search = ?2");
      auto begin = Clock::now();
      for (size_t q = 0; q < query_count; ++q) found[q] = run_knn(query, &queries[q * kDimensions], ef);
      if (qps != nullptr) *qps = static_cast<double>(query_count) / seconds_since(begin);
      sqlite3_finalize(query);
      return recall_of(found, survivors_truth);
    };
    for (int ef : {64, 200}) {
      DeletePoint point{ef, 0, 0, 0, 0, 0, 0, 0};
      point.strata_recall = strata_recall_at(db, ef, &point.strata_qps);
      reference.setEf(static_cast<size_t>(ef));
      auto begin = Clock::now();
      for (size_t q = 0; q < query_count; ++q) {
        found[q] = hnswlib_nearest(reference, &queries[q * kDimensions]);
      }
      point.hnswlib_qps = static_cast<double>(query_count) / seconds_since(begin);
      point.hnswlib_recall = recall_of(found, survivors_truth);
      delete_points.push_back(point);
    }
    {
      Database reopened(path, options.extension_path);
      for (DeletePoint& point : delete_points) point.reopened_recall = strata_recall_at(reopened, point.ef, nullptr);
      reopened.exec("INSERT INTO v(v) VALUES ('optimize')");
      for (DeletePoint& point : delete_points) point.optimized_recall = strata_recall_at(reopened, point.ef, nullptr);
    }
    // 'optimize' builds the graph again from the survivors: compare it with hnswlib built on them.
    hnswlib::HierarchicalNSW<float> fresh(&space, rows, kM, kEfConstruction, 42);
    for (size_t i = 0; i < rows; ++i) {
      if (survives[i]) fresh.addPoint(&data[i * kDimensions], i + 1);
    }
    for (DeletePoint& point : delete_points) {
      fresh.setEf(static_cast<size_t>(point.ef));
      for (size_t q = 0; q < query_count; ++q) {
        found[q] = hnswlib_nearest(fresh, &queries[q * kDimensions]);
      }
      point.hnswlib_fresh_recall = recall_of(found, survivors_truth);
    }
  }

  // Churn: rounds of deleting 20% of the live rows and inserting as many (the deleted vectors
  // again, under new rowids): the database must not grow round after round, and recall holds.
  struct ChurnRound {
    double megabytes, recall;
    long long tombstones;
  };
  std::vector<ChurnRound> churn;
  if (!options.skipped("churn")) {
    Database on(path, options.extension_path);
    std::vector<std::pair<int64_t, size_t>> live;  // (rowid, index into data)
    {
      sqlite3_stmt* rows_now = on.prepare("SELECT rowid FROM v");
      while (sqlite3_step(rows_now) == SQLITE_ROW) {
        const int64_t rowid = sqlite3_column_int64(rows_now, 0);
        live.emplace_back(rowid, static_cast<size_t>(rowid - 1));
      }
      sqlite3_finalize(rows_now);
    }
    int64_t next_rowid = static_cast<int64_t>(rows) + 1;
    std::mt19937 random(5);
    sqlite3_stmt* erase = on.prepare("DELETE FROM v WHERE rowid = ?1");
    sqlite3_stmt* insert = on.prepare("INSERT INTO v(rowid, embedding, category) VALUES (?1, ?2, ?3)");
    sqlite3_stmt* knn = on.prepare("SELECT rowid FROM v WHERE embedding MATCH ?1 AND k = 10 AND ef_search = ?2");
    const int rounds = options.quick ? 3 : 6;
    for (int round = 0; round < rounds; ++round) {
      std::shuffle(live.begin(), live.end(), random);
      const size_t replaced = live.size() / 5;
      on.exec("BEGIN");
      for (size_t i = 0; i < replaced; ++i) {
        sqlite3_reset(erase);
        sqlite3_bind_int64(erase, 1, live[i].first);
        if (sqlite3_step(erase) != SQLITE_DONE) die(std::string("churn delete failed: ") + sqlite3_errmsg(on.get()));
        live[i].first = next_rowid++;
        sqlite3_reset(insert);
        sqlite3_bind_int64(insert, 1, live[i].first);
        sqlite3_bind_blob(insert, 2, &data[live[i].second * kDimensions], static_cast<int>(kDimensions * sizeof(float)), SQLITE_STATIC);
        sqlite3_bind_int(insert, 3, category[live[i].second]);
        if (sqlite3_step(insert) != SQLITE_DONE) die(std::string("churn insert failed: ") + sqlite3_errmsg(on.get()));
      }
      on.exec("COMMIT");
      on.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      // Exact truth over the live rows (rowids as they are now).
      std::vector<std::vector<int64_t>> truth_now(query_count), found(query_count);
      for (size_t q = 0; q < query_count; ++q) {
        std::vector<std::pair<float, int64_t>> best;
        best.reserve(live.size());
        for (const auto& [rowid, index] : live) best.emplace_back(l2_squared(&data[index * kDimensions], &queries[q * kDimensions]), rowid);
        std::partial_sort(best.begin(), best.begin() + static_cast<long>(kK), best.end());
        for (size_t i = 0; i < kK; ++i) truth_now[q].push_back(best[i].second);
        found[q] = run_knn(knn, &queries[q * kDimensions], 64);
      }
      churn.push_back({static_cast<double>(std::filesystem::file_size(path)) / (1024.0 * 1024.0), recall_of(found, truth_now),
                       std::stoll(on.answer("SELECT count(*) FROM v_tombstones"))});
    }
    sqlite3_finalize(erase);
    sqlite3_finalize(insert);
    sqlite3_finalize(knn);
  }

  // Report.
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const double peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  std::printf("vectors: %zu x %zu float32 (%s), %zu queries, k = %zu, M = %zu, ef_construction = %zu, quantization = %s%s\n\n",
              rows, kDimensions, options.data.c_str(), query_count, kK, kM, kEfConstruction, options.quantization.c_str(),
              options.indexed_dimensions ? (", dims = " + std::to_string(options.indexed_dimensions)).c_str() : "");
  std::printf("build            strata %8.2f s (%8.0f vectors/s)   hnswlib %8.2f s (%8.0f vectors/s)   ratio %.2f\n",
              strata_build_s, static_cast<double>(rows) / strata_build_s, hnswlib_build_s,
              static_cast<double>(rows) / hnswlib_build_s, hnswlib_build_s / strata_build_s);
  std::printf("database         %.0f bytes per vector (raw vector: %zu bytes; ratio %.2f)\n", bytes_per_vector,
              kDimensions * sizeof(float), bytes_per_vector / static_cast<double>(kDimensions * sizeof(float)));
  std::printf("first query after reopen: %.1f ms; memory of the loaded index %.0f MiB (%.0f bytes per vector); peak resident %.0f MiB (hnswlib's index included)\n\n",
              first_query_ms, loaded_mib, loaded_mib * 1024 * 1024 / static_cast<double>(rows), peak_mib);
  std::printf("%6s  %14s %12s  %14s %12s  %9s\n", "ef", "strata recall", "strata QPS", "hnswlib recall", "hnswlib QPS", "QPS ratio");
  for (const EfPoint& point : points) {
    std::printf("%6d  %14.4f %12.0f  %14.4f %12.0f  %9.2f\n", point.ef, point.strata_recall, point.strata_qps,
                point.hnswlib_recall, point.hnswlib_qps, point.strata_qps / point.hnswlib_qps);
  }
  std::printf("\nexact scan in SQLite (vec_distance_l2 over every row): %.1f QPS\n", scan_qps);
  std::printf("filtered (10%% allowed, ef 64): strata %.0f QPS, recall %.4f; exact scan of the allowed rows %.1f QPS\n",
              filtered_qps, filtered_recall, filtered_scan_qps);
  if (!with_vec0) {
    std::printf("\nfiltered KNN against vec0: skipped, %s is missing (run scripts/install-test-peers.sh)\n", options.vec0_path.c_str());
  } else {
    std::printf("\nfiltered KNN against sqlite-vec 0.1.9 vec0 (the same table and query; vec0 INSERTs %.2f s):\n", vec0_insert_s);
    std::printf("%-15s %11s  %12s %10s %6s", "condition", "selectivity", "vec0 recall", "vec0 QPS", "short");
    for (const char* ef : {"ef 64", "ef 200"}) std::printf("  %7s recall %10s %6s %6s", ef, "QPS", "short", "ratio");
    std::printf("\n");
    for (const FilteredPoint& point : vec0_points) {
      std::printf("%-15s %11.3f  %12.4f %10.1f %6zu", point.condition.c_str(), point.selectivity, point.vec0_recall, point.vec0_qps,
                  point.vec0_short);
      for (const StrataFiltered& run : point.strata) {
        std::printf("  %14.4f %10.0f %6zu %6.1f", run.recall, run.qps, run.short_answers, run.qps / point.vec0_qps);
      }
      std::printf("\n");
    }
    std::printf("(ef 64: strata given vec0's query text exactly; ef 200: with AND ef_search = 200)\n");
  }
  std::printf("\nafter deleting 30%% (strata DELETE in %.2f s; hnswlib markDelete), recall@10 of the survivors:\n", delete_seconds);
  std::printf("%6s  %14s %12s  %14s %12s  %10s  %13s %15s %22s\n", "ef", "strata recall", "strata QPS", "hnswlib recall", "hnswlib QPS",
              "gap", "after reopen", "after optimize", "hnswlib on survivors");
  for (const DeletePoint& point : delete_points) {
    std::printf("%6d  %14.4f %12.0f  %14.4f %12.0f  %+10.4f  %13.4f %15.4f %22.4f\n", point.ef, point.strata_recall, point.strata_qps,
                point.hnswlib_recall, point.hnswlib_qps, point.strata_recall - point.hnswlib_recall, point.reopened_recall,
                point.optimized_recall, point.hnswlib_fresh_recall);
  }

  std::printf("\nchurn (each round: 20%% of the rows deleted and as many inserted, one transaction):\n");
  for (size_t round = 0; round < churn.size(); ++round) {
    std::printf("  round %zu: database %.1f MiB, %lld tombstones, recall@10 at ef 64 %.4f\n", round + 1, churn[round].megabytes,
                churn[round].tombstones, churn[round].recall);
  }

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
  json.Key("loaded_index_mib"); json.Double(loaded_mib);
  json.Key("peak_resident_mib"); json.Double(peak_mib);
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
  json.Key("data"); json.String(options.data.c_str());
  json.Key("filtered_against_vec0"); json.StartArray();
  for (const FilteredPoint& point : vec0_points) {
    json.StartObject();
    json.Key("condition"); json.String(point.condition.c_str());
    json.Key("selectivity"); json.Double(point.selectivity);
    json.Key("vec0_recall"); json.Double(point.vec0_recall);
    json.Key("vec0_qps"); json.Double(point.vec0_qps);
    json.Key("vec0_short_answers"); json.Uint64(point.vec0_short);
    json.Key("strata"); json.StartArray();
    for (const StrataFiltered& run : point.strata) {
      json.StartObject();
      json.Key("ef_search"); json.Int(run.ef == 0 ? 64 : run.ef);
      json.Key("recall"); json.Double(run.recall);
      json.Key("qps"); json.Double(run.qps);
      json.Key("short_answers"); json.Uint64(run.short_answers);
      json.Key("qps_ratio_to_vec0"); json.Double(run.qps / point.vec0_qps);
      json.EndObject();
    }
    json.EndArray();
    json.EndObject();
  }
  json.EndArray();
  json.Key("vec0_insert_seconds"); json.Double(vec0_insert_s);
  json.Key("churn"); json.StartArray();
  for (const ChurnRound& round : churn) {
    json.StartObject();
    json.Key("database_mib"); json.Double(round.megabytes);
    json.Key("tombstones"); json.Int64(round.tombstones);
    json.Key("recall_at_ef_64"); json.Double(round.recall);
    json.EndObject();
  }
  json.EndArray();
  json.Key("after_deleting_30_percent"); json.StartArray();
  for (const DeletePoint& point : delete_points) {
    json.StartObject();
    json.Key("ef"); json.Int(point.ef);
    json.Key("strata_recall"); json.Double(point.strata_recall);
    json.Key("strata_qps"); json.Double(point.strata_qps);
    json.Key("hnswlib_recall"); json.Double(point.hnswlib_recall);
    json.Key("hnswlib_qps"); json.Double(point.hnswlib_qps);
    json.Key("recall_gap"); json.Double(point.strata_recall - point.hnswlib_recall);
    json.Key("strata_recall_after_reopen"); json.Double(point.reopened_recall);
    json.Key("strata_recall_after_optimize"); json.Double(point.optimized_recall);
    json.Key("hnswlib_built_on_survivors_recall"); json.Double(point.hnswlib_fresh_recall);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  std::ofstream(options.json_path) << buffer.GetString() << "\n";
  std::printf("\nJSON written to %s\n", options.json_path.c_str());
  if (options.directory.empty()) std::filesystem::remove_all(directory);
  return 0;
}
