#include "vtab/graph/relationships_table.h"

#include <algorithm>
#include <limits>
#include <random>
#include <set>

#include "ext/module_arguments.h"
#include "ext/str_cat.h"
#include "vtab/columnar/storage.h"
#include "vtab/graph/generated_id.h"
#include "vtab/graph/graph_common.h"

namespace strata::graph {

namespace {

constexpr std::string_view kModule = "relationships";

enum StatementKey {
  kInsert = 1,
  kNodeOfId,
  kTypeCode,
  kTypeName,
  kCreateType,
  kStoredEdge,
  kDeleteEdge,
  kUpdateEdge,
  kFindTriple,
  kFindId,
  kGeneration,
  kBumpGeneration,
  kStaleRow,
};

const std::vector<OptionSpec>& option_specs() {
  static const std::vector<OptionSpec> specs = {{"things", OptionKind::kText}};
  return specs;
}

}  // namespace

// ---- NodeNames ----

std::optional<std::string> NodeNames::set(NodeId node, std::string_view id) {
  if (node >= names_.size()) names_.resize(static_cast<size_t>(node) + 1);
  std::string_view current = get(node);
  if (current == id) return std::nullopt;
  std::optional<std::string> previous(current);
  names_[node] = Name{store(id), static_cast<uint32_t>(id.size())};
  return previous;
}

const char* NodeNames::store(std::string_view id) {
  constexpr size_t kChunkBytes = 64 * 1024;
  if (id.empty()) return "";
  if (id.size() > chunk_free_) {
    size_t size = std::max(kChunkBytes, id.size());
    chunks_.push_back(std::make_unique_for_overwrite<char[]>(size));
    last_chunk_size_ = size;
    chunk_free_ = size;
    chunk_bytes_ += size;
  }
  char* place = chunks_.back().get() + (last_chunk_size_ - chunk_free_);
  std::copy(id.begin(), id.end(), place);
  chunk_free_ -= id.size();
  return place;
}

// ---- RelationshipsTable ----

RelationshipsTable::RelationshipsTable(sqlite3* db, std::string schema, std::string name, std::string things)
    : db_(db), schema_(std::move(schema)), name_(std::move(name)), things_(std::move(things)), statements_(db) {}

RelationshipsTable::~RelationshipsTable() {
  if (registry_) registry_->remove(schema_, name_, this);
}

std::string RelationshipsTable::shadow(std::string_view suffix) const { return shadow_name(schema_, name_, suffix); }
std::string RelationshipsTable::things_shadow() const { return shadow_name(schema_, things_, "things"); }

Result<std::unique_ptr<RelationshipsTable>> RelationshipsTable::open(sqlite3* db, int argc, const char* const* argv, bool create,
                                                                     std::shared_ptr<GraphRegistry> registry) {
  std::string schema = argv[1];
  std::string name = argv[2];
  std::string things;
  std::string things_tier;  // of the things table, when created
  int64_t things_hot_months = 3;
  if (create) {
    STRATA_ASSIGN_OR_RETURN(ModuleArguments parsed,
                            parse_module_arguments(kModule, option_specs(), std::span<const char* const>(argv + 3, argc - 3)));
    if (!parsed.column_definitions().empty()) {
      return Status::error(str_cat("relationships: takes only things=<things table> (columns are id, from_id, to_id, type, data, created_at); got '",
                                   parsed.column_definitions().front(), "'"));
    }
    if (!parsed.has("things")) return Status::error("relationships: needs things=<the things table its ends belong to>");
    things = *parsed.text("things");
    Status format = check_stored_format(db, schema, things, "things");
    if (!format.is_ok()) {
      return Status::error(str_cat("relationships: things=", things, " must name a things table in schema ", schema, " (", format.message(), ")"));
    }
    // Over a tiered things table, the payloads of old relationships tier with their month.
    STRATA_RETURN_IF_ERROR(read_tier_options(db, shadow_name(schema, things, "config"), things_tier, things_hot_months));
  } else {
    STRATA_RETURN_IF_ERROR(check_stored_format(db, schema, name, kModule));
    STRATA_ASSIGN_OR_RETURN(Statement read, Statement::prepare(db, str_cat("SELECT value FROM ", shadow_name(schema, name, "config"),
                                                                           " WHERE key = 'things'")));
    STRATA_ASSIGN_OR_RETURN(bool row, read.step());
    if (!row) return Status::corruption(str_cat("relationships: ", name, "'s config does not name its things table"));
    things = std::string(read.column_text(0));
  }
  std::unique_ptr<RelationshipsTable> table(new RelationshipsTable(db, schema, name, things));
  if (create) {
    table->tier_ = things_tier;
    table->hot_months_ = things_hot_months;
    STRATA_RETURN_IF_ERROR(table->create_shadow_tables());
  } else {
    STRATA_RETURN_IF_ERROR(table->read_options());
  }
  if (table->tiered()) {
    table->cold_ = std::make_unique<ColdRows>(db, table->schema_, table->shadow("objects"), table->tier_,
                                              str_cat("relationships: table ", table->name_), std::vector<std::string>{"data"});
  }
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(id TEXT, from_id TEXT, to_id TEXT, type TEXT, data JSON, created_at INTEGER)");
  if (rc != SQLITE_OK) return Status::error(str_cat("relationships: declaring the table failed: ", sqlite3_errmsg(db)));
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  table->registry_ = std::move(registry);
  table->registry_->add(table->schema_, table->name_, table.get());
  return table;
}

Status RelationshipsTable::create_shadow_tables() {
  // The indexes are UNIQUE constraints, so SQLite renames them with the table. (to, type, from)
  // is unique because (from, type, to) is; it serves lookups by to_id and the cascade.
  // Format 2 (docs/format-graph.md), over a tiered things table: a cold edge's data is NULL and
  // cold_object/cold_row say where it is.
  const std::string tiered_parts = tiered() ? ", cold_object INTEGER, cold_row INTEGER" : "";
  STRATA_RETURN_IF_ERROR(execute(db_, str_cat("CREATE TABLE ", shadow("config"), "(key TEXT PRIMARY KEY, value) WITHOUT ROWID;")));
  if (tiered()) {
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("INSERT INTO ", shadow("config"), " VALUES ('tier', ", quote_literal(tier_), "), ('hot_months', ",
                                                std::to_string(hot_months_), ");", objects_table_sql(shadow("objects")))));
  }
  STRATA_RETURN_IF_ERROR(execute(db_, str_cat("INSERT INTO ", shadow("config"), " VALUES ('module', 'relationships'), ('format_version', ",
                              std::to_string(tiered() ? kTieredThingsFormatVersion : kBaseFormatVersion), "), ('things', ",
                              quote_literal(things_), "), ('generation', 0);",
                              "CREATE TABLE ", shadow("types"), "(code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);",
                              "CREATE TABLE ", shadow("edges"),
                              "(edge INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, from_node INTEGER NOT NULL,"
                              " to_node INTEGER NOT NULL, type_code INTEGER NOT NULL,"
                              " data TEXT CHECK (data IS NULL OR json_valid(data)), created_at INTEGER NOT NULL", tiered_parts, ","
                              " UNIQUE (from_node, type_code, to_node), UNIQUE (to_node, type_code, from_node));",
                              "INSERT INTO ", shadow_name(schema_, things_, "config"), " VALUES (",
                              quote_literal(str_cat("relationships:", name_)), ", ", quote_literal(name_), ");")));
  if (!tiered()) return Status::ok();
  // The edges with a payload by time: a partial index, so that edges without data cost nothing.
  // Its name has a random suffix, as a path index's: it is not renamed with the table.
  std::random_device random;
  char suffix[9];
  snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(random()));
  return execute(db_, str_cat("CREATE INDEX ", quote_identifier(schema_), ".", quote_identifier(str_cat(name_, "_payload_", suffix)), " ON ",
                              quote_identifier(str_cat(name_, "_edges")), "(created_at) WHERE ", kPayloadCondition, ";"));
}

