// rollup — aggregates of a columnar table by time bucket and group, kept in step with every
// write to it (docs/timeseries.md, "Rollups"; format: docs/format-rollup.md).
//
// USER SQL
//
//   CREATE VIRTUAL TABLE events_hourly USING rollup(
//     source='events',                      -- a columnar table in the same database
//     bucket='hour(ts)',                    -- hour/day/month/year(col), hour_ms(col) …,
//                                           --   time_bucket('15 minutes', col [, origin]),
//                                           --   time_bucket_ms(…), or a column
//     group_by='kind, country',             -- optional
//     measures='count(*), sum(amount), min(amount), max(amount), avg(amount), count(DISTINCT user_id)');
//   SELECT bucket, kind, country, count, sum_amount, avg_amount, count_distinct_user_id
//     FROM events_hourly WHERE bucket >= '2026-01-01T00' AND kind IN ('a', 'b');
//
// Columns: bucket, the group_by columns, then one per measure: count (count(*)), count_x,
// sum_x, min_x, max_x, avg_x, count_distinct_x. Creating a rollup back-fills it from the
// source's rows; from then on the source keeps it in step with every write in the writer's
// transaction (rollup_maintenance.h). The rollup itself is read-only.
//
// SHADOW TABLES (docs/format-rollup.md)
//
//   r_meta(key, value)   format, source (the source's current name), groups, inputs, measures
//                        (one "kind input name" line each), declaration
//   r_data(bucket, g0 …, rows, n0, si0, sr0, nr0, lo0, hi0, d0, …)  one row per bucket and
//                        group: row count, then per measured column its states
//   r_key_<hex>          index on (bucket, g0, …) (a random suffix: an index keeps its name
//                        when the rollup is renamed, and the old name may be taken again)
//   The source's meta table holds 'rollup:<r>' = the definition, which its writes follow.
//
// xBestIndex PLAN: =, IS, <, <=, >, >= on bucket and the group columns go to the data table's
// WHERE (IN lists arrive as repeated =); an ORDER BY on a prefix of (bucket, g0, …), all one
// direction, is consumed. idxStr: "<column>,<op>;…" per argument; idxNum bits 0-1: 1 ascending,
// 2 descending order; bits 2-30: the measures the query does not read (their states are not read).
#include "vtab/timeseries/rollup.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>

#include "codecs/distinct_sketch.h"
#include "ext/module_arguments.h"
#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "ext/vtab_module.h"
#include "strata/version.h"
#include "vtab/columnar/table.h"
#include "vtab/columnar/values.h"
#include "vtab/timeseries/rollup_maintenance.h"
#include "vtab/timeseries/rollup_spec.h"

namespace strata::timeseries {

namespace {

constexpr int kFormatVersion = 1;

struct ModuleState {
  TableRegistry<columnar::ColumnarTable>* sources;
};

struct OutputMeasure {
  MeasureKind kind;
  int input;
  std::string name;
};

const OptionSpec kOptions[] = {
    {.name = "source"}, {.name = "bucket"}, {.name = "group_by"}, {.name = "measures"},
};

class RollupTable {
 public:
  sqlite3_vtab base{};
  static RollupTable* from(sqlite3_vtab* vtab) { return reinterpret_cast<RollupTable*>(vtab); }

  sqlite3* db;
  std::string schema_name;
  std::string name;
  ModuleState* state;
  size_t group_count = 0;
  size_t input_count = 0;
  std::vector<OutputMeasure> measures;

  std::string shadow(std::string_view suffix) const { return rollup_shadow(schema_name, name, suffix); }

