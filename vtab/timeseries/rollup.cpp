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
//     measures='count(*), sum(amount), min(amount), max(amount), avg(amount), count(DISTINCT user_id)',
//     segment_rows=4096);                   -- optional: rows per column-wise segment
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
//                        (one "kind input name" line each), declaration, segment_rows
//   r_data(bucket, g0 …, rows, n0, si0, sr0, nr0, lo0, hi0, d0, …)  the hot rows: one per
//                        bucket and group: row count, then per measured column its states
//   r_key_<hex>          index on (bucket, g0, …) (a random suffix: an index keeps its name
//                        when the rollup is renamed, and the old name may be taken again)
//   r_segments(id, first_bucket, last_bucket, rows), r_first_<hex> on first_bucket, and
//   r_columns(cell, data)  settled rows, column-wise: each column of each segment one column
//                        chunk blob (rollup_segments.h)
//   The source's meta table holds 'rollup:<r>' = the definition, which its writes follow.
//
// xBestIndex PLAN: =, IS, <, <=, >, >= on bucket and the group columns select the hot rows
// (r_data's WHERE) and, on bucket, the segments whose bucket range may hold matches; every row
// read is filtered by them (columnar/filter.h), and SQLite checks again those whose filter is
// not exact. IN lists arrive as repeated =. An ORDER BY (or GROUP BY, DISTINCT) on key columns
// only, in any directions, is consumed: the rows read are grouped by those columns and the
// groups emitted in order.
// idxStr: "<column>,<op>,<0 superset filter | 1 exact filter | 2 none>;…" per argument, then
// "|" and "<column><+|->" per ORDER BY term, then "|" and one '0' or '1' per key column (read);
// idxNum bits 2-30: the measures the query does not read (their states are not read).
#include "vtab/timeseries/rollup.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <memory>
#include <span>

#include "codecs/distinct_sketch.h"
#include "codecs/value_compare.h"
#include "ext/module_arguments.h"
#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "ext/vtab_module.h"
#include "strata/version.h"
#include "vtab/columnar/filter.h"
#include "vtab/columnar/table.h"
#include "vtab/columnar/values.h"
#include "vtab/timeseries/rollup_maintenance.h"
#include "vtab/timeseries/rollup_segments.h"
#include "vtab/timeseries/rollup_spec.h"

