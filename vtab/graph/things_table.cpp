#include "vtab/graph/things_table.h"

#include <random>

#include "ext/module_arguments.h"
#include "ext/str_cat.h"
#include "vtab/graph/generated_id.h"
#include "vtab/graph/graph_common.h"
#include "vtab/columnar/storage.h"
#include "vtab/graph/things_tier.h"

namespace strata::graph {

namespace {

constexpr std::string_view kModule = "things";

enum StatementKey {
  kInsert = 1, kUpsert, kUpdate, kDelete, kIdOfNode, kNodeOfId, kRelationshipList, kColdOfId, kStaleRow, kForgetColdPaths, kHasPath
};

const OptionSpec kOptions[] = {
    {.name = "tier"},
    {.name = "hot_months", .kind = OptionKind::kInteger, .min_integer = 0, .max_integer = 12000},
};

}  // namespace

ThingsTable::ThingsTable(sqlite3* db, ThingsRegistry* registry, std::string schema, std::string name)
    : db_(db), registry_(registry), schema_(std::move(schema)), name_(std::move(name)), statements_(db) {}

ThingsTable::~ThingsTable() {
  if (registry_ != nullptr) registry_->remove(schema_, name_, this);
}

std::string ThingsTable::shadow(std::string_view suffix) const { return shadow_name(schema_, name_, suffix); }

Result<std::unique_ptr<ThingsTable>> ThingsTable::open(sqlite3* db, ThingsRegistry* registry, int argc, const char* const* argv,
                                                      bool create) {
  STRATA_ASSIGN_OR_RETURN(ModuleArguments arguments,
                          parse_module_arguments(kModule, kOptions, std::span<const char* const>(argv + 3, static_cast<size_t>(argc - 3))));
  if (!arguments.column_definitions().empty()) {
    return Status::error(str_cat("things: takes no column definitions (columns are id, type, data, embedding, created_at, updated_at)"
                                 " and only the options tier= and hot_months=; got '",
                                 arguments.column_definitions().front(), "'"));
  }
  std::unique_ptr<ThingsTable> table(new ThingsTable(db, registry, argv[1], argv[2]));
  if (create) {
    if (arguments.has("tier")) {
      table->tier_ = *arguments.text("tier");
      STRATA_RETURN_IF_ERROR(check_tier_location(kModule, table->tier_));
    } else if (arguments.has("hot_months")) {
      return Status::error("things: hot_months= needs tier= (where cold things go), e.g. USING things(tier='file:lake', hot_months=3)");
    }
    if (arguments.has("hot_months")) table->hot_months_ = *arguments.integer("hot_months");
    STRATA_RETURN_IF_ERROR(table->create_shadow_tables());
  } else {
    STRATA_RETURN_IF_ERROR(check_stored_format(db, table->schema_, table->name_, kModule));
    STRATA_RETURN_IF_ERROR(table->read_options());
  }
  int rc = sqlite3_declare_vtab(db,
                                "CREATE TABLE x(id TEXT, type TEXT, data JSON, embedding BLOB, created_at INTEGER, "
                                "updated_at INTEGER, json_path HIDDEN, json_value HIDDEN)");
  if (rc != SQLITE_OK) return Status::error(str_cat("things: declaring the table failed: ", sqlite3_errmsg(db)));
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  if (table->tiered()) {
    table->cold_ = std::make_unique<ColdRows>(db, table->schema_, table->shadow("objects"), table->tier_, str_cat("things: table ", table->name_),
                                              std::vector<std::string>{"data", "embedding"});
  }
  if (registry != nullptr) registry->add(table->schema_, table->name_, table.get());
  return table;
}

Status ThingsTable::read_options() { return read_tier_options(db_, shadow("config"), tier_, hot_months_); }

Status ThingsTable::create_shadow_tables() {
  // Every index is a UNIQUE constraint, so SQLite names it after the table and renames it with
  // the table; (type, node) is unique because node is.
  const std::string config = str_cat("CREATE TABLE ", shadow("config"), "(key TEXT PRIMARY KEY, value) WITHOUT ROWID;",
                                     "INSERT INTO ", shadow("config"), " VALUES ('module', 'things'), ('format_version', ",
                                     std::to_string(tiered() ? kTieredThingsFormatVersion : kBaseFormatVersion), ");");
  if (!tiered()) {
    return execute(db_, str_cat(config, "CREATE TABLE ", shadow("things"),
                                "(node INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
                                " data TEXT CHECK (data IS NULL OR json_valid(data)), embedding BLOB,"
                                " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (type, node));"));
  }
  // Format 2 (docs/format-graph.md): a cold thing keeps its row (id, type, timestamps) with data
  // and embedding NULL and cold_object/cold_row saying where they are; (type, created_at, node)
  // finds a (type, month) partition's things.
  return execute(db_, str_cat(config, "INSERT INTO ", shadow("config"), " VALUES ('tier', ", quote_literal(tier_),
                              "), ('hot_months', ", std::to_string(hot_months_), ");",
                              "CREATE TABLE ", shadow("things"),
                              "(node INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
                              " data TEXT CHECK (data IS NULL OR json_valid(data)), embedding BLOB,"
                              " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, cold_object INTEGER, cold_row INTEGER,"
                              " UNIQUE (type, node), UNIQUE (type, created_at, node));",
                              objects_table_sql(shadow("objects")),
                              "CREATE TABLE ", shadow("cold_paths"),
                              "(path TEXT NOT NULL, value NOT NULL, node INTEGER NOT NULL, PRIMARY KEY (path, value, node),"
                              " UNIQUE (node, path)) WITHOUT ROWID;"));
}

Status ThingsTable::update(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out) {
  PreserveLastInsertRowid preserve(db_);
  if (argc == 1) return delete_row(sqlite3_value_int64(argv[0]));
  sqlite3_value** columns = argv + 2;
  if (sqlite3_value_type(columns[kThingJsonPath]) != SQLITE_NULL || sqlite3_value_type(columns[kThingJsonValue]) != SQLITE_NULL) {
    return Status::error("things: json_path and json_value are for queries only; they cannot be written");
  }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    if (sqlite3_value_type(argv[1]) != SQLITE_NULL) {
      return Status::error("things: the rowid is assigned by the table; insert without it (the key is id)");
    }
    return insert_row(columns, rowid_out);
  }
  int64_t node = sqlite3_value_int64(argv[0]);
  if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER || sqlite3_value_int64(argv[1]) != node) {
    return Status::error("things: the rowid cannot be changed");
  }
  return update_row(node, columns);
}

