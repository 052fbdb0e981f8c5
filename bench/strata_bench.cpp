// strata_bench — runs each workload against strata and its baseline in one process, checks
// that both give the same answer, and prints a table plus JSON. Ratios matter more than
// absolute times: these machines are noisy, and both sides of a ratio share the noise.
//
//   strata_bench [--quick] [--json PATH] [--rows N] [--w1-rows N] [--repetitions N]
//                [--only PREFIX] [--dir DIR] [--w1-script PATH] [--extension PATH]
//                [--reference PATH]
//
// The JSON records the commit the extension was built from (git, at run time: "+dirty" when
// the work tree differs). Each workload's ratio is compared with the reference figures in
// bench/reference.json (checked in: workload, rows, ratio, and the commit and command that
// produced them); a ratio more than 2x worse prints a REGRESSION line with both figures — a
// report, not a failure, since these machines are noisy.
//
// Workloads (later issues add theirs to make_workloads()):
//   vtab_loop_floor   SELECT sum(value) over N integers from the smallest possible virtual
//                     table (bench_series) vs the same aggregate over an ordinary table. This is
//                     the floor every strata scan is measured against: no virtual table can
//                     yield rows faster than SQLite's own xNext/xColumn loop allows.
//   w1_q1 … w1_q7     workload W1 (shared/bench/w1-events.sql): the same 20-column rows in a
//                     columnar table and an ordinary table, each in its own database file; the
//                     queries q1–q7 on both. Also reported: bulk insert rows/s, database bytes
//                     after VACUUM, shadow-row writes per 1,000-row commit, and the floor
//                     (count(*) and sum(value) over bench_series(N)) for the same N.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <iterator>
#include <string>
#include <vector>

#include "bench/bench_database.h"
#include "bench/series_vtab.h"

namespace {

struct Options {
  bool quick = false;
  std::string json_path = "bench-results.json";
  long long rows = 0;     // vtab_loop_floor rows; 0: the default for the mode
  long long w1_rows = 0;  // W1 rows; 0: 10,000,000 (1,000,000 with --quick)
  int repetitions = 0;
  std::string extension_path = STRATA_EXTENSION_PATH;
  std::string directory;  // where the W1 database files go; default: a temporary directory
  std::string w1_script = STRATA_W1_SCRIPT;
  std::string only;       // run only workloads whose name starts with this
  std::string reference = STRATA_SOURCE_DIR "/bench/reference.json";
};

// The commit of the source tree, "+dirty" when tracked files differ from it; "unknown" outside
// a checkout.
std::string source_commit() {
  auto run = [](const std::string& command) {
    std::string output;
    if (FILE* pipe = popen(command.c_str(), "r")) {
      char buffer[256];
      while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
      if (pclose(pipe) != 0) return std::string();
    }
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    return output;
  };
  const std::string git = "git -C '" STRATA_SOURCE_DIR "' ";
  std::string commit = run(git + "rev-parse --short=12 HEAD 2>/dev/null");
  if (commit.empty()) return "unknown";
  if (!run(git + "status --porcelain --untracked-files=no 2>/dev/null").empty()) commit += "+dirty";
  return commit;
}

using strata::bench::die;
using strata::bench::replace_all;

// A benchmark connection, with bench_series registered for the floor workloads.
class Database : public strata::bench::BenchDatabase {
 public:
  explicit Database(const Options& options, const std::string& path = ":memory:")
      : BenchDatabase(path, options.extension_path) {
    if (strata::bench::register_series_module(get()) != SQLITE_OK) die("cannot register series");
  }
};

struct Variant {
  std::string engine;  // "strata …" or the baseline's name
  std::string sql;
  const Database* db = nullptr;  // where it runs; null: the shared in-memory database
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

// ---- W1 ----------------------------------------------------------------------------------

struct W1Script {
  std::string create;   // CREATE TABLE @TABLE@ (…)
  std::string insert;   // the data statement
  std::vector<std::pair<std::string, std::string>> queries;  // ("q1", SQL)
};


W1Script read_w1_script(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read the W1 script " + path + " (use --w1-script)");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  W1Script script;
  std::string statements;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("-- q", 0) == 0 && line.find(':') != std::string::npos) {
      std::string name = line.substr(3, line.find(':') - 3);
      std::string sql = line.substr(line.find(':') + 1);
      sql = sql.substr(0, sql.rfind(';'));
      script.queries.emplace_back(name, sql);
    } else if (line.rfind("--", 0) != 0) {
      statements += line + "\n";
    }
  }
  size_t create_end = statements.find(';');
  size_t insert_end = statements.find(';', create_end + 1);
  if (create_end == std::string::npos || insert_end == std::string::npos || script.queries.empty()) {
    die("the W1 script " + path + " does not have the expected shape");
  }
  script.create = statements.substr(0, create_end);
  script.insert = statements.substr(create_end + 1, insert_end - create_end - 1);
  return script;
}