  // A value of the meta table (the source's current name is read on every scan: kept prepared).
  Statement meta_lookup;
  Result<std::string> meta(std::string_view key) {
    if (!meta_lookup.valid()) {
      STRATA_ASSIGN_OR_RETURN(meta_lookup,
                              Statement::prepare_persistent(db, str_cat("SELECT value FROM ", shadow("meta"), " WHERE key = ?1")));
    }
    meta_lookup.reset();
    STRATA_RETURN_IF_ERROR(meta_lookup.bind_text(1, key));
    STRATA_ASSIGN_OR_RETURN(bool found, meta_lookup.step());
    if (!found) return Status::corruption(str_cat("rollup ", name, ": its meta table has no '", key, "'"));
    std::string value(meta_lookup.column_text(0));
    meta_lookup.reset();
    return value;
  }

  Result<columnar::ColumnarTable*> source_table(const std::string& source) {
    bool exists = false;
    columnar::ColumnarTable* table = find_connected(db, *state->sources, QualifiedName{schema_name, source}, &exists);
    if (table != nullptr) return table;
    if (!exists) return Status::error(str_cat("rollup: the source table ", quote_identifier(source), " does not exist"));
    return Status::error(str_cat("rollup: the source ", quote_identifier(source),
                                 " is not a columnar table (a rollup follows the writes of a columnar table)"));
  }

  // The source's meta table, when the source still exists (a dropped source leaves its rollups).
  Result<std::optional<std::string>> source_meta(const std::string& source) {
    STRATA_ASSIGN_OR_RETURN(Statement select, Statement::prepare(db, str_cat("SELECT 1 FROM ", quote_identifier(schema_name),
                                                                             ".sqlite_schema WHERE type = 'table' AND name = ?1")));
    STRATA_RETURN_IF_ERROR(select.bind_text(1, source + "_meta"));
    STRATA_ASSIGN_OR_RETURN(bool exists, select.step());
    if (!exists) return std::optional<std::string>();
    return std::optional<std::string>(str_cat(quote_identifier(schema_name), ".", quote_identifier(source + "_meta")));
  }

  Status destroy() {
    STRATA_ASSIGN_OR_RETURN(std::string source, meta("source"));
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> source_meta_table, source_meta(source));
    if (source_meta_table) {
      STRATA_RETURN_IF_ERROR(execute(db, str_cat("DELETE FROM ", *source_meta_table, " WHERE key = ", quote_literal(rollup_meta_key(name)))));
    }
    STRATA_RETURN_IF_ERROR(execute(db, str_cat("DROP TABLE ", shadow("data"), "; DROP TABLE ", shadow("meta"), ";")));
    if (!source_meta_table) return Status::ok();
    Result<columnar::ColumnarTable*> table = source_table(source);
    if (table.is_ok()) STRATA_RETURN_IF_ERROR((*table)->rollups_changed());
    return Status::ok();
  }

  Status rename(const std::string& new_name) {
    STRATA_ASSIGN_OR_RETURN(std::string source, meta("source"));
    const std::string old_name = name;
    // The source's pending changes are written under the old name first.
    if (columnar::ColumnarTable* writer = state->sources->find(schema_name, source)) {
      STRATA_RETURN_IF_ERROR(writer->apply_rollups());
    }
    for (std::string_view suffix : {"data", "meta"}) {
      STRATA_RETURN_IF_ERROR(execute(db, str_cat("ALTER TABLE ", shadow(suffix), " RENAME TO ",
                                                 quote_identifier(str_cat(new_name, "_", suffix)))));
    }
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> source_meta_table, source_meta(source));
    name = new_name;
    meta_lookup = Statement();  // it names the old meta table
    if (!source_meta_table) return Status::ok();
    STRATA_RETURN_IF_ERROR(execute(db, str_cat("UPDATE ", *source_meta_table, " SET key = ", quote_literal(rollup_meta_key(new_name)),
                                               " WHERE key = ", quote_literal(rollup_meta_key(old_name)))));
    Result<columnar::ColumnarTable*> table = source_table(source);
    if (table.is_ok()) STRATA_RETURN_IF_ERROR((*table)->rollups_changed());
    return Status::ok();
  }
};