namespace strata::timeseries {

namespace {

constexpr int kFormatVersion = 2;  // 1: no segment tables (every row in r_data), still read

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
    {.name = "segment_rows", .kind = OptionKind::kInteger, .min_integer = 1, .max_integer = 1 << 20},
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
  std::vector<std::optional<Collation>> key_collations;  // bucket, then the group columns (nullopt: not built in)
  columnar::TableSchema key_schema;                      // the key columns' types and collations, for filters
  bool segmented = false;                  // format 2 (rollup_segments.h)

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
    STRATA_RETURN_IF_ERROR(execute(db, str_cat("DROP TABLE ", shadow("data"), "; DROP TABLE ", shadow("meta"), "; DROP TABLE IF EXISTS ",
                                               shadow("segments"), "; DROP TABLE IF EXISTS ", shadow("columns"), ";")));
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
    for (std::string_view suffix : {"data", "meta", "segments", "columns"}) {
      if ((suffix == "segments" || suffix == "columns") && !segmented) continue;
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
                              {"segment_rows", std::to_string(arguments.integer("segment_rows").value_or(kDefaultSegmentRows))},
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
    if (format != std::to_string(kFormatVersion) && format != "1") {
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
  STRATA_ASSIGN_OR_RETURN(table->segmented, rollup_has_segments(db, table->schema_name, table->name));
  // The key columns' declared types (pragma_table_info) and collations (those of the data
  // table's one index, the key index, whose columns take their table columns' collations).
  // Not sqlite3_table_column_metadata: SQLite builds without SQLITE_ENABLE_COLUMN_METADATA lack it.
  const std::string data_table = table->name + "_data";
  STRATA_ASSIGN_OR_RETURN(Statement columns, Statement::prepare(db, "SELECT t.name, t.type, x.coll FROM pragma_table_info(?1, ?2) AS t "
                                                                    "JOIN pragma_index_xinfo((SELECT name FROM pragma_index_list(?1, ?2) LIMIT 1), ?2) AS x "
                                                                    "ON x.name = t.name WHERE x.key ORDER BY x.seqno"));
  STRATA_RETURN_IF_ERROR(columns.bind_text(1, data_table));
  STRATA_RETURN_IF_ERROR(columns.bind_text(2, table->schema_name));
  for (size_t k = 0; k <= table->group_count; ++k) {
    STRATA_ASSIGN_OR_RETURN(bool found, columns.step());
    if (!found || columns.column_text(0) != rollup_key_column(k)) {
      return Status::corruption(str_cat("rollup ", table->name, ": its data table's key index lacks the key column ", rollup_key_column(k)));
    }
    columnar::ColumnDefinition column;
    column.name = rollup_key_column(k);
    column.declared_type = std::string(columns.column_text(1));
    column.affinity = columnar::affinity_of_declared_type(column.declared_type);
    column.collation = std::string(columns.column_text(2));
    table->key_collations.push_back(columnar::builtin_collation(column.collation));
    table->key_schema.columns.push_back(std::move(column));
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

int constraint_op(std::string_view sql) {
  for (int op : {SQLITE_INDEX_CONSTRAINT_EQ, SQLITE_INDEX_CONSTRAINT_IS, SQLITE_INDEX_CONSTRAINT_GT, SQLITE_INDEX_CONSTRAINT_GE,
                 SQLITE_INDEX_CONSTRAINT_LT, SQLITE_INDEX_CONSTRAINT_LE}) {
    if (sql == operator_sql(static_cast<unsigned char>(op))) return op;
  }
  return 0;
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
      // Filtered here as well (rows of segments are read whole); SQLite need not check again when
      // the filter is exact: a numeric key (SQLite gives the other side NUMERIC affinity), or a
      // TEXT key against a text constant (no conversion either way).
      // 0: a superset filter, 1: an exact one, 2: none (another collation than the column's).
      const columnar::ColumnDefinition& key = table->key_schema.columns[static_cast<size_t>(constraint.iColumn)];
      const std::optional<Collation> collation = columnar::builtin_collation(sqlite3_vtab_collation(info, i));
      int filtering = 2;
      if (collation && collation == table->key_collations[static_cast<size_t>(constraint.iColumn)]) {
        filtering = 0;
        sqlite3_value* constant = nullptr;
        if (columnar::is_numeric_affinity(key.affinity) ||
            (key.affinity == columnar::Affinity::kText && sqlite3_vtab_rhs_value(info, i, &constant) == SQLITE_OK && constant != nullptr &&
             sqlite3_value_type(constant) == SQLITE_TEXT)) {
          filtering = 1;
        }
      }
      info->aConstraintUsage[i].omit = filtering == 1 ? 1 : 0;
      plan += str_cat(std::to_string(constraint.iColumn), ",", op, ",", std::to_string(filtering), ";");
      const bool equality = constraint.op == SQLITE_INDEX_CONSTRAINT_EQ || constraint.op == SQLITE_INDEX_CONSTRAINT_IS;
      cost /= equality ? (constraint.iColumn == 0 ? 100 : 10) : 3;
    }
    // ORDER BY key columns only, with collations this module compares by.
    info->idxNum = 0;
    plan += "|";
    if (info->nOrderBy > 0) {
      bool consumed = true;
      std::string order;
      for (int i = 0; i < info->nOrderBy; ++i) {
        const int column = info->aOrderBy[i].iColumn;
        if (column < 0 || column >= keys || !table->key_collations[static_cast<size_t>(column)]) {
          consumed = false;
          break;
        }
        order += str_cat(std::to_string(column), info->aOrderBy[i].desc ? "-" : "+");
      }
      if (consumed) {
        info->orderByConsumed = 1;
        plan += order;
      }
    }
    // The key columns the query reads (those from the 63rd on always), so that a segment's
    // others are not decoded.
    std::string used_keys;
    for (int k = 0; k < keys; ++k) used_keys += k >= 63 || ((info->colUsed >> k) & 1) != 0 ? '1' : '0';
    plan += "|" + used_keys;
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

// Which data-table columns (keys, then rows and the states) a scan reads: the keys the query
// reads ('1' in `used_keys`), and the states of the measures it reads (`unread`: idxNum's bits
// 2 and up).
std::vector<bool> columns_read(const RollupTable& table, unsigned unread, std::string_view used_keys) {
  const size_t keys = table.group_count + 1;
  std::vector<bool> needed(rollup_data_column_count(table.group_count, table.input_count), false);
  for (size_t k = 0; k < keys; ++k) needed[k] = used_keys[k] == '1';
  for (size_t m = 0; m < table.measures.size(); ++m) {
    if (((unread >> std::min(m, kLastMeasureBit)) & 1) != 0) continue;
    const OutputMeasure& measure = table.measures[m];
    if (measure.kind == MeasureKind::kCountRows) {
      needed[keys] = true;
      continue;
    }
    const size_t base = rollup_input_column(table.group_count, static_cast<size_t>(measure.input));
    needed[base] = true;
    switch (measure.kind) {
      case MeasureKind::kSum:
      case MeasureKind::kAvg: needed[base + kStateWholeSum] = needed[base + kStateRealSum] = needed[base + kStateRealCount] = true; break;
      case MeasureKind::kMin: needed[base + kStateMin] = true; break;
      case MeasureKind::kMax: needed[base + kStateMax] = true; break;
      case MeasureKind::kCountDistinct: needed[base + kStateSketch] = true; break;
      default: break;
    }
  }
  return needed;
}

// Rows read, column-wise: the hot rows, or one segment. Columns not read stay empty;
// `passing` lists the rows that pass the pushed filters.
struct Block {
  std::vector<ColumnVector> columns;
  size_t rows = 0;
  std::vector<uint32_t> passing;
};

struct RollupCursor {
  sqlite3_vtab_cursor base{};
  std::string plan;  // what the statements were prepared for: idxNum, then idxStr
  Statement hot;     // the hot rows matching the constraints
  Statement segments;  // the segments that may hold matching rows: id, rows
  SegmentColumns segment_columns;
  std::vector<bool> needed;
  std::vector<std::pair<size_t, bool>> order;  // ORDER BY: key column, descending
  int argument_count = 0;                     // the plan's
  std::vector<int> hot_arguments;             // the arguments (1-based) bound to `hot`
  std::vector<int> segment_arguments;         // those on bucket, bound to `segments`
  std::vector<columnar::ColumnFilter> filters;  // every row read passes them
  std::vector<int> filter_arguments;            // each filter's argument (1-based)

  std::vector<Block> blocks;
  size_t block_index = 0;                                      // unordered scans: the current block
  std::vector<std::pair<uint32_t, uint32_t>> emission;         // ordered scans: (block, row) in order
  size_t position = 0;
  const Block* block = nullptr;
  size_t row = 0;
  bool eof = true;
  int64_t rowid = 0;

  RollupTable* table() const { return RollupTable::from(base.pVtab); }

  Status prepare(int plan_number, std::string_view idx_str) {
    RollupTable* t = table();
    const size_t bar = idx_str.find('|');
    if (bar == std::string_view::npos) return Status::internal("rollup: bad plan");
    std::string_view terms = idx_str.substr(0, bar);
    const size_t second_bar = idx_str.find('|', bar + 1);
    if (second_bar == std::string_view::npos || idx_str.size() - second_bar - 1 != t->group_count + 1) return Status::internal("rollup: bad plan");
    std::string_view order_terms = idx_str.substr(bar + 1, second_bar - bar - 1);
    const std::string_view used_keys = idx_str.substr(second_bar + 1);
    std::string where, segment_where;
    int argument = 0;
    segment_arguments.clear();
    hot_arguments.clear();
    filters.clear();
    filter_arguments.clear();
    while (!terms.empty()) {
      const size_t comma = terms.find(','), end = terms.find(';');
      if (comma == std::string_view::npos || end == std::string_view::npos) return Status::internal("rollup: bad plan");
      const std::optional<int64_t> column = parse_int64(terms.substr(0, comma));
      if (!column || *column < 0 || *column > static_cast<int64_t>(t->group_count)) return Status::internal("rollup: bad plan");
      const size_t second_comma = terms.find(',', comma + 1);
      if (second_comma == std::string_view::npos || second_comma > end) return Status::internal("rollup: bad plan");
      const std::string_view op = terms.substr(comma + 1, second_comma - comma - 1);
      ++argument;
      columnar::ColumnFilter filter;
      filter.column = static_cast<int>(*column);
      filter.op = constraint_op(op);
      const std::string_view filtering = terms.substr(second_comma + 1, end - second_comma - 1);
      filter.exact = filtering == "1";
      if (filter.op != 0 && filtering != "2" && t->key_collations[static_cast<size_t>(*column)]) {  // else SQLite checks it
        filter.collation = *t->key_collations[static_cast<size_t>(*column)];
        filters.push_back(std::move(filter));
        filter_arguments.push_back(argument);
      }
      terms.remove_prefix(end + 1);
      if (filtering == "2") continue;  // under another collation: SQLite alone checks it
      hot_arguments.push_back(argument);
      where += str_cat(where.empty() ? " WHERE " : " AND ", rollup_key_column(static_cast<size_t>(*column)), " ", op, " ?", std::to_string(argument));
      if (*column == 0) {
        segment_where += str_cat(segment_where.empty() ? " WHERE " : " AND ", "(", segment_may_hold(op, argument), ")");
        segment_arguments.push_back(argument);
      }
    }
    argument_count = argument;
    order.clear();
    while (!order_terms.empty()) {
      size_t sign = order_terms.find_first_of("+-");
      if (sign == std::string_view::npos) return Status::internal("rollup: bad plan");
      const std::optional<int64_t> column = parse_int64(order_terms.substr(0, sign));
      if (!column || *column < 0 || *column > static_cast<int64_t>(t->group_count)) return Status::internal("rollup: bad plan");
      order.emplace_back(static_cast<size_t>(*column), order_terms[sign] == '-');
      order_terms.remove_prefix(sign + 1);
    }
    needed = columns_read(*t, static_cast<unsigned>(plan_number) >> 2, used_keys);
    for (const columnar::ColumnFilter& filter : filters) needed[static_cast<size_t>(filter.column)] = true;
    for (const auto& [column, descending] : order) needed[column] = true;
    const std::vector<std::string> states = rollup_state_column_names(t->input_count);
    std::string list = rollup_key_columns(t->group_count);
    for (size_t c = 0; c < states.size(); ++c) list += str_cat(", ", needed[t->group_count + 1 + c] ? states[c] : "NULL");
    STRATA_ASSIGN_OR_RETURN(hot, Statement::prepare(t->db, str_cat("SELECT ", list, " FROM ", t->shadow("data"), where)));
    if (t->segmented) {
      STRATA_ASSIGN_OR_RETURN(segments, Statement::prepare(t->db, str_cat("SELECT id, rows FROM ", t->shadow("segments"), segment_where,
                                                                          " ORDER BY first_bucket")));
      if (!segment_columns.is_open()) STRATA_RETURN_IF_ERROR(segment_columns.open(t->db, t->schema_name, t->name));
    }
    return Status::ok();
  }

  Status filter(int plan_number, const char* idx_str, int argc, sqlite3_value** argv) {
    RollupTable* t = table();
    // The source's writes of this transaction not yet applied (it is connected if it has any).
    STRATA_ASSIGN_OR_RETURN(std::string source, t->meta("source"));
    if (columnar::ColumnarTable* writer = t->state->sources->find(t->schema_name, source)) {
      STRATA_RETURN_IF_ERROR(writer->apply_rollups());
    }
    // An IN list filters once per value with the same plan: the statements are kept for it.
    std::string plan_key = str_cat(std::to_string(plan_number), "/", idx_str == nullptr ? "" : idx_str);
    if (!hot.valid() || plan_key != plan) {
      if (idx_str == nullptr) return Status::internal("rollup: no plan");
      STRATA_RETURN_IF_ERROR(prepare(plan_number, idx_str));
      plan = std::move(plan_key);
    }
    if (argc != argument_count) return Status::internal("rollup: plan and arguments disagree");
    for (size_t f = 0; f < filters.size(); ++f) {
      columnar::bind_filter_values(filters[f], argv[filter_arguments[f] - 1], t->key_schema);
    }
    blocks.clear();
    emission.clear();
    // The hot rows.
    hot.reset();
    for (int argument : hot_arguments) STRATA_RETURN_IF_ERROR(hot.bind_value(argument, argv[argument - 1]));
    Block& hot_rows = blocks.emplace_back();
    hot_rows.columns.resize(needed.size());
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool has_row, hot.step());
      if (!has_row) break;
      for (size_t c = 0; c < needed.size(); ++c) {
        if (needed[c]) hot_rows.columns[c].append(columnar::value_view_of(hot.column_value(static_cast<int>(c))));
      }
      ++hot_rows.rows;
    }
    hot.reset();
    select_passing(hot_rows);
    // The segments that may hold matching rows, all read now: the scan is a snapshot, which a
    // write to the source later in the same statement (moving segments) does not disturb.
    if (t->segmented) {
      std::vector<std::pair<int64_t, int64_t>> selected;  // id, rows
      segments.reset();
      for (int argument : segment_arguments) STRATA_RETURN_IF_ERROR(segments.bind_value(argument, argv[argument - 1]));
      while (true) {
        STRATA_ASSIGN_OR_RETURN(bool has_row, segments.step());
        if (!has_row) break;
        selected.emplace_back(segments.column_int64(0), segments.column_int64(1));
      }
      segments.reset();
      for (const auto& [id, rows] : selected) STRATA_RETURN_IF_ERROR(read_segment(id, rows));
    }
    rowid = 0;
    position = 0;
    if (!order.empty()) {
      STRATA_RETURN_IF_ERROR(order_rows());
      return show_emission();
    }
    block_index = 0;
    return skip_empty_blocks();
  }

  Status read_segment(int64_t id, int64_t rows) {
    Block read;
    read.rows = static_cast<size_t>(rows);
    STRATA_ASSIGN_OR_RETURN(read.columns, segment_columns.read_segment(id, static_cast<uint64_t>(rows), needed));
    select_passing(read);
    blocks.push_back(std::move(read));
    return Status::ok();
  }

  // The rows of `b` every filter passes (a dictionary-coded column is tested once per value).
  void select_passing(Block& b) const {
    b.passing.resize(b.rows);
    for (uint32_t r = 0; r < b.rows; ++r) b.passing[r] = r;
    for (const columnar::ColumnFilter& filter : filters) {
      const ColumnVector& values = b.columns[static_cast<size_t>(filter.column)];
      std::vector<char> code_passes;
      if (values.is_coded()) {
        const ColumnVector& dictionary = values.dictionary();
        code_passes.resize(dictionary.size());
        for (size_t d = 0; d < dictionary.size(); ++d) code_passes[d] = filter.matches(dictionary.get(d)) ? 1 : 0;
      }
      size_t kept = 0;
      ValueView previous;  // rows are in key order: a plain column repeats values in runs
      bool previous_passes = false, has_previous = false;
      for (uint32_t r : b.passing) {
        bool passes;
        if (values.is_coded()) {
          passes = code_passes[values.code(r)] != 0;
        } else {
          const ValueView value = values.get(r);
          if (!has_previous || value.type != previous.type || value.integer != previous.integer || value.bytes != previous.bytes ||
              std::memcmp(&value.real, &previous.real, sizeof value.real) != 0) {
            previous = value;
            previous_passes = filter.matches(value);
            has_previous = true;
          }
          passes = previous_passes;
        }
        if (passes) b.passing[kept++] = r;
      }
      b.passing.resize(kept);
    }
  }

  // Unordered: the block and row at `position` of `block_index`, or the next block's first.
  Status skip_empty_blocks() {
    while (block_index < blocks.size() && position >= blocks[block_index].passing.size()) {
      ++block_index;
      position = 0;
    }
    eof = block_index == blocks.size();
    if (!eof) {
      block = &blocks[block_index];
      row = block->passing[position];
    }
    return Status::ok();
  }

  // The rows of every block grouped by the ORDER BY columns, groups in order: each column's
  // distinct values (SQLite's equality under the column's collation) ranked, rows sorted by
  // their ranks.
  Status order_rows() {
    RollupTable* t = table();
    size_t total = 0;  // the passing rows, numbered through the blocks in order
    for (const Block& b : blocks) total += b.passing.size();
    std::vector<std::vector<uint32_t>> ranks(order.size(), std::vector<uint32_t>(total));
    std::vector<size_t> distinct_counts(order.size());
    for (size_t o = 0; o < order.size(); ++o) {
      const auto [column, descending] = order[o];
      const Collation collation = *t->key_collations[column];
      std::unordered_map<std::string, uint32_t> ids;
      std::vector<Value> values;
      std::vector<uint32_t>& id_of_row = ranks[o];
      auto id_of = [&](const ValueView& value) {
        auto [found, inserted] = ids.try_emplace(equality_key(value, collation), static_cast<uint32_t>(values.size()));
        if (inserted) values.emplace_back(value);
        return found->second;
      };
      size_t at = 0;
      for (const Block& b : blocks) {
        const ColumnVector& vector = b.columns[column];
        if (vector.is_coded()) {  // one key per dictionary value
          const ColumnVector& dictionary = vector.dictionary();
          std::vector<uint32_t> code_ids(dictionary.size());
          for (size_t d = 0; d < dictionary.size(); ++d) code_ids[d] = id_of(dictionary.get(d));
          for (uint32_t r : b.passing) id_of_row[at++] = code_ids[vector.code(r)];
        } else {
          for (uint32_t r : b.passing) id_of_row[at++] = id_of(vector.get(r));
        }
      }
      std::vector<uint32_t> by_value(values.size());
      for (uint32_t i = 0; i < by_value.size(); ++i) by_value[i] = i;
      std::sort(by_value.begin(), by_value.end(),
                [&](uint32_t a, uint32_t b) { return compare_values(values[a].view(), values[b].view(), collation) < 0; });
      std::vector<uint32_t> rank(values.size());
      for (uint32_t i = 0; i < by_value.size(); ++i) rank[by_value[i]] = descending ? static_cast<uint32_t>(by_value.size() - 1 - i) : i;
      for (uint32_t& id : id_of_row) id = rank[id];
      distinct_counts[o] = values.size();
    }
    // Rows sorted by their ranks, last ORDER BY column first, each pass a stable counting sort.
    std::vector<uint32_t> sequence(total), sorted(total);
    for (uint32_t i = 0; i < total; ++i) sequence[i] = i;
    for (size_t o = order.size(); o-- > 0;) {
      const std::vector<uint32_t>& rank = ranks[o];
      std::vector<uint32_t> starts(distinct_counts[o] + 1, 0);
      for (uint32_t i : sequence) ++starts[rank[i] + 1];
      for (size_t v = 1; v < starts.size(); ++v) starts[v] += starts[v - 1];
      for (uint32_t i : sequence) sorted[starts[rank[i]]++] = i;
      sequence.swap(sorted);
    }
    // Back from numbers to (block, row).
    std::vector<uint32_t> block_start(blocks.size() + 1, 0);
    for (size_t b = 0; b < blocks.size(); ++b) block_start[b + 1] = block_start[b] + static_cast<uint32_t>(blocks[b].passing.size());
    emission.resize(total);
    for (size_t i = 0; i < total; ++i) {
      const uint32_t b = static_cast<uint32_t>(std::upper_bound(block_start.begin(), block_start.end(), sequence[i]) - block_start.begin() - 1);
      emission[i] = {b, blocks[b].passing[sequence[i] - block_start[b]]};
    }
    return Status::ok();
  }

  Status show_emission() {
    eof = position >= emission.size();
    if (!eof) {
      block = &blocks[emission[position].first];
      row = emission[position].second;
    }
    return Status::ok();
  }

  Status next() {
    ++rowid;
    ++position;
    return order.empty() ? skip_empty_blocks() : show_emission();
  }

  ValueView value(size_t column) const { return block->columns[column].get(row); }

  Status column(sqlite3_context* context, int column) {
    RollupTable* t = table();
    const int keys = static_cast<int>(t->group_count + 1);
    if (column < keys) {
      columnar::set_result(context, value(static_cast<size_t>(column)));
      return Status::ok();
    }
    const OutputMeasure& measure = t->measures[static_cast<size_t>(column - keys)];
    if (measure.kind == MeasureKind::kCountRows) {
      columnar::set_result(context, value(static_cast<size_t>(keys)));
      return Status::ok();
    }
    const size_t c = rollup_input_column(t->group_count, static_cast<size_t>(measure.input));
    const ValueView count_value = value(c);
    const int64_t count = count_value.type == ValueType::kInteger ? count_value.integer : 0;
    switch (measure.kind) {
      case MeasureKind::kCount: sqlite3_result_int64(context, count); break;
      case MeasureKind::kMin: columnar::set_result(context, value(c + kStateMin)); break;
      case MeasureKind::kMax: columnar::set_result(context, value(c + kStateMax)); break;
      case MeasureKind::kSum:
      case MeasureKind::kAvg: {
        if (count == 0) {
          sqlite3_result_null(context);
          break;
        }
        const ValueView whole = value(c + kStateWholeSum), real = value(c + kStateRealSum), real_count = value(c + kStateRealCount);
        const bool exact = whole.type == ValueType::kInteger && real_count.type == ValueType::kInteger && real_count.integer == 0;
        if (measure.kind == MeasureKind::kSum && exact) {
          sqlite3_result_int64(context, whole.integer);
          break;
        }
        auto as_double = [](const ValueView& v) {
          return v.type == ValueType::kInteger ? static_cast<double>(v.integer) : v.type == ValueType::kReal ? v.real : 0.0;
        };
        const double total = as_double(whole) + as_double(real);
        sqlite3_result_double(context, measure.kind == MeasureKind::kSum ? total : total / static_cast<double>(count));
        break;
      }
      case MeasureKind::kCountDistinct: {
        const ValueView sketch_bytes = value(c + kStateSketch);
        if (count == 0 || sketch_bytes.type != ValueType::kBlob) {
          sqlite3_result_int64(context, 0);
          break;
        }
        Result<DistinctSketch> sketch = DistinctSketch::parse(std::as_bytes(std::span(sketch_bytes.bytes.data(), sketch_bytes.bytes.size())));
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
int x_shadow_name(const char* suffix) {
  for (const char* name : {"data", "meta", "segments", "columns"}) {
    if (std::strcmp(suffix, name) == 0) return 1;
  }
  return 0;
}

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