struct W1Report {
  long long rows = 0;
  double insert_ms_columnar = 0;
  double insert_ms_plain = 0;
  long long bytes_columnar = 0;
  long long bytes_plain = 0;
  long long shadow_writes_per_1000_rows = 0;
  int columns = 0;
};

// The two W1 databases, loaded; they live as long as the run.
struct W1Databases {
  std::unique_ptr<Database> columnar;
  std::unique_ptr<Database> plain;
  std::string directory;
};

long long file_bytes(const std::string& path) {
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  return error ? -1 : static_cast<long long>(size);
}

W1Report load_w1(const Options& options, const W1Script& script, W1Databases& databases) {
  W1Report report;
  report.rows = options.w1_rows ? options.w1_rows : (options.quick ? 1'000'000 : 10'000'000);
  std::string n = std::to_string(report.rows);
  databases.directory = options.directory.empty()
                            ? (std::filesystem::temp_directory_path() / ("strata_bench_" + std::to_string(::getpid()))).string()
                            : options.directory;
  std::filesystem::create_directories(databases.directory);
  std::string columnar_path = databases.directory + "/w1_columnar.db";
  std::string plain_path = databases.directory + "/w1_plain.db";
  std::filesystem::remove(columnar_path);
  std::filesystem::remove(plain_path);
  databases.columnar = std::make_unique<Database>(options, columnar_path);
  databases.plain = std::make_unique<Database>(options, plain_path);

  std::string create_plain = replace_all(replace_all(script.create, "@TABLE@", "events"), "@N@", n);
  // The columnar variant adds its options after the column list (w1-events.sql).
  std::string create_columnar = replace_all(create_plain, "CREATE TABLE events (", "CREATE VIRTUAL TABLE events USING columnar(");
  create_columnar = create_columnar.substr(0, create_columnar.rfind(')')) + ", bloom='f_s2')";
  std::string insert = replace_all(replace_all(script.insert, "@TABLE@", "events"), "@N@", n);
  report.columns = static_cast<int>(std::count(create_plain.begin(), create_plain.end(), ',')) + 1;

  auto load = [&](const Database& db, const std::string& create) {
    db.exec("PRAGMA journal_mode=WAL");
    db.exec(create);
    auto start = std::chrono::steady_clock::now();
    db.exec(insert);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  };
  report.insert_ms_plain = load(*databases.plain, create_plain);
  report.insert_ms_columnar = load(*databases.columnar, create_columnar);
  for (const Database* db : {databases.plain.get(), databases.columnar.get()}) {
    db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db->exec("VACUUM");
    db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  report.bytes_plain = file_bytes(plain_path);
  report.bytes_columnar = file_bytes(columnar_path);

  // Shadow-row writes of one 1,000-row commit, in a scratch table of the same shape.
  const Database& db = *databases.columnar;
  db.exec(replace_all(create_columnar, "events", "write_cost"));
  sqlite3_int64 before = sqlite3_total_changes64(db.get());
  db.exec("BEGIN");
  db.exec(replace_all(replace_all(script.insert, "@TABLE@", "write_cost"), "@N@", "1000"));
  db.exec("COMMIT");
  report.shadow_writes_per_1000_rows = sqlite3_total_changes64(db.get()) - before - 1000;
  db.exec("DROP TABLE write_cost");
  return report;
}

void add_w1_workloads(const Options& options, const W1Script& script, const W1Report& report,
                      const W1Databases& databases, std::vector<Workload>& workloads) {
  long long n = report.rows;
  long long lo = 1700000000000LL + (n / 2) * 100;
  long long hi = lo + (n / 100) * 100 - 1;
  long long id = n / 2 + 17;
  for (const auto& [name, query] : script.queries) {
    std::string sql = replace_all(query, "@TABLE@", "events");
    sql = replace_all(sql, "LO", std::to_string(lo));
    sql = replace_all(sql, "HI", std::to_string(hi));
    sql = replace_all(sql, "= ID", "= " + std::to_string(id));
    Workload workload;
    workload.name = "w1_" + name;
    workload.description = sql;
    workload.rows = n;
    workload.setup = [](const Database&, long long) {};
    workload.subject = {"strata columnar", sql, databases.columnar.get()};
    workload.baseline = {"sqlite table", sql, databases.plain.get()};
    workloads.push_back(std::move(workload));
  }
  (void)options;
  // The floor for the same N: SQLite's own per-row cost for any virtual table.
  for (const char* aggregate : {"count(*)", "sum(value)"}) {
    Workload workload;
    workload.name = std::string("w1_floor_") + (aggregate[0] == 'c' ? "count" : "sum");
    workload.description = std::string("SELECT ") + aggregate + " FROM bench_series(N) vs the ordinary W1 table";
    workload.rows = n;
    workload.setup = [](const Database&, long long) {};
    workload.subject = {"vtab (bench_series)", std::string("SELECT ") + aggregate + " FROM bench_series(" + std::to_string(n) + ")",
                        databases.columnar.get()};
    workload.baseline = {"sqlite table", std::string("SELECT ") + (aggregate[0] == 'c' ? "count(*)" : "sum(id)") + " FROM events",
                         databases.plain.get()};
    workloads.push_back(std::move(workload));
  }
}

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
double time_once_ms(const Database& shared, const Variant& variant, const std::string& expected) {
  const Database& db = variant.db ? *variant.db : shared;
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
  result.answer = (workload.baseline.db ? *workload.baseline.db : db).answer(workload.baseline.sql);  // warms the cache
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

struct W1Report;
void write_json(const Options& options, int repetitions, const std::string& strata_version, const std::string& commit,
                const std::vector<WorkloadResult>& results, const W1Report* w1) {
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
  json.Key("commit");
  json.String(commit.c_str());
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
  if (w1 != nullptr) {
    json.Key("w1");
    json.StartObject();
    json.Key("rows");
    json.Int64(w1->rows);
    json.Key("insert_rows_per_second_columnar");
    json.Double(w1->rows / (w1->insert_ms_columnar / 1000));
    json.Key("insert_rows_per_second_ordinary");
    json.Double(w1->rows / (w1->insert_ms_plain / 1000));
    json.Key("insert_speed_ratio_columnar_over_ordinary");
    json.Double(w1->insert_ms_plain / w1->insert_ms_columnar);
    json.Key("bytes_columnar");
    json.Int64(w1->bytes_columnar);
    json.Key("bytes_ordinary");
    json.Int64(w1->bytes_plain);
    json.Key("size_ratio_ordinary_over_columnar");
    json.Double(static_cast<double>(w1->bytes_plain) / static_cast<double>(w1->bytes_columnar));
    json.Key("shadow_row_writes_per_1000_row_commit");
    json.Int64(w1->shadow_writes_per_1000_rows);
    json.EndObject();
  }
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
    } else if (argument == "--w1-rows") {
      options.w1_rows = std::atoll(value().c_str());
      if (options.w1_rows < 1000) die("--w1-rows must be at least 1000");
    } else if (argument == "--w1-script") {
      options.w1_script = value();
    } else if (argument == "--dir") {
      options.directory = value();
    } else if (argument == "--reference") {
      options.reference = value();
    } else if (argument == "--only") {
      options.only = value();
    } else {
      die("unknown argument " + argument +
          " (usage: strata_bench [--quick] [--json PATH] [--rows N] [--w1-rows N] [--repetitions N] "
          "[--only PREFIX] [--dir DIR] [--w1-script PATH] [--extension PATH] [--reference PATH])");
    }
  }
  return options;
}