// Fills the new rollup from the source's rows.
Status back_fill(sqlite3* db, const std::string& schema_name, const std::string& source, const std::string& rollup_name,
                 const RollupSpec& spec, const columnar::TableSchema& schema) {
  RollupMaintenance filling(db, schema_name, source, &schema);
  STRATA_RETURN_IF_ERROR(filling.add(rollup_name, spec));
  const std::vector<int>& columns = filling.columns_read();
  std::string list;
  for (int column : columns) list += str_cat(list.empty() ? "" : ", ", quote_identifier(schema.columns[column].name));
  STRATA_ASSIGN_OR_RETURN(Statement select, Statement::prepare(db, str_cat("SELECT ", list, " FROM ", quote_identifier(schema_name), ".",
                                                                           quote_identifier(source))));
  std::vector<ValueView> row(schema.columns.size(), ValueView{});
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool has_row, select.step());
    if (!has_row) break;
    for (size_t i = 0; i < columns.size(); ++i) {
      row[columns[i]] = columnar::value_view_of(select.column_value(static_cast<int>(i)));
    }
    STRATA_RETURN_IF_ERROR(filling.row_changed(+1, row));
  }
  return filling.apply(true);
}

Result<std::unique_ptr<RollupTable>> open_rollup(sqlite3* db, void* aux, int argc, const char* const* argv, bool create) {
  if (argc < 3) return Status::internal("rollup: too few module arguments");
  auto table = std::make_unique<RollupTable>();
  table->db = db;
  table->schema_name = argv[1];
  table->name = argv[2];
  table->state = static_cast<ModuleState*>(aux);
  std::string declaration;
  if (create) {
    STRATA_ASSIGN_OR_RETURN(ModuleArguments arguments,
                            parse_module_arguments("rollup", kOptions, std::span(argv + 3, static_cast<size_t>(argc - 3))));
    if (!arguments.column_definitions().empty()) {
      return Status::error(str_cat("rollup: takes options only (source, bucket, group_by, measures); got '",
                                   arguments.column_definitions().front(), "'"));
    }
    for (std::string_view required : {"source", "bucket", "measures"}) {
      if (!arguments.has(required)) {
        return Status::error(str_cat("rollup: option '", required, "' is required (source='table', bucket='hour(ts)', measures='count(*), …')"));
      }
    }
    const std::string source = *arguments.text("source");
    STRATA_ASSIGN_OR_RETURN(columnar::ColumnarTable * source_table, table->source_table(source));
    STRATA_ASSIGN_OR_RETURN(RollupSpec spec, parse_rollup_spec(source_table->name(), *arguments.text("bucket"),
                                                               arguments.text("group_by").value_or(""), *arguments.text("measures"),
                                                               source_table->schema()));
    declaration = "CREATE TABLE x(" + rollup_column_sql("bucket", spec.bucket_type, spec.bucket_collation);
    for (size_t g = 0; g < spec.group_columns.size(); ++g) {
      declaration += ", " + rollup_column_sql(spec.group_names[g], spec.group_types[g], spec.group_collations[g]);
    }
    std::string measure_lines;
    for (const Measure& measure : spec.measures) {
      declaration += ", " + rollup_column_sql(measure.name, measure.kind == MeasureKind::kCount || measure.kind == MeasureKind::kCountRows ||
                                                           measure.kind == MeasureKind::kCountDistinct
                                                       ? "INTEGER"
                                                       : "",
                                     measure.kind == MeasureKind::kMin || measure.kind == MeasureKind::kMax
                                         ? spec.inputs[measure.input].collation
                                         : "");
      measure_lines += str_cat(std::to_string(static_cast<int>(measure.kind)), " ", std::to_string(measure.input), " ", measure.name, "\n");
    }
    declaration += ")";
    const std::string meta = table->shadow("meta");
    STRATA_RETURN_IF_ERROR(execute(db, str_cat("CREATE TABLE ", meta, "(key TEXT PRIMARY KEY, value) WITHOUT ROWID;",
                                               rollup_data_table_sql(table->schema_name, table->name, spec))));
    STRATA_ASSIGN_OR_RETURN(Statement insert, Statement::prepare(db, str_cat("INSERT INTO ", meta, "(key, value) VALUES (?1, ?2)")));
    for (auto [key, value] : {std::pair<std::string, std::string>{"format", std::to_string(kFormatVersion)},
                              {"strata_version", STRATA_VERSION},
                              {"source", source_table->name()},
                              {"groups", std::to_string(spec.group_columns.size())},
                              {"inputs", std::to_string(spec.inputs.size())},
                              {"measures", measure_lines},
                              {"declaration", declaration}}) {
      insert.reset();
      STRATA_RETURN_IF_ERROR(insert.bind_text(1, key));
      STRATA_RETURN_IF_ERROR(insert.bind_text(2, value));
      STRATA_RETURN_IF_ERROR(insert.run());
    }
    STRATA_RETURN_IF_ERROR(back_fill(db, table->schema_name, source_table->name(), table->name, spec, source_table->schema()));
    STRATA_RETURN_IF_ERROR(execute(db, str_cat("INSERT OR REPLACE INTO ", quote_identifier(table->schema_name), ".",
                                               quote_identifier(source_table->name() + "_meta"), "(key, value) VALUES (",
                                               quote_literal(rollup_meta_key(table->name)), ", ", quote_literal(spec.definition()), ")")));
    STRATA_RETURN_IF_ERROR(source_table->rollups_changed());
  } else {
    STRATA_ASSIGN_OR_RETURN(std::string format, table->meta("format"));
    if (format != std::to_string(kFormatVersion)) {
      return Status::error(str_cat("rollup ", table->name, ": format ", format, " is newer than this build reads (",
                                   std::to_string(kFormatVersion), "): use a newer strata"));
    }
    STRATA_ASSIGN_OR_RETURN(declaration, table->meta("declaration"));
  }
  STRATA_ASSIGN_OR_RETURN(std::string groups, table->meta("groups"));
  STRATA_ASSIGN_OR_RETURN(std::string inputs, table->meta("inputs"));
  STRATA_ASSIGN_OR_RETURN(std::string measure_lines, table->meta("measures"));
  table->group_count = static_cast<size_t>(parse_int64(groups).value_or(0));
  table->input_count = static_cast<size_t>(parse_int64(inputs).value_or(0));
  size_t start = 0;
  while (start < measure_lines.size()) {
    size_t end = measure_lines.find('\n', start);
    if (end == std::string::npos) end = measure_lines.size();
    std::string line = measure_lines.substr(start, end - start);
    start = end + 1;
    const size_t first = line.find(' '), second = line.find(' ', first + 1);
    std::optional<int64_t> kind = parse_int64(line.substr(0, first));
    std::optional<int64_t> input = first == std::string::npos ? std::nullopt : parse_int64(line.substr(first + 1, second - first - 1));
    if (!kind || !input || second == std::string::npos || *kind < 0 || *kind > static_cast<int>(MeasureKind::kCountDistinct) ||
        *input >= static_cast<int64_t>(table->input_count)) {
      return Status::corruption(str_cat("rollup ", table->name, ": its meta table's measures are damaged"));
    }
    table->measures.push_back({static_cast<MeasureKind>(*kind), static_cast<int>(*input), line.substr(second + 1)});
  }
  if (sqlite3_declare_vtab(db, declaration.c_str()) != SQLITE_OK) {
    return Status::error(str_cat("rollup: cannot declare the table: ", sqlite3_errmsg(db)));
  }
  return table;
}

