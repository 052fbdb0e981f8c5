// columnar — column-chunk tables that behave like ordinary SQLite tables.
//
// USER SQL
//
//   CREATE VIRTUAL TABLE events USING columnar(
//     id INTEGER PRIMARY KEY,     -- column definitions as in CREATE TABLE: types (affinity),
//     ts INTEGER NOT NULL,        --   NOT NULL, DEFAULT, COLLATE, UNIQUE, PRIMARY KEY,
//     kind TEXT COLLATE NOCASE,   --   table constraints PRIMARY KEY(…) / UNIQUE(…)
//     chunk_rows=65536,           -- options: chunk_rows, partition_by, bloom, index,
//     partition_by='day(ts)',     --   compression, tier, hot_partitions, retention (docs/columnar.md)
//     tier='file:lake'
//   );
//   INSERT / UPDATE / DELETE / REPLACE / INSERT OR IGNORE … as on any table.
//   SELECT columnar_check('events');          -- 'ok' or what is damaged
//   SELECT columnar_compact('events');        -- merges partial chunks, drops deleted rows
//   SELECT columnar_scan_stats('events');     -- what the last scan read and skipped (JSON)
//   SELECT * FROM columnar_chunks WHERE tbl = 'events';
//   SELECT tier_flush('events'), tier_restore('events', '2026-01-02'), tier_gc('events');
//   SELECT tier_expire('events', '2025-01-02');   -- or retention='400 days' and tier_flush
//   SELECT * FROM tier_partitions WHERE tbl = 'events';   -- (tier.cpp, docs/tiering.md)
//
// SHADOW TABLES (docs/format-columnar.md)
//
//   events_meta(key, value)                    format version, counters
//   events_chunks(chunk_id, partition_key, row_count, min_rowid, max_rowid, deleted,
//                 deleted_count, tier, created_at)
//   events_columns(cell, data, zone, bloom)    cell = chunk_id * 4096 + column + 1
//   events_unique<k>(row, c0, …)               one per UNIQUE / PRIMARY KEY constraint
//   events_objects(object_id, object_key, …)   the objects tiering wrote (format 3)
//   events_cold(chunk_id, object_id, row_group) where each cold chunk's column data lies
//
// xBestIndex PLAN (chosen, encoded and decoded in scan_plan.{h,cpp})
//
//   idxNum bits (cursor.h): 1 rowid = argv (the rowid or the INTEGER PRIMARY KEY column);
//   2 a lower rowid bound follows (4: strict, >), 8 an upper bound follows (16: strict, <).
//   Rowid bounds only narrow the chunks read; SQLite re-checks them (omit = 0).
//   LIMIT and OFFSET are never taken (SQLite 3.40 offers them while it still has WHERE terms it
//   did not show the table). Bits 8-15 / 16-23: a key-index lookup
//   (cursor.h): an = or IN filter on a column with a UNIQUE constraint or index= looks its values
//   up in the shadow B-tree, and only chunks holding the rowids found are read.
//   idxStr (what EXPLAIN QUERY PLAN shows): "<description> {plan <encoding>}". The description
//   says what the scan does ("read type, amount; user_id IN (…) via unique index; ts >= ?;
//   grouped by type desc"); the encoding is colUsed in decimal, so that only the columns the query
//   uses are decoded, then one ";column,op,collation,exact,in" per pushed column filter
//   (filter.h), whose right-hand sides follow the rowid arguments in argv. Exact filters are
//   omitted by SQLite; zone maps rule out chunks before they are read.
//   Rows come out in rowid order, so ORDER BY rowid (ascending) is consumed.
//   Only a single = on a UNIQUE key (no IN list) tells SQLite the scan is unique.
//   Bit 24: rows come grouped by one column ("/<column>" ends idxStr), in ascending order under
//   its collation (descending with bit 26), consuming a GROUP BY, DISTINCT or ORDER BY on it;
//   with bit 25 they are sorted by key_sorted_rows.h (many distinct values) rather than
//   collected per group (few).
#include "vtab/columnar/columnar.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <memory>

