#include "vtab/columnar/table.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <system_error>

#include "ext/module_arguments.h"
#include "ext/sql_tokenizer.h"
#include "codecs/codecs.h"
#include "codecs/value_encoding.h"
#include "ext/str_cat.h"
#include "strata/version.h"
#include "vtab/columnar/partition.h"
#include "vtab/columnar/values.h"
#include "vtab/timeseries/rollup_maintenance.h"

namespace strata::columnar {

std::string ScanStats::to_json() const {
  return str_cat("{\"chunks\":", std::to_string(chunks), ",\"skipped_by_key_index\":", std::to_string(skipped_by_key_index),
                 ",\"skipped_by_zone_map\":", std::to_string(skipped_by_zone_map),
                 ",\"skipped_by_bloom_filter\":", std::to_string(skipped_by_bloom_filter), ",\"cold\":", std::to_string(cold),
                 ",\"chunks_read\":", std::to_string(chunks_read), ",\"columns_decoded\":", std::to_string(columns_decoded),
                 ",\"bytes_decoded\":", std::to_string(bytes_decoded), ",\"columns_read_in_part\":", std::to_string(columns_read_in_part),
                 ",\"rows_matched\":", std::to_string(rows_matched), "}");
}

ColumnarTable::ColumnarTable(sqlite3* db, TableRegistry* registry, std::string schema_name,
                             std::string table_name, TableSchema schema)
    : db_(db),
      registry_(registry),
      schema_name_(std::move(schema_name)),
      schema_(std::move(schema)),
      store_(db, schema_name_, std::move(table_name), &schema_),
      inserts_(std::make_shared<WriteBuffer>(schema_.columns.size())),
      hot_(&store_),
      cold_(db, schema_name_, &store_, &schema_) {}

ColumnarTable::~ColumnarTable() {
  registry_->remove(schema_name_, name(), this);
}

Result<std::unique_ptr<ColumnarTable>> ColumnarTable::open(sqlite3* db, TableRegistry* registry,
                                                           int argc, const char* const* argv,
                                                           bool create) {
  if (argc < 3) return Status::internal("columnar: too few module arguments");
  std::span<const char* const> arguments(argv + 3, static_cast<size_t>(argc - 3));
  STRATA_ASSIGN_OR_RETURN(TableSchema schema, parse_table_schema(arguments));
  std::string table_name = argv[2];
  std::unique_ptr<ColumnarTable> table(
      new ColumnarTable(db, registry, argv[1], std::move(table_name), std::move(schema)));
  int rc = sqlite3_declare_vtab(db, table->schema_.declaration_sql().c_str());
  if (rc != SQLITE_OK) {
    return Status::error(str_cat("columnar: invalid column definitions: ", sqlite3_errmsg(db)));
  }
  if (create) {
    STRATA_RETURN_IF_ERROR(table->store_.create_tables(STRATA_VERSION));
  } else {
    STRATA_RETURN_IF_ERROR(table->store_.check_format_version());
  }
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  registry->add(table->schema_name_, table->name(), table.get());
  return table;
}

RowidSet& ColumnarTable::mutable_deletes() {
  if (deletes_.use_count() > 1) deletes_ = std::make_shared<RowidSet>(*deletes_);
  return *deletes_;
}

void ColumnarTable::discard_pending() {
  if (inserts_->appended_rows() > 0) inserts_ = std::make_shared<WriteBuffer>(schema_.columns.size());
  if (!deletes_->empty()) deletes_ = std::make_shared<RowidSet>();
  sealed_.reset();  // waits for its helper thread
  emptied_chunks_.clear();  // committed chunks were dropped by flush(); a rollback undoes the rest
  max_rowid_.reset();
  autoincrement_high_ = 0;
  persisted_sequence_.reset();  // a rollback may have undone its last write
  forget_replaced_rows();
  if (rollups_) rollups_->discard();
}

void ColumnarTable::forget_uncommitted_chunks() {
  // A rollback may undo chunk writes and deletions; decoded chunks cannot be trusted after it.
  cache_.clear();
  stored_rowid_bound_.reset();
}

Status ColumnarTable::on_sync() {
  STRATA_RETURN_IF_ERROR(flush());
  return apply_rollups();
}

Status ColumnarTable::apply_rollups() {
  if (!rollups_ || rollups_->empty()) return Status::ok();
  PreserveLastInsertRowid preserve(db_);
  return rollups_->apply(true);
}

Status ColumnarTable::load_rollups(bool renamed) {
  if (!rollups_ || renamed) rollups_ = std::make_unique<timeseries::RollupMaintenance>(db_, schema_name_, name(), &schema_);
  return rollups_->reload();
}

Status ColumnarTable::rollups_changed() {
  // Reloaded first: a dropped rollup's pending changes go with it (its tables are gone).
  STRATA_RETURN_IF_ERROR(load_rollups(false));
  return apply_rollups();
}

Status ColumnarTable::on_begin() {
  max_rowid_.reset();
  forget_replaced_rows();
  // SQLite has taken this transaction's locks by now, so the data version is current.
  refresh_cache();
  // Rollups another connection created or dropped since are found here.
  STRATA_RETURN_IF_ERROR(load_rollups(false));
  // A table of an older format is upgraded by the first transaction that writes to it (before
  // any of its cursors opens). Blobs say which form they have, so a savepoint rolled back over
  // the upgrade leaves a mix that reads correctly, and the next transaction finishes it.
  return store_.upgrade_format();
}

Status ColumnarTable::on_commit() {
  discard_pending();  // already flushed by xSync; nothing may survive into the next transaction
  return Status::ok();
}

Status ColumnarTable::on_rollback() {
  discard_pending();
  forget_uncommitted_chunks();
  store_.forget_format_version();
  return Status::ok();
}

Status ColumnarTable::on_rollback_to() {
  // Everything buffered was written after the innermost open savepoint (xSavepoint flushes),
  // so rolling back to any open savepoint discards the whole buffer; SQLite undoes the rest.
  discard_pending();
  forget_uncommitted_chunks();
  store_.forget_format_version();
  return Status::ok();
}

Status ColumnarTable::destroy() {
  // Its rollups stay, no longer maintained: they outlive the raw rows (docs/timeseries.md).
  sealed_.reset();
  return store_.drop_tables();
}

Status ColumnarTable::rename(const std::string& new_name) {
  STRATA_RETURN_IF_ERROR(settle());
  std::string old_name = name();
  STRATA_RETURN_IF_ERROR(load_rollups(false));
  STRATA_RETURN_IF_ERROR(apply_rollups());  // the pending changes know the old name
  const std::vector<std::string> rollups = rollups_->names();
  STRATA_RETURN_IF_ERROR(store_.rename_tables(new_name));
  registry_->rename(schema_name_, old_name, name(), this);
  // Each rollup records its source's name (to find this table's meta when it is dropped).
  for (const std::string& rollup : rollups) {
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("UPDATE ", timeseries::rollup_shadow(schema_name_, rollup, "meta"),
                                                " SET value = ", quote_literal(name()), " WHERE key = 'source'")));
  }
  // Its rollups under the new name, now: a write later in this transaction must update them.
  return load_rollups(true);
}

Result<bool> ColumnarTable::looks_low_cardinality(int column) {
  auto known = low_cardinality_.find(column);
  if (known != low_cardinality_.end()) return known->second;
  bool low = false;
  // The first chunk stands for the table, hot or cold alike.
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.list_chunks());
  if (!chunks.empty()) {
    STRATA_ASSIGN_OR_RETURN(low, source_of(chunks.front()).looks_low_cardinality(chunks.front(), column));
  }
  low_cardinality_[column] = low;
  return low;
}

Result<int64_t> ColumnarTable::estimated_rows() {
  STRATA_ASSIGN_OR_RETURN(int64_t stored, store_.total_live_rows());
  int64_t sealed = sealed_ ? static_cast<int64_t>(sealed_->rows->live_rows()) : 0;
  return stored + sealed + static_cast<int64_t>(inserts_->live_rows()) - static_cast<int64_t>(deletes_->size());
}

}  // namespace strata::columnar