// ---- reading ------------------------------------------------------------------------------

struct PlanTerm {
  int column;
  const char* op;
};

const char* operator_sql(unsigned char op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return "=";
    case SQLITE_INDEX_CONSTRAINT_IS: return "IS";
    case SQLITE_INDEX_CONSTRAINT_GT: return ">";
    case SQLITE_INDEX_CONSTRAINT_GE: return ">=";
    case SQLITE_INDEX_CONSTRAINT_LT: return "<";
    case SQLITE_INDEX_CONSTRAINT_LE: return "<=";
    default: return nullptr;
  }
}

// Bits 2 … 30 of idxNum: measure m is not read (bit 2 + m; the last for every measure from 28 on).
constexpr size_t kLastMeasureBit = 28;

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  return vtab_call(vtab, [&]() -> Status {
    RollupTable* table = RollupTable::from(vtab);
    const int keys = static_cast<int>(table->group_count + 1);
    std::string plan;
    int argument = 0;
    double cost = 1e6;
    for (int i = 0; i < info->nConstraint; ++i) {
      const auto& constraint = info->aConstraint[i];
      if (!constraint.usable || constraint.iColumn < 0 || constraint.iColumn >= keys) continue;
      const char* op = operator_sql(constraint.op);
      if (op == nullptr) continue;
      info->aConstraintUsage[i].argvIndex = ++argument;
      info->aConstraintUsage[i].omit = 1;
      plan += str_cat(std::to_string(constraint.iColumn), ",", op, ";");
      const bool equality = constraint.op == SQLITE_INDEX_CONSTRAINT_EQ || constraint.op == SQLITE_INDEX_CONSTRAINT_IS;
      cost /= equality ? (constraint.iColumn == 0 ? 100 : 10) : 3;
    }
    // ORDER BY a prefix of the key, one direction: the key index gives that order.
    info->idxNum = 0;
    if (info->nOrderBy > 0) {
      bool consumed = true;
      const bool descending = info->aOrderBy[0].desc;
      for (int i = 0; i < info->nOrderBy; ++i) {
        if (info->aOrderBy[i].iColumn != i || i >= keys || info->aOrderBy[i].desc != descending) consumed = false;
      }
      if (consumed) {
        info->orderByConsumed = 1;
        info->idxNum = descending ? 2 : 1;
      }
    }
    info->estimatedCost = cost;
    info->estimatedRows = static_cast<sqlite3_int64>(std::max(1.0, cost));
    // Bits 2 and up: the measures the query does not read (one bit each for the first 28, the
    // last bit when none from 28 on is read), so that a scan reads only the states it needs.
    auto read = [&](size_t m) { return ((info->colUsed >> std::min<size_t>(static_cast<size_t>(keys) + m, 63)) & 1) != 0; };
    unsigned unread = 0;
    bool later_read = false;
    for (size_t m = 0; m < table->measures.size(); ++m) {
      if (m >= kLastMeasureBit) later_read |= read(m);
      else if (!read(m)) unread |= 1u << m;
    }
    if (table->measures.size() > kLastMeasureBit && !later_read) unread |= 1u << kLastMeasureBit;
    info->idxNum |= static_cast<int>(unread << 2);
    info->idxStr = sqlite3_mprintf("%s", plan.c_str());
    if (info->idxStr == nullptr) return Status::no_memory();
    info->needToFreeIdxStr = 1;
    return Status::ok();
  });
}