Status RelationshipsTable::read_options() { return read_tier_options(db_, shadow("config"), tier_, hot_months_); }

Result<ValueView> RelationshipsTable::read_cold_data(const ColdPlace& place) {
  if (!cold_) return Status::corruption(str_cat("relationships: table ", name_, " has a cold edge but its things table no tier= option"));
  STRATA_ASSIGN_OR_RETURN(std::span<const ValueView> values, cold_->read(place));
  return values[0];
}

Status RelationshipsTable::forget_cold(const ColdPlace& cold) {
  STRATA_ASSIGN_OR_RETURN(Statement* stale, statements_.keyed(kStaleRow, [&] {
    return str_cat("UPDATE ", shadow("objects"), " SET stale_rows = stale_rows + 1 WHERE object_id = ?1");
  }));
  STRATA_RETURN_IF_ERROR(stale->bind_int64(1, cold.object_id));
  return stale->run();
}

Status RelationshipsTable::destroy() {
  statements_.clear();
  drop_graph();
  // The things table may be gone already (it refuses to be dropped first, but a damaged file…).
  Result<Statement> unlist = Statement::prepare(db_, str_cat("DELETE FROM ", shadow_name(schema_, things_, "config"), " WHERE key = ?1"));
  if (unlist.is_ok()) {
    STRATA_RETURN_IF_ERROR(unlist->bind_text(1, str_cat("relationships:", name_)));
    STRATA_RETURN_IF_ERROR(unlist->run());
  }
  if (cold_) cold_->forget();
  // The objects of its payloads stay in the store (as a columnar table's do): docs/tiering.md.
  return execute(db_, str_cat("DROP TABLE IF EXISTS ", shadow("edges"), "; DROP TABLE IF EXISTS ", shadow("types"),
                              "; DROP TABLE IF EXISTS ", shadow("config"), "; DROP TABLE IF EXISTS ", shadow("objects"), ";"));
}