Status ThingsTable::insert_row(sqlite3_value** columns, sqlite3_int64* rowid_out) {
  std::string generated;
  std::string_view id;
  if (sqlite3_value_type(columns[kThingId]) == SQLITE_NULL) {
    generated = next_generated_id();
    id = generated;
  } else {
    STRATA_ASSIGN_OR_RETURN(id, id_text(kModule, "id", columns[kThingId]));
  }
  if (sqlite3_value_type(columns[kThingType]) == SQLITE_NULL) {
    return Status::constraint(str_cat("things: NOT NULL constraint failed: ", name_, ".type (id '", id, "')"));
  }
  STRATA_RETURN_IF_ERROR(check_json_data(kModule, columns[kThingData]));
  int64_t now = now_unix_ms();
  STRATA_ASSIGN_OR_RETURN(int64_t created_at, timestamp_or_now(kModule, "created_at", columns[kThingCreatedAt], now));
  STRATA_ASSIGN_OR_RETURN(int64_t updated_at, timestamp_or_now(kModule, "updated_at", columns[kThingUpdatedAt], now));

  // OR REPLACE keeps the thing's node, and so its relationships, and replaces everything else.
  const bool replace = sqlite3_vtab_on_conflict(db_) == SQLITE_REPLACE;
  // OR FAIL: all of a one-row INSERT's checks come before its writes, so there is nothing to undo
  // on failure and SQLite need not open a statement journal for each nested row.
  auto sql = [&] {
    std::string text = str_cat("INSERT OR FAIL INTO ", shadow("things"),
                               "(id, type, data, embedding, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (replace) {
      text += " ON CONFLICT(id) DO UPDATE SET type = excluded.type, data = excluded.data, embedding = excluded.embedding,"
              " created_at = excluded.created_at, updated_at = excluded.updated_at";
      if (tiered()) text += ", cold_object = NULL, cold_row = NULL";  // the new version is hot
    }
    return text;
  };
  // A replaced cold thing stops being its object's.
  std::optional<std::pair<int64_t, ColdPlace>> replaced_cold;
  if (replace && tiered()) {
    STRATA_ASSIGN_OR_RETURN(Statement* find, statements_.keyed(kColdOfId, [&] {
      return str_cat("SELECT node, cold_object, cold_row FROM ", shadow("things"), " WHERE id = ?1 AND cold_object IS NOT NULL");
    }));
    STRATA_RETURN_IF_ERROR(find->bind_text(1, id));
    STRATA_ASSIGN_OR_RETURN(bool cold, find->step());
    if (cold) replaced_cold = {find->column_int64(0), ColdPlace{find->column_int64(1), find->column_int64(2)}};
    find->reset();
  }
  STRATA_ASSIGN_OR_RETURN(Statement* insert, statements_.keyed(replace ? kUpsert : kInsert, sql));
  STRATA_RETURN_IF_ERROR(insert->bind_text(1, id));
  STRATA_RETURN_IF_ERROR(insert->bind_value(2, columns[kThingType]));
  STRATA_RETURN_IF_ERROR(insert->bind_value(3, columns[kThingData]));
  STRATA_RETURN_IF_ERROR(insert->bind_value(4, columns[kThingEmbedding]));
  STRATA_RETURN_IF_ERROR(insert->bind_int64(5, created_at));
  STRATA_RETURN_IF_ERROR(insert->bind_int64(6, updated_at));
  Status inserted = insert->run();
  if (!inserted.is_ok()) {
    int code = sqlite3_extended_errcode(db_);
    insert->reset();
    if (code == SQLITE_CONSTRAINT_UNIQUE) {
      return Status::constraint(str_cat("things: UNIQUE constraint failed: ", name_, ".id ('", id, "' already exists)"))
          .with_sqlite_code(SQLITE_CONSTRAINT_UNIQUE);
    }
    if (code == SQLITE_CONSTRAINT_CHECK) {
      return Status::constraint(str_cat("things: data is not valid JSON (id '", id, "')")).with_sqlite_code(SQLITE_CONSTRAINT_CHECK);
    }
    return inserted;
  }
  if (replaced_cold) STRATA_RETURN_IF_ERROR(forget_cold(replaced_cold->first, replaced_cold->second));
  if (!replace) {
    *rowid_out = sqlite3_last_insert_rowid(db_);
    return Status::ok();
  }
  // An upsert that updated does not set last_insert_rowid: find the node by id.
  STRATA_ASSIGN_OR_RETURN(Statement* find, statements_.keyed(kNodeOfId, [&] { return str_cat("SELECT node FROM ", shadow("things"), " WHERE id = ?1"); }));
  STRATA_RETURN_IF_ERROR(find->bind_text(1, id));
  STRATA_ASSIGN_OR_RETURN(bool found, find->step());
  if (!found) return Status::internal("things: the replaced row is gone");
  *rowid_out = find->column_int64(0);
  find->reset();
  return Status::ok();
}