#include "ext/module_arguments.h"
#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/vtab_module.h"
#include "ext/str_cat.h"
#include "tiering/read_cache.h"
#include "vtab/columnar/cursor.h"
#include "vtab/columnar/filter.h"
#include "vtab/columnar/scan_plan.h"
#include "vtab/columnar/table.h"
#include "vtab/columnar/values.h"

namespace strata::columnar {

namespace {

// The module's client data, one per connection.
struct ModuleState {
  TableRegistry registry;
  std::shared_ptr<OtherTieredTables> others;  // things tables, for the tier functions
};

Result<std::unique_ptr<ColumnarTable>> open_table(sqlite3* db, void* state, int argc, const char* const* argv, bool create) {
  return ColumnarTable::open(db, &static_cast<ModuleState*>(state)->registry, argc, argv, create);
}

// The plan (scan_plan.h): chosen, then written into idxNum and idxStr, which xFilter decodes.
int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  return vtab_call(vtab, [&]() -> Status {
    ColumnarTable* table = ColumnarTable::from(vtab);
    STRATA_ASSIGN_OR_RETURN(ScanPlan plan, plan_scan(*table, info));
    info->idxNum = plan.idx_num();
    const std::string text = plan.idx_str(table->schema());
    info->idxStr = sqlite3_mprintf("%s", text.c_str());
    if (info->idxStr == nullptr) return Status::no_memory();
    info->needToFreeIdxStr = 1;
    return Status::ok();
  });
}

int x_open(sqlite3_vtab* vtab, sqlite3_vtab_cursor** out) {
  return vtab_call(vtab, [&] {
    auto* cursor = new ColumnarCursor(ColumnarTable::from(vtab));
    *out = &cursor->base;
    return Status::ok();
  });
}

int x_close(sqlite3_vtab_cursor* cursor) {
  delete ColumnarCursor::from(cursor);
  return SQLITE_OK;
}

int x_filter(sqlite3_vtab_cursor* cursor, int plan, const char* idx_str, int argc, sqlite3_value** argv) {
  return cursor_call(cursor, [&] { return ColumnarCursor::from(cursor)->filter(plan, idx_str, argc, argv); });
}

int x_next(sqlite3_vtab_cursor* cursor) {
  if (ColumnarCursor::from(cursor)->next_in_chunk()) return SQLITE_OK;  // per row: no shim needed
  return cursor_call(cursor, [&] { return ColumnarCursor::from(cursor)->next(); });
}

int x_eof(sqlite3_vtab_cursor* cursor) { return ColumnarCursor::from(cursor)->eof() ? 1 : 0; }

int x_column(sqlite3_vtab_cursor* cursor, sqlite3_context* context, int column) {
  return cursor_call(cursor, [&] { return ColumnarCursor::from(cursor)->column(context, column); });
}

int x_rowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* rowid) {
  return cursor_call(cursor, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(*rowid, ColumnarCursor::from(cursor)->rowid_value());
    return Status::ok();
  });
}

int x_shadow_name(const char* suffix) {
  std::string_view name(suffix);
  if (name == "meta" || name == "chunks" || name == "columns" || name == "objects" || name == "cold") return 1;
  for (std::string_view prefix : {"unique", "index"}) {
    if (name.starts_with(prefix) && name.size() > prefix.size()) {
      for (char c : name.substr(prefix.size())) {
        if (c < '0' || c > '9') return 0;
      }
      return 1;
    }
  }
  return 0;
}

const sqlite3_module kColumnarModule = table_module<ColumnarTable>({
    .create = create_table<open_table>,
    .connect = connect_table<open_table>,
    .best_index = x_best_index,
    .open = x_open,
    .close = x_close,
    .filter = x_filter,
    .next = x_next,
    .eof = x_eof,
    .column = x_column,
    .rowid = x_rowid,
    .shadow_name = x_shadow_name
});

// ---- SQL functions ---------------------------------------------------------------------------

