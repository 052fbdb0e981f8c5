#include "vtab/columnar/storage.h"

#include <algorithm>
#include <bit>
#include <vector>
#include <chrono>

#include "codecs/checksum.h"
#include "ext/parallel.h"
#include "ext/str_cat.h"

namespace strata::columnar {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status corrupt(const std::string& table, std::string_view what) {
  return Status::corruption(str_cat("columnar: table ", table, ": ", what));
}

Status bind_value_view(Statement& statement, int index, const ValueView& value) {
  switch (value.type) {
    case ValueType::kNull: return statement.bind_null(index);
    case ValueType::kInteger: return statement.bind_int64(index, value.integer);
    case ValueType::kReal: return statement.bind_double(index, value.real);
    case ValueType::kText: return statement.bind_text(index, value.bytes);
    case ValueType::kBlob:
      return statement.bind_blob(index, std::as_bytes(std::span(value.bytes.data(), value.bytes.size())));
  }
  return Status::internal("unknown value type");
}

Value value_from_column(const Statement& statement, int column) {
  ValueView view;
  switch (statement.column_type(column)) {
    case SQLITE_INTEGER: view = ValueView::of_integer(statement.column_int64(column)); break;
    case SQLITE_FLOAT: view = ValueView::of_real(statement.column_double(column)); break;
    case SQLITE_TEXT: view = ValueView::of_text(statement.column_text(column)); break;
    case SQLITE_BLOB: {
      auto bytes = statement.column_blob(column);
      view = ValueView::of_blob(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      break;
    }
    default: break;
  }
  return Value(view);
}

std::string ChunkStore::key_table_suffix(size_t k) const {
  return (schema_->key_indexes[k].unique ? "unique" : "index") + std::to_string(k);
}

std::string ChunkStore::shadow_name(std::string_view suffix) const {
  return quote_identifier(schema_name_) + "." + quote_identifier(str_cat(table_name_, "_", suffix));
}

Result<StatementLease> ChunkStore::statement(int key, const std::function<std::string()>& build_sql) {
  auto found = statements_.find(key);
  if (found != statements_.end()) {
    found->second.reset();
    found->second.clear_bindings();
    return StatementLease(&found->second);
  }
  STRATA_ASSIGN_OR_RETURN(Statement prepared, Statement::prepare_persistent(db_, build_sql()));
  auto [inserted, ok] = statements_.emplace(key, std::move(prepared));
  (void)ok;
  return StatementLease(&inserted->second);
}

Status ChunkStore::run_counted(Statement& statement) {
  STRATA_RETURN_IF_ERROR(statement.run());
  rows_written_ += sqlite3_changes(db_);
  return Status::ok();
}

Status ChunkStore::create_tables(std::string_view strata_version) {
  std::string sql = str_cat(
      "CREATE TABLE ", shadow_name("meta"), "(key TEXT PRIMARY KEY, value) WITHOUT ROWID;",
      "CREATE TABLE ", shadow_name("chunks"),
      "(chunk_id INTEGER PRIMARY KEY, partition_key, row_count INTEGER NOT NULL,"
      " min_rowid INTEGER NOT NULL, max_rowid INTEGER NOT NULL, deleted BLOB,"
      " deleted_count INTEGER NOT NULL, tier TEXT, created_at INTEGER NOT NULL);",
      "CREATE TABLE ", shadow_name("columns"),
      "(cell INTEGER PRIMARY KEY, data BLOB NOT NULL, zone BLOB, bloom BLOB);",
      tier_tables_sql());
  for (size_t k = 0; k < schema_->key_indexes.size(); ++k) {
    const KeyIndex& unique = schema_->key_indexes[k];
    std::string columns;
    std::string key;
    for (size_t c = 0; c < unique.columns.size(); ++c) {
      columns += str_cat(", c", std::to_string(c));
      if (!unique.collations[c].empty()) columns += " COLLATE " + quote_identifier(unique.collations[c]);
      key += str_cat(c ? ", " : "", "c", std::to_string(c));
    }
    sql += str_cat("CREATE TABLE ", shadow_name(key_table_suffix(k)), "(row INTEGER PRIMARY KEY", columns, ");");
  }
  STRATA_ASSIGN_OR_RETURN(std::string indexes, create_index_sql());
  STRATA_RETURN_IF_ERROR(execute(db_, sql + indexes));
  STRATA_RETURN_IF_ERROR(set_meta("format_version", ValueView::of_integer(kFormatVersion)));
  return set_meta("created_by", ValueView::of_text(strata_version));
}

std::string ChunkStore::tier_tables_sql() const {
  return str_cat("CREATE TABLE ", shadow_name("objects"),
                 "(object_id INTEGER PRIMARY KEY, object_key TEXT NOT NULL UNIQUE, partition_key,"
                 " state TEXT NOT NULL, size INTEGER, etag TEXT, footer BLOB, rows INTEGER, owner TEXT,"
                 " created_at INTEGER NOT NULL, flushed_at INTEGER);",
                 "CREATE TABLE ", shadow_name("cold"),
                 "(chunk_id INTEGER PRIMARY KEY, object_id INTEGER NOT NULL, row_group INTEGER NOT NULL);");
}

Status ChunkStore::drop_tables() {
  clear_statements();
  std::string sql = str_cat("DROP TABLE IF EXISTS ", shadow_name("meta"), ";",
                            "DROP TABLE IF EXISTS ", shadow_name("chunks"), ";",
                            "DROP TABLE IF EXISTS ", shadow_name("columns"), ";",
                            "DROP TABLE IF EXISTS ", shadow_name("objects"), ";",
                            "DROP TABLE IF EXISTS ", shadow_name("cold"), ";");
  for (size_t k = 0; k < schema_->key_indexes.size(); ++k) {
    sql += str_cat("DROP TABLE IF EXISTS ", shadow_name(key_table_suffix(k)), ";");
  }
  return execute(db_, sql);
}

// CREATE INDEX statements for the shadow tables. An index is named after its table, but SQLite
// renames tables, not indexes: after ALTER TABLE t RENAME TO t_old, t_old's indexes still carry
// t's names, so a new table t takes the first free name of `t_chunks_rowids`,
// `t_chunks_rowids_2`, … (nothing refers to these names; DROP TABLE drops the indexes).
Result<std::string> ChunkStore::create_index_sql() {
  STRATA_ASSIGN_OR_RETURN(Statement taken, Statement::prepare(db_, str_cat("SELECT 1 FROM ", quote_identifier(schema_name_),
                                                                          ".sqlite_schema WHERE type = 'index' AND name = ?1")));
  std::string sql;
  auto index = [&](const std::string& suffix, std::string_view index_suffix, std::string_view columns) -> Status {
    std::string base = str_cat(table_name_, "_", suffix, index_suffix);
    std::string name = base;
    for (int attempt = 2;; ++attempt) {
      taken.reset();
      STRATA_RETURN_IF_ERROR(taken.bind_text(1, name));
      STRATA_ASSIGN_OR_RETURN(bool exists, taken.step());
      if (!exists) break;
      name = str_cat(base, "_", std::to_string(attempt));
    }
    sql += str_cat("CREATE INDEX ", quote_identifier(schema_name_), ".", quote_identifier(name), " ON ",
                   quote_identifier(str_cat(table_name_, "_", suffix)), "(", columns, ");");
    return Status::ok();
  };
  STRATA_RETURN_IF_ERROR(index("chunks", "_rowids", "min_rowid, max_rowid"));
  for (size_t k = 0; k < schema_->key_indexes.size(); ++k) {
    std::string key;
    for (size_t c = 0; c < schema_->key_indexes[k].columns.size(); ++c) key += str_cat(c ? ", " : "", "c", std::to_string(c));
    STRATA_RETURN_IF_ERROR(index(key_table_suffix(k), "_key", key));
  }
  return sql;
}

Status ChunkStore::rename_tables(const std::string& new_table_name) {
  clear_statements();
  std::vector<std::string> suffixes = {"meta", "chunks", "columns"};
  STRATA_ASSIGN_OR_RETURN(bool tiered, has_tier_tables());
  if (tiered) suffixes.insert(suffixes.end(), {"objects", "cold"});
  for (size_t k = 0; k < schema_->key_indexes.size(); ++k) suffixes.push_back(key_table_suffix(k));
  std::string sql;
  for (const std::string& suffix : suffixes) {
    sql += str_cat("ALTER TABLE ", shadow_name(suffix), " RENAME TO ",
                   quote_identifier(str_cat(new_table_name, "_", suffix)), ";");
  }
  STRATA_RETURN_IF_ERROR(execute(db_, sql));
  table_name_ = new_table_name;
  return Status::ok();
}

Status ChunkStore::check_format_version() {
  Result<std::optional<Value>> version = meta("format_version");
  if (!version.is_ok()) {
    return corrupt(table_name_, str_cat("cannot read its metadata: ", version.status().message()));
  }
  if (!version->has_value() || (*version)->type != ValueType::kInteger) {
    return corrupt(table_name_, "metadata has no format_version");
  }
  int64_t found = (*version)->integer;
  if (found > kFormatVersion) {
    return Status::error(str_cat("columnar: table ", table_name_, " uses storage format ",
                                 std::to_string(found), "; this strata reads format ",
                                 std::to_string(kFormatVersion), " — upgrade strata"));
  }
  if (found < 1) return corrupt(table_name_, "invalid format_version");
  format_version_ = static_cast<int>(found);
  return Status::ok();
}

Result<bool> ChunkStore::accepts_unchecked_blobs() {
  if (!format_version_) STRATA_RETURN_IF_ERROR(check_format_version());
  return *format_version_ < 2;
}

Result<bool> ChunkStore::has_tier_tables() {
  if (!format_version_) STRATA_RETURN_IF_ERROR(check_format_version());
  return *format_version_ >= 3;
}

Status ChunkStore::upgrade_format() {
  // Read again: another connection may have upgraded the table since this one looked.
  STRATA_RETURN_IF_ERROR(check_format_version());
  if (*format_version_ >= kFormatVersion) return Status::ok();
  if (*format_version_ < 2) STRATA_RETURN_IF_ERROR(add_checksums());
  // Version 2 to 3: the tables of tiering, empty (no chunk of an older table is cold).
  if (*format_version_ < 3) STRATA_RETURN_IF_ERROR(execute(db_, tier_tables_sql()));
  STRATA_RETURN_IF_ERROR(set_meta("format_version", ValueView::of_integer(kFormatVersion)));
  format_version_ = kFormatVersion;
  return Status::ok();
}

Status ChunkStore::add_checksums() {
  // Version 1 to 2: every zone map, bloom filter and deletion bitmap gets its checksum; the
  // column data is untouched. Rows are read in batches by key and rewritten between batches,
  // so no read of a table is open while it is written.
  constexpr int kBatch = 256;
  STRATA_ASSIGN_OR_RETURN(Statement select_cells,
                          Statement::prepare(db_, str_cat("SELECT cell, zone, bloom FROM ", shadow_name("columns"),
                                                          " WHERE cell > ?1 AND (zone IS NOT NULL OR bloom IS NOT NULL)"
                                                          " ORDER BY cell LIMIT ", std::to_string(kBatch))));
  STRATA_ASSIGN_OR_RETURN(Statement update_cell,
                          Statement::prepare(db_, str_cat("UPDATE ", shadow_name("columns"), " SET zone = ?2, bloom = ?3 WHERE cell = ?1")));
  auto blob_of = [](const Statement& statement, int column) -> std::optional<std::string> {
    if (statement.column_is_null(column)) return std::nullopt;
    auto bytes = statement.column_blob(column);
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  };
  auto bind_optional = [](Statement& statement, int index, const std::optional<std::string>& bytes) -> Status {
    if (!bytes) return statement.bind_null(index);
    return statement.bind_blob(index, std::as_bytes(std::span(bytes->data(), bytes->size())));
  };
  struct CellBlobs {
    int64_t cell;
    std::optional<std::string> zone, bloom;
  };
  for (int64_t after = INT64_MIN;;) {
    std::vector<CellBlobs> batch;
    STRATA_RETURN_IF_ERROR(select_cells.bind_int64(1, after));
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool has_row, select_cells.step());
      if (!has_row) break;
      batch.push_back({select_cells.column_int64(0), blob_of(select_cells, 1), blob_of(select_cells, 2)});
    }
    select_cells.reset();
    if (batch.empty()) break;
    for (CellBlobs& blobs : batch) {
      std::string where = str_cat("cell ", std::to_string(blobs.cell), " ");
      if (blobs.zone) {
        Result<ZoneMap> zone = decode_zone_map(*blobs.zone, false);
        if (!zone.is_ok()) return corrupt(table_name_, str_cat(where, "zone map: ", zone.status().message()));
        blobs.zone = encode_zone_map(*zone);
      }
      if (blobs.bloom) {
        if (!BloomFilter::from_bytes(*blobs.bloom).is_ok()) return corrupt(table_name_, where + "bloom filter is damaged");
        blobs.bloom = with_checksum(*blobs.bloom);
      }
      update_cell.reset();
      STRATA_RETURN_IF_ERROR(update_cell.bind_int64(1, blobs.cell));
      STRATA_RETURN_IF_ERROR(bind_optional(update_cell, 2, blobs.zone));
      STRATA_RETURN_IF_ERROR(bind_optional(update_cell, 3, blobs.bloom));
      STRATA_RETURN_IF_ERROR(run_counted(update_cell));
    }
    after = batch.back().cell;
  }
  STRATA_ASSIGN_OR_RETURN(Statement select_chunks,
                          Statement::prepare(db_, str_cat("SELECT chunk_id, row_count, deleted FROM ", shadow_name("chunks"),
                                                          " WHERE deleted IS NOT NULL")));
  std::vector<std::pair<int64_t, std::string>> bitmaps;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool has_row, select_chunks.step());
    if (!has_row) break;
    std::string bitmap = *blob_of(select_chunks, 2);
    if (bitmap.size() != static_cast<size_t>((select_chunks.column_int64(1) + 7) / 8)) {
      return corrupt(table_name_, str_cat("chunk ", std::to_string(select_chunks.column_int64(0)),
                                          ": deletion bitmap has the wrong size"));
    }
    bitmaps.emplace_back(select_chunks.column_int64(0), with_checksum(bitmap));
  }
  select_chunks.reset();
  STRATA_ASSIGN_OR_RETURN(Statement update_chunk,
                          Statement::prepare(db_, str_cat("UPDATE ", shadow_name("chunks"), " SET deleted = ?2 WHERE chunk_id = ?1")));
  for (const auto& [chunk_id, stored] : bitmaps) {
    update_chunk.reset();
    STRATA_RETURN_IF_ERROR(update_chunk.bind_int64(1, chunk_id));
    STRATA_RETURN_IF_ERROR(update_chunk.bind_blob(2, std::as_bytes(std::span(stored.data(), stored.size()))));
    STRATA_RETURN_IF_ERROR(run_counted(update_chunk));
  }
  return Status::ok();
}

