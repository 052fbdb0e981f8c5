#include "vtab/graph/things_tier.h"

#include "ext/str_cat.h"
#include "tiering/partition_object.h"
#include "vtab/columnar/storage.h"
#include "vtab/graph/graph_common.h"

namespace strata::graph {

// ---- things ----------------------------------------------------------------------------------

Result<ThingsTable::ColdValues> ThingsTable::read_cold(const ColdPlace& place) {
  if (!cold_) return Status::corruption(str_cat("things: table ", name_, " has a cold thing but no tier= option"));
  STRATA_ASSIGN_OR_RETURN(std::span<const ValueView> values, cold_->read(place));
  return ColdValues{values[0], values[1]};
}

Status ThingsTable::add_cold_path_entries(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(Statement cold, Statement::prepare(db_, str_cat("SELECT node, cold_object, cold_row FROM ", shadow("things"),
                                                                          " WHERE cold_object IS NOT NULL ORDER BY cold_object, cold_row")));
  STRATA_ASSIGN_OR_RETURN(Statement entry, Statement::prepare(db_, str_cat("INSERT OR REPLACE INTO ", shadow("cold_paths"), "(path, value, node)"
                                                                           " SELECT ?1, v, ?2 FROM (SELECT json_extract(?3, ?1) AS v)"
                                                                           " WHERE v IS NOT NULL")));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, cold.step());
    if (!row) break;
    STRATA_ASSIGN_OR_RETURN(ColdValues values, read_cold({cold.column_int64(1), cold.column_int64(2)}));
    entry.reset();
    STRATA_RETURN_IF_ERROR(entry.bind_text(1, path));
    STRATA_RETURN_IF_ERROR(entry.bind_int64(2, cold.column_int64(0)));
    STRATA_RETURN_IF_ERROR(columnar::bind_value_view(entry, 3, values.data));
    STRATA_RETURN_IF_ERROR(entry.run());
  }
  return Status::ok();
}

namespace {

// A things table's side: partitions by (type, month of created_at); data and embedding go cold;
// the values of indexed paths of cold things are kept in kb_cold_paths.
class ThingsRows final : public TieredRows {
 public:
  explicit ThingsRows(ThingsTable& table) : table_(table) {}

  sqlite3* db() const override { return table_.db(); }
  std::string who() const override { return str_cat("things table ", table_.name()); }
  std::string key_prefix() const override { return tiering::escape_path_segment(table_.name()); }
  std::string objects_table() const override { return table_.shadow("objects"); }
  int64_t hot_months() const override { return table_.hot_months(); }
  ColdRows& cold() override { return *table_.cold(); }

  Result<Statement> listing() override {
    return Statement::prepare(db(), str_cat("SELECT type, created_at, cold_object IS NULL FROM ", table_.shadow("things"),
                                            " WHERE typeof(type) = 'text' AND created_at BETWEEN ?1 AND ?2"));
  }
  std::string partition_name(const std::optional<std::string>& type, int64_t month) const override {
    return str_cat(tiering::hive_directory("type", ValueView::of_text(type.value_or(""))), "/dt=", month_text(month));
  }
  Result<Statement> partition_rows(const PartitionSummary& partition, bool only_cold) override {
    STRATA_ASSIGN_OR_RETURN(Statement rows, Statement::prepare(db(), str_cat("SELECT node, id, type, data, embedding, created_at, updated_at,"
                                                                             " cold_object, cold_row FROM ", table_.shadow("things"),
                                                                             " WHERE type = ?1 AND created_at >= ?2 AND created_at < ?3",
                                                                             only_cold ? " AND cold_object IS NOT NULL" : "", " ORDER BY node")));
    STRATA_RETURN_IF_ERROR(rows.bind_text(1, partition.group.value_or("")));
    STRATA_RETURN_IF_ERROR(rows.bind_int64(2, partition.first_ms()));
    STRATA_RETURN_IF_ERROR(rows.bind_int64(3, partition.end_ms()));
    return rows;
  }
  std::vector<parquet::ColumnSpec> object_columns() const override {
    return {{"id", ValueType::kText},        {"type", ValueType::kText},          {"data", ValueType::kText},
            {"embedding", ValueType::kBlob}, {"created_at", ValueType::kInteger}, {"updated_at", ValueType::kInteger}};
  }
  std::vector<int> cold_value_columns() const override { return {2, 3}; }
  // For other readers: the hot id index answers strata's lookups exactly.
  std::vector<std::string> bloom_columns() const override { return {"id"}; }