// Finds the connected columnar table a function argument names ('t' or 'schema.t').
Result<ColumnarTable*> find_table(sqlite3* db, ModuleState* state, std::string_view function,
                                  sqlite3_value* argument) {
  if (sqlite3_value_type(argument) != SQLITE_TEXT) {
    return Status::error(str_cat(function, ": expects a table name as text"));
  }
  QualifiedName name = split_qualified_name(value_text(argument));
  bool exists = false;
  if (ColumnarTable* table = find_connected(db, state->registry, name, &exists)) return table;
  if (!exists) return Status::error(str_cat(function, ": no such table: ", name.quoted()));
  return Status::error(str_cat(function, ": ", name.quoted(), " is not a columnar table"));
}

void columnar_check_function(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    auto* state = static_cast<ModuleState*>(sqlite3_user_data(context));
    sqlite3* db = sqlite3_context_db_handle(context);
    STRATA_ASSIGN_OR_RETURN(ColumnarTable * table, find_table(db, state, "columnar_check", argv[0]));
    // One read transaction for the whole check, so that it sees one consistent state.
    STRATA_RETURN_IF_ERROR(execute(db, "SAVEPOINT columnar_check"));
    Result<std::string> checked = table->check();
    STRATA_RETURN_IF_ERROR(execute(db, "RELEASE columnar_check"));
    STRATA_ASSIGN_OR_RETURN(std::string report, std::move(checked));
    sqlite3_result_text64(context, report.data(), report.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return Status::ok();
  });
}

void columnar_compact_function(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    auto* state = static_cast<ModuleState*>(sqlite3_user_data(context));
    sqlite3* db = sqlite3_context_db_handle(context);
    STRATA_ASSIGN_OR_RETURN(ColumnarTable * table, find_table(db, state, "columnar_compact", argv[0]));
    // One savepoint makes the rewrite atomic even in autocommit mode.
    STRATA_RETURN_IF_ERROR(execute(db, "SAVEPOINT columnar_compact"));
    Result<int64_t> rewritten = table->compact();
    if (!rewritten.is_ok()) {
      (void)execute(db, "ROLLBACK TO columnar_compact; RELEASE columnar_compact");
      return rewritten.status();
    }
    STRATA_RETURN_IF_ERROR(execute(db, "RELEASE columnar_compact"));
    sqlite3_result_int64(context, *rewritten);
    return Status::ok();
  });
}

// columnar_scan_stats('t'): what the last scan of t did, as JSON (ScanStats in table.h).
void columnar_scan_stats_function(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    auto* state = static_cast<ModuleState*>(sqlite3_user_data(context));
    sqlite3* db = sqlite3_context_db_handle(context);
    STRATA_ASSIGN_OR_RETURN(ColumnarTable * table, find_table(db, state, "columnar_scan_stats", argv[0]));
    const std::string json = table->last_scan().to_json();
    sqlite3_result_text64(context, json.data(), json.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return Status::ok();
  });
}

// ---- tiering functions (docs/tiering.md) ------------------------------------------------------

// tier_flush('t') / tier_flush('t', partition), tier_restore('t', partition), tier_expire('t' [,
// partition]), tier_gc('t'): a columnar table's own, or another module's table (things) through
// ModuleState::others.
void tier_function(sqlite3_context* context, int argc, sqlite3_value** argv, std::string_view function,
                   const std::function<Result<int64_t>(ColumnarTable&)>& on_columnar) {
  function_call(context, [&]() -> Status {
    auto* state = static_cast<ModuleState*>(sqlite3_user_data(context));
    sqlite3* db = sqlite3_context_db_handle(context);
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) return Status::error(str_cat(function, ": expects a table name as text"));
    QualifiedName name = split_qualified_name(value_text(argv[0]));
    bool exists = false;
    ColumnarTable* table = find_connected(db, state->registry, name, &exists);
    if (!exists) return Status::error(str_cat(function, ": no such table: ", name.quoted()));
    int64_t answer = 0;
    if (table != nullptr) {
      STRATA_ASSIGN_OR_RETURN(answer, on_columnar(*table));
    } else {
      std::optional<int64_t> answered;
      if (state->others) {
        STRATA_ASSIGN_OR_RETURN(answered, state->others->call(db, function, name, std::span<sqlite3_value* const>(argv + 1, static_cast<size_t>(argc - 1))));
      }
      if (!answered) return Status::error(str_cat(function, ": ", name.quoted(), " is not a columnar or things table"));
      answer = *answered;
    }
    sqlite3_result_int64(context, answer);
    return Status::ok();
  });
}