namespace {

constexpr std::string_view kChunkColumns =
    "chunk_id, partition_key, row_count, min_rowid, max_rowid, deleted, deleted_count, tier";

ChunkInfo chunk_from_row(const Statement& statement) {
  ChunkInfo info;
  info.chunk_id = statement.column_int64(0);
  info.partition = value_from_column(statement, 1);
  info.row_count = statement.column_int64(2);
  info.min_rowid = statement.column_int64(3);
  info.max_rowid = statement.column_int64(4);
  if (!statement.column_is_null(5)) {
    auto bytes = statement.column_blob(5);
    info.deleted.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  info.deleted_count = statement.column_int64(6);
  if (!statement.column_is_null(7)) info.tier = std::string(statement.column_text(7));
  return info;
}

// Checks a chunk's stored deletion bitmap (size, checksum, bit count) and strips its checksum;
// the reason when it is damaged.
std::optional<std::string> check_deletion_bitmap(ChunkInfo& chunk, bool accept_unchecked) {
  if (chunk.deleted.empty()) {
    if (chunk.deleted_count != 0) return "deleted_count is not 0 but there is no deletion bitmap";
    return std::nullopt;
  }
  const size_t bitmap_bytes = static_cast<size_t>(std::max<int64_t>(chunk.row_count, 0) + 7) / 8;
  if (chunk.deleted.size() == bitmap_bytes + kChecksumBytes) {
    std::optional<std::string_view> bitmap = without_checksum(chunk.deleted);
    if (!bitmap) return "deletion bitmap checksum mismatch";
    chunk.deleted.resize(bitmap->size());
  } else if (chunk.deleted.size() != bitmap_bytes) {
    return "deletion bitmap has the wrong size";
  } else if (!accept_unchecked) {
    return "deletion bitmap has no checksum";
  }
  int64_t bits = 0;
  for (char byte : chunk.deleted) bits += std::popcount(static_cast<unsigned char>(byte));
  if (bits != chunk.deleted_count) return "deletion bitmap disagrees with deleted_count";
  return std::nullopt;
}

}  // namespace

Result<std::vector<ChunkInfo>> ChunkStore::collect_chunks(Statement& select, std::vector<std::string>* damage) {
  STRATA_ASSIGN_OR_RETURN(bool accept_unchecked, accepts_unchecked_blobs());
  std::vector<ChunkInfo> chunks;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool has_row, select.step());
    if (!has_row) break;
    ChunkInfo chunk = chunk_from_row(select);
    if (std::optional<std::string> problem = check_deletion_bitmap(chunk, accept_unchecked)) {
      std::string message = str_cat("chunk ", std::to_string(chunk.chunk_id), ": ", *problem);
      if (damage == nullptr) return corrupt(table_name_, message);
      damage->push_back(std::move(message));
      continue;
    }
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

Result<std::vector<ChunkInfo>> ChunkStore::list_chunks(std::vector<std::string>* damage) {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(0, [&] { return str_cat("SELECT ", kChunkColumns, " FROM ", shadow_name("chunks"),
                                            " ORDER BY min_rowid, chunk_id"); }));
  return collect_chunks(*select, damage);
}