  Status make_cold(int64_t node, bool was_hot, const ColdPlace& place) override {
    if (was_hot) {
      if (!paths_) {
        STRATA_ASSIGN_OR_RETURN(Statement list, Statement::prepare(db(), str_cat("SELECT substr(key, 6) FROM ", table_.shadow("config"),
                                                                                 " WHERE key GLOB 'path:*' ORDER BY key")));
        STRATA_ASSIGN_OR_RETURN(paths_, first_column_texts(list));
        STRATA_ASSIGN_OR_RETURN(path_entry_, Statement::prepare(db(), str_cat("INSERT OR REPLACE INTO ", table_.shadow("cold_paths"),
                                                                              "(path, value, node) SELECT ?1, v, ?2 FROM (SELECT json_extract(data, ?1)"
                                                                              " AS v FROM ", table_.shadow("things"),
                                                                              " WHERE node = ?2) WHERE v IS NOT NULL")));
      }
      for (const std::string& path : *paths_) {
        path_entry_.reset();
        STRATA_RETURN_IF_ERROR(path_entry_.bind_text(1, path));
        STRATA_RETURN_IF_ERROR(path_entry_.bind_int64(2, node));
        STRATA_RETURN_IF_ERROR(path_entry_.run());
      }
    }
    if (!make_cold_.valid()) {
      STRATA_ASSIGN_OR_RETURN(make_cold_, Statement::prepare(db(), str_cat("UPDATE ", table_.shadow("things"),
                                                                           " SET data = NULL, embedding = NULL, cold_object = ?2,"
                                                                           " cold_row = ?3 WHERE node = ?1")));
    }
    make_cold_.reset();
    STRATA_RETURN_IF_ERROR(make_cold_.bind_int64(1, node));
    STRATA_RETURN_IF_ERROR(make_cold_.bind_int64(2, place.object_id));
    STRATA_RETURN_IF_ERROR(make_cold_.bind_int64(3, place.row));
    return make_cold_.run();
  }

  Status make_hot(int64_t node, std::span<const Value> values) override {
    if (!make_hot_.valid()) {
      STRATA_ASSIGN_OR_RETURN(make_hot_, Statement::prepare(db(), str_cat("UPDATE ", table_.shadow("things"), " SET data = ?2, embedding = ?3,"
                                                                          " cold_object = NULL, cold_row = NULL WHERE node = ?1")));
      STRATA_ASSIGN_OR_RETURN(forget_paths_, Statement::prepare(db(), str_cat("DELETE FROM ", table_.shadow("cold_paths"), " WHERE node = ?1")));
    }
    make_hot_.reset();
    STRATA_RETURN_IF_ERROR(make_hot_.bind_int64(1, node));
    STRATA_RETURN_IF_ERROR(columnar::bind_value_view(make_hot_, 2, values[0].view()));
    STRATA_RETURN_IF_ERROR(columnar::bind_value_view(make_hot_, 3, values[1].view()));
    STRATA_RETURN_IF_ERROR(make_hot_.run());
    forget_paths_.reset();
    STRATA_RETURN_IF_ERROR(forget_paths_.bind_int64(1, node));
    return forget_paths_.run();
  }

  Result<int64_t> hot_bytes(const PartitionSummary& partition) {
    STRATA_ASSIGN_OR_RETURN(Statement sum, Statement::prepare(db(), str_cat("SELECT sum(ifnull(length(CAST(data AS BLOB)), 0) +"
                                                                            " ifnull(length(CAST(embedding AS BLOB)), 0)) FROM ",
                                                                            table_.shadow("things"), " WHERE type = ?1 AND created_at >= ?2"
                                                                            " AND created_at < ?3 AND cold_object IS NULL")));
    STRATA_RETURN_IF_ERROR(sum.bind_text(1, partition.group.value_or("")));
    STRATA_RETURN_IF_ERROR(sum.bind_int64(2, partition.first_ms()));
    STRATA_RETURN_IF_ERROR(sum.bind_int64(3, partition.end_ms()));
    STRATA_ASSIGN_OR_RETURN(bool row, sum.step());
    return row ? sum.column_int64(0) : 0;
  }

