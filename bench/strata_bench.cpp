// strata_bench — runs each workload against strata and its baseline in one process, checks
// that both give the same answer, and prints a table plus JSON. Ratios matter more than
// absolute times: these machines are noisy, and both sides of a ratio share the noise.
//
//   strata_bench [--quick] [--json PATH] [--rows N] [--repetitions N] [--extension PATH]
//
// Workloads (later issues add theirs to make_workloads()):
//   vtab_loop_floor   SELECT sum(value) over N integers from the smallest possible virtual
//                     table (bench_series) vs the same aggregate over an ordinary table. This is
//                     the floor every strata scan is measured against: no virtual table can
//                     yield rows faster than SQLite's own xNext/xColumn loop allows.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "bench/series_vtab.h"

namespace {

struct Options {
  bool quick = false;
  std::string json_path = "bench-results.json";
  long long rows = 0;  // 0: the workload's default for the mode
  int repetitions = 0;
  std::string extension_path = STRATA_EXTENSION_PATH;
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "strata_bench: %s\n", message.c_str());
  std::exit(1);
}

class Database {
 public:
  explicit Database(const Options& options) {
    if (sqlite3_open(":memory:", &db_) != SQLITE_OK) die("cannot open :memory:");
    sqlite3_enable_load_extension(db_, 1);
    char* error = nullptr;
    if (sqlite3_load_extension(db_, options.extension_path.c_str(), nullptr, &error) !=
        SQLITE_OK) {
      die("cannot load " + options.extension_path + ": " + (error ? error : "?"));
    }
    if (strata::bench::register_series_module(db_) != SQLITE_OK) die("cannot register series");
  }
  ~Database() { sqlite3_close(db_); }

  void exec(const std::string& sql) const {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      die(sql + ": " + (error ? error : "?"));
    }
  }

  // Runs a query and returns its first column of its first row as text (the answer that both
  // sides of a comparison must agree on).
  std::string answer(const std::string& sql) const {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      die(sql + ": " + sqlite3_errmsg(db_));
    }
    std::string result;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (result.empty()) {
        const unsigned char* text = sqlite3_column_text(stmt, 0);
        result = text ? reinterpret_cast<const char*>(text) : "NULL";
      }
    }
    if (rc != SQLITE_DONE) die(sql + ": " + sqlite3_errmsg(db_));
    sqlite3_finalize(stmt);
    return result;
  }

 private:
  sqlite3* db_ = nullptr;
};

struct Variant {
  std::string engine;  // "strata …" or the baseline's name
  std::string sql;
};

struct Workload {
  std::string name;
  std::string description;
  long long rows = 0;
  std::function<void(const Database&, long long rows)> setup;
  Variant subject;   // the side being measured
  Variant baseline;  // what it is compared with
};

struct Measurement {
  std::string engine;
  double median_ms = 0;
  double min_ms = 0;
  double ns_per_row = 0;
};

struct WorkloadResult {
  const Workload* workload = nullptr;
  std::string answer;
  Measurement subject;
  Measurement baseline;
  double ratio = 0;  // subject median / baseline median: below 1 means the subject is faster
};