void tier_flush_function(sqlite3_context* context, int argc, sqlite3_value** argv) {
  tier_function(context, argc, argv, "tier_flush", [&](ColumnarTable& table) {
    std::optional<Value> partition;
    if (argc > 1) partition = value_from_sqlite(argv[1]);
    return table.tier_flush(partition);
  });
}

void tier_restore_function(sqlite3_context* context, int argc, sqlite3_value** argv) {
  tier_function(context, argc, argv, "tier_restore", [&](ColumnarTable& table) { return table.tier_restore(value_from_sqlite(argv[1])); });
}

// tier_expire('t', partition) / tier_expire('t'): retention applied now.
void tier_expire_function(sqlite3_context* context, int argc, sqlite3_value** argv) {
  tier_function(context, argc, argv, "tier_expire", [&](ColumnarTable& table) {
    std::optional<Value> partition;
    if (argc > 1) partition = value_from_sqlite(argv[1]);
    return table.tier_expire(partition);
  });
}

void tier_gc_function(sqlite3_context* context, int argc, sqlite3_value** argv) {
  tier_function(context, argc, argv, "tier_gc", [&](ColumnarTable& table) { return table.tier_gc(); });
}

// tier_cache(dir, size): where every table of the process caches cold reads, and how much.
void tier_cache_function(sqlite3_context* context, int argc, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT || sqlite3_value_bytes(argv[0]) == 0) {
      return Status::error("tier_cache: expects a directory as text, e.g. tier_cache('/var/cache/strata', '2 GiB')");
    }
    std::string directory(value_text(argv[0]));
    uint64_t capacity = tiering::ReadCache::kDefaultCapacityBytes;
    if (argc > 1) {
      std::optional<uint64_t> parsed;
      if (sqlite3_value_type(argv[1]) == SQLITE_INTEGER && sqlite3_value_int64(argv[1]) >= 0) {
        parsed = static_cast<uint64_t>(sqlite3_value_int64(argv[1]));
      } else if (sqlite3_value_type(argv[1]) == SQLITE_TEXT) {
        parsed = tiering::parse_byte_size(value_text(argv[1]));
      }
      if (!parsed) {
        return Status::error("tier_cache: the size must be a number of bytes or a text like '512 MiB' or '2 GB'");
      }
      capacity = *parsed;
    }
    tiering::ReadCache::configure(directory, capacity);
    sqlite3_result_text(context, directory.c_str(), -1, SQLITE_TRANSIENT);
    return Status::ok();
  });
}

// ---- columnar_chunks -------------------------------------------------------------------------

struct ChunkListing {
  std::string table;
  ChunkInfo chunk;
  int64_t raw_bytes = 0;
  int64_t stored_bytes = 0;
  std::string encodings;  // JSON object: column -> encoding
};

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Calls `each` with the columnar table `name` names (none when it is NULL), or with every columnar
// table of main when `name` is null (an eponymous listing without WHERE tbl = …).
Status for_listed_tables(sqlite3* db, ModuleState* state, std::string_view listing, sqlite3_value* name,
                         const std::function<Status(ColumnarTable*)>& each) {
  if (name != nullptr) {
    if (sqlite3_value_type(name) == SQLITE_NULL) return Status::ok();
    STRATA_ASSIGN_OR_RETURN(ColumnarTable * table, find_table(db, state, listing, name));
    return each(table);
  }
  std::vector<std::string> names;
  STRATA_ASSIGN_OR_RETURN(Statement list,
                          Statement::prepare(db, "SELECT name FROM sqlite_schema WHERE type = 'table'"
                                                 " AND sql LIKE 'CREATE VIRTUAL TABLE%USING columnar%'"
                                                 " ORDER BY name"));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool has_row, list.step());
    if (!has_row) break;
    names.emplace_back(list.column_text(0));
  }
  for (const std::string& table_name : names) {
    STRATA_ASSIGN_OR_RETURN(Statement holder, Statement::prepare(db, "SELECT ?1"));
    STRATA_RETURN_IF_ERROR(holder.bind_text(1, table_name));
    STRATA_ASSIGN_OR_RETURN(bool has_row, holder.step());
    if (!has_row) continue;
    STRATA_ASSIGN_OR_RETURN(ColumnarTable * table, find_table(db, state, listing, holder.column_value(0)));
    STRATA_RETURN_IF_ERROR(each(table));
  }
  return Status::ok();
}