 private:
  ThingsTable& table_;
  std::optional<std::vector<std::string>> paths_;  // indexed paths, read at the first commit
  Statement path_entry_, make_cold_, make_hot_, forget_paths_;
};

// A relationships table's side: partitions by month of created_at; the data of edges that have
// some goes cold.
class RelationshipsRows final : public TieredRows {
 public:
  explicit RelationshipsRows(RelationshipsTable& table) : table_(table) {}

  sqlite3* db() const override { return table_.db(); }
  std::string who() const override { return str_cat("relationships table ", table_.name()); }
  std::string key_prefix() const override { return tiering::escape_path_segment(table_.name()); }
  std::string objects_table() const override { return table_.shadow("objects"); }
  int64_t hot_months() const override { return table_.hot_months(); }
  ColdRows& cold() override { return *table_.cold(); }

  Result<Statement> listing() override {
    return Statement::prepare(db(), str_cat("SELECT NULL, created_at, cold_object IS NULL FROM ", table_.shadow("edges"), " WHERE ",
                                            kPayloadCondition, " AND created_at BETWEEN ?1 AND ?2"));
  }
  std::string partition_name(const std::optional<std::string>&, int64_t month) const override {
    return str_cat("dt=", month_text(month));
  }
  Result<Statement> partition_rows(const PartitionSummary& partition, bool only_cold) override {
    STRATA_ASSIGN_OR_RETURN(Statement rows,
                            Statement::prepare(db(), str_cat("SELECT e.edge, e.id, f.id, t.id, y.name, e.data, e.created_at, e.cold_object,"
                                                             " e.cold_row FROM ", table_.shadow("edges"), " e JOIN ", table_.things_shadow(),
                                                             " f ON f.node = e.from_node JOIN ", table_.things_shadow(),
                                                             " t ON t.node = e.to_node JOIN ", table_.shadow("types"),
                                                             " y ON y.code = e.type_code WHERE ", kPayloadConditionOfE,
                                                             " AND e.created_at >= ?1 AND e.created_at < ?2",
                                                             only_cold ? " AND e.cold_object IS NOT NULL" : "", " ORDER BY e.edge")));
    STRATA_RETURN_IF_ERROR(rows.bind_int64(1, partition.first_ms()));
    STRATA_RETURN_IF_ERROR(rows.bind_int64(2, partition.end_ms()));
    return rows;
  }
  std::vector<parquet::ColumnSpec> object_columns() const override {
    return {{"id", ValueType::kText},   {"from_id", ValueType::kText}, {"to_id", ValueType::kText},
            {"type", ValueType::kText}, {"data", ValueType::kText},    {"created_at", ValueType::kInteger}};
  }
  std::vector<int> cold_value_columns() const override { return {4}; }
  std::vector<std::string> bloom_columns() const override { return {"id"}; }

  Status make_cold(int64_t edge, bool, const ColdPlace& place) override {
    if (!make_cold_.valid()) {
      STRATA_ASSIGN_OR_RETURN(make_cold_, Statement::prepare(db(), str_cat("UPDATE ", table_.shadow("edges"),
                                                                           " SET data = NULL, cold_object = ?2, cold_row = ?3 WHERE edge = ?1")));
    }
    make_cold_.reset();
    STRATA_RETURN_IF_ERROR(make_cold_.bind_int64(1, edge));
    STRATA_RETURN_IF_ERROR(make_cold_.bind_int64(2, place.object_id));
    STRATA_RETURN_IF_ERROR(make_cold_.bind_int64(3, place.row));
    return make_cold_.run();
  }

  Status make_hot(int64_t edge, std::span<const Value> values) override {
    if (!make_hot_.valid()) {
      STRATA_ASSIGN_OR_RETURN(make_hot_, Statement::prepare(db(), str_cat("UPDATE ", table_.shadow("edges"),
                                                                          " SET data = ?2, cold_object = NULL, cold_row = NULL WHERE edge = ?1")));
    }
    make_hot_.reset();
    STRATA_RETURN_IF_ERROR(make_hot_.bind_int64(1, edge));
    STRATA_RETURN_IF_ERROR(columnar::bind_value_view(make_hot_, 2, values[0].view()));
    return make_hot_.run();
  }