Result<std::vector<ChunkInfo>> ChunkStore::chunks_overlapping(int64_t low, int64_t high) {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(1, [&] { return str_cat("SELECT ", kChunkColumns, " FROM ", shadow_name("chunks"),
                                            " WHERE min_rowid <= ?2 AND max_rowid >= ?1"
                                            " ORDER BY min_rowid, chunk_id"); }));
  STRATA_RETURN_IF_ERROR(select->bind_int64(1, low));
  STRATA_RETURN_IF_ERROR(select->bind_int64(2, high));
  return collect_chunks(*select, nullptr);
}

Result<std::optional<ChunkInfo>> ChunkStore::chunk(int64_t chunk_id) {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(2, [&] { return str_cat("SELECT ", kChunkColumns, " FROM ", shadow_name("chunks"),
                                            " WHERE chunk_id = ?1"); }));
  STRATA_RETURN_IF_ERROR(select->bind_int64(1, chunk_id));
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> found, collect_chunks(*select, nullptr));
  if (found.empty()) return std::optional<ChunkInfo>();
  return std::optional<ChunkInfo>(std::move(found.front()));
}

Result<std::string> ChunkStore::read_column_blob(int64_t chunk_id, int column) {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(3, [&] { return str_cat("SELECT data FROM ", shadow_name("columns"), " WHERE cell = ?1"); }));
  STRATA_RETURN_IF_ERROR(select->bind_int64(1, column_cell(chunk_id, column)));
  STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
  if (!has_row) {
    return corrupt(table_name_, str_cat("chunk ", std::to_string(chunk_id), " has no data for ",
                                        column == kRowidColumn ? std::string("its rowids")
                                                               : "column " + std::to_string(column)));
  }
  if (select->column_type(0) != SQLITE_BLOB) {
    return corrupt(table_name_, str_cat("chunk ", std::to_string(chunk_id), " column ",
                                        std::to_string(column), " is not a blob"));
  }
  auto bytes = select->column_blob(0);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Result<ColumnVector> ChunkStore::read_column(int64_t chunk_id, int column, int64_t rows) {
  STRATA_ASSIGN_OR_RETURN(std::string blob, read_column_blob(chunk_id, column));
  Result<ColumnVector> values = decode_column(blob, static_cast<uint64_t>(std::max<int64_t>(rows, 0)));
  if (!values.is_ok()) {
    return corrupt(table_name_, str_cat("chunk ", std::to_string(chunk_id), " ",
                                        column == kRowidColumn ? std::string("rowids")
                                                               : "column " + std::to_string(column),
                                        ": ", values.status().message()));
  }
  return values;
}