std::vector<Workload> make_workloads(const Options& options) {
  std::vector<Workload> workloads;
  long long floor_rows = options.rows ? options.rows : (options.quick ? 200'000 : 5'000'000);
  workloads.push_back(Workload{
      "vtab_loop_floor",
      "sum(value) over N integers: minimal virtual table vs ordinary table",
      floor_rows,
      [](const Database& db, long long rows) {
        db.exec("CREATE TABLE floor_table(value INTEGER)");
        db.exec("INSERT INTO floor_table SELECT value FROM bench_series(" + std::to_string(rows) +
                ")");
      },
      {"vtab (bench_series)", "SELECT sum(value) FROM bench_series(" + std::to_string(floor_rows) +
                                  ")"},
      {"sqlite table", "SELECT sum(value) FROM floor_table"},
  });
  return workloads;
}

// Times one run of `variant`; dies if it does not give the expected answer.
double time_once_ms(const Database& db, const Variant& variant, const std::string& expected) {
  auto start = std::chrono::steady_clock::now();
  std::string answer = db.answer(variant.sql);
  auto elapsed = std::chrono::steady_clock::now() - start;
  if (answer != expected) die(variant.engine + " answered " + answer + ", expected " + expected);
  return std::chrono::duration<double, std::milli>(elapsed).count();
}

Measurement summarize(const std::string& engine, std::vector<double> times_ms, long long rows) {
  std::sort(times_ms.begin(), times_ms.end());
  Measurement measurement;
  measurement.engine = engine;
  measurement.median_ms = times_ms[times_ms.size() / 2];
  measurement.min_ms = times_ms.front();
  measurement.ns_per_row = rows > 0 ? measurement.median_ms * 1e6 / static_cast<double>(rows) : 0;
  return measurement;
}

// Runs subject and baseline alternately, so that drift in machine load hits both sides alike.
WorkloadResult measure(const Database& db, const Workload& workload, int repetitions) {
  WorkloadResult result;
  result.workload = &workload;
  result.answer = db.answer(workload.baseline.sql);  // also warms the page cache
  std::vector<double> subject_ms;
  std::vector<double> baseline_ms;
  time_once_ms(db, workload.subject, result.answer);  // warm-up, and checks the answer
  for (int i = 0; i < repetitions; ++i) {
    subject_ms.push_back(time_once_ms(db, workload.subject, result.answer));
    baseline_ms.push_back(time_once_ms(db, workload.baseline, result.answer));
  }
  result.subject = summarize(workload.subject.engine, subject_ms, workload.rows);
  result.baseline = summarize(workload.baseline.engine, baseline_ms, workload.rows);
  result.ratio = result.subject.median_ms / result.baseline.median_ms;
  return result;
}

void write_json(const Options& options, int repetitions, const std::string& strata_version,
                const std::vector<WorkloadResult>& results) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> json(buffer);
  auto write_measurement = [&](const Measurement& m) {
    json.StartObject();
    json.Key("engine");
    json.String(m.engine.c_str());
    json.Key("median_ms");
    json.Double(m.median_ms);
    json.Key("min_ms");
    json.Double(m.min_ms);
    json.Key("ns_per_row");
    json.Double(m.ns_per_row);
    json.EndObject();
  };
  json.StartObject();
  json.Key("suite");
  json.String("strata_bench");
  json.Key("strata_version");
  json.String(strata_version.c_str());
  json.Key("sqlite_version");
  json.String(sqlite3_libversion());
  json.Key("quick");
  json.Bool(options.quick);
  json.Key("repetitions");
  json.Int(repetitions);
  json.Key("workloads");
  json.StartArray();
  for (const WorkloadResult& result : results) {
    json.StartObject();
    json.Key("name");
    json.String(result.workload->name.c_str());
    json.Key("description");
    json.String(result.workload->description.c_str());
    json.Key("rows");
    json.Int64(result.workload->rows);
    json.Key("answer");
    json.String(result.answer.c_str());
    json.Key("subject");
    write_measurement(result.subject);
    json.Key("baseline");
    write_measurement(result.baseline);
    json.Key("ratio_subject_over_baseline");
    json.Double(result.ratio);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  {
    std::ofstream out(options.json_path);
    if (!out) die("cannot write " + options.json_path);
    out << buffer.GetString() << "\n";
  }
  // Read the file back: what other tools will parse must parse.
  std::ifstream in(options.json_path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  rapidjson::Document document;
  document.Parse(text.c_str());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("workloads") ||
      document["workloads"].Size() != results.size()) {
    die("the JSON written to " + options.json_path + " does not read back");
  }
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + argument);
      return argv[++i];
    };
    if (argument == "--quick") {
      options.quick = true;
    } else if (argument == "--json") {
      options.json_path = value();
    } else if (argument == "--rows") {
      options.rows = std::atoll(value().c_str());
      if (options.rows <= 0) die("--rows must be positive");
    } else if (argument == "--repetitions") {
      options.repetitions = std::atoi(value().c_str());
      if (options.repetitions <= 0) die("--repetitions must be positive");
    } else if (argument == "--extension") {
      options.extension_path = value();
    } else {
      die("unknown argument " + argument +
          " (usage: strata_bench [--quick] [--json PATH] [--rows N] [--repetitions N] "
          "[--extension PATH])");
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  int repetitions = options.repetitions ? options.repetitions : (options.quick ? 3 : 7);
  Database db(options);
  std::string strata_version = db.answer("SELECT strata_version()");

  std::vector<Workload> workloads = make_workloads(options);
  std::vector<WorkloadResult> results;
  for (const Workload& workload : workloads) {
    workload.setup(db, workload.rows);
    results.push_back(measure(db, workload, repetitions));
  }

  std::printf("strata %s on SQLite %s, %d repetitions%s (median)\n\n", strata_version.c_str(),
              sqlite3_libversion(), repetitions, options.quick ? ", quick" : "");
  std::printf("%-18s %-22s %12s %12s %10s %8s\n", "workload", "engine", "rows", "median ms",
              "ns/row", "ratio");
  for (const WorkloadResult& r : results) {
    std::printf("%-18s %-22s %12lld %12.2f %10.2f %8.2f\n", r.workload->name.c_str(),
                r.subject.engine.c_str(), r.workload->rows, r.subject.median_ms,
                r.subject.ns_per_row, r.ratio);
    std::printf("%-18s %-22s %12lld %12.2f %10.2f %8s\n", "", r.baseline.engine.c_str(),
                r.workload->rows, r.baseline.median_ms, r.baseline.ns_per_row, "1.00");
  }
  write_json(options, repetitions, strata_version, results);
  std::printf("\nJSON written to %s\n", options.json_path.c_str());
  return 0;
}