Status ThingsTable::update_row(int64_t node, sqlite3_value** columns) {
  STRATA_ASSIGN_OR_RETURN(std::optional<StoredThing> stored, stored_thing(node));
  if (!stored) return Status::ok();
  const std::string& old_id = stored->id;
  if (!sqlite3_value_nochange(columns[kThingId])) {
    STRATA_ASSIGN_OR_RETURN(std::string_view new_id, id_text(kModule, "id", columns[kThingId]));
    if (new_id != old_id) {
      return Status::constraint(str_cat("things: id cannot be changed ('", old_id, "' to '", new_id,
                                        "'); relationships refer to it. Insert a new thing instead"));
    }
  }
  if (sqlite3_value_type(columns[kThingType]) == SQLITE_NULL) {
    return Status::constraint(str_cat("things: NOT NULL constraint failed: ", name_, ".type (id '", old_id, "')"));
  }
  bool keep_data = sqlite3_value_nochange(columns[kThingData]);
  bool keep_embedding = sqlite3_value_nochange(columns[kThingEmbedding]);
  // The new version of a cold thing is written hot: what the UPDATE leaves unchanged comes from
  // its object.
  std::optional<ColdValues> cold_values;
  bool cold_data = false, cold_embedding = false;
  if (stored->cold && (keep_data || keep_embedding)) {
    STRATA_ASSIGN_OR_RETURN(cold_values, read_cold(*stored->cold));
    cold_data = keep_data;
    cold_embedding = keep_embedding;
    keep_data = keep_embedding = false;
  }
  const bool keep_created = sqlite3_value_nochange(columns[kThingCreatedAt]);
  if (!keep_data) STRATA_RETURN_IF_ERROR(check_json_data(kModule, columns[kThingData]));
  int64_t created_at = 0;
  if (!keep_created) {
    if (sqlite3_value_numeric_type(columns[kThingCreatedAt]) != SQLITE_INTEGER) {
      return Status::constraint("things: created_at must be an integer (unix milliseconds)");
    }
    created_at = sqlite3_value_int64(columns[kThingCreatedAt]);
  }
  STRATA_ASSIGN_OR_RETURN(Statement* update,
                          statements_.keyed(kUpdate, [&] { return str_cat("UPDATE OR FAIL ", shadow("things"),
                                                     " SET type = ?2, data = iif(?6, data, ?3), embedding = iif(?7, embedding, ?4),"
                                                     " created_at = iif(?8, created_at, ?5), updated_at = ?9",
                                                     tiered() ? ", cold_object = NULL, cold_row = NULL" : "", " WHERE node = ?1"); }));
  STRATA_RETURN_IF_ERROR(update->bind_int64(1, node));
  STRATA_RETURN_IF_ERROR(update->bind_value(2, columns[kThingType]));
  if (keep_data) {
    STRATA_RETURN_IF_ERROR(update->bind_null(3));
  } else {
    STRATA_RETURN_IF_ERROR(cold_data ? columnar::bind_value_view(*update, 3, cold_values->data) : update->bind_value(3, columns[kThingData]));
  }
  if (keep_embedding) {
    STRATA_RETURN_IF_ERROR(update->bind_null(4));
  } else {
    STRATA_RETURN_IF_ERROR(cold_embedding ? columnar::bind_value_view(*update, 4, cold_values->embedding)
                                          : update->bind_value(4, columns[kThingEmbedding]));
  }
  STRATA_RETURN_IF_ERROR(update->bind_int64(5, created_at));
  STRATA_RETURN_IF_ERROR(update->bind_int64(6, keep_data ? 1 : 0));
  STRATA_RETURN_IF_ERROR(update->bind_int64(7, keep_embedding ? 1 : 0));
  STRATA_RETURN_IF_ERROR(update->bind_int64(8, keep_created ? 1 : 0));
  STRATA_RETURN_IF_ERROR(update->bind_int64(9, now_unix_ms()));
  Status status = update->run();
  if (!status.is_ok() && sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_CHECK) {
    update->reset();
    return Status::constraint(str_cat("things: data is not valid JSON (id '", old_id, "')")).with_sqlite_code(SQLITE_CONSTRAINT_CHECK);
  }
  STRATA_RETURN_IF_ERROR(status);
  if (stored->cold) STRATA_RETURN_IF_ERROR(forget_cold(node, *stored->cold));
  return Status::ok();
}