struct ChunksCursor {
  sqlite3_vtab_cursor base{};
  std::vector<ChunkListing> rows;
  size_t position = 0;
};

struct ChunksTable {
  sqlite3_vtab base{};
  sqlite3* db = nullptr;
  ModuleState* state = nullptr;
};

enum ChunksColumn { kTbl, kChunkId, kPartition, kRows, kDeletedRows, kRawBytes, kStoredBytes, kEncodings, kTier };

int chunks_connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** error) {
  return error_out_call(error, [&]() -> Status {
    int rc = sqlite3_declare_vtab(db,
                                  "CREATE TABLE x(tbl TEXT, chunk_id INTEGER, partition, rows INTEGER,"
                                  " deleted_rows INTEGER, raw_bytes INTEGER, stored_bytes INTEGER,"
                                  " encodings TEXT, tier TEXT)");
    if (rc != SQLITE_OK) return status_from_sqlite(db, rc);
    auto* table = new ChunksTable();
    table->db = db;
    table->state = static_cast<ModuleState*>(aux);
    *out = &table->base;
    return Status::ok();
  });
}

int chunks_disconnect(sqlite3_vtab* vtab) {
  delete reinterpret_cast<ChunksTable*>(vtab);
  return SQLITE_OK;
}

int chunks_best_index(sqlite3_vtab*, sqlite3_index_info* info) {
  info->idxNum = 0;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& constraint = info->aConstraint[i];
    if (constraint.usable && constraint.iColumn == kTbl && constraint.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      info->aConstraintUsage[i].argvIndex = 1;
      info->aConstraintUsage[i].omit = 1;
      info->idxNum = 1;
      info->estimatedCost = 10;
      return SQLITE_OK;
    }
  }
  info->estimatedCost = 1e6;
  return SQLITE_OK;
}

Status list_table_chunks(ColumnarTable* table, std::vector<ChunkListing>& rows) {
  STRATA_RETURN_IF_ERROR(table->settle());
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, table->store().list_chunks());
  for (ChunkInfo& chunk : chunks) {
    ChunkListing listing;
    listing.table = table->name();
    std::string encodings;
    if (!chunk.tier) {
      STRATA_ASSIGN_OR_RETURN(auto prefixes, table->store().column_blob_prefixes(chunk.chunk_id));
      for (const auto& blob : prefixes) {
        listing.stored_bytes += blob.stored_size;
        Result<ColumnBlobInfo> info = inspect_column_prefix(blob.prefix, static_cast<uint64_t>(blob.stored_size));
        std::string column_name = blob.column == kRowidColumn ? std::string("rowid")
                                  : blob.column < static_cast<int>(table->schema().columns.size())
                                      ? table->schema().columns[blob.column].name
                                      : "column" + std::to_string(blob.column);
        std::string encoding = info.is_ok() ? encoding_name(*info) : std::string("damaged");
        if (info.is_ok()) listing.raw_bytes += static_cast<int64_t>(info->raw_size);
        encodings += str_cat(encodings.empty() ? "" : ",", json_string(column_name), ":", json_string(encoding));
      }
    }
    listing.encodings = "{" + encodings + "}";
    listing.chunk = std::move(chunk);
    rows.push_back(std::move(listing));
  }
  return Status::ok();
}