Result<std::vector<ChunkStore::ColumnBlobPrefix>> ChunkStore::column_blob_prefixes(int64_t chunk_id) {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(4, [&] { return str_cat("SELECT cell, substr(data, 1, 32), length(data) FROM ",
                                            shadow_name("columns"), " WHERE cell BETWEEN ?1 AND ?2 ORDER BY cell"); }));
  STRATA_RETURN_IF_ERROR(select->bind_int64(1, column_cell(chunk_id, kRowidColumn)));
  STRATA_RETURN_IF_ERROR(select->bind_int64(2, column_cell(chunk_id, 4094)));
  std::vector<ColumnBlobPrefix> prefixes;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
    if (!has_row) break;
    auto bytes = select->column_blob(1);
    prefixes.push_back(ColumnBlobPrefix{static_cast<int>(select->column_int64(0) - chunk_id * 4096) - 1,
                                        std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                                        select->column_int64(2)});
  }
  return prefixes;
}

std::string build_bloom(const ColumnVector& values) {
  // Sized by the distinct values, counted as distinct hashes (sorted, not hashed again).
  std::vector<uint64_t> hashes;
  hashes.reserve(values.size());
  bool zero = false;
  for (size_t row = 0; row < values.size(); ++row) {
    if (values.type(row) == ValueType::kNull) continue;
    const ValueView value = values.get(row);
    hashes.push_back(BloomFilter::hash(value));
    zero |= value.type == ValueType::kReal && value.real == 0.0;
  }
  // 0.0 = -0.0: with either zero, both are in (as the Parquet writer does), so that the same
  // bytes serve as a cold chunk's Parquet bloom filter, which other engines probe as written.
  if (zero) {
    hashes.push_back(BloomFilter::hash(ValueView::of_real(0.0)));
    hashes.push_back(BloomFilter::hash(ValueView::of_real(-0.0)));
  }
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  BloomFilter filter(BloomFilter::optimal_bytes(hashes.size(), kBloomFalsePositiveRate));
  for (uint64_t hash : hashes) filter.insert_hash(hash);
  return with_checksum(filter.bytes());
}

Result<std::optional<BloomFilter>> ChunkStore::read_bloom(int64_t chunk_id, int column) {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(20, [&] { return str_cat("SELECT bloom FROM ", shadow_name("columns"), " WHERE cell = ?1"); }));
  STRATA_RETURN_IF_ERROR(select->bind_int64(1, column_cell(chunk_id, column)));
  STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
  if (!has_row || select->column_is_null(0)) return std::optional<BloomFilter>();
  auto bytes = select->column_blob(0);
  std::string_view stored(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::string where = str_cat("chunk ", std::to_string(chunk_id), " column ", std::to_string(column), " bloom filter: ");
  // A filter is a whole number of 32-byte blocks: 4 bytes more is one with its checksum.
  std::optional<std::string_view> bitset = stored;
  if (stored.size() % BloomFilter::kBlockBytes == kChecksumBytes) {
    bitset = without_checksum(stored);
    if (!bitset) return corrupt(table_name_, where + "checksum mismatch");
  } else {
    STRATA_ASSIGN_OR_RETURN(bool accept_unchecked, accepts_unchecked_blobs());
    if (!accept_unchecked) return corrupt(table_name_, where + "no checksum");
  }
  Result<BloomFilter> filter = BloomFilter::from_bytes(*bitset);
  if (!filter.is_ok()) return corrupt(table_name_, where + filter.status().message());
  return std::optional<BloomFilter>(std::move(filter).value());
}

Result<std::optional<ZoneMap>> ChunkStore::read_zone(int64_t chunk_id, int column) {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(19, [&] { return str_cat("SELECT zone FROM ", shadow_name("columns"), " WHERE cell = ?1"); }));
  STRATA_RETURN_IF_ERROR(select->bind_int64(1, column_cell(chunk_id, column)));
  STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
  if (!has_row || select->column_is_null(0)) return std::optional<ZoneMap>();
  auto bytes = select->column_blob(0);
  std::string_view stored(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  STRATA_ASSIGN_OR_RETURN(bool accept_unchecked, accepts_unchecked_blobs());
  Result<ZoneMap> zone = decode_zone_map(stored, !accept_unchecked);
  if (!zone.is_ok()) {
    return corrupt(table_name_, str_cat("chunk ", std::to_string(chunk_id), " column ", std::to_string(column),
                                        " zone map: ", zone.status().message()));
  }
  return std::optional<ZoneMap>(std::move(zone).value());
}