Status ThingsTable::forget_cold(int64_t node, const ColdPlace& cold) {
  STRATA_ASSIGN_OR_RETURN(Statement* stale, statements_.keyed(kStaleRow, [&] {
    return str_cat("UPDATE ", shadow("objects"), " SET stale_rows = stale_rows + 1 WHERE object_id = ?1");
  }));
  STRATA_RETURN_IF_ERROR(stale->bind_int64(1, cold.object_id));
  STRATA_RETURN_IF_ERROR(stale->run());
  STRATA_ASSIGN_OR_RETURN(Statement* paths, statements_.keyed(kForgetColdPaths, [&] {
    return str_cat("DELETE FROM ", shadow("cold_paths"), " WHERE node = ?1");
  }));
  STRATA_RETURN_IF_ERROR(paths->bind_int64(1, node));
  return paths->run();
}

Result<std::optional<StoredThing>> ThingsTable::stored_thing(int64_t node) {
  STRATA_ASSIGN_OR_RETURN(Statement* read, statements_.keyed(kIdOfNode, [&] {
    return str_cat("SELECT id, ", tiered() ? "cold_object, cold_row" : "NULL, NULL", " FROM ", shadow("things"), " WHERE node = ?1");
  }));
  STRATA_RETURN_IF_ERROR(read->bind_int64(1, node));
  STRATA_ASSIGN_OR_RETURN(bool exists, read->step());
  if (!exists) return std::optional<StoredThing>();
  StoredThing thing{std::string(read->column_text(0)), std::nullopt};
  if (!read->column_is_null(1)) thing.cold = ColdPlace{read->column_int64(1), read->column_int64(2)};
  read->reset();
  return std::optional<StoredThing>(std::move(thing));
}