int chunks_filter(sqlite3_vtab_cursor* base, int plan, const char*, int argc, sqlite3_value** argv) {
  return cursor_call(base, [&]() -> Status {
    auto* cursor = reinterpret_cast<ChunksCursor*>(base);
    auto* vtab = reinterpret_cast<ChunksTable*>(base->pVtab);
    cursor->rows.clear();
    cursor->position = 0;
    return for_listed_tables(vtab->db, vtab->state, "columnar_chunks", plan == 1 && argc == 1 ? argv[0] : nullptr,
                             [&](ColumnarTable* table) { return list_table_chunks(table, cursor->rows); });
  });
}

int chunks_next(sqlite3_vtab_cursor* base) {
  ++reinterpret_cast<ChunksCursor*>(base)->position;
  return SQLITE_OK;
}

int chunks_eof(sqlite3_vtab_cursor* base) {
  auto* cursor = reinterpret_cast<ChunksCursor*>(base);
  return cursor->position >= cursor->rows.size();
}

int chunks_column(sqlite3_vtab_cursor* base, sqlite3_context* context, int column) {
  auto* cursor = reinterpret_cast<ChunksCursor*>(base);
  const ChunkListing& row = cursor->rows[cursor->position];
  switch (column) {
    case kTbl: sqlite3_result_text(context, row.table.c_str(), -1, SQLITE_TRANSIENT); break;
    case kChunkId: sqlite3_result_int64(context, row.chunk.chunk_id); break;
    case kPartition: set_result(context, row.chunk.partition.view()); break;
    case kRows: sqlite3_result_int64(context, row.chunk.live_rows()); break;
    case kDeletedRows: sqlite3_result_int64(context, row.chunk.deleted_count); break;
    case kRawBytes: sqlite3_result_int64(context, row.raw_bytes); break;
    case kStoredBytes: sqlite3_result_int64(context, row.stored_bytes); break;
    case kEncodings: sqlite3_result_text(context, row.encodings.c_str(), -1, SQLITE_TRANSIENT); break;
    case kTier:
      if (row.chunk.tier) {
        sqlite3_result_text(context, row.chunk.tier->c_str(), -1, SQLITE_TRANSIENT);
      } else {
        sqlite3_result_text(context, "hot", -1, SQLITE_STATIC);
      }
      break;
    default: sqlite3_result_null(context); break;
  }
  return SQLITE_OK;
}

int chunks_rowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<ChunksCursor*>(base)->position);
  return SQLITE_OK;
}

sqlite3_module make_chunks_module() {
  sqlite3_module module = module_with({
      .connect = chunks_connect,  // eponymous-only: no xCreate
      .best_index = chunks_best_index,
      .open = open_cursor<ChunksCursor>,
      .close = close_cursor<ChunksCursor>,
      .filter = chunks_filter,
      .next = chunks_next,
      .eof = chunks_eof,
      .column = chunks_column,
      .rowid = chunks_rowid
  });
  module.xDisconnect = chunks_disconnect;
  return module;
}

const sqlite3_module kChunksModule = make_chunks_module();

// ---- tier_partitions -------------------------------------------------------------------------

struct TierPartitionListing {
  std::string table;
  ColumnarTable::PartitionTierRow row;
};

struct TierPartitionsCursor {
  sqlite3_vtab_cursor base{};
  std::vector<TierPartitionListing> rows;
  size_t position = 0;
};

enum TierPartitionsColumn {
  kTierTbl, kTierPartition, kTierTier, kTierRows, kTierHotBytes, kTierColdBytes, kTierObjectKey, kTierEtag,
  kTierFlushedAt, kTierRequests, kTierBytesFetched, kTierCacheHits
};

int tier_partitions_connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** error) {
  return error_out_call(error, [&]() -> Status {
    int rc = sqlite3_declare_vtab(db,
                                  "CREATE TABLE x(tbl TEXT, partition, tier TEXT, rows INTEGER, hot_bytes INTEGER,"
                                  " cold_bytes INTEGER, object_key TEXT, etag TEXT, flushed_at TEXT,"
                                  " requests INTEGER, bytes_fetched INTEGER, cache_hits INTEGER)");
    if (rc != SQLITE_OK) return status_from_sqlite(db, rc);
    auto* table = new ChunksTable();
    table->db = db;
    table->state = static_cast<ModuleState*>(aux);
    *out = &table->base;
    return Status::ok();
  });
}