  Result<int64_t> hot_bytes(const PartitionSummary& partition) {
    STRATA_ASSIGN_OR_RETURN(Statement sum, Statement::prepare(db(), str_cat("SELECT sum(length(CAST(data AS BLOB))) FROM ", table_.shadow("edges"),
                                                                            " WHERE ", kPayloadCondition,
                                                                            " AND created_at >= ?1 AND created_at < ?2 AND cold_object IS NULL")));
    STRATA_RETURN_IF_ERROR(sum.bind_int64(1, partition.first_ms()));
    STRATA_RETURN_IF_ERROR(sum.bind_int64(2, partition.end_ms()));
    STRATA_ASSIGN_OR_RETURN(bool row, sum.step());
    return row ? sum.column_int64(0) : 0;
  }

 private:
  RelationshipsTable& table_;
  Statement make_cold_, make_hot_;
};

template <class Rows>
Result<std::vector<TierPartitionRow>> partitions_of(Rows& rows) {
  Status failed = Status::ok();
  STRATA_ASSIGN_OR_RETURN(std::vector<TierPartitionRow> listed, list_tiered(rows, [&](const PartitionSummary& partition) -> int64_t {
    Result<int64_t> bytes = rows.hot_bytes(partition);
    if (!bytes.is_ok()) {
      failed = bytes.status();
      return 0;
    }
    return *bytes;
  }));
  STRATA_RETURN_IF_ERROR(failed);
  return listed;
}

// ---- dispatch from the tier functions --------------------------------------------------------

class TieredGraph final : public OtherTieredTables {
 public:
  TieredGraph(std::shared_ptr<ThingsRegistry> things, std::shared_ptr<GraphRegistry> relationships)
      : things_(std::move(things)), relationships_(std::move(relationships)) {}

  Result<std::optional<int64_t>> call(sqlite3* db, std::string_view function, const QualifiedName& name,
                                      std::span<sqlite3_value* const> arguments) override {
    if (ThingsTable* things = find_connected(db, *things_, name)) {
      if (!things->tiered()) {
        return Status::error(str_cat(function, ": things table ", things->name(), " has no tier= option; tiering moves old things to the"
                                     " tier= location (CREATE VIRTUAL TABLE … USING things(tier='file:lake', hot_months=3))"));
      }
      ThingsRows rows(*things);
      STRATA_ASSIGN_OR_RETURN(int64_t answer, call_on(function, rows, arguments, "'type=<type>/dt=<YYYY-MM>'", "'type=User/dt=2024-01'"));
      if (arguments.empty() && (function == "tier_flush" || function == "tier_gc")) {
        // The whole policy: the payloads of the things' relationships too.
        STRATA_ASSIGN_OR_RETURN(std::vector<std::string> related, ThingsTable::relationship_tables(db, things->schema_name(), things->name()));
        for (const std::string& relationship : related) {
          RelationshipsTable* table = find_connected(db, *relationships_, QualifiedName{things->schema_name(), relationship});
          if (table == nullptr || !table->tiered()) continue;
          RelationshipsRows payloads(*table);
          STRATA_ASSIGN_OR_RETURN(int64_t more, call_on(function, payloads, arguments, "", ""));
          answer += more;
        }
      }
      return std::optional<int64_t>(answer);
    }
    if (RelationshipsTable* relationships = find_connected(db, *relationships_, name)) {
      if (!relationships->tiered()) {
        return Status::error(str_cat(function, ": relationships table ", relationships->name(), " is over things table ",
                                     relationships->things(), ", which has no tier= option (only then do payloads tier)"));
      }
      RelationshipsRows rows(*relationships);
      STRATA_ASSIGN_OR_RETURN(int64_t answer, call_on(function, rows, arguments, "'dt=<YYYY-MM>'", "'dt=2024-01'"));
      return std::optional<int64_t>(answer);
    }
    return std::optional<int64_t>();
  }