Result<bool> ThingsTable::has_path_index(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(Statement* find, statements_.keyed(kHasPath, [&] { return str_cat("SELECT 1 FROM ", shadow("config"), " WHERE key = ?1"); }));
  STRATA_RETURN_IF_ERROR(find->bind_text(1, str_cat("path:", path)));
  STRATA_ASSIGN_OR_RETURN(bool found, find->step());
  find->reset();
  return found;
}

Result<std::vector<std::string>> ThingsTable::relationship_tables(sqlite3* db, const std::string& schema, const std::string& table) {
  STRATA_ASSIGN_OR_RETURN(Statement list, Statement::prepare(db, str_cat("SELECT value FROM ", shadow_name(schema, table, "config"),
                                                                         " WHERE key GLOB 'relationships:*' ORDER BY key")));
  return first_column_texts(list);
}

Status ThingsTable::delete_row(int64_t node) {
  STRATA_ASSIGN_OR_RETURN(std::optional<StoredThing> stored, stored_thing(node));
  if (!stored) return Status::ok();
  const std::string& id = stored->id;
  // Relationships go first, through their own table (which keeps its adjacency in step), while
  // the thing still exists to be looked up by id.
  STRATA_ASSIGN_OR_RETURN(Statement* list, statements_.keyed(kRelationshipList, [&] { return str_cat("SELECT value FROM ", shadow("config"),
                                                                               " WHERE key GLOB 'relationships:*'"); }));
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> relationships, first_column_texts(*list));
  for (const std::string& relationship : relationships) {
    for (std::string_view end : {"from_id", "to_id"}) {
      std::string sql = str_cat("DELETE FROM ", quote_identifier(schema_), ".", quote_identifier(relationship), " WHERE ", end, " = ?1");
      STRATA_ASSIGN_OR_RETURN(Statement cascade, statements_.take(sql));
      STRATA_RETURN_IF_ERROR(cascade.bind_text(1, id));
      Status status = cascade.run();
      statements_.give_back(sql, std::move(cascade));
      if (!status.is_ok()) return Status(status.code(), str_cat("things: deleting the relationships of '", id, "': ", status.message()));
    }
  }
  STRATA_ASSIGN_OR_RETURN(Statement* remove, statements_.keyed(kDelete, [&] { return str_cat("DELETE FROM ", shadow("things"), " WHERE node = ?1"); }));
  STRATA_RETURN_IF_ERROR(remove->bind_int64(1, node));
  STRATA_RETURN_IF_ERROR(remove->run());
  if (stored->cold) STRATA_RETURN_IF_ERROR(forget_cold(node, *stored->cold));
  return Status::ok();
}