int tier_partitions_filter(sqlite3_vtab_cursor* base, int plan, const char*, int argc, sqlite3_value** argv) {
  return cursor_call(base, [&]() -> Status {
    auto* cursor = reinterpret_cast<TierPartitionsCursor*>(base);
    auto* vtab = reinterpret_cast<ChunksTable*>(base->pVtab);
    cursor->rows.clear();
    cursor->position = 0;
    sqlite3_value* only = plan == 1 && argc == 1 ? argv[0] : nullptr;
    if (only != nullptr && sqlite3_value_type(only) == SQLITE_NULL) return Status::ok();
    std::optional<QualifiedName> only_name;
    if (only != nullptr && sqlite3_value_type(only) == SQLITE_TEXT) {
      only_name = split_qualified_name(value_text(only));
      bool exists = false;
      if (find_connected(vtab->db, vtab->state->registry, *only_name, &exists) == nullptr && exists && vtab->state->others) {
        STRATA_ASSIGN_OR_RETURN(auto rows, vtab->state->others->partitions(vtab->db, only_name));
        if (rows) {  // a things table
          for (auto& [table, row] : *rows) cursor->rows.push_back({std::move(table), std::move(row)});
          return Status::ok();
        }
      }
    }
    STRATA_RETURN_IF_ERROR(for_listed_tables(vtab->db, vtab->state, "tier_partitions", only, [&](ColumnarTable* table) -> Status {
      STRATA_ASSIGN_OR_RETURN(auto rows, table->tier_partitions());
      for (auto& row : rows) cursor->rows.push_back({table->name(), std::move(row)});
      return Status::ok();
    }));
    if (only == nullptr && vtab->state->others) {
      STRATA_ASSIGN_OR_RETURN(auto rows, vtab->state->others->partitions(vtab->db, std::nullopt));
      if (rows) {
        for (auto& [table, row] : *rows) cursor->rows.push_back({std::move(table), std::move(row)});
      }
    }
    return Status::ok();
  });
}

int tier_partitions_next(sqlite3_vtab_cursor* base) {
  ++reinterpret_cast<TierPartitionsCursor*>(base)->position;
  return SQLITE_OK;
}

int tier_partitions_eof(sqlite3_vtab_cursor* base) {
  auto* cursor = reinterpret_cast<TierPartitionsCursor*>(base);
  return cursor->position >= cursor->rows.size();
}

void result_text_or_null(sqlite3_context* context, const std::string& text) {
  if (text.empty()) {
    sqlite3_result_null(context);
  } else {
    sqlite3_result_text(context, text.c_str(), -1, SQLITE_TRANSIENT);
  }
}

int tier_partitions_column(sqlite3_vtab_cursor* base, sqlite3_context* context, int column) {
  auto* cursor = reinterpret_cast<TierPartitionsCursor*>(base);
  const TierPartitionListing& listing = cursor->rows[cursor->position];
  const ColumnarTable::PartitionTierRow& row = listing.row;
  switch (column) {
    case kTierTbl: sqlite3_result_text(context, listing.table.c_str(), -1, SQLITE_TRANSIENT); break;
    case kTierPartition: set_result(context, row.partition.view()); break;
    case kTierTier: sqlite3_result_text(context, row.tier.c_str(), -1, SQLITE_TRANSIENT); break;
    case kTierRows: sqlite3_result_int64(context, row.rows); break;
    case kTierHotBytes: sqlite3_result_int64(context, row.hot_bytes); break;
    case kTierColdBytes: sqlite3_result_int64(context, row.cold_bytes); break;
    case kTierObjectKey: result_text_or_null(context, row.object_keys); break;
    case kTierEtag: result_text_or_null(context, row.etags); break;
    case kTierFlushedAt:
      if (row.flushed_at) {
        // ISO 8601 UTC with milliseconds, as strftime('%Y-%m-%dT%H:%M:%fZ') writes it.
        char buffer[96];
        const int64_t ms = *row.flushed_at;
        time_t seconds = static_cast<time_t>(ms / 1000);
        struct tm utc {};
        gmtime_r(&seconds, &utc);
        std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                      utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
        sqlite3_result_text(context, buffer, -1, SQLITE_TRANSIENT);
      } else {
        sqlite3_result_null(context);
      }
      break;
    case kTierRequests: sqlite3_result_int64(context, static_cast<int64_t>(row.counters.requests)); break;
    case kTierBytesFetched: sqlite3_result_int64(context, static_cast<int64_t>(row.counters.bytes_fetched)); break;
    case kTierCacheHits: sqlite3_result_int64(context, static_cast<int64_t>(row.counters.cache_hits)); break;
    default: sqlite3_result_null(context); break;
  }
  return SQLITE_OK;
}