// The state columns of the data table in order, each by name where a measure the query reads
// needs it, else NULL (`unread`: idxNum's bits 2 and up).
std::string states_read(const RollupTable& table, unsigned unread) {
  const std::vector<std::string> names = rollup_state_column_names(table.input_count);
  std::vector<bool> needed(names.size(), false);
  for (size_t m = 0; m < table.measures.size(); ++m) {
    if (((unread >> std::min(m, kLastMeasureBit)) & 1) != 0) continue;
    const OutputMeasure& measure = table.measures[m];
    if (measure.kind == MeasureKind::kCountRows) {
      needed[0] = true;
      continue;
    }
    const size_t base = 1 + kStatesPerInput * static_cast<size_t>(measure.input);  // n, si, sr, nr, lo, hi, d
    needed[base] = true;
    switch (measure.kind) {
      case MeasureKind::kSum:
      case MeasureKind::kAvg: needed[base + 1] = needed[base + 2] = needed[base + 3] = true; break;
      case MeasureKind::kMin: needed[base + 4] = true; break;
      case MeasureKind::kMax: needed[base + 5] = true; break;
      case MeasureKind::kCountDistinct: needed[base + 6] = true; break;
      default: break;
    }
  }
  std::string list;
  for (size_t c = 0; c < names.size(); ++c) list += str_cat(c ? ", " : "", needed[c] ? names[c] : "NULL");
  return list;
}