Status ThingsTable::destroy() {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> relationships, relationship_tables(db_, schema_, name_));
  if (!relationships.empty()) {
    return Status::constraint(str_cat("things: cannot drop ", name_, " while the relationships table ", relationships.front(),
                                      " refers to it; drop that first"));
  }
  statements_.clear();
  if (cold_) cold_->forget();
  // The objects of a tiered table stay in the store (as a columnar table's do): docs/tiering.md.
  return execute(db_, str_cat("DROP TABLE IF EXISTS ", shadow("things"), "; DROP TABLE IF EXISTS ", shadow("config"),
                              "; DROP TABLE IF EXISTS ", shadow("objects"), "; DROP TABLE IF EXISTS ", shadow("cold_paths"), ";"));
}

Status ThingsTable::rename(const std::string& new_name) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> relationships, relationship_tables(db_, schema_, name_));
  statements_.clear();
  std::vector<std::string_view> suffixes = {"things", "config"};
  if (tiered()) suffixes.insert(suffixes.end(), {"objects", "cold_paths"});
  for (std::string_view suffix : suffixes) {
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("ALTER TABLE ", shadow(suffix), " RENAME TO ", quote_identifier(str_cat(new_name, "_", suffix)))));
  }
  for (const std::string& relationship : relationships) {
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("UPDATE ", shadow_name(schema_, relationship, "config"), " SET value = ",
                                                quote_literal(new_name), " WHERE key = 'things'")));
  }
  if (registry_ != nullptr) registry_->rename(schema_, name_, new_name, this);
  name_ = new_name;
  if (cold_) cold_->rename(shadow("objects"), str_cat("things: table ", name_));
  return Status::ok();
}

Result<std::string> ThingsTable::create_path_index(sqlite3* db, const std::string& schema, const std::string& table,
                                                   const std::string& path, ThingsTable* connected) {
  STRATA_RETURN_IF_ERROR(check_stored_format(db, schema, table, kModule));
  {
    // A path json_extract rejects is an error now rather than at every later query.
    Result<Statement> probe = Statement::prepare(db, "SELECT json_extract('{}', ?1)");
    if (!probe.is_ok()) return probe.status();
    STRATA_RETURN_IF_ERROR(probe->bind_text(1, path));
    if (path.empty() || path[0] != '$' || !probe->step().is_ok()) {
      return Status::error(str_cat("things_index: '", path, "' is not a JSON path (write it as json_extract takes it, e.g. '$.email')"));
    }
  }
  std::string config = shadow_name(schema, table, "config");
  STRATA_ASSIGN_OR_RETURN(Statement existing, Statement::prepare(db, str_cat("SELECT value FROM ", config, " WHERE key = ?1")));
  STRATA_RETURN_IF_ERROR(existing.bind_text(1, str_cat("path:", path)));
  STRATA_ASSIGN_OR_RETURN(bool found, existing.step());
  if (found) return std::string(existing.column_text(0));
  // A random suffix: the index keeps its name when the table is renamed, and must not collide
  // with one a later table of the old name creates.
  std::random_device random;
  char suffix[9];
  snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(random()));
  std::string index = str_cat(table, "_path_", suffix);
  STRATA_RETURN_IF_ERROR(execute(db, str_cat("CREATE INDEX ", quote_identifier(schema), ".", quote_identifier(index), " ON ",
                                             quote_identifier(str_cat(table, "_things")), "(json_extract(data, ", quote_literal(path),
                                             "));")));
  STRATA_ASSIGN_OR_RETURN(Statement record, Statement::prepare(db, str_cat("INSERT INTO ", config, " VALUES (?1, ?2)")));
  STRATA_RETURN_IF_ERROR(record.bind_text(1, str_cat("path:", path)));
  STRATA_RETURN_IF_ERROR(record.bind_text(2, index));
  STRATA_RETURN_IF_ERROR(record.run());
  if (connected != nullptr && connected->tiered()) STRATA_RETURN_IF_ERROR(connected->add_cold_path_entries(path));
  return index;
}