int tier_partitions_rowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<TierPartitionsCursor*>(base)->position);
  return SQLITE_OK;
}

sqlite3_module make_tier_partitions_module() {
  sqlite3_module module = module_with({
      .connect = tier_partitions_connect,  // eponymous-only: no xCreate
      .best_index = chunks_best_index,     // the same plan: tbl = ? or everything
      .open = open_cursor<TierPartitionsCursor>,
      .close = close_cursor<TierPartitionsCursor>,
      .filter = tier_partitions_filter,
      .next = tier_partitions_next,
      .eof = tier_partitions_eof,
      .column = tier_partitions_column,
      .rowid = tier_partitions_rowid
  });
  module.xDisconnect = chunks_disconnect;
  return module;
}

const sqlite3_module kTierPartitionsModule = make_tier_partitions_module();

void destroy_state(void* state) { delete static_cast<ModuleState*>(state); }

}  // namespace

Status register_columnar(sqlite3* db, std::shared_ptr<OtherTieredTables> others, TableRegistry** registry_out) {
  auto* state = new ModuleState();
  if (registry_out != nullptr) *registry_out = &state->registry;
  state->others = std::move(others);
  // The module owns the state; functions and columnar_chunks borrow it (the connection drops
  // them all together when it closes).
  int rc = sqlite3_create_module_v2(db, "columnar", &kColumnarModule, state, destroy_state);
  if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "columnar: registering the module");
  rc = sqlite3_create_module_v2(db, "columnar_chunks", &kChunksModule, state, nullptr);
  if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "columnar: registering columnar_chunks");
  rc = sqlite3_create_function_v2(db, "columnar_check", 1, SQLITE_UTF8, state, columnar_check_function,
                                  nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "columnar: registering columnar_check()");
  rc = sqlite3_create_function_v2(db, "columnar_compact", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, state,
                                  columnar_compact_function, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "columnar: registering columnar_compact()");
  rc = sqlite3_create_function_v2(db, "columnar_scan_stats", 1, SQLITE_UTF8, state, columnar_scan_stats_function,
                                  nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "columnar: registering columnar_scan_stats()");
  rc = sqlite3_create_module_v2(db, "tier_partitions", &kTierPartitionsModule, state, nullptr);
  if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "columnar: registering tier_partitions");
  struct TierFunction {
    const char* name;
    int arguments;
    void (*call)(sqlite3_context*, int, sqlite3_value**);
  };
  // DIRECTONLY: they write to the store and the database, so a view or trigger must not run them.
  for (const TierFunction& function : {TierFunction{"tier_flush", 1, tier_flush_function},
                                       TierFunction{"tier_flush", 2, tier_flush_function},
                                       TierFunction{"tier_restore", 2, tier_restore_function},
                                       TierFunction{"tier_expire", 1, tier_expire_function},
                                       TierFunction{"tier_expire", 2, tier_expire_function},
                                       TierFunction{"tier_gc", 1, tier_gc_function},
                                       TierFunction{"tier_cache", 1, tier_cache_function},
                                       TierFunction{"tier_cache", 2, tier_cache_function}}) {
    rc = sqlite3_create_function_v2(db, function.name, function.arguments, SQLITE_UTF8 | SQLITE_DIRECTONLY, state,
                                    function.call, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return status_from_sqlite(db, rc, str_cat("columnar: registering ", function.name, "()"));
  }
  return Status::ok();
}

}  // namespace strata::columnar