  Result<std::optional<PartitionList>> partitions(sqlite3* db, const std::optional<QualifiedName>& only) override {
    PartitionList listed;
    auto list = [&](const std::string& name, Result<std::vector<TierPartitionRow>> rows) -> Status {
      STRATA_RETURN_IF_ERROR(rows.status());
      for (TierPartitionRow& row : *rows) listed.emplace_back(name, std::move(row));
      return Status::ok();
    };
    auto list_things = [&](ThingsTable* table) -> Status {
      if (!table->tiered()) return Status::ok();
      ThingsRows rows(*table);
      return list(table->name(), partitions_of(rows));
    };
    auto list_relationships = [&](RelationshipsTable* table) -> Status {
      if (!table->tiered()) return Status::ok();
      RelationshipsRows rows(*table);
      return list(table->name(), partitions_of(rows));
    };
    if (only) {
      if (ThingsTable* table = find_connected(db, *things_, *only)) {
        STRATA_RETURN_IF_ERROR(list_things(table));
      } else if (RelationshipsTable* table = find_connected(db, *relationships_, *only)) {
        STRATA_RETURN_IF_ERROR(list_relationships(table));
      } else {
        return std::optional<PartitionList>();
      }
      return std::optional<PartitionList>(std::move(listed));
    }
    STRATA_ASSIGN_OR_RETURN(Statement names, Statement::prepare(db, "SELECT name FROM sqlite_schema WHERE type = 'table'"
                                                                    " AND (sql LIKE 'CREATE VIRTUAL TABLE%USING things%'"
                                                                    " OR sql LIKE 'CREATE VIRTUAL TABLE%USING relationships%') ORDER BY name"));
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> tables, first_column_texts(names));
    for (const std::string& name : tables) {
      if (ThingsTable* table = find_connected(db, *things_, QualifiedName{"", name})) {
        STRATA_RETURN_IF_ERROR(list_things(table));
      } else if (RelationshipsTable* table = find_connected(db, *relationships_, QualifiedName{"", name})) {
        STRATA_RETURN_IF_ERROR(list_relationships(table));
      }
    }
    return std::optional<PartitionList>(std::move(listed));
  }

 private:
  static Result<int64_t> call_on(std::string_view function, TieredRows& rows, std::span<sqlite3_value* const> arguments,
                                 std::string_view form, std::string_view example) {
    auto partition_argument = [&]() -> Result<std::string> {
      if (arguments.empty() || sqlite3_value_type(arguments[0]) != SQLITE_TEXT) {
        return Status::error(str_cat(function, ": a partition of ", rows.who(), " is named as text, ", form,
                                     " (as tier_partitions lists it), e.g. ", example));
      }
      return std::string(value_text(arguments[0]));
    };
    if (function == "tier_flush") {
      std::optional<std::string> partition;
      if (!arguments.empty()) {
        STRATA_ASSIGN_OR_RETURN(partition, partition_argument());
      }
      return flush_tiered(rows, partition);
    }
    if (function == "tier_restore") {
      STRATA_ASSIGN_OR_RETURN(std::string partition, partition_argument());
      return restore_tiered(rows, partition);
    }
    if (function == "tier_gc") return collect_tiered(rows);
    return Status::error(str_cat(function, ": ", rows.who(), " has no retention; tier_flush moves rows older than hot_months="
                                 " to the tier, and DELETE removes them"));
  }

  std::shared_ptr<ThingsRegistry> things_;
  std::shared_ptr<GraphRegistry> relationships_;
};

}  // namespace

std::shared_ptr<OtherTieredTables> make_tiered_graph(std::shared_ptr<ThingsRegistry> things, std::shared_ptr<GraphRegistry> relationships) {
  return std::make_shared<TieredGraph>(std::move(things), std::move(relationships));
}

Status check_tiered_things(sqlite3* db, const std::string& schema, const std::string& table, std::vector<std::string>& problems) {
  auto format_of = [&](const std::string& name) -> Result<int64_t> {
    STRATA_ASSIGN_OR_RETURN(Statement format, Statement::prepare(db, str_cat("SELECT value FROM ", shadow_name(schema, name, "config"),
                                                                             " WHERE key = 'format_version'")));
    STRATA_ASSIGN_OR_RETURN(bool row, format.step());
    return row ? format.column_int64(0) : 0;
  };
  STRATA_ASSIGN_OR_RETURN(int64_t format, format_of(table));
  if (format < kTieredThingsFormatVersion) return Status::ok();
  STRATA_RETURN_IF_ERROR(check_cold_rows(db, shadow_name(schema, table, "things"), shadow_name(schema, table, "objects"), {"data", "embedding"},
                                         problems));
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> related, ThingsTable::relationship_tables(db, schema, table));
  for (const std::string& relationship : related) {
    Result<int64_t> relationship_format = format_of(relationship);
    if (!relationship_format.is_ok() || *relationship_format < kTieredThingsFormatVersion) continue;
    STRATA_RETURN_IF_ERROR(check_cold_rows(db, shadow_name(schema, relationship, "edges"), shadow_name(schema, relationship, "objects"),
                                           {"data"}, problems));
  }
  return Status::ok();
}

}  // namespace strata::graph