struct RollupCursor {
  sqlite3_vtab_cursor base{};
  Statement rows;
  std::string plan;  // what `rows` was prepared for: idxNum, then idxStr
  bool eof = true;
  int64_t rowid = 0;

  RollupTable* table() const { return RollupTable::from(base.pVtab); }

  Status filter(int plan_number, const char* idx_str, int argc, sqlite3_value** argv) {
    RollupTable* t = table();
    // The source's writes of this transaction not yet applied (it is connected if it has any).
    STRATA_ASSIGN_OR_RETURN(std::string source, t->meta("source"));
    if (columnar::ColumnarTable* writer = t->state->sources->find(t->schema_name, source)) {
      STRATA_RETURN_IF_ERROR(writer->apply_rollups());
    }
    // An IN list filters once per value with the same plan: the statement is kept for it.
    std::string plan_key = str_cat(std::to_string(plan_number), "/", idx_str == nullptr ? "" : idx_str);
    if (!rows.valid() || plan_key != plan) {
      std::string_view terms = idx_str == nullptr ? "" : idx_str;
      std::string where;
      int argument = 0;
      while (!terms.empty()) {
        const size_t comma = terms.find(','), end = terms.find(';');
        if (comma == std::string_view::npos || end == std::string_view::npos) return Status::internal("rollup: bad plan");
        const std::optional<int64_t> column = parse_int64(terms.substr(0, comma));
        if (!column || *column < 0 || *column > static_cast<int64_t>(t->group_count)) return Status::internal("rollup: bad plan");
        where += str_cat(where.empty() ? " WHERE " : " AND ", rollup_key_column(static_cast<size_t>(*column)), " ",
                         terms.substr(comma + 1, end - comma - 1), " ?", std::to_string(++argument));
        terms.remove_prefix(end + 1);
      }
      if (argument != argc) return Status::internal("rollup: plan and arguments disagree");
      std::string order_by;
      const int order = plan_number & 3;
      for (size_t k = 0; order != 0 && k <= t->group_count; ++k) {
        order_by += str_cat(k ? ", " : " ORDER BY ", rollup_key_column(k), order == 2 ? " DESC" : "");
      }
      STRATA_ASSIGN_OR_RETURN(rows, Statement::prepare(t->db, str_cat("SELECT ", rollup_key_columns(t->group_count), ", ",
                                                                       states_read(*t, static_cast<unsigned>(plan_number) >> 2), " FROM ", t->shadow("data"),
                                                                       where, order_by)));
      plan = std::move(plan_key);
    }
    rows.reset();
    for (int i = 0; i < argc; ++i) STRATA_RETURN_IF_ERROR(rows.bind_value(i + 1, argv[i]));
    rowid = 0;
    return next();
  }

  Status next() {
    STRATA_ASSIGN_OR_RETURN(bool has_row, rows.step());
    eof = !has_row;
    ++rowid;
    return Status::ok();
  }