Status RelationshipsTable::rename(const std::string& new_name) {
  statements_.clear();
  std::vector<std::string_view> suffixes = {"edges", "types", "config"};
  if (tiered()) suffixes.push_back("objects");
  for (std::string_view suffix : suffixes) {
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("ALTER TABLE ", shadow(suffix), " RENAME TO ", quote_identifier(str_cat(new_name, "_", suffix)))));
  }
  STRATA_RETURN_IF_ERROR(execute(db_, str_cat("UPDATE ", shadow_name(schema_, things_, "config"), " SET key = ",
                                              quote_literal(str_cat("relationships:", new_name)), ", value = ", quote_literal(new_name),
                                              " WHERE key = ", quote_literal(str_cat("relationships:", name_)))));
  registry_->rename(schema_, name_, new_name, this);
  name_ = new_name;
  if (cold_) cold_->rename(shadow("objects"), str_cat("relationships: table ", name_));
  return Status::ok();
}

// ---- lookups ----

Result<std::optional<NodeId>> RelationshipsTable::node_of(std::string_view id) {
  STRATA_ASSIGN_OR_RETURN(Statement* read, statements_.keyed(kNodeOfId, [&] { return str_cat("SELECT node FROM ", things_shadow(), " WHERE id = ?1"); }));
  STRATA_RETURN_IF_ERROR(read->bind_text(1, id));
  STRATA_ASSIGN_OR_RETURN(bool row, read->step());
  if (!row) return std::optional<NodeId>();
  int64_t node = read->column_int64(0);
  read->reset();
  if (node < 0 || node >= std::numeric_limits<NodeId>::max()) {
    return Status::error(str_cat("relationships: ", things_, " has a node number beyond 2^32 (thing '", id, "'); graphs are limited to 4 billion things"));
  }
  return std::optional<NodeId>(static_cast<NodeId>(node));
}

Result<NodeId> RelationshipsTable::existing_node(std::string_view column, std::string_view id) {
  STRATA_ASSIGN_OR_RETURN(std::optional<NodeId> node, node_of(id));
  if (!node) {
    return Status::constraint(str_cat("relationships: FOREIGN KEY constraint failed: ", column, " '", id, "' is not a thing in ", things_))
        .with_sqlite_code(SQLITE_CONSTRAINT_FOREIGNKEY);
  }
  return *node;
}

Result<std::optional<TypeCode>> RelationshipsTable::type_code(std::string_view type) {
  auto cached = type_codes_.find(type);
  if (cached != type_codes_.end()) return std::optional<TypeCode>(cached->second);
  STRATA_ASSIGN_OR_RETURN(Statement* read, statements_.keyed(kTypeCode, [&] { return str_cat("SELECT code FROM ", shadow("types"), " WHERE name = ?1"); }));
  STRATA_RETURN_IF_ERROR(read->bind_text(1, type));
  STRATA_ASSIGN_OR_RETURN(bool row, read->step());
  if (!row) return std::optional<TypeCode>();
  auto code = static_cast<TypeCode>(read->column_int64(0));
  read->reset();
  type_codes_.emplace(std::string(type), code);
  return std::optional<TypeCode>(code);
}

