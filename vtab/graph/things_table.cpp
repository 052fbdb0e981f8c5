#include "vtab/graph/things_table.h"

#include <random>

#include "ext/str_cat.h"
#include "vtab/graph/generated_id.h"
#include "vtab/graph/graph_common.h"

namespace strata::graph {

namespace {

constexpr std::string_view kModule = "things";

enum StatementKey { kInsert = 1, kUpsert, kUpdate, kDelete, kIdOfNode, kNodeOfId, kRelationshipList };

}  // namespace

std::string ThingsTable::shadow(std::string_view suffix) const { return shadow_name(schema_, name_, suffix); }

Result<std::unique_ptr<ThingsTable>> ThingsTable::open(sqlite3* db, int argc, const char* const* argv, bool create) {
  if (argc > 3) {
    return Status::error(str_cat("things: takes no arguments (columns are id, type, data, embedding, created_at, updated_at); got '",
                                 argv[3], "'"));
  }
  std::unique_ptr<ThingsTable> table(new ThingsTable(db, argv[1], argv[2]));
  if (create) {
    STRATA_RETURN_IF_ERROR(table->create_shadow_tables());
  } else {
    STRATA_RETURN_IF_ERROR(check_stored_format(db, table->schema_, table->name_, kModule));
  }
  int rc = sqlite3_declare_vtab(db,
                                "CREATE TABLE x(id TEXT, type TEXT, data JSON, embedding BLOB, created_at INTEGER, "
                                "updated_at INTEGER, json_path HIDDEN, json_value HIDDEN)");
  if (rc != SQLITE_OK) return Status::error(str_cat("things: declaring the table failed: ", sqlite3_errmsg(db)));
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  return table;
}

Status ThingsTable::create_shadow_tables() {
  // Every index is a UNIQUE constraint, so SQLite names it after the table and renames it with
  // the table; (type, node) is unique because node is.
  return execute(db_, str_cat("CREATE TABLE ", shadow("config"), "(key TEXT PRIMARY KEY, value) WITHOUT ROWID;",
                              "INSERT INTO ", shadow("config"), " VALUES ('module', 'things'), ('format_version', ",
                              std::to_string(kFormatVersion), ");",
                              "CREATE TABLE ", shadow("things"),
                              "(node INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
                              " data TEXT CHECK (data IS NULL OR json_valid(data)), embedding BLOB,"
                              " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (type, node));"));
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
    }
    return text;
  };
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
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> stored, stored_id(node));
  if (!stored) return Status::ok();
  const std::string& old_id = *stored;
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
  const bool keep_data = sqlite3_value_nochange(columns[kThingData]);
  const bool keep_embedding = sqlite3_value_nochange(columns[kThingEmbedding]);
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
                                                     " created_at = iif(?8, created_at, ?5), updated_at = ?9 WHERE node = ?1"); }));
  STRATA_RETURN_IF_ERROR(update->bind_int64(1, node));
  STRATA_RETURN_IF_ERROR(update->bind_value(2, columns[kThingType]));
  if (keep_data) {
    STRATA_RETURN_IF_ERROR(update->bind_null(3));
  } else {
    STRATA_RETURN_IF_ERROR(update->bind_value(3, columns[kThingData]));
  }
  if (keep_embedding) {
    STRATA_RETURN_IF_ERROR(update->bind_null(4));
  } else {
    STRATA_RETURN_IF_ERROR(update->bind_value(4, columns[kThingEmbedding]));
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
  return status;
}

Result<std::optional<std::string>> ThingsTable::stored_id(int64_t node) {
  STRATA_ASSIGN_OR_RETURN(Statement* read, statements_.keyed(kIdOfNode, [&] { return str_cat("SELECT id FROM ", shadow("things"), " WHERE node = ?1"); }));
  STRATA_RETURN_IF_ERROR(read->bind_int64(1, node));
  STRATA_ASSIGN_OR_RETURN(bool exists, read->step());
  if (!exists) return std::optional<std::string>();
  std::optional<std::string> id(std::string(read->column_text(0)));
  read->reset();
  return id;
}

Result<std::vector<std::string>> ThingsTable::relationship_tables(sqlite3* db, const std::string& schema, const std::string& table) {
  STRATA_ASSIGN_OR_RETURN(Statement list, Statement::prepare(db, str_cat("SELECT value FROM ", shadow_name(schema, table, "config"),
                                                                         " WHERE key GLOB 'relationships:*' ORDER BY key")));
  return first_column_texts(list);
}

Status ThingsTable::delete_row(int64_t node) {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> stored, stored_id(node));
  if (!stored) return Status::ok();
  const std::string& id = *stored;
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
  return remove->run();
}

Status ThingsTable::destroy() {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> relationships, relationship_tables(db_, schema_, name_));
  if (!relationships.empty()) {
    return Status::constraint(str_cat("things: cannot drop ", name_, " while the relationships table ", relationships.front(),
                                      " refers to it; drop that first"));
  }
  statements_.clear();
  return execute(db_, str_cat("DROP TABLE IF EXISTS ", shadow("things"), "; DROP TABLE IF EXISTS ", shadow("config"), ";"));
}

Status ThingsTable::rename(const std::string& new_name) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> relationships, relationship_tables(db_, schema_, name_));
  statements_.clear();
  for (std::string_view suffix : {"things", "config"}) {
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("ALTER TABLE ", shadow(suffix), " RENAME TO ", quote_identifier(str_cat(new_name, "_", suffix)))));
  }
  for (const std::string& relationship : relationships) {
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("UPDATE ", shadow_name(schema_, relationship, "config"), " SET value = ",
                                                quote_literal(new_name), " WHERE key = 'things'")));
  }
  name_ = new_name;
  return Status::ok();
}

Result<std::string> ThingsTable::create_path_index(sqlite3* db, const std::string& schema, const std::string& table,
                                                   const std::string& path) {
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