Result<ChunkRowids> ChunkStore::read_rowids(const ChunkInfo& chunk) {
  std::string where = str_cat("chunk ", std::to_string(chunk.chunk_id), " rowids: ");
  const auto rows = static_cast<uint64_t>(std::max<int64_t>(chunk.row_count, 0));
  STRATA_ASSIGN_OR_RETURN(std::string blob, read_column_blob(chunk.chunk_id, kRowidColumn));
  if (ChunkRowids::is_run(chunk)) {
    // The common case: the blob's first bytes say so, nothing to decode.
    Result<std::optional<int64_t>> start = column_run_start(blob, rows);
    if (!start.is_ok()) return corrupt(table_name_, where + start.status().message());
    if (*start == chunk.min_rowid) return ChunkRowids::run(chunk.min_rowid, static_cast<size_t>(rows));
  }
  Result<ColumnVector> decoded = decode_column(blob, rows);
  if (!decoded.is_ok()) return corrupt(table_name_, where + decoded.status().message());
  const ColumnVector& values = *decoded;
  if (values.size() != static_cast<size_t>(chunk.row_count)) {
    return corrupt(table_name_, str_cat(where, "holds ", std::to_string(values.size()),
                                        " rows, its directory says ", std::to_string(chunk.row_count)));
  }
  if (values.is_coded() || values.type_mask() != (1u << static_cast<int>(ValueType::kInteger))) {
    if (!values.empty()) return corrupt(table_name_, str_cat(where, "not integers"));
  }
  std::span<const int64_t> numbers = values.payloads();
  std::vector<int64_t> rowids(numbers.begin(), numbers.end());
  for (size_t i = 1; i < rowids.size(); ++i) {
    if (rowids[i] <= rowids[i - 1]) return corrupt(table_name_, str_cat(where, "not ascending"));
  }
  if (!rowids.empty() && (rowids.front() != chunk.min_rowid || rowids.back() != chunk.max_rowid)) {
    return corrupt(table_name_, str_cat(where, "do not match the directory's range"));
  }
  return ChunkRowids::list(std::move(rowids));
}

EncodedChunk encode_chunk(const ChunkEncoding& encoding, const std::vector<int64_t>& rowids,
                          const std::vector<ColumnVector>& columns, bool use_helper_threads, bool metadata_only) {
  EncodedChunk chunk;
  chunk.rows = rowids.size();
  chunk.min_rowid = rowids.front();
  chunk.max_rowid = rowids.back();
  ColumnVector rowid_values;
  rowid_values.append_integers(rowids.data(), rowids.size());
  for (int column = kRowidColumn; column < static_cast<int>(columns.size()); ++column) {
    if (column >= 0 && column == encoding.rowid_alias) continue;  // it is the rowid: not stored
    chunk.columns.push_back({column, {}, {}, {}});
  }
  auto encode_one = [&](size_t i) {
    EncodedColumn& out = chunk.columns[i];
    const ColumnVector& values = out.column == kRowidColumn ? rowid_values : columns[out.column];
    if (!metadata_only || out.column == kRowidColumn) out.blob = encode_column(values, encoding.compression);
    if (out.column >= 0) out.zone = encode_zone_map(compute_zone_map(values));
    const std::vector<int>& blooms = encoding.bloom_columns;
    if (std::find(blooms.begin(), blooms.end(), out.column) != blooms.end()) out.bloom = build_bloom(values);
  };
  if (use_helper_threads) {
    parallel_for(chunk.columns.size(), encode_one);
  } else {
    for (size_t i = 0; i < chunk.columns.size(); ++i) encode_one(i);
  }
  return chunk;
}

Result<int64_t> ChunkStore::write_chunk(const Value& partition, const std::vector<int64_t>& rowids,
                                        const std::vector<ColumnVector>& columns) {
  // Starting threads costs tens of microseconds: worth it for big chunks, not for a small commit.
  constexpr size_t kRowsWorthThreads = 4096;
  return store_chunk(partition, encode_chunk(chunk_encoding(), rowids, columns, rowids.size() >= kRowsWorthThreads));
}

ChunkEncoding ChunkStore::chunk_encoding() const {
  return {schema_->compression, schema_->bloom_columns, schema_->rowid_alias};
}

Result<int64_t> ChunkStore::store_chunk(const Value& partition, const EncodedChunk& chunk) {
  return insert_chunk(partition, chunk, nullptr);
}

Result<int64_t> ChunkStore::store_cold_chunk(const Value& partition, const EncodedChunk& chunk,
                                             const std::string& object_key, ColdPlace place) {
  STRATA_ASSIGN_OR_RETURN(int64_t chunk_id, insert_chunk(partition, chunk, &object_key));
  STRATA_ASSIGN_OR_RETURN(StatementLease insert,
                          statement(22, [&] { return str_cat("INSERT INTO ", shadow_name("cold"),
                                                             "(chunk_id, object_id, row_group) VALUES (?1, ?2, ?3)"); }));
  STRATA_RETURN_IF_ERROR(insert->bind_int64(1, chunk_id));
  STRATA_RETURN_IF_ERROR(insert->bind_int64(2, place.object_id));
  STRATA_RETURN_IF_ERROR(insert->bind_int64(3, place.row_group));
  STRATA_RETURN_IF_ERROR(run_counted(*insert));
  return chunk_id;
}

Status ChunkStore::make_chunk_hot(int64_t chunk_id, const std::vector<EncodedColumn>& columns) {
  STRATA_ASSIGN_OR_RETURN(StatementLease set_data,
                          statement(23, [&] { return str_cat("UPDATE ", shadow_name("columns"), " SET data = ?2 WHERE cell = ?1"); }));
  for (const EncodedColumn& column : columns) {
    set_data->reset();
    STRATA_RETURN_IF_ERROR(set_data->bind_int64(1, column_cell(chunk_id, column.column)));
    STRATA_RETURN_IF_ERROR(set_data->bind_blob(2, std::as_bytes(std::span(column.blob.data(), column.blob.size()))));
    STRATA_RETURN_IF_ERROR(run_counted(*set_data));
    if (sqlite3_changes(db_) != 1) {
      return corrupt(table_name_, str_cat("cold chunk ", std::to_string(chunk_id), " has no row for column ",
                                          std::to_string(column.column)));
    }
  }
  STRATA_ASSIGN_OR_RETURN(StatementLease set_hot,
                          statement(24, [&] { return str_cat("UPDATE ", shadow_name("chunks"), " SET tier = NULL WHERE chunk_id = ?1"); }));
  STRATA_RETURN_IF_ERROR(set_hot->bind_int64(1, chunk_id));
  STRATA_RETURN_IF_ERROR(run_counted(*set_hot));
  STRATA_ASSIGN_OR_RETURN(StatementLease forget,
                          statement(25, [&] { return str_cat("DELETE FROM ", shadow_name("cold"), " WHERE chunk_id = ?1"); }));
  STRATA_RETURN_IF_ERROR(forget->bind_int64(1, chunk_id));
  return run_counted(*forget);
}