Result<std::string> ThingsTable::check(sqlite3* db, const std::string& schema, const std::string& table) {
  STRATA_RETURN_IF_ERROR(check_stored_format(db, schema, table, kModule));
  std::vector<std::string> problems;
  auto count = [&](const std::string& sql) -> Result<int64_t> {
    STRATA_ASSIGN_OR_RETURN(Statement query, Statement::prepare(db, sql));
    STRATA_ASSIGN_OR_RETURN(bool row, query.step());
    return row ? query.column_int64(0) : 0;
  };
  std::string things = shadow_name(schema, table, "things");
  {
    STRATA_ASSIGN_OR_RETURN(Statement integrity, Statement::prepare(db, str_cat("PRAGMA ", quote_identifier(schema), ".integrity_check(",
                                                                               quote_identifier(str_cat(table, "_things")), ")")));
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, integrity.step());
      if (!row) break;
      if (integrity.column_text(0) != "ok") problems.push_back(str_cat("things storage: ", integrity.column_text(0)));
    }
  }
  STRATA_ASSIGN_OR_RETURN(int64_t bad_json, count(str_cat("SELECT count(*) FROM ", things, " WHERE data IS NOT NULL AND NOT json_valid(data)")));
  if (bad_json > 0) problems.push_back(str_cat(std::to_string(bad_json), " things hold data that is not valid JSON"));
  STRATA_RETURN_IF_ERROR(check_tiered_things(db, schema, table, problems));
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> relationships, relationship_tables(db, schema, table));
  for (const std::string& relationship : relationships) {
    Status format = check_stored_format(db, schema, relationship, "relationships");
    if (!format.is_ok()) {
      problems.push_back(str_cat("relationships table ", relationship, " is listed but unreadable: ", format.message()));
      continue;
    }
    std::string edges = shadow_name(schema, relationship, "edges");
    STRATA_ASSIGN_OR_RETURN(int64_t dangling, count(str_cat("SELECT count(*) FROM ", edges, " e WHERE NOT EXISTS (SELECT 1 FROM ", things,
                                                            " t WHERE t.node = e.from_node) OR NOT EXISTS (SELECT 1 FROM ", things,
                                                            " t WHERE t.node = e.to_node)")));
    if (dangling > 0) problems.push_back(str_cat(relationship, ": ", std::to_string(dangling), " relationships end at a missing thing"));
    STRATA_ASSIGN_OR_RETURN(int64_t untyped, count(str_cat("SELECT count(*) FROM ", edges, " e WHERE NOT EXISTS (SELECT 1 FROM ",
                                                           shadow_name(schema, relationship, "types"), " y WHERE y.code = e.type_code)")));
    if (untyped > 0) problems.push_back(str_cat(relationship, ": ", std::to_string(untyped), " relationships have an unknown type"));
    STRATA_ASSIGN_OR_RETURN(int64_t bad_edge_json, count(str_cat("SELECT count(*) FROM ", edges, " WHERE data IS NOT NULL AND NOT json_valid(data)")));
    if (bad_edge_json > 0) problems.push_back(str_cat(relationship, ": ", std::to_string(bad_edge_json), " relationships hold data that is not valid JSON"));
  }
  if (problems.empty()) return std::string("ok");
  std::string report;
  for (const std::string& problem : problems) report += (report.empty() ? "" : "\n") + problem;
  return report;
}

}  // namespace strata::graph