Result<std::string> RelationshipsTable::type_name(TypeCode code) {
  for (const auto& [name, known] : type_codes_) {
    if (known == code) return name;
  }
  STRATA_ASSIGN_OR_RETURN(Statement* read, statements_.keyed(kTypeName, [&] { return str_cat("SELECT name FROM ", shadow("types"), " WHERE code = ?1"); }));
  STRATA_RETURN_IF_ERROR(read->bind_int64(1, code));
  STRATA_ASSIGN_OR_RETURN(bool row, read->step());
  if (!row) return Status::corruption(str_cat("relationships: ", name_, " uses type number ", std::to_string(code), " that it does not list"));
  std::string name(read->column_text(0));
  read->reset();
  type_codes_.emplace(name, code);
  return name;
}

Result<TypeCode> RelationshipsTable::type_code_or_create(std::string_view type) {
  STRATA_ASSIGN_OR_RETURN(std::optional<TypeCode> code, type_code(type));
  if (code) return *code;
  STRATA_ASSIGN_OR_RETURN(Statement* create, statements_.keyed(kCreateType, [&] { return str_cat("INSERT INTO ", shadow("types"), "(name) VALUES (?1) RETURNING code"); }));
  STRATA_RETURN_IF_ERROR(create->bind_text(1, type));
  STRATA_ASSIGN_OR_RETURN(bool row, create->step());
  if (!row) return Status::internal("relationships: creating a type returned no code");
  auto created = static_cast<TypeCode>(create->column_int64(0));
  STRATA_RETURN_IF_ERROR(create->run());
  type_codes_.emplace(std::string(type), created);
  return created;
}

Result<std::optional<RelationshipsTable::StoredEdge>> RelationshipsTable::stored_edge(int64_t edge) {
  STRATA_ASSIGN_OR_RETURN(Statement* read, statements_.keyed(kStoredEdge, [&] {
    return str_cat("SELECT from_node, to_node, type_code, id, ", tiered() ? "cold_object, cold_row" : "NULL, NULL", " FROM ", shadow("edges"),
                   " WHERE edge = ?1");
  }));
  STRATA_RETURN_IF_ERROR(read->bind_int64(1, edge));
  STRATA_ASSIGN_OR_RETURN(bool row, read->step());
  if (!row) return std::optional<StoredEdge>();
  std::optional<StoredEdge> found(StoredEdge{Edge{static_cast<NodeId>(read->column_int64(0)), static_cast<NodeId>(read->column_int64(1)),
                                                  static_cast<TypeCode>(read->column_int64(2))},
                                             std::string(read->column_text(3)), std::nullopt});
  if (!read->column_is_null(4)) found->cold = ColdPlace{read->column_int64(4), read->column_int64(5)};
  read->reset();
  return found;
}

// ---- writes ----

Status RelationshipsTable::update(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out) {
  PreserveLastInsertRowid preserve(db_);
  if (argc == 1) return delete_edge(sqlite3_value_int64(argv[0]));
  sqlite3_value** columns = argv + 2;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    if (sqlite3_value_type(argv[1]) != SQLITE_NULL) {
      return Status::error("relationships: the rowid is assigned by the table; insert without it (the key is id)");
    }
    return insert_edge(columns, rowid_out);
  }
  int64_t edge = sqlite3_value_int64(argv[0]);
  if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER || sqlite3_value_int64(argv[1]) != edge) {
    return Status::error("relationships: the rowid cannot be changed");
  }
  return update_edge(edge, columns);
}

Result<bool> RelationshipsTable::resolve_conflict(const Edge& edge, std::string_view id, std::string_view from, std::string_view to,
                                                  std::string_view type, int64_t self) {
  STRATA_ASSIGN_OR_RETURN(Statement* triple, statements_.keyed(kFindTriple, [&] { return str_cat("SELECT edge FROM ", shadow("edges"),
                                                                            " WHERE from_node = ?1 AND type_code = ?2 AND to_node = ?3"); }));
  STRATA_RETURN_IF_ERROR(triple->bind_int64(1, edge.from));
  STRATA_RETURN_IF_ERROR(triple->bind_int64(2, edge.type));
  STRATA_RETURN_IF_ERROR(triple->bind_int64(3, edge.to));
  STRATA_ASSIGN_OR_RETURN(bool triple_taken, triple->step());
  int64_t triple_edge = triple_taken ? triple->column_int64(0) : 0;
  triple->reset();
  if (triple_taken && triple_edge == self) triple_taken = false;
  STRATA_ASSIGN_OR_RETURN(Statement* by_id, statements_.keyed(kFindId, [&] { return str_cat("SELECT edge FROM ", shadow("edges"), " WHERE id = ?1"); }));
  STRATA_RETURN_IF_ERROR(by_id->bind_text(1, id));
  STRATA_ASSIGN_OR_RETURN(bool id_taken, by_id->step());
  int64_t id_edge = id_taken ? by_id->column_int64(0) : 0;
  by_id->reset();
  if (id_taken && id_edge == self) id_taken = false;
  if (!triple_taken && !id_taken) return false;
  if (sqlite3_vtab_on_conflict(db_) == SQLITE_REPLACE) {
    if (triple_taken) STRATA_RETURN_IF_ERROR(delete_edge(triple_edge));
    if (id_taken && id_edge != triple_edge) STRATA_RETURN_IF_ERROR(delete_edge(id_edge));
    return true;
  }
  if (triple_taken) {
    return Status::constraint(str_cat("relationships: UNIQUE constraint failed: ", name_, ".from_id, ", name_, ".to_id, ", name_,
                                      ".type ('", from, "' -> '", to, "' of type '", type, "' exists)"))
        .with_sqlite_code(SQLITE_CONSTRAINT_UNIQUE);
  }
  return Status::constraint(str_cat("relationships: UNIQUE constraint failed: ", name_, ".id ('", id, "' already exists)"))
      .with_sqlite_code(SQLITE_CONSTRAINT_UNIQUE);
}