Result<std::optional<ColdPlace>> ChunkStore::cold_place(int64_t chunk_id) {
  STRATA_ASSIGN_OR_RETURN(bool tiered, has_tier_tables());
  if (!tiered) return std::optional<ColdPlace>();
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(26, [&] { return str_cat("SELECT object_id, row_group FROM ", shadow_name("cold"), " WHERE chunk_id = ?1"); }));
  STRATA_RETURN_IF_ERROR(select->bind_int64(1, chunk_id));
  STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
  if (!has_row) return std::optional<ColdPlace>();
  return std::optional<ColdPlace>(ColdPlace{select->column_int64(0), select->column_int64(1)});
}

std::string_view object_state_name(ObjectState state) {
  switch (state) {
    case ObjectState::kWriting: return "writing";
    case ObjectState::kLive: return "live";
    case ObjectState::kRetired: return "retired";
  }
  return "retired";
}

namespace {
constexpr std::string_view kObjectColumns =
    "object_id, object_key, partition_key, state, size, etag, rows, owner, created_at, flushed_at";
}  // namespace

Result<std::vector<ColdObject>> ChunkStore::collect_objects(Statement& select, bool with_footers) {
  std::vector<ColdObject> objects;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool has_row, select.step());
    if (!has_row) break;
    ColdObject object;
    object.object_id = select.column_int64(0);
    object.key = std::string(select.column_text(1));
    object.partition = value_from_column(select, 2);
    std::string_view state = select.column_text(3);
    if (state == "writing") {
      object.state = ObjectState::kWriting;
    } else if (state == "live") {
      object.state = ObjectState::kLive;
    } else if (state == "retired") {
      object.state = ObjectState::kRetired;
    } else {
      return corrupt(table_name_, str_cat("object ", std::to_string(object.object_id), " has an unknown state"));
    }
    object.size = select.column_int64(4);
    if (!select.column_is_null(5)) object.etag = std::string(select.column_text(5));
    object.rows = select.column_int64(6);
    if (!select.column_is_null(7)) object.owner = std::string(select.column_text(7));
    object.created_at = select.column_int64(8);
    if (!select.column_is_null(9)) object.flushed_at = select.column_int64(9);
    if (with_footers && !select.column_is_null(10)) {
      auto bytes = select.column_blob(10);
      object.footer.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    objects.push_back(std::move(object));
  }
  return objects;
}

Result<std::vector<ColdObject>> ChunkStore::list_objects(bool with_footers) {
  STRATA_ASSIGN_OR_RETURN(bool tiered, has_tier_tables());
  if (!tiered) return std::vector<ColdObject>();
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(with_footers ? 27 : 28, [&] {
                            return str_cat("SELECT ", kObjectColumns, with_footers ? ", footer" : "", " FROM ",
                                           shadow_name("objects"), " ORDER BY object_id");
                          }));
  return collect_objects(*select, with_footers);
}

Result<std::optional<ColdObject>> ChunkStore::object(int64_t object_id) {
  STRATA_ASSIGN_OR_RETURN(bool tiered, has_tier_tables());
  if (!tiered) return std::optional<ColdObject>();
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(29, [&] {
                            return str_cat("SELECT ", kObjectColumns, ", footer FROM ", shadow_name("objects"),
                                           " WHERE object_id = ?1");
                          }));
  STRATA_RETURN_IF_ERROR(select->bind_int64(1, object_id));
  STRATA_ASSIGN_OR_RETURN(std::vector<ColdObject> found, collect_objects(*select, true));
  if (found.empty()) return std::optional<ColdObject>();
  return std::optional<ColdObject>(std::move(found.front()));
}

Result<int64_t> ChunkStore::add_object_intent(const std::string& key, const Value& partition, const std::string& owner) {
  STRATA_ASSIGN_OR_RETURN(StatementLease insert,
                          statement(30, [&] {
                            return str_cat("INSERT INTO ", shadow_name("objects"),
                                           "(object_key, partition_key, state, rows, owner, created_at)"
                                           " VALUES (?1, ?2, 'writing', 0, ?3, ?4) RETURNING object_id");
                          }));
  STRATA_RETURN_IF_ERROR(insert->bind_text(1, key));
  STRATA_RETURN_IF_ERROR(bind_value_view(*insert, 2, partition.view()));
  STRATA_RETURN_IF_ERROR(insert->bind_text(3, owner));
  STRATA_RETURN_IF_ERROR(insert->bind_int64(4, now_ms()));
  STRATA_ASSIGN_OR_RETURN(bool has_row, insert->step());
  if (!has_row) return Status::internal("columnar: recording an object intent returned no id");
  const int64_t object_id = insert->column_int64(0);
  ++rows_written_;
  return object_id;
}

Status ChunkStore::set_object_live(int64_t object_id, int64_t size, const std::string& etag, const std::string& footer,
                                   int64_t rows) {
  STRATA_ASSIGN_OR_RETURN(StatementLease update,
                          statement(31, [&] {
                            return str_cat("UPDATE ", shadow_name("objects"),
                                           " SET state = 'live', size = ?2, etag = ?3, footer = ?4, rows = ?5,"
                                           " owner = NULL, flushed_at = ?6 WHERE object_id = ?1 AND state = 'writing'");
                          }));
  STRATA_RETURN_IF_ERROR(update->bind_int64(1, object_id));
  STRATA_RETURN_IF_ERROR(update->bind_int64(2, size));
  STRATA_RETURN_IF_ERROR(update->bind_text(3, etag));
  STRATA_RETURN_IF_ERROR(update->bind_blob(4, std::as_bytes(std::span(footer.data(), footer.size()))));
  STRATA_RETURN_IF_ERROR(update->bind_int64(5, rows));
  STRATA_RETURN_IF_ERROR(update->bind_int64(6, now_ms()));
  STRATA_RETURN_IF_ERROR(run_counted(*update));
  if (sqlite3_changes(db_) != 1) {
    return Status::busy(str_cat("columnar: table ", table_name_, ": the intent to write object ", std::to_string(object_id),
                                " was withdrawn (by tier_gc on another connection?); the flush is abandoned"));
  }
  return Status::ok();
}