// Compares each result's ratio with the reference figure for the same workload and row count:
// more than 2x worse is a REGRESSION line (both figures, and where the reference came from).
void compare_with_reference(const std::string& path, const std::vector<WorkloadResult>& results) {
  std::ifstream file(path);
  if (!file) {
    std::printf("\n(no reference figures at %s)\n", path.c_str());
    return;
  }
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  rapidjson::Document reference;
  reference.Parse(text.c_str());
  if (reference.HasParseError() || !reference.IsObject() || !reference.HasMember("figures") || !reference["figures"].IsArray()) {
    std::printf("\nreference figures at %s are not readable JSON\n", path.c_str());
    return;
  }
  int compared = 0, regressions = 0;
  for (const WorkloadResult& result : results) {
    for (const auto& figure : reference["figures"].GetArray()) {
      if (!figure.IsObject() || !figure.HasMember("workload") || !figure.HasMember("rows") || !figure.HasMember("ratio") ||
          result.workload->name != figure["workload"].GetString() || result.workload->rows != figure["rows"].GetInt64()) {
        continue;
      }
      ++compared;
      const double expected = figure["ratio"].GetDouble();
      if (result.ratio > 2 * expected) {
        ++regressions;
        std::printf("REGRESSION %s (%lld rows): ratio %.3f (strata %.1f ms / baseline %.1f ms), reference %.3f "
                    "(commit %s, %s): more than 2x worse\n",
                    result.workload->name.c_str(), result.workload->rows, result.ratio, result.subject.median_ms,
                    result.baseline.median_ms, expected, figure.HasMember("commit") ? figure["commit"].GetString() : "?",
                    figure.HasMember("command") ? figure["command"].GetString() : "?");
      } else if (result.ratio < expected / 2) {
        std::printf("note: %s (%lld rows) ratio %.3f is more than 2x better than the reference %.3f: update %s\n",
                    result.workload->name.c_str(), result.workload->rows, result.ratio, expected, path.c_str());
      }
    }
  }
  std::printf("\nreference figures: %d compared, %d regressions (%s)\n", compared, regressions, path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  int repetitions = options.repetitions ? options.repetitions : (options.quick ? 3 : 7);
  Database db(options);
  std::string strata_version = db.answer("SELECT strata_version()");

  std::vector<Workload> workloads = make_workloads(options);
  W1Databases w1_databases;
  std::optional<W1Report> w1;
  if (options.only.empty() || std::string("w1").rfind(options.only, 0) == 0 || options.only.rfind("w1", 0) == 0) {
    W1Script script = read_w1_script(options.w1_script);
    w1 = load_w1(options, script, w1_databases);
    add_w1_workloads(options, script, *w1, w1_databases, workloads);
  }
  std::vector<WorkloadResult> results;
  for (const Workload& workload : workloads) {
    if (!options.only.empty() && workload.name.rfind(options.only, 0) != 0) continue;
    workload.setup(db, workload.rows);
    results.push_back(measure(db, workload, repetitions));
  }

  const std::string commit = source_commit();
  std::printf("strata %s (commit %s) on SQLite %s, %d repetitions%s (median)\n\n", strata_version.c_str(), commit.c_str(),
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
  if (w1) {
    double mib = 1024.0 * 1024.0;
    std::printf("\nW1, %lld rows, %d columns:\n", w1->rows, w1->columns);
    std::printf("  bulk insert   columnar %10.0f rows/s   ordinary %10.0f rows/s   ratio %.2f\n",
                w1->rows / (w1->insert_ms_columnar / 1000), w1->rows / (w1->insert_ms_plain / 1000),
                w1->insert_ms_plain / w1->insert_ms_columnar);
    std::printf("  database      columnar %10.1f MiB      ordinary %10.1f MiB      %.2fx smaller\n",
                w1->bytes_columnar / mib, w1->bytes_plain / mib,
                static_cast<double>(w1->bytes_plain) / static_cast<double>(w1->bytes_columnar));
    std::printf("  shadow-table row writes per 1,000-row commit: %lld (columns + 2 = %d)\n",
                w1->shadow_writes_per_1000_rows, w1->columns + 2);
  }
  compare_with_reference(options.reference, results);
  write_json(options, repetitions, strata_version, commit, results, w1 ? &*w1 : nullptr);
  std::printf("\nJSON written to %s\n", options.json_path.c_str());
  if (!w1_databases.directory.empty() && options.directory.empty()) {
    w1_databases.columnar.reset();
    w1_databases.plain.reset();
    std::filesystem::remove_all(w1_databases.directory);
  }
  return 0;
}