Status RelationshipsTable::insert_edge(sqlite3_value** columns, sqlite3_int64* rowid_out) {
  std::string generated;
  std::string_view id;
  if (sqlite3_value_type(columns[kEdgeId]) == SQLITE_NULL) {
    generated = next_generated_id();
    id = generated;
  } else {
    STRATA_ASSIGN_OR_RETURN(id, id_text(kModule, "id", columns[kEdgeId]));
  }
  STRATA_ASSIGN_OR_RETURN(std::string_view from, id_text(kModule, "from_id", columns[kEdgeFrom]));
  STRATA_ASSIGN_OR_RETURN(std::string_view to, id_text(kModule, "to_id", columns[kEdgeTo]));
  STRATA_ASSIGN_OR_RETURN(std::string_view type, id_text(kModule, "type", columns[kEdgeType]));
  STRATA_RETURN_IF_ERROR(check_json_data(kModule, columns[kEdgeData]));
  STRATA_ASSIGN_OR_RETURN(int64_t created_at, timestamp_or_now(kModule, "created_at", columns[kEdgeCreatedAt], now_unix_ms()));
  STRATA_ASSIGN_OR_RETURN(NodeId from_node, existing_node("from_id", from));
  STRATA_ASSIGN_OR_RETURN(NodeId to_node, existing_node("to_id", to));
  STRATA_ASSIGN_OR_RETURN(TypeCode code, type_code_or_create(type));
  const Edge edge{from_node, to_node, code};
  STRATA_ASSIGN_OR_RETURN(Statement* insert, statements_.keyed(kInsert, [&] { return str_cat("INSERT OR FAIL INTO ", shadow("edges"),
                                                                        "(id, from_node, to_node, type_code, data, created_at)"
                                                                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"); }));
  for (int attempt = 0;; ++attempt) {
    insert->reset();
    STRATA_RETURN_IF_ERROR(insert->bind_text(1, id));
    STRATA_RETURN_IF_ERROR(insert->bind_int64(2, from_node));
    STRATA_RETURN_IF_ERROR(insert->bind_int64(3, to_node));
    STRATA_RETURN_IF_ERROR(insert->bind_int64(4, code));
    STRATA_RETURN_IF_ERROR(insert->bind_value(5, columns[kEdgeData]));
    STRATA_RETURN_IF_ERROR(insert->bind_int64(6, created_at));
    Status status = insert->run();
    if (status.is_ok()) break;
    int failure = sqlite3_extended_errcode(db_);
    insert->reset();
    if (failure == SQLITE_CONSTRAINT_CHECK) {
      return Status::constraint(str_cat("relationships: data is not valid JSON (id '", id, "')")).with_sqlite_code(SQLITE_CONSTRAINT_CHECK);
    }
    if (failure != SQLITE_CONSTRAINT_UNIQUE || attempt > 0) return status;
    STRATA_ASSIGN_OR_RETURN(bool retry, resolve_conflict(edge, id, from, to, type, 0));
    if (!retry) return status;
  }
  *rowid_out = sqlite3_last_insert_rowid(db_);
  changed_ = true;
  note_added(edge, from, to);
  return Status::ok();
}

Status RelationshipsTable::delete_edge(int64_t edge) {
  STRATA_ASSIGN_OR_RETURN(std::optional<StoredEdge> stored, stored_edge(edge));
  if (!stored) return Status::ok();
  STRATA_ASSIGN_OR_RETURN(Statement* remove, statements_.keyed(kDeleteEdge, [&] { return str_cat("DELETE FROM ", shadow("edges"), " WHERE edge = ?1"); }));
  STRATA_RETURN_IF_ERROR(remove->bind_int64(1, edge));
  STRATA_RETURN_IF_ERROR(remove->run());
  if (stored->cold) STRATA_RETURN_IF_ERROR(forget_cold(*stored->cold));
  changed_ = true;
  note_removed(stored->edge);
  return Status::ok();
}

Status RelationshipsTable::update_edge(int64_t edge, sqlite3_value** columns) {
  STRATA_ASSIGN_OR_RETURN(std::optional<StoredEdge> stored, stored_edge(edge));
  if (!stored) return Status::ok();
  const std::string& old_id = stored->id;
  if (!sqlite3_value_nochange(columns[kEdgeId])) {
    STRATA_ASSIGN_OR_RETURN(std::string_view new_id, id_text(kModule, "id", columns[kEdgeId]));
    if (new_id != old_id) {
      return Status::constraint(str_cat("relationships: id cannot be changed ('", old_id, "' to '", new_id, "')"));
    }
  }
  STRATA_ASSIGN_OR_RETURN(std::string_view from, id_text(kModule, "from_id", columns[kEdgeFrom]));
  std::string from_text(from);
  STRATA_ASSIGN_OR_RETURN(std::string_view to, id_text(kModule, "to_id", columns[kEdgeTo]));
  std::string to_text(to);
  STRATA_ASSIGN_OR_RETURN(std::string_view type, id_text(kModule, "type", columns[kEdgeType]));
  std::string type_text(type);
  bool keep_data = sqlite3_value_nochange(columns[kEdgeData]);
  if (!keep_data) STRATA_RETURN_IF_ERROR(check_json_data(kModule, columns[kEdgeData]));
  // The new version of a cold edge is hot: data the UPDATE leaves unchanged comes from its object.
  std::optional<Value> cold_data;
  if (stored->cold && keep_data) {
    STRATA_ASSIGN_OR_RETURN(ValueView data, read_cold_data(*stored->cold));
    cold_data = Value(data);
    keep_data = false;
  }
  if (sqlite3_value_numeric_type(columns[kEdgeCreatedAt]) != SQLITE_INTEGER && !sqlite3_value_nochange(columns[kEdgeCreatedAt])) {
    return Status::constraint("relationships: created_at must be an integer (unix milliseconds)");
  }
  const bool keep_created = sqlite3_value_nochange(columns[kEdgeCreatedAt]);
  STRATA_ASSIGN_OR_RETURN(NodeId from_node, existing_node("from_id", from_text));
  STRATA_ASSIGN_OR_RETURN(NodeId to_node, existing_node("to_id", to_text));
  STRATA_ASSIGN_OR_RETURN(TypeCode code, type_code_or_create(type_text));
  const Edge updated{from_node, to_node, code};
  STRATA_ASSIGN_OR_RETURN(Statement* write,
                          statements_.keyed(kUpdateEdge, [&] { return str_cat("UPDATE OR FAIL ", shadow("edges"),
                                                         " SET from_node = ?2, to_node = ?3, type_code = ?4, data = iif(?6, data, ?5),"
                                                         " created_at = iif(?8, created_at, ?7)",
                                                         tiered() ? ", cold_object = NULL, cold_row = NULL" : "", " WHERE edge = ?1"); }));
  for (int attempt = 0;; ++attempt) {
    write->reset();
    STRATA_RETURN_IF_ERROR(write->bind_int64(1, edge));
    STRATA_RETURN_IF_ERROR(write->bind_int64(2, from_node));
    STRATA_RETURN_IF_ERROR(write->bind_int64(3, to_node));
    STRATA_RETURN_IF_ERROR(write->bind_int64(4, code));
    if (keep_data) {
      STRATA_RETURN_IF_ERROR(write->bind_null(5));
    } else if (cold_data) {
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(*write, 5, cold_data->view()));
    } else {
      STRATA_RETURN_IF_ERROR(write->bind_value(5, columns[kEdgeData]));
    }
    STRATA_RETURN_IF_ERROR(write->bind_int64(6, keep_data ? 1 : 0));
    STRATA_RETURN_IF_ERROR(write->bind_int64(7, keep_created ? 0 : sqlite3_value_int64(columns[kEdgeCreatedAt])));
    STRATA_RETURN_IF_ERROR(write->bind_int64(8, keep_created ? 1 : 0));
    Status status = write->run();
    if (status.is_ok()) break;
    int failure = sqlite3_extended_errcode(db_);
    write->reset();
    if (failure == SQLITE_CONSTRAINT_CHECK) {
      return Status::constraint(str_cat("relationships: data is not valid JSON (id '", old_id, "')")).with_sqlite_code(SQLITE_CONSTRAINT_CHECK);
    }
    if (failure != SQLITE_CONSTRAINT_UNIQUE || attempt > 0) return status;
    STRATA_ASSIGN_OR_RETURN(bool retry, resolve_conflict(updated, old_id, from_text, to_text, type_text, edge));
    if (!retry) return status;
  }
  if (stored->cold) STRATA_RETURN_IF_ERROR(forget_cold(*stored->cold));
  changed_ = true;
  if (!(updated == stored->edge)) {
    note_removed(stored->edge);
    note_added(updated, from_text, to_text);
  }
  return Status::ok();
}

// ---- the adjacency and transactions ----

void RelationshipsTable::note_added(const Edge& edge, std::string_view from, std::string_view to) {
  if (!graph_) return;
  graph_->adjacency.add(edge);
  undo_log_.push_back(UndoEntry{UndoEntry::kAdded, edge, 0, {}});
  for (auto [node, id] : {std::pair{edge.from, from}, std::pair{edge.to, to}}) {
    if (std::optional<std::string> previous = graph_->names.set(node, id)) {
      undo_log_.push_back(UndoEntry{UndoEntry::kNamed, {}, node, std::move(*previous)});
    }
  }
}

void RelationshipsTable::note_removed(const Edge& edge) {
  if (!graph_) return;
  graph_->adjacency.remove(edge);
  undo_log_.push_back(UndoEntry{UndoEntry::kRemoved, edge, 0, {}});
}

void RelationshipsTable::undo_to(size_t log_size) {
  while (undo_log_.size() > log_size) {
    UndoEntry& entry = undo_log_.back();
    if (graph_) {
      switch (entry.kind) {
        case UndoEntry::kAdded: graph_->adjacency.remove(entry.edge); break;
        case UndoEntry::kRemoved: graph_->adjacency.add(entry.edge); break;
        case UndoEntry::kNamed: graph_->names.set(entry.node, entry.old_name); break;
      }
    }
    undo_log_.pop_back();
  }
}

void RelationshipsTable::drop_graph() {
  graph_.reset();
  undo_log_.clear();
  data_version_.reset();
  graph_has_uncommitted_ = false;
}

Status RelationshipsTable::on_sync() {
  if (!changed_) return Status::ok();
  STRATA_ASSIGN_OR_RETURN(Statement* bump, statements_.keyed(kBumpGeneration, [&] { return str_cat("UPDATE ", shadow("config"),
                                                                              " SET value = value + 1 WHERE key = 'generation'"); }));
  STRATA_RETURN_IF_ERROR(bump->run());
  // Not the stored value read back: if another connection had committed since graph_ was built,
  // the stored value is ahead of this and the next query rebuilds.
  ++generation_;
  changed_ = false;
  return Status::ok();
}

Status RelationshipsTable::on_commit() {
  undo_log_.clear();
  savepoints_.clear();
  changed_ = false;
  graph_has_uncommitted_ = false;
  return Status::ok();
}

Status RelationshipsTable::on_rollback() {
  if (graph_has_uncommitted_) {
    drop_graph();
  } else {
    undo_to(0);
  }
  savepoints_.clear();
  type_codes_.clear();  // a type created in the transaction is gone, and its number may be reused
  changed_ = false;
  return Status::ok();
}

Status RelationshipsTable::on_savepoint(int level) {
  savepoints_.erase(savepoints_.upper_bound(level), savepoints_.end());
  savepoints_[level] = undo_log_.size();
  return Status::ok();
}

Status RelationshipsTable::on_release(int level) {
  savepoints_.erase(savepoints_.lower_bound(level), savepoints_.end());
  return Status::ok();
}

Status RelationshipsTable::on_rollback_to(int level) {
  type_codes_.clear();
  if (graph_has_uncommitted_) {
    drop_graph();
    savepoints_.clear();
    return Status::ok();
  }
  // A savepoint opened before this table joined the transaction: everything logged is after it.
  auto found = savepoints_.find(level);
  undo_to(found == savepoints_.end() ? 0 : std::min(found->second, undo_log_.size()));
  savepoints_.erase(savepoints_.upper_bound(level), savepoints_.end());
  return Status::ok();
}

Result<int64_t> RelationshipsTable::stored_generation() {
  STRATA_ASSIGN_OR_RETURN(Statement* read, statements_.keyed(kGeneration, [&] { return str_cat("SELECT value FROM ", shadow("config"), " WHERE key = 'generation'"); }));
  STRATA_ASSIGN_OR_RETURN(bool row, read->step());
  int64_t generation = row ? read->column_int64(0) : 0;
  read->reset();
  return generation;
}

Result<std::shared_ptr<GraphCache>> RelationshipsTable::graph() {
  if (graph_) {
    unsigned version = 0;
    bool known = sqlite3_file_control(db_, schema_.c_str(), SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK;
    if (known && data_version_ == version) return graph_;
    STRATA_ASSIGN_OR_RETURN(int64_t generation, stored_generation());
    if (generation == generation_ && known) {
      data_version_ = version;
      return graph_;
    }
    drop_graph();  // another connection committed to this table
  }
  return build_graph();
}

Result<std::shared_ptr<GraphCache>> RelationshipsTable::build_graph() {
  STRATA_ASSIGN_OR_RETURN(int64_t generation, stored_generation());
  auto cache = std::make_shared<GraphCache>();
  {
    std::vector<Edge> edges;
    STRATA_ASSIGN_OR_RETURN(Statement scan, Statement::prepare(db_, str_cat("SELECT from_node, to_node, type_code FROM ", shadow("edges"))));
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, scan.step());
      if (!row) break;
      int64_t from = scan.column_int64(0);
      int64_t to = scan.column_int64(1);
      if (from < 0 || to < 0 || from >= std::numeric_limits<NodeId>::max() || to >= std::numeric_limits<NodeId>::max()) {
        return Status::corruption(str_cat("relationships: ", name_, " holds a node number out of range"));
      }
      edges.push_back(Edge{static_cast<NodeId>(from), static_cast<NodeId>(to), static_cast<TypeCode>(scan.column_int64(2))});
    }
    cache->adjacency = Adjacency(std::move(edges));
  }
  {
    STRATA_ASSIGN_OR_RETURN(Statement scan, Statement::prepare(db_, str_cat("SELECT node, id FROM ", things_shadow(), " WHERE node < ?1")));
    STRATA_RETURN_IF_ERROR(scan.bind_int64(1, cache->adjacency.node_limit()));
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, scan.step());
      if (!row) break;
      cache->names.set(static_cast<NodeId>(scan.column_int64(0)), scan.column_text(1));
    }
  }
  unsigned version = 0;
  data_version_.reset();
  if (sqlite3_file_control(db_, schema_.c_str(), SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK) data_version_ = version;
  generation_ = generation;
  graph_ = std::move(cache);
  undo_log_.clear();
  // Built from uncommitted rows: what was written before now is not in the undo log.
  graph_has_uncommitted_ = changed_;
  return graph_;
}

Result<std::string> RelationshipsTable::check_adjacency() {
  if (!graph_) return std::string();
  std::set<std::tuple<NodeId, NodeId, TypeCode>> stored;
  STRATA_ASSIGN_OR_RETURN(Statement scan, Statement::prepare(db_, str_cat("SELECT from_node, to_node, type_code FROM ", shadow("edges"))));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, scan.step());
    if (!row) break;
    stored.emplace(static_cast<NodeId>(scan.column_int64(0)), static_cast<NodeId>(scan.column_int64(1)),
                   static_cast<TypeCode>(scan.column_int64(2)));
  }
  std::set<std::tuple<NodeId, NodeId, TypeCode>> outgoing, incoming;
  const Adjacency& adjacency = graph_->adjacency;
  for (NodeId node = 0; node < adjacency.node_limit(); ++node) {
    adjacency.for_each(node, Direction::kOut, std::nullopt, [&](const Link& link) { outgoing.emplace(node, link.neighbor, link.type); });
    adjacency.for_each(node, Direction::kIn, std::nullopt, [&](const Link& link) { incoming.emplace(link.neighbor, node, link.type); });
  }
  if (outgoing != stored || incoming != stored || adjacency.edge_count() != stored.size()) {
    return str_cat(name_, ": this connection's adjacency disagrees with the stored relationships (", std::to_string(outgoing.size()),
                   " out and ", std::to_string(incoming.size()), " in held, ", std::to_string(stored.size()), " stored)");
  }
  return std::string();
}

}  // namespace strata::graph