Status ChunkStore::set_object_state(int64_t object_id, ObjectState state) {
  STRATA_ASSIGN_OR_RETURN(StatementLease update,
                          statement(32, [&] { return str_cat("UPDATE ", shadow_name("objects"), " SET state = ?2 WHERE object_id = ?1"); }));
  STRATA_RETURN_IF_ERROR(update->bind_int64(1, object_id));
  STRATA_RETURN_IF_ERROR(update->bind_text(2, object_state_name(state)));
  return run_counted(*update);
}

Status ChunkStore::delete_object(int64_t object_id) {
  STRATA_ASSIGN_OR_RETURN(StatementLease remove,
                          statement(33, [&] { return str_cat("DELETE FROM ", shadow_name("objects"), " WHERE object_id = ?1"); }));
  STRATA_RETURN_IF_ERROR(remove->bind_int64(1, object_id));
  return run_counted(*remove);
}

Result<std::map<int64_t, int64_t>> ChunkStore::cold_chunks_per_object() {
  std::map<int64_t, int64_t> counts;
  STRATA_ASSIGN_OR_RETURN(bool tiered, has_tier_tables());
  if (!tiered) return counts;
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(34, [&] { return str_cat("SELECT object_id, count(*) FROM ", shadow_name("cold"), " GROUP BY object_id"); }));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
    if (!has_row) break;
    counts[select->column_int64(0)] = select->column_int64(1);
  }
  return counts;
}

Result<int64_t> ChunkStore::insert_chunk(const Value& partition, const EncodedChunk& chunk, const std::string* cold_key) {
  STRATA_ASSIGN_OR_RETURN(StatementLease next_id,
                          statement(5, [&] { return str_cat("SELECT coalesce(max(chunk_id), 0) + 1 FROM ", shadow_name("chunks")); }));
  STRATA_ASSIGN_OR_RETURN(bool has_row, next_id->step());
  if (!has_row) return Status::internal("no next chunk id");
  int64_t chunk_id = next_id->column_int64(0);

  // Column rows first: the chunk exists for readers only once its t_chunks row does.
  STRATA_ASSIGN_OR_RETURN(StatementLease insert_column,
                          statement(6, [&] { return str_cat("INSERT OR REPLACE INTO ", shadow_name("columns"),
                                            "(cell, data, zone, bloom) VALUES (?1, ?2, ?3, ?4)"); }));
  auto as_bytes = [](const std::string& bytes) { return std::as_bytes(std::span(bytes.data(), bytes.size())); };
  for (const EncodedColumn& column : chunk.columns) {
    insert_column->reset();
    insert_column->clear_bindings();
    STRATA_RETURN_IF_ERROR(insert_column->bind_int64(1, column_cell(chunk_id, column.column)));
    STRATA_RETURN_IF_ERROR(insert_column->bind_blob(2, as_bytes(column.blob)));
    if (column.zone) STRATA_RETURN_IF_ERROR(insert_column->bind_blob(3, as_bytes(*column.zone)));
    if (column.bloom) STRATA_RETURN_IF_ERROR(insert_column->bind_blob(4, as_bytes(*column.bloom)));
    STRATA_RETURN_IF_ERROR(run_counted(*insert_column));
  }
  STRATA_ASSIGN_OR_RETURN(StatementLease insert_chunk,
                          statement(7, [&] { return str_cat("INSERT INTO ", shadow_name("chunks"),
                                            "(chunk_id, partition_key, row_count, min_rowid, max_rowid,"
                                            " deleted, deleted_count, tier, created_at)"
                                            " VALUES (?1, ?2, ?3, ?4, ?5, NULL, 0, ?7, ?6)"); }));
  STRATA_RETURN_IF_ERROR(insert_chunk->bind_int64(1, chunk_id));
  STRATA_RETURN_IF_ERROR(bind_value_view(*insert_chunk, 2, partition.view()));
  STRATA_RETURN_IF_ERROR(insert_chunk->bind_int64(3, static_cast<int64_t>(chunk.rows)));
  STRATA_RETURN_IF_ERROR(insert_chunk->bind_int64(4, chunk.min_rowid));
  STRATA_RETURN_IF_ERROR(insert_chunk->bind_int64(5, chunk.max_rowid));
  STRATA_RETURN_IF_ERROR(insert_chunk->bind_int64(6, now_ms()));
  if (cold_key != nullptr) {
    STRATA_RETURN_IF_ERROR(insert_chunk->bind_text(7, *cold_key));
  } else {
    STRATA_RETURN_IF_ERROR(insert_chunk->bind_null(7));
  }
  STRATA_RETURN_IF_ERROR(run_counted(*insert_chunk));
  return chunk_id;
}

Status ChunkStore::set_deleted(int64_t chunk_id, const std::string& bitmap, int64_t deleted_count) {
  STRATA_ASSIGN_OR_RETURN(StatementLease update,
                          statement(8, [&] { return str_cat("UPDATE ", shadow_name("chunks"),
                                            " SET deleted = ?2, deleted_count = ?3 WHERE chunk_id = ?1"); }));
  STRATA_RETURN_IF_ERROR(update->bind_int64(1, chunk_id));
  if (deleted_count == 0) {
    STRATA_RETURN_IF_ERROR(update->bind_null(2));
  } else {
    std::string stored = with_checksum(bitmap);
    STRATA_RETURN_IF_ERROR(update->bind_blob(2, std::as_bytes(std::span(stored.data(), stored.size()))));
  }
  STRATA_RETURN_IF_ERROR(update->bind_int64(3, deleted_count));
  return run_counted(*update);
}