  Status column(sqlite3_context* context, int column) {
    RollupTable* t = table();
    const int keys = static_cast<int>(t->group_count + 1);
    if (column < keys) {
      sqlite3_result_value(context, rows.column_value(column));
      return Status::ok();
    }
    const OutputMeasure& measure = t->measures[static_cast<size_t>(column - keys)];
    const int row_count = keys;
    if (measure.kind == MeasureKind::kCountRows) {
      sqlite3_result_int64(context, rows.column_int64(row_count));
      return Status::ok();
    }
    const int c = keys + 1 + kStatesPerInput * measure.input;  // n, si, sr, nr, lo, hi, d
    const int64_t count = rows.column_int64(c);
    switch (measure.kind) {
      case MeasureKind::kCount: sqlite3_result_int64(context, count); break;
      case MeasureKind::kMin: sqlite3_result_value(context, rows.column_value(c + 4)); break;
      case MeasureKind::kMax: sqlite3_result_value(context, rows.column_value(c + 5)); break;
      case MeasureKind::kSum:
      case MeasureKind::kAvg: {
        if (count == 0) {
          sqlite3_result_null(context);
          break;
        }
        const bool whole = rows.column_type(c + 1) == SQLITE_INTEGER && rows.column_int64(c + 3) == 0;
        if (measure.kind == MeasureKind::kSum && whole) {
          sqlite3_result_int64(context, rows.column_int64(c + 1));
          break;
        }
        const double total = rows.column_double(c + 1) + rows.column_double(c + 2);
        sqlite3_result_double(context, measure.kind == MeasureKind::kSum ? total : total / static_cast<double>(count));
        break;
      }
      case MeasureKind::kCountDistinct: {
        if (count == 0 || rows.column_is_null(c + 6)) {
          sqlite3_result_int64(context, 0);
          break;
        }
        Result<DistinctSketch> sketch = DistinctSketch::parse(rows.column_blob(c + 6));
        if (!sketch.is_ok()) return Status::corruption(str_cat("rollup ", t->name, ": ", sketch.status().message()));
        sqlite3_result_int64(context, sketch->estimate());
        break;
      }
      default: sqlite3_result_null(context); break;
    }
    return Status::ok();
  }
};

RollupCursor* cursor_of(sqlite3_vtab_cursor* cursor) { return reinterpret_cast<RollupCursor*>(cursor); }

int x_filter(sqlite3_vtab_cursor* cursor, int plan, const char* idx_str, int argc, sqlite3_value** argv) {
  return cursor_call(cursor, [&] { return cursor_of(cursor)->filter(plan, idx_str, argc, argv); });
}
int x_next(sqlite3_vtab_cursor* cursor) {
  return cursor_call(cursor, [&] { return cursor_of(cursor)->next(); });
}
int x_eof(sqlite3_vtab_cursor* cursor) { return cursor_of(cursor)->eof ? 1 : 0; }
int x_column(sqlite3_vtab_cursor* cursor, sqlite3_context* context, int column) {
  return cursor_call(cursor, [&] { return cursor_of(cursor)->column(context, column); });
}
int x_rowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* rowid) {
  *rowid = cursor_of(cursor)->rowid;
  return SQLITE_OK;
}
int x_shadow_name(const char* suffix) { return std::strcmp(suffix, "data") == 0 || std::strcmp(suffix, "meta") == 0 ? 1 : 0; }

constexpr char kReadOnly[] =
    "rollup: the table is read-only (it follows the writes of its source; write to the source instead)";

const sqlite3_module kRollupModule = read_only_table_module<RollupTable, kReadOnly>({
    .create = create_table<open_rollup>,
    .connect = connect_table<open_rollup>,
    .best_index = x_best_index,
    .open = open_cursor<RollupCursor>,
    .close = close_cursor<RollupCursor>,
    .filter = x_filter,
    .next = x_next,
    .eof = x_eof,
    .column = x_column,
    .rowid = x_rowid,
    .shadow_name = x_shadow_name
});

void destroy_state(void* state) { delete static_cast<ModuleState*>(state); }

}  // namespace

Status register_rollup(sqlite3* db, TableRegistry<columnar::ColumnarTable>* sources) {
  auto* state = new ModuleState{sources};
  int rc = sqlite3_create_module_v2(db, "rollup", &kRollupModule, state, destroy_state);
  if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "rollup: registering the module");
  return Status::ok();
}

}  // namespace strata::timeseries