Status ChunkStore::delete_chunk(int64_t chunk_id) {
  STRATA_ASSIGN_OR_RETURN(StatementLease delete_row,
                          statement(9, [&] { return str_cat("DELETE FROM ", shadow_name("chunks"), " WHERE chunk_id = ?1"); }));
  STRATA_RETURN_IF_ERROR(delete_row->bind_int64(1, chunk_id));
  STRATA_RETURN_IF_ERROR(run_counted(*delete_row));
  STRATA_ASSIGN_OR_RETURN(StatementLease delete_columns,
                          statement(10, [&] { return str_cat("DELETE FROM ", shadow_name("columns"),
                                            " WHERE cell BETWEEN ?1 AND ?2"); }));
  STRATA_RETURN_IF_ERROR(delete_columns->bind_int64(1, column_cell(chunk_id, kRowidColumn)));
  STRATA_RETURN_IF_ERROR(delete_columns->bind_int64(2, column_cell(chunk_id, 4094)));
  STRATA_RETURN_IF_ERROR(run_counted(*delete_columns));
  STRATA_ASSIGN_OR_RETURN(bool tiered, has_tier_tables());
  if (!tiered) return Status::ok();
  STRATA_ASSIGN_OR_RETURN(StatementLease forget,
                          statement(25, [&] { return str_cat("DELETE FROM ", shadow_name("cold"), " WHERE chunk_id = ?1"); }));
  STRATA_RETURN_IF_ERROR(forget->bind_int64(1, chunk_id));
  return run_counted(*forget);
}

Result<std::optional<int64_t>> ChunkStore::max_chunk_rowid() {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(11, [&] { return str_cat("SELECT max(max_rowid) FROM ", shadow_name("chunks")); }));
  STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
  if (!has_row || select->column_is_null(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(select->column_int64(0));
}

Result<int64_t> ChunkStore::total_live_rows() {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(12, [&] { return str_cat("SELECT coalesce(sum(row_count - deleted_count), 0) FROM ",
                                            shadow_name("chunks")); }));
  STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
  return has_row ? select->column_int64(0) : 0;
}

Result<std::optional<Value>> ChunkStore::meta(std::string_view key) {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(13, [&] { return str_cat("SELECT value FROM ", shadow_name("meta"), " WHERE key = ?1"); }));
  STRATA_RETURN_IF_ERROR(select->bind_text(1, key));
  STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
  if (!has_row) return std::optional<Value>();
  return std::optional<Value>(value_from_column(*select, 0));
}

Status ChunkStore::set_meta(std::string_view key, const ValueView& value) {
  STRATA_ASSIGN_OR_RETURN(StatementLease upsert,
                          statement(14, [&] { return str_cat("INSERT OR REPLACE INTO ", shadow_name("meta"),
                                            "(key, value) VALUES (?1, ?2)"); }));
  STRATA_RETURN_IF_ERROR(upsert->bind_text(1, key));
  STRATA_RETURN_IF_ERROR(bind_value_view(*upsert, 2, value));
  return run_counted(*upsert);
}

Result<std::vector<int64_t>> ChunkStore::key_lookup(size_t k, const std::vector<ValueView>& key,
                                                          std::optional<int64_t> except_rowid) {
  std::string where;
  for (size_t c = 0; c < key.size(); ++c) {
    where += str_cat(c ? " AND " : "", "c", std::to_string(c), " = ?", std::to_string(c + 1));
  }
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(15 + static_cast<int>(k) * 64, [&] { return str_cat("SELECT row FROM ", shadow_name(key_table_suffix(k)),
                                            " WHERE ", where); }));
  for (size_t c = 0; c < key.size(); ++c) {
    STRATA_RETURN_IF_ERROR(bind_value_view(*select, static_cast<int>(c + 1), key[c]));
  }
  std::vector<int64_t> rows;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
    if (!has_row) break;
    int64_t row = select->column_int64(0);
    if (!except_rowid || row != *except_rowid) rows.push_back(row);
  }
  return rows;
}

Result<bool> ChunkStore::key_entry_exists(size_t k, int64_t rowid, const std::vector<ValueView>& key) {
  std::string where = "row = ?1";
  for (size_t c = 0; c < key.size(); ++c) where += str_cat(" AND c", std::to_string(c), " = ?", std::to_string(c + 2));
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(21 + static_cast<int>(k) * 64, [&] { return str_cat("SELECT 1 FROM ", shadow_name(key_table_suffix(k)),
                                            " WHERE ", where); }));
  STRATA_RETURN_IF_ERROR(select->bind_int64(1, rowid));
  for (size_t c = 0; c < key.size(); ++c) {
    STRATA_RETURN_IF_ERROR(bind_value_view(*select, static_cast<int>(c + 2), key[c]));
  }
  return select->step();
}

Status ChunkStore::key_insert(size_t k, int64_t rowid, const std::vector<ValueView>& key) {
  std::string columns = "row";
  std::string values = "?1";
  for (size_t c = 0; c < key.size(); ++c) {
    columns += str_cat(", c", std::to_string(c));
    values += str_cat(", ?", std::to_string(c + 2));
  }
  STRATA_ASSIGN_OR_RETURN(StatementLease insert,
                          statement(16 + static_cast<int>(k) * 64, [&] { return str_cat("INSERT INTO ", shadow_name(key_table_suffix(k)),
                                            "(", columns, ") VALUES (", values, ")"); }));
  STRATA_RETURN_IF_ERROR(insert->bind_int64(1, rowid));
  for (size_t c = 0; c < key.size(); ++c) {
    STRATA_RETURN_IF_ERROR(bind_value_view(*insert, static_cast<int>(c + 2), key[c]));
  }
  return run_counted(*insert);
}

Status ChunkStore::key_delete(size_t k, int64_t rowid) {
  STRATA_ASSIGN_OR_RETURN(StatementLease remove,
                          statement(17 + static_cast<int>(k) * 64, [&] { return str_cat("DELETE FROM ", shadow_name(key_table_suffix(k)),
                                            " WHERE row = ?1"); }));
  STRATA_RETURN_IF_ERROR(remove->bind_int64(1, rowid));
  return run_counted(*remove);
}

Result<int64_t> ChunkStore::key_count(size_t k) {
  STRATA_ASSIGN_OR_RETURN(StatementLease select,
                          statement(18 + static_cast<int>(k) * 64, [&] { return str_cat("SELECT count(*) FROM ", shadow_name(key_table_suffix(k))); }));
  STRATA_ASSIGN_OR_RETURN(bool has_row, select->step());
  return has_row ? select->column_int64(0) : 0;
}

}  // namespace strata::columnar
