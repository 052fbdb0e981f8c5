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

namespace strata::columnar {

namespace {

// Buffered rows are written out at chunk_rows rows or at this many bytes, whichever comes first,
// so that one column blob stays far below SQLite's blob size limit.
constexpr size_t kMaxPendingBytes = 64u << 20;
// Small-chunk merging: chunks are classed by live rows in powers of kMergeFanout; a class is
// merged when it holds kMergeFanout chunks.
constexpr int64_t kMergeFanout = 16;


Status constraint_failed(std::string message) {
  // Plain SQLITE_CONSTRAINT: with SQLITE_VTAB_CONSTRAINT_SUPPORT, SQLite applies the statement's
  // conflict mode (ABORT, FAIL, IGNORE, ROLLBACK) only to exactly this code.
  return Status::constraint(std::move(message)).with_sqlite_code(SQLITE_CONSTRAINT);
}

Status datatype_mismatch() {
  return Status(StatusCode::kError, "datatype mismatch").with_sqlite_code(SQLITE_MISMATCH);
}

int merge_class(int64_t live_rows) {
  int level = 0;
  for (int64_t limit = kMergeFanout; live_rows >= limit && level < 16; limit *= kMergeFanout) ++level;
  return level;
}

std::string set_bit(std::string bitmap, size_t row, size_t rows) {
  if (bitmap.empty()) bitmap.assign((rows + 7) / 8, '\0');
  bitmap[row / 8] = static_cast<char>(static_cast<unsigned char>(bitmap[row / 8]) | (1u << (row % 8)));
  return bitmap;
}

// Copies rows of `source` (its positions `rows`) into fresh column vectors.
std::vector<ColumnVector> gather_columns(const WriteBuffer& source, std::span<const uint32_t> rows) {
  std::vector<ColumnVector> columns(source.columns().size());
  for (size_t c = 0; c < columns.size(); ++c) {
    columns[c].reserve(rows.size());
    for (uint32_t position : rows) columns[c].append(source.value(static_cast<int>(c), position));
  }
  return columns;
}

}  // namespace

ChunkCache::Entry& ChunkCache::entry(int64_t chunk_id) {
  auto [found, inserted] = entries_.try_emplace(chunk_id);
  if (inserted) order_.push_back(chunk_id);
  return found->second;
}

void ChunkCache::charge(int64_t chunk_id, size_t bytes) {
  entry(chunk_id).charged_bytes += bytes;
  bytes_ += bytes;
  size_t next = 0;
  while (bytes_ > kCapacityBytes && next < order_.size()) {
    int64_t oldest = order_[next];
    if (oldest == chunk_id) {
      ++next;
      continue;
    }
    order_.erase(order_.begin() + static_cast<std::ptrdiff_t>(next));
    drop(oldest);
  }
}

void ChunkCache::drop(int64_t chunk_id) {
  auto found = entries_.find(chunk_id);
  if (found == entries_.end()) return;
  bytes_ -= std::min(bytes_, found->second.charged_bytes);
  entries_.erase(found);
}

void ChunkCache::erase(int64_t chunk_id) {
  drop(chunk_id);
  std::erase(order_, chunk_id);
}

void ChunkCache::clear() {
  entries_.clear();
  order_.clear();
  bytes_ = 0;
}

std::string ScanStats::to_json() const {
  return str_cat("{\"chunks\":", std::to_string(chunks), ",\"skipped_by_key_index\":", std::to_string(skipped_by_key_index),
                 ",\"skipped_by_zone_map\":", std::to_string(skipped_by_zone_map),
                 ",\"skipped_by_bloom_filter\":", std::to_string(skipped_by_bloom_filter), ",\"cold\":", std::to_string(cold),
                 ",\"chunks_read\":", std::to_string(chunks_read), ",\"columns_decoded\":", std::to_string(columns_decoded),
                 ",\"bytes_decoded\":", std::to_string(bytes_decoded), ",\"rows_matched\":", std::to_string(rows_matched), "}");
}

ColumnarTable::ColumnarTable(sqlite3* db, TableRegistry* registry, std::string schema_name,
                             std::string table_name, TableSchema schema)
    : db_(db),
      registry_(registry),
      schema_name_(std::move(schema_name)),
      schema_(std::move(schema)),
      store_(db, schema_name_, std::move(table_name), &schema_),
      inserts_(std::make_shared<WriteBuffer>(schema_.columns.size())),
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

std::string ColumnarTable::column_label(int column) const {
  return str_cat(name(), ".", column < 0 ? std::string("rowid") : schema_.columns[column].name);
}

// SQLite keeps a table's indexes in a list that each new UNIQUE constraint joins at the front,
// except that REPLACE ones go behind every other, and checks them in list order: the last
// declared first, REPLACE constraints after the rest.
const std::vector<size_t>& ColumnarTable::unique_check_order() {
  if (!unique_check_order_) {
    std::vector<size_t> order;
    for (size_t k = schema_.key_indexes.size(); k-- > 0;) {
      if (schema_.key_indexes[k].unique) order.push_back(k);
    }
    std::stable_partition(order.begin(), order.end(),
                          [&](size_t k) { return schema_.key_indexes[k].conflict != ConflictMode::kReplace; });
    unique_check_order_ = std::move(order);
  }
  return *unique_check_order_;
}

ConflictMode ColumnarTable::effective_conflict_mode(ConflictMode declared) const {
  switch (sqlite3_vtab_on_conflict(db_)) {
    case SQLITE_ROLLBACK: return ConflictMode::kRollback;
    case SQLITE_IGNORE: return ConflictMode::kIgnore;
    case SQLITE_FAIL: return ConflictMode::kFail;
    case SQLITE_REPLACE: return ConflictMode::kReplace;
    default:
      // ABORT is also what SQLite reports when the statement names no conflict mode; then the
      // constraint's own ON CONFLICT clause applies, as in an ordinary table — unless the
      // running statement says OR ABORT itself.
      if (declared == ConflictMode::kDefault || statement_says_or_abort()) return ConflictMode::kAbort;
      return declared;
  }
}

bool ColumnarTable::statement_says_or_abort() const {
  std::optional<WriterRun> run = running_writer();
  if (!run) return false;
  Result<std::vector<SqlToken>> tokens = tokenize_sql(run->sql, 3);
  if (!tokens.is_ok() || tokens->size() < 3) return false;
  const std::vector<SqlToken>& t = *tokens;
  return (t[0].is_keyword("INSERT") || t[0].is_keyword("UPDATE")) && t[1].is_keyword("OR") && t[2].is_keyword("ABORT");
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
}

void ColumnarTable::forget_replaced_rows() {
  replaced_rows_.clear();
  replaced_by_.reset();
}

// The one write statement running on this connection, if exactly one is: the statement whose
// xUpdate calls these are. (Several busy writers — one left mid-RETURNING, say — cannot be told
// apart; the caller then falls back to transaction-long bookkeeping.)
std::optional<ColumnarTable::WriterRun> ColumnarTable::running_writer() const {
  sqlite3_stmt* found = nullptr;
  for (sqlite3_stmt* statement = sqlite3_next_stmt(db_, nullptr); statement != nullptr;
       statement = sqlite3_next_stmt(db_, statement)) {
    if (!sqlite3_stmt_busy(statement) || sqlite3_stmt_readonly(statement)) continue;
    if (found != nullptr) return std::nullopt;
    found = statement;
  }
  if (found == nullptr) return std::nullopt;
  const char* sql = sqlite3_sql(found);
  return WriterRun{found, sqlite3_stmt_status(found, SQLITE_STMTSTATUS_RUN, 0), sql ? sql : ""};
}

// Called before replaced_rows_ is read or added to, only then (it walks the connection's
// statements): a set left by an earlier statement is dropped.
void ColumnarTable::scope_replaced_rows() {
  std::optional<WriterRun> run = running_writer();
  if (run == replaced_by_) return;  // the same statement, or still no telling
  forget_replaced_rows();
  replaced_by_ = std::move(run);
}

void ColumnarTable::forget_uncommitted_chunks() {
  // A rollback may undo chunk writes and deletions; decoded chunks cannot be trusted after it.
  cache_.clear();
  stored_rowid_bound_.reset();
}

Status ColumnarTable::on_sync() { return flush(); }

Result<Value> ColumnarTable::default_value(int column) {
  const ColumnDefinition& definition = schema_.columns[column];
  if (definition.default_sql.empty()) return Value();
  auto found = default_statements_.find(column);
  if (found == default_statements_.end()) {
    STRATA_ASSIGN_OR_RETURN(Statement select,
                            Statement::prepare_persistent(db_, "SELECT " + definition.default_sql));
    found = default_statements_.emplace(column, std::move(select)).first;
  }
  Statement& select = found->second;
  select.reset();
  STRATA_ASSIGN_OR_RETURN(bool has_row, select.step());
  Value value = has_row ? value_with_affinity(select.column_value(0), definition.affinity) : Value();
  select.reset();
  return value;
}

// SQLite (3.37 and later) drops DEFAULT clauses from a virtual table's declaration, and passes
// NULL to xUpdate for every column an INSERT leaves out — the same NULL as an explicit one. To
// apply DEFAULT exactly as an ordinary table does, look at the running INSERT statement itself:
// its column list says which columns were left out. When it cannot be identified (an INSERT run
// by a trigger, or SQL this reader does not follow), a NULL given to a column that has a DEFAULT
// takes the default (documented in docs/columnar.md).
std::optional<std::vector<bool>> ColumnarTable::omitted_columns() {
  sqlite3_stmt* running = nullptr;
  for (sqlite3_stmt* statement = sqlite3_next_stmt(db_, nullptr); statement != nullptr;
       statement = sqlite3_next_stmt(db_, statement)) {
    if (!sqlite3_stmt_busy(statement)) continue;
    const char* sql = sqlite3_sql(statement);
    if (sql == nullptr) continue;
    std::string_view head = trim_sql_space(std::string_view(sql).substr(0, 16));
    if (!(head.size() >= 6 && (equals_ignore_case(head.substr(0, 6), "INSERT") ||
                               (head.size() >= 7 && equals_ignore_case(head.substr(0, 7), "REPLACE"))))) {
      continue;
    }
    if (running != nullptr) return std::nullopt;  // two INSERTs in flight: cannot tell which
    running = statement;
  }
  if (running == nullptr) return std::nullopt;
  const char* sql = sqlite3_sql(running);
  // The answer depends only on the statement's head (up to its column list), so that is the
  // cache key; pointers alone are not, as a new statement may reuse a finalized one's memory.
  if (!inspected_head_.empty() && std::strncmp(sql, inspected_head_.data(), inspected_head_.size()) == 0) {
    return inspected_omitted_;
  }
  inspected_head_.clear();
  inspected_omitted_.reset();

  Result<std::vector<SqlToken>> tokens = tokenize_sql(sql, 2 * schema_.columns.size() + 24);
  if (!tokens.is_ok()) return std::nullopt;
  const std::vector<SqlToken>& t = *tokens;
  size_t i = 0;
  auto keyword = [&](std::string_view word) {
    if (i < t.size() && t[i].is_keyword(word)) {
      ++i;
      return true;
    }
    return false;
  };
  if (keyword("REPLACE")) {
  } else if (keyword("INSERT")) {
    if (keyword("OR")) {
      if (i >= t.size()) return std::nullopt;
      ++i;
    }
  } else {
    return std::nullopt;
  }
  if (!keyword("INTO") || i >= t.size() || !t[i].is_name()) return std::nullopt;
  std::string first = t[i++].identifier();
  std::string target = first;
  if (i < t.size() && t[i].text == ".") {
    if (++i >= t.size() || !t[i].is_name()) return std::nullopt;
    if (!equals_ignore_case(first, schema_name_)) return std::nullopt;
    target = t[i++].identifier();
  }
  if (!equals_ignore_case(target, name())) return std::nullopt;
  if (keyword("AS")) {
    if (i >= t.size() || !t[i].is_name()) return std::nullopt;
    ++i;
  }
  std::vector<bool> omitted(schema_.columns.size(), false);
  if (keyword("DEFAULT")) {
    omitted.assign(schema_.columns.size(), true);
  } else if (i < t.size() && t[i].kind == SqlTokenKind::kLeftParen) {
    omitted.assign(schema_.columns.size(), true);
    ++i;
    while (true) {
      if (i >= t.size() || !t[i].is_name()) return std::nullopt;
      int column = schema_.column_index(t[i++].identifier());
      if (column >= 0) omitted[column] = false;
      if (i >= t.size()) return std::nullopt;
      if (t[i].kind == SqlTokenKind::kRightParen) break;
      if (t[i++].kind != SqlTokenKind::kComma) return std::nullopt;
    }
    ++i;  // the ')'
  }
  // The head ends after the last token read (the column list, DEFAULT, or the table name).
  const SqlToken& last = t[i - 1];
  inspected_head_.assign(sql, last.offset + last.text.size());
  inspected_omitted_ = omitted;
  return inspected_omitted_;
}

// SQLite passes a virtual table the new rowid and the INTEGER PRIMARY KEY column's new value
// separately, and does not say which assignment came last when an UPDATE sets both (SET id = …,
// rowid = …); an ordinary table takes the rightmost. So the running UPDATE's SET list is read:
// true when a rowid name (rowid, oid, _rowid_, unless a column has that name) is assigned after
// the column. nullopt when the statement cannot be identified or read.
std::optional<bool> ColumnarTable::rowid_assigned_after_alias() {
  std::optional<WriterRun> run = running_writer();
  if (!run || schema_.rowid_alias < 0) return std::nullopt;
  // Asked once per row an UPDATE moves: the answer is kept for the statement's text.
  if (rowid_order_ && rowid_order_->first == run->sql) return rowid_order_->second;
  std::optional<bool> answer = read_rowid_order(run->sql);
  rowid_order_.emplace(run->sql, answer);
  return answer;
}

std::optional<bool> ColumnarTable::read_rowid_order(const std::string& sql) const {
  Result<std::vector<SqlToken>> tokens = tokenize_sql(sql);
  if (!tokens.is_ok()) return std::nullopt;
  const std::vector<SqlToken>& t = *tokens;
  size_t i = 0;
  // UPDATE [OR mode] [schema.]table [[AS] alias] [INDEXED BY … | NOT INDEXED] SET
  if (t.empty() || !t[i++].is_keyword("UPDATE")) return std::nullopt;
  if (i < t.size() && t[i].is_keyword("OR")) i += 2;
  if (i >= t.size() || !t[i].is_name()) return std::nullopt;
  std::string target = t[i++].identifier();
  if (i + 1 < t.size() && t[i].text == ".") {
    if (!equals_ignore_case(target, schema_name_) || !t[i + 1].is_name()) return std::nullopt;
    target = t[i + 1].identifier();
    i += 2;
  }
  if (!equals_ignore_case(target, name())) return std::nullopt;
  while (i < t.size() && !t[i].is_keyword("SET")) ++i;
  if (i >= t.size()) return std::nullopt;
  ++i;
  auto is_rowid_name = [&](const std::string& word) {
    for (std::string_view rowid_name : {"rowid", "oid", "_rowid_"}) {
      if (equals_ignore_case(word, rowid_name) && schema_.column_index(word) < 0) return true;
    }
    return false;
  };
  const std::string& alias_name = schema_.columns[schema_.rowid_alias].name;
  int last_alias = -1, last_rowid = -1, assignment = 0;
  int depth = 0;
  bool at_target = true;  // the next tokens name what an assignment sets
  for (; i < t.size(); ++i) {
    const SqlToken& token = t[i];
    if (token.kind == SqlTokenKind::kLeftParen) {
      ++depth;
      continue;
    }
    if (token.kind == SqlTokenKind::kRightParen) {
      --depth;
      continue;
    }
    if (depth == 0 && token.kind == SqlTokenKind::kComma) {
      at_target = true;
      ++assignment;
      continue;
    }
    if (depth == 0 && (token.text == ";" || token.is_keyword("FROM") || token.is_keyword("WHERE") ||
                       token.is_keyword("RETURNING") || token.is_keyword("ORDER") || token.is_keyword("LIMIT"))) {
      break;
    }
    if (at_target && token.text == "=" && depth == 0) {
      at_target = false;
      continue;
    }
    if (at_target && token.is_name()) {
      std::string word = token.identifier();
      if (equals_ignore_case(word, alias_name)) last_alias = assignment;
      else if (is_rowid_name(word)) last_rowid = assignment;
    }
  }
  if (last_alias < 0 || last_rowid < 0) return std::nullopt;
  return last_rowid > last_alias;
}

Status ColumnarTable::verify_key_entry(size_t k, int64_t rowid, const std::vector<ValueView>& key) {
  const KeyIndex& index = schema_.key_indexes[k];
  auto damaged = [&] {
    return corrupt(name(), str_cat("the ", index.unique ? "unique" : "index=", " key index ", std::to_string(k),
                                   " has an entry for rowid ", std::to_string(rowid),
                                   " that the row does not hold (columnar_check lists such damage)"));
  };
  // The row's value of key column i, wherever the row is.
  std::function<ValueView(int)> value_of;
  std::shared_ptr<const ColumnVector> chunk_values;
  if (std::optional<uint32_t> position = inserts_->find(rowid)) {
    value_of = [&, position](int column) { return inserts_->value(column, *position); };
  } else if (std::optional<uint32_t> sealed_position = sealed_ ? sealed_->rows->find(rowid) : std::nullopt) {
    value_of = [&, sealed_position](int column) { return sealed_->rows->value(column, *sealed_position); };
  } else {
    if (deletes_->contains(rowid)) return damaged();
    STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.chunks_overlapping(rowid, rowid));
    std::optional<std::pair<ChunkInfo, size_t>> holder;
    for (const ChunkInfo& chunk : chunks) {
      STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<int64_t>> rowids, chunk_rowids(chunk));
      auto found = std::lower_bound(rowids->begin(), rowids->end(), rowid);
      if (found == rowids->end() || *found != rowid) continue;
      auto row = static_cast<size_t>(found - rowids->begin());
      if (!chunk.is_deleted(row)) holder.emplace(chunk, row);
    }
    if (!holder) return damaged();
    std::vector<std::shared_ptr<const ColumnVector>> columns(schema_.columns.size());
    for (int column : index.columns) {
      STRATA_ASSIGN_OR_RETURN(columns[column], chunk_column(holder->first, column));
    }
    size_t row = holder->second;
    value_of = [columns = std::move(columns), row](int column) { return columns[column]->get(row); };
  }
  for (size_t i = 0; i < index.columns.size(); ++i) {
    std::optional<Collation> collation = builtin_collation(index.collations[i]);
    if (!collation) continue;  // only SQLite knows how to compare these
    if (compare_values(value_of(index.columns[i]), key[i], *collation) != 0) return damaged();
  }
  return Status::ok();
}

Result<bool> ColumnarTable::row_exists(int64_t rowid) {
  if (inserts_->find(rowid) || sealed_holds(rowid)) return true;
  if (deletes_->contains(rowid)) return false;
  // No refresh_cache() here (this runs per inserted row): xUpdate runs inside a write transaction,
  // whose xBegin refreshed the cache, and nothing but this table changes its chunks until it ends.
  if (!stored_rowid_bound_) {
    STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> largest, store_.max_chunk_rowid());
    stored_rowid_bound_ = largest.value_or(INT64_MIN);
  }
  if (rowid > *stored_rowid_bound_) return false;
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.chunks_overlapping(rowid, rowid));
  for (const ChunkInfo& chunk : chunks) {
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<int64_t>> rowids, chunk_rowids(chunk));
    auto found = std::lower_bound(rowids->begin(), rowids->end(), rowid);
    if (found != rowids->end() && *found == rowid &&
        !chunk.is_deleted(static_cast<size_t>(found - rowids->begin()))) {
      return true;
    }
  }
  return false;
}

Result<std::optional<int64_t>> ColumnarTable::max_live_rowid() {
  if (max_rowid_) return *max_rowid_;
  std::optional<int64_t> best = inserts_->max_live_rowid();
  if (sealed_ && (!best || sealed_->rows->rowids().back() > *best)) best = sealed_->rows->rowids().back();
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.list_chunks());
  // Inside the write transaction (see row_exists): the cache is current.
  std::sort(chunks.begin(), chunks.end(),
            [](const ChunkInfo& a, const ChunkInfo& b) { return a.max_rowid > b.max_rowid; });
  for (const ChunkInfo& chunk : chunks) {
    if (best && chunk.max_rowid <= *best) break;
    bool max_is_live = chunk.deleted_count == 0 && !deletes_->contains(chunk.max_rowid);
    if (max_is_live) {
      best = chunk.max_rowid;
      break;
    }
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<int64_t>> rowids, chunk_rowids(chunk));
    for (size_t i = rowids->size(); i-- > 0;) {
      if (best && (*rowids)[i] <= *best) break;
      if (!chunk.is_deleted(i) && !deletes_->contains((*rowids)[i])) {
        best = (*rowids)[i];
        break;
      }
    }
  }
  max_rowid_ = best;
  return best;
}

Result<int64_t> ColumnarTable::autoincrement_sequence() {
  if (!persisted_sequence_) {
    STRATA_ASSIGN_OR_RETURN(std::optional<Value> stored, store_.meta("autoincrement"));
    persisted_sequence_ = (stored && stored->type == ValueType::kInteger) ? stored->integer : 0;
  }
  return std::max(*persisted_sequence_, autoincrement_high_);
}

Result<int64_t> ColumnarTable::allocate_rowid() {
  STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> max_live, max_live_rowid());
  int64_t largest = max_live.value_or(0);
  if (schema_.autoincrement) {
    // As SQLite's sqlite_sequence: the largest rowid any INSERT has used, even if gone since.
    STRATA_ASSIGN_OR_RETURN(int64_t sequence, autoincrement_sequence());
    largest = std::max(largest, sequence);
  }
  if (largest < INT64_MAX) return largest + 1;
  // As SQLite does once the largest rowid is taken: random positive candidates until an unused
  // one turns up (AUTOINCREMENT never reuses a rowid, so it has none to offer).
  if (!schema_.autoincrement) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      uint64_t random = 0;
      sqlite3_randomness(sizeof random, &random);
      auto candidate = static_cast<int64_t>(random >> 1);
      if (candidate == 0) continue;
      STRATA_ASSIGN_OR_RETURN(bool taken, row_exists(candidate));
      if (!taken) return candidate;
    }
  }
  return Status(StatusCode::kError, "database or disk is full").with_sqlite_code(SQLITE_FULL);
}

Status ColumnarTable::delete_row(int64_t rowid) {
  STRATA_RETURN_IF_ERROR(settle());  // the row may be in the sealed chunk
  for (size_t k = 0; k < schema_.key_indexes.size(); ++k) {
    STRATA_RETURN_IF_ERROR(store_.key_delete(k, rowid));
  }
  if (std::optional<uint32_t> buffered = inserts_->find(rowid)) {
    inserts_->erase(*buffered);
  } else {
    mutable_deletes().insert(rowid);
  }
  if (max_rowid_ && *max_rowid_ == rowid) max_rowid_.reset();
  return Status::ok();
}

Status ColumnarTable::insert_row(int64_t rowid, const Row& values) {
  for (size_t k = 0; k < schema_.key_indexes.size(); ++k) {
    const KeyIndex& unique = schema_.key_indexes[k];
    std::vector<ValueView> key;
    bool has_null = false;
    for (int column : unique.columns) {
      has_null |= values[column].is_null();
      key.push_back(values[column].view());
    }
    if (!has_null) STRATA_RETURN_IF_ERROR(store_.key_insert(k, rowid, key));
  }
  // Within one known statement a row moved onto a replaced rowid is not the row SQLite listed.
  if (!replaced_by_) replaced_rows_.erase(rowid);
  inserts_->append(rowid, values);
  if (max_rowid_ && (!*max_rowid_ || rowid > **max_rowid_)) max_rowid_ = rowid;
  if (inserts_->appended_rows() >= static_cast<size_t>(schema_.chunk_rows) || inserts_->bytes() >= kMaxPendingBytes) {
    return seal_full_buffer();
  }
  return Status::ok();
}

// A constraint's IGNORE: under a statement's OR IGNORE, SQLite drops the row when xUpdate reports
// SQLITE_CONSTRAINT; under a constraint's own ON CONFLICT IGNORE SQLite knows nothing of, the
// table drops it itself (update() then reports success without a change).
Status ColumnarTable::ignore_row() {
  if (sqlite3_vtab_on_conflict(db_) != SQLITE_IGNORE) row_ignored_ = true;
  return constraint_failed(std::string());
}

Status ColumnarTable::update(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out) {
  row_ignored_ = false;
  Status status = update_row(argc, argv, rowid_out);
  if (row_ignored_ && !status.is_ok()) {
    row_ignored_ = false;
    *rowid_out = sqlite3_last_insert_rowid(db_);  // a dropped row leaves it as it was
    return Status::ok();
  }
  return status;
}

Status ColumnarTable::update_row(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out) {
  PreserveLastInsertRowid preserve(db_);
  if (argc == 1) return delete_row(sqlite3_value_int64(argv[0]));
  const size_t column_count = schema_.columns.size();
  if (static_cast<size_t>(argc) != column_count + 2) return Status::internal("columnar: wrong xUpdate arity");
  bool is_insert = sqlite3_value_type(argv[0]) == SQLITE_NULL;
  std::optional<int64_t> old_rowid;
  if (!is_insert) {
    old_rowid = sqlite3_value_int64(argv[0]);
    // SQLite lists the rows an UPDATE changes before changing any; an earlier row's OR REPLACE
    // may have removed this one since. An ordinary table skips it; so does this one.
    if (!replaced_rows_.empty()) {
      scope_replaced_rows();
      if (replaced_rows_.contains(*old_rowid)) return Status::ok();
    }
  }

  // The row's values live in spare_row_ between calls, so their vectors and strings are reused.
  Row values = std::move(spare_row_);
  struct GiveBack {
    Row& values;
    Row& spare;
    ~GiveBack() { spare = std::move(values); }
  } give_back{values, spare_row_};
  values.resize(column_count);
  for (size_t i = 0; i < column_count; ++i) {
    if (static_cast<int>(i) == schema_.rowid_alias) {
      values[i] = Value();
      continue;
    }
    assign_with_affinity(values[i], argv[2 + i], schema_.columns[i].affinity);
  }
  if (is_insert && schema_.has_defaults()) {
    std::optional<std::vector<bool>> omitted = omitted_columns();
    for (size_t i = 0; i < column_count; ++i) {
      if (static_cast<int>(i) == schema_.rowid_alias || schema_.columns[i].default_sql.empty()) continue;
      bool take_default = omitted ? (*omitted)[i] : values[i].is_null();
      if (take_default) {
        STRATA_ASSIGN_OR_RETURN(values[i], default_value(static_cast<int>(i)));
      }
    }
  }

  // The new rowid: the INTEGER PRIMARY KEY column when it was given or changed, else the rowid;
  // when an UPDATE assigns both, the rightmost assignment, as in an ordinary table.
  std::optional<int64_t> new_rowid;
  sqlite3_value* alias = schema_.rowid_alias >= 0 ? argv[2 + schema_.rowid_alias] : nullptr;
  auto as_rowid = [](sqlite3_value* value) -> Result<int64_t> {
    std::optional<int64_t> integer = integer_under_affinity(value);
    if (!integer) return datatype_mismatch();
    return *integer;
  };
  if (is_insert) {
    if (alias != nullptr && sqlite3_value_type(alias) != SQLITE_NULL) {
      STRATA_ASSIGN_OR_RETURN(new_rowid, as_rowid(alias));
    } else if (sqlite3_value_type(argv[1]) != SQLITE_NULL) {
      STRATA_ASSIGN_OR_RETURN(new_rowid, as_rowid(argv[1]));
    }
  } else {
    STRATA_ASSIGN_OR_RETURN(int64_t given, as_rowid(argv[1]));
    new_rowid = given;
    bool rowid_assigned = given != *old_rowid;
    if (alias != nullptr && !(rowid_assigned && rowid_assigned_after_alias().value_or(false))) {
      STRATA_ASSIGN_OR_RETURN(int64_t alias_value, as_rowid(alias));
      if (alias_value != *old_rowid) new_rowid = alias_value;
    }
  }

  // As in SQLite's INSERT: the rowid is settled, and the AUTOINCREMENT sequence advanced,
  // before any constraint is checked — so a row that OR IGNORE drops still uses up its number,
  // while a row that fails the statement (ABORT, FAIL, ROLLBACK) gives it back.
  const int64_t sequence_before = autoincrement_high_;
  auto fail = [&](Status status) {
    autoincrement_high_ = sequence_before;
    return status;
  };
  if (is_insert) {
    if (!new_rowid) {
      STRATA_ASSIGN_OR_RETURN(new_rowid, allocate_rowid());
    }
    autoincrement_high_ = std::max(autoincrement_high_, *new_rowid);
  }

  // NOT NULL, in column order.
  for (size_t i = 0; i < column_count; ++i) {
    const ColumnDefinition& column = schema_.columns[i];
    if (!column.not_null || static_cast<int>(i) == schema_.rowid_alias || !values[i].is_null()) continue;
    ConflictMode mode = effective_conflict_mode(column.not_null_conflict);
    if (mode == ConflictMode::kReplace) {
      STRATA_ASSIGN_OR_RETURN(values[i], default_value(static_cast<int>(i)));
      if (!values[i].is_null()) continue;
      mode = ConflictMode::kAbort;
    }
    if (mode == ConflictMode::kIgnore) return ignore_row();
    return fail(constraint_failed(str_cat("NOT NULL constraint failed: ", column_label(static_cast<int>(i)))));
  }

  // Rowid and UNIQUE conflicts: all checked before anything changes, in SQLite's order (which
  // decides the error reported, or IGNORE against an error, when several are violated at once).
  std::vector<int64_t> replaced;
  // Returns a status that ends the row (an error, or IGNORE), or ok to go on.
  auto check_rowid = [&]() -> Status {
    if (!new_rowid || (!is_insert && *new_rowid == *old_rowid)) return Status::ok();
    STRATA_ASSIGN_OR_RETURN(bool exists, row_exists(*new_rowid));
    if (!exists) return Status::ok();
    ConflictMode mode = effective_conflict_mode(schema_.rowid_conflict);
    if (mode == ConflictMode::kReplace) {
      replaced.push_back(*new_rowid);
      return Status::ok();
    }
    if (mode == ConflictMode::kIgnore) return ignore_row();
    return fail(constraint_failed(str_cat("UNIQUE constraint failed: ", column_label(schema_.rowid_alias))));
  };
  auto check_unique = [&](size_t k) -> Status {
    const KeyIndex& unique = schema_.key_indexes[k];
    std::vector<ValueView> key;
    for (int column : unique.columns) {
      if (values[column].is_null()) return Status::ok();  // NULLs are distinct
      key.push_back(values[column].view());
    }
    STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> conflicts, store_.key_lookup(k, key, old_rowid));
    std::erase_if(conflicts, [&](int64_t rowid) {
      return std::find(replaced.begin(), replaced.end(), rowid) != replaced.end();
    });
    if (conflicts.empty()) return Status::ok();
    // A damaged index entry must not fail or replace a row that does not hold the key.
    for (int64_t rowid : conflicts) STRATA_RETURN_IF_ERROR(verify_key_entry(k, rowid, key));
    ConflictMode mode = effective_conflict_mode(unique.conflict);
    if (mode == ConflictMode::kReplace) {
      replaced.insert(replaced.end(), conflicts.begin(), conflicts.end());
      return Status::ok();
    }
    if (mode == ConflictMode::kIgnore) return ignore_row();
    std::string columns;
    for (int column : unique.columns) columns += str_cat(columns.empty() ? "" : ", ", column_label(column));
    return fail(constraint_failed(str_cat("UNIQUE constraint failed: ", columns)));
  };
  const std::vector<size_t>& unique_order = unique_check_order();
  // SQLite checks the rowid first, unless its own clause is REPLACE, the statement names no
  // conflict mode, and there are UNIQUE constraints: then it is checked last.
  bool rowid_last = schema_.rowid_conflict == ConflictMode::kReplace && sqlite3_vtab_on_conflict(db_) == SQLITE_ABORT &&
                    !unique_order.empty();
  if (!rowid_last) STRATA_RETURN_IF_ERROR(check_rowid());
  for (size_t k : unique_order) STRATA_RETURN_IF_ERROR(check_unique(k));
  if (rowid_last) STRATA_RETURN_IF_ERROR(check_rowid());

  if (!replaced.empty()) scope_replaced_rows();
  for (int64_t rowid : replaced) {
    STRATA_RETURN_IF_ERROR(delete_row(rowid));
    replaced_rows_.insert(rowid);
  }
  if (old_rowid) STRATA_RETURN_IF_ERROR(delete_row(*old_rowid));
  STRATA_RETURN_IF_ERROR(insert_row(*new_rowid, values));
  *rowid_out = *new_rowid;
  return Status::ok();
}

void ColumnarTable::refresh_cache() {
  unsigned version = 0;
  if (sqlite3_file_control(db_, schema_name_.c_str(), SQLITE_FCNTL_DATA_VERSION, &version) != SQLITE_OK) {
    cache_.clear();  // cannot tell: trust nothing
    cold_.forget();
    stored_rowid_bound_.reset();
    data_version_.reset();
    return;
  }
  if (data_version_ != version) {
    cache_.clear();
    cold_.forget();
    stored_rowid_bound_.reset();
  }
  data_version_ = version;
}

Result<std::shared_ptr<const std::vector<int64_t>>> ColumnarTable::chunk_rowids(const ChunkInfo& chunk) {
  ChunkCache::Entry& entry = cache_.entry(chunk.chunk_id);
  if (!entry.rowids) {
    STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> rowids, store_.read_rowids(chunk));
    size_t bytes = rowids.size() * sizeof(int64_t);
    entry.rowids = std::make_shared<const std::vector<int64_t>>(std::move(rowids));
    auto rowids_pointer = entry.rowids;
    cache_.charge(chunk.chunk_id, bytes);
    return rowids_pointer;
  }
  if (entry.rowids->size() != static_cast<size_t>(chunk.row_count)) {
    return Status::corruption(str_cat("columnar: table ", name(), ": chunk ", std::to_string(chunk.chunk_id),
                                      " changed size under the cache"));
  }
  return entry.rowids;
}

Result<std::optional<BloomFilter>> ColumnarTable::chunk_bloom(const ChunkInfo& chunk, int column) {
  ChunkCache::Entry& entry = cache_.entry(chunk.chunk_id);
  auto found = entry.blooms.find(column);
  if (found != entry.blooms.end()) return found->second;
  std::optional<BloomFilter> bloom;
  if (std::find(schema_.bloom_columns.begin(), schema_.bloom_columns.end(), column) != schema_.bloom_columns.end()) {
    STRATA_ASSIGN_OR_RETURN(bloom, store_.read_bloom(chunk.chunk_id, column));
  }
  entry.blooms[column] = bloom;
  if (bloom) cache_.charge(chunk.chunk_id, bloom->bytes().size());
  return bloom;
}

Result<std::optional<ZoneMap>> ColumnarTable::chunk_zone(const ChunkInfo& chunk, int column) {
  ChunkCache::Entry& entry = cache_.entry(chunk.chunk_id);
  auto found = entry.zones.find(column);
  if (found != entry.zones.end()) return found->second;
  STRATA_ASSIGN_OR_RETURN(std::optional<ZoneMap> zone, store_.read_zone(chunk.chunk_id, column));
  entry.zones[column] = zone;
  return zone;
}

Result<ChunkRows> ColumnarTable::read_chunk_rows(const ChunkInfo& chunk, uint64_t column_mask,
                                                 const std::vector<int>* eager_columns) {
  ChunkRows result;
  STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<int64_t>> rowids, chunk_rowids(chunk));
  result.all_rowids = rowids;
  bool any_deleted = chunk.deleted_count > 0;
  if (!any_deleted && !deletes_->empty()) {
    auto first = deletes_->lower_bound(chunk.min_rowid);
    any_deleted = first != deletes_->end() && *first <= chunk.max_rowid;
  }
  if (!any_deleted) {
    result.visible = rowids->size();
  } else {
    result.positions.reserve(rowids->size());
    for (size_t i = 0; i < rowids->size(); ++i) {
      if (chunk.is_deleted(i) || deletes_->contains((*rowids)[i])) continue;
      result.positions.push_back(static_cast<uint32_t>(i));
    }
    result.visible = result.positions.size();
  }
  result.columns.resize(schema_.columns.size());
  for (size_t c = 0; c < schema_.columns.size(); ++c) {
    bool used = c < 63 ? (column_mask >> c) & 1
                       : ((column_mask >> 63) & 1) != 0 &&
                             (eager_columns == nullptr ||
                              std::find(eager_columns->begin(), eager_columns->end(), static_cast<int>(c)) != eager_columns->end());
    if (!used || static_cast<int>(c) == schema_.rowid_alias) continue;
    STRATA_ASSIGN_OR_RETURN(result.columns[c], chunk_column(chunk, static_cast<int>(c)));
  }
  return result;
}

Result<std::shared_ptr<const ColumnVector>> ColumnarTable::chunk_column(const ChunkInfo& chunk, int column) {
  ChunkCache::Entry& entry = cache_.entry(chunk.chunk_id);  // charging it never evicts it
  auto found = entry.columns.find(column);
  if (found != entry.columns.end()) return found->second;
  Result<ColumnVector> read = chunk.tier ? cold_.read_column(chunk, column)
                                        : store_.read_column(chunk.chunk_id, column, chunk.row_count);
  STRATA_ASSIGN_OR_RETURN(ColumnVector all, std::move(read));
  if (all.size() != static_cast<size_t>(chunk.row_count)) {
    return Status::corruption(str_cat("columnar: table ", name(), ": chunk ", std::to_string(chunk.chunk_id), " column ",
                                      std::to_string(column), " holds ", std::to_string(all.size()), " values for ",
                                      std::to_string(chunk.row_count), " rows"));
  }
  size_t bytes = all.memory_bytes();
  ++last_scan_.columns_decoded;
  last_scan_.bytes_decoded += bytes;
  auto shared = std::make_shared<const ColumnVector>(std::move(all));
  entry.columns[column] = shared;
  cache_.charge(chunk.chunk_id, bytes);
  return shared;
}

Status ColumnarTable::write_chunk(const Value& partition, const std::vector<int64_t>& rowids,
                                  const std::vector<ColumnVector>& columns) {
  STRATA_ASSIGN_OR_RETURN(int64_t chunk_id, store_.write_chunk(partition, rowids, columns));
  cache_.erase(chunk_id);  // a chunk id can be reused after its chunk was dropped
  if (stored_rowid_bound_) stored_rowid_bound_ = std::max(*stored_rowid_bound_, rowids.back());
  return Status::ok();
}

Value ColumnarTable::partition_of(const WriteBuffer& buffer, uint32_t position) const {
  if (!schema_.partition) return Value();
  if (schema_.partition->column == schema_.rowid_alias) {
    return partition_key(*schema_.partition, ValueView::of_integer(buffer.rowid(position)));
  }
  return partition_key(*schema_.partition, buffer.value(schema_.partition->column, position));
}

std::optional<Value> ColumnarTable::as_one_chunk(const WriteBuffer& buffer) const {
  if (!buffer.ascending() || buffer.live_rows() != buffer.appended_rows() || buffer.appended_rows() == 0 ||
      buffer.appended_rows() > static_cast<size_t>(schema_.chunk_rows)) {
    return std::nullopt;
  }
  Value partition = partition_of(buffer, 0);
  if (schema_.partition) {
    std::string key = partition_map_key(partition);
    for (uint32_t position = 1; position < buffer.appended_rows(); ++position) {
      if (partition_map_key(partition_of(buffer, position)) != key) return std::nullopt;
    }
  }
  return partition;
}

Status ColumnarTable::seal_full_buffer() {
  // Deletions first, always: buffered deletions name stored rows, and must never hide a newer
  // version of the same rowid that is about to be stored; so with any, flush() does it all.
  std::optional<Value> partition;
  if (deletes_->empty()) partition = as_one_chunk(*inserts_);
  if (!partition) return flush();
  STRATA_RETURN_IF_ERROR(settle());  // one chunk in flight at a time
  SealedChunk sealed;
  sealed.rows = inserts_;
  sealed.partition = std::move(*partition);
  try {
    sealed.encoding = std::async(std::launch::async, [encoding = store_.chunk_encoding(), rows = sealed.rows] {
      return encode_chunk(encoding, rows->rowids(), rows->columns(), false);
    });
  } catch (const std::system_error&) {
    return flush();  // no thread to be had: encode here and now
  }
  sealed_ = std::move(sealed);
  inserts_ = std::make_shared<WriteBuffer>(schema_.columns.size());
  inserts_->reserve(static_cast<size_t>(schema_.chunk_rows));  // the INSERT is likely to fill it again
  return Status::ok();
}

Status ColumnarTable::settle() {
  if (!sealed_) return Status::ok();
  PreserveLastInsertRowid preserve(db_);
  SealedChunk& sealed = *sealed_;
  if (!sealed.encoded) {
    if (sealed.encoding.valid()) {
      sealed.encoded = sealed.encoding.get();  // rethrows what the helper threw; then the next try encodes here
    } else {
      sealed.encoded = encode_chunk(store_.chunk_encoding(), sealed.rows->rowids(), sealed.rows->columns(), true);
    }
  }
  // On failure the chunk stays sealed, so that nothing is lost if the transaction goes on.
  STRATA_ASSIGN_OR_RETURN(int64_t chunk_id, store_.store_chunk(sealed.partition, *sealed.encoded));
  cache_.erase(chunk_id);  // a chunk id can be reused after its chunk was dropped
  if (stored_rowid_bound_) stored_rowid_bound_ = std::max(*stored_rowid_bound_, sealed.encoded->max_rowid);
  sealed_.reset();
  return merge_small_chunks();
}

bool ColumnarTable::sealed_holds(int64_t rowid) const {
  if (!sealed_) return false;
  const std::vector<int64_t>& rowids = sealed_->rows->rowids();
  return std::binary_search(rowids.begin(), rowids.end(), rowid);
}

Status ColumnarTable::flush_inserts() {
  const WriteBuffer& buffer = *inserts_;
  if (buffer.appended_rows() == 0) return Status::ok();
  if (buffer.live_rows() > 0) {
    auto partition_of = [&](uint32_t position) { return this->partition_of(buffer, position); };
    const auto chunk_rows = static_cast<size_t>(schema_.chunk_rows);
    // The common case is written straight from the buffer's vectors.
    if (std::optional<Value> partition = as_one_chunk(buffer)) {
      STRATA_RETURN_IF_ERROR(write_chunk(*partition, buffer.rowids(), buffer.columns()));
    } else {
      // Group by partition, keeping rowid order within each.
      std::map<std::string, std::pair<Value, std::vector<uint32_t>>> partitions;
      for (uint32_t position : buffer.live_positions_in_rowid_order()) {
        Value key = partition_of(position);
        auto& group = partitions[partition_map_key(key)];
        if (group.second.empty()) group.first = std::move(key);
        group.second.push_back(position);
      }
      for (auto& [map_key, group] : partitions) {
        const std::vector<uint32_t>& positions = group.second;
        for (size_t start = 0; start < positions.size(); start += chunk_rows) {
          std::span<const uint32_t> slice(positions.data() + start, std::min(positions.size() - start, chunk_rows));
          std::vector<int64_t> rowids;
          rowids.reserve(slice.size());
          for (uint32_t position : slice) rowids.push_back(buffer.rowid(position));
          STRATA_RETURN_IF_ERROR(write_chunk(group.first, rowids, gather_columns(buffer, slice)));
        }
      }
    }
  }
  inserts_ = std::make_shared<WriteBuffer>(schema_.columns.size());
  return merge_small_chunks();
}

Status ColumnarTable::drop_chunk(const ChunkInfo& chunk) {
  cache_.erase(chunk.chunk_id);
  return store_.delete_chunk(chunk.chunk_id);
}

Status ColumnarTable::flush_deletes() {
  if (deletes_->empty()) return Status::ok();
  const RowidSet& deletes = *deletes_;
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks,
                          store_.chunks_overlapping(*deletes.begin(), *deletes.rbegin()));
  for (ChunkInfo& chunk : chunks) {
    auto first = deletes.lower_bound(chunk.min_rowid);
    if (first == deletes.end() || *first > chunk.max_rowid) continue;
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<int64_t>> rowid_list, chunk_rowids(chunk));
    const std::vector<int64_t>& rowids = *rowid_list;
    std::string bitmap = chunk.deleted;
    int64_t deleted_count = chunk.deleted_count;
    for (auto it = first; it != deletes.end() && *it <= chunk.max_rowid; ++it) {
      auto found = std::lower_bound(rowids.begin(), rowids.end(), *it);
      if (found == rowids.end() || *found != *it) continue;
      size_t row = static_cast<size_t>(found - rowids.begin());
      if (chunk.is_deleted(row)) continue;  // an older copy; the live one is in another chunk
      bitmap = set_bit(std::move(bitmap), row, rowids.size());
      chunk.deleted = bitmap;
      ++deleted_count;
    }
    if (deleted_count == chunk.deleted_count) continue;
    if (deleted_count == chunk.row_count && open_cursors_ == 0) {
      STRATA_RETURN_IF_ERROR(drop_chunk(chunk));
    } else {
      STRATA_RETURN_IF_ERROR(store_.set_deleted(chunk.chunk_id, bitmap, deleted_count));
      // A scan in progress may still read it: dropped once none is (drop_emptied_chunks()).
      if (deleted_count == chunk.row_count) emptied_chunks_.insert(chunk.chunk_id);
    }
  }
  deletes_ = std::make_shared<RowidSet>();
  return Status::ok();
}

Status ColumnarTable::drop_emptied_chunks() {
  if (open_cursors_ > 0) return Status::ok();
  for (int64_t chunk_id : emptied_chunks_) {
    cache_.erase(chunk_id);
    STRATA_RETURN_IF_ERROR(store_.delete_chunk(chunk_id));
  }
  emptied_chunks_.clear();
  return Status::ok();
}

Status ColumnarTable::flush() {
  PreserveLastInsertRowid preserve(db_);
  STRATA_RETURN_IF_ERROR(settle());
  // Deletions first: they refer to stored rows, and a buffered insert may reuse a deleted rowid.
  STRATA_RETURN_IF_ERROR(flush_deletes());
  STRATA_RETURN_IF_ERROR(drop_emptied_chunks());
  STRATA_RETURN_IF_ERROR(flush_inserts());
  if (schema_.autoincrement && autoincrement_high_ > 0) {
    STRATA_ASSIGN_OR_RETURN(int64_t sequence, autoincrement_sequence());
    if (sequence > *persisted_sequence_) {
      STRATA_RETURN_IF_ERROR(store_.set_meta("autoincrement", ValueView::of_integer(sequence)));
      persisted_sequence_ = sequence;
    }
  }
  return Status::ok();
}

Status ColumnarTable::regroup_rows(const std::vector<ChunkInfo>& chunks, const RegroupedChunk& emit) {
  std::vector<ChunkRows> sources;
  struct RowSource {
    int64_t rowid;
    uint32_t source;
    uint32_t row;
  };
  std::vector<RowSource> rows;
  for (const ChunkInfo& chunk : chunks) {
    STRATA_ASSIGN_OR_RETURN(ChunkRows loaded, read_chunk_rows(chunk, ~uint64_t{0}));
    for (size_t i = 0; i < loaded.size(); ++i) {
      rows.push_back({loaded.rowid(i), static_cast<uint32_t>(sources.size()), static_cast<uint32_t>(i)});
    }
    sources.push_back(std::move(loaded));
  }
  std::sort(rows.begin(), rows.end(), [](const RowSource& a, const RowSource& b) { return a.rowid < b.rowid; });
  const auto chunk_rows = static_cast<size_t>(schema_.chunk_rows);
  for (size_t start = 0; start < rows.size(); start += chunk_rows) {
    size_t end = std::min(rows.size(), start + chunk_rows);
    std::vector<int64_t> rowids;
    std::vector<ColumnVector> columns(schema_.columns.size());
    for (size_t i = start; i < end; ++i) {
      const RowSource& row = rows[i];
      rowids.push_back(row.rowid);
      for (size_t c = 0; c < columns.size(); ++c) {
        if (static_cast<int>(c) == schema_.rowid_alias) {
          columns[c].append_null();
        } else {
          columns[c].append(sources[row.source].value(static_cast<int>(c), row.row));
        }
      }
    }
    STRATA_RETURN_IF_ERROR(emit(rowids, columns));
  }
  return Status::ok();
}

Status ColumnarTable::merge_chunks(const Value& partition, const std::vector<ChunkInfo>& chunks) {
  STRATA_RETURN_IF_ERROR(regroup_rows(chunks, [&](std::vector<int64_t>& rowids, std::vector<ColumnVector>& columns) {
    return write_chunk(partition, rowids, columns);
  }));
  for (const ChunkInfo& chunk : chunks) STRATA_RETURN_IF_ERROR(drop_chunk(chunk));
  return Status::ok();
}

Status ColumnarTable::merge_small_chunks() {
  if (open_cursors_ > 0) return Status::ok();
  while (true) {
    STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.list_chunks());
    // partition -> class -> chunks
    std::map<std::string, std::map<int, std::vector<ChunkInfo>>> classes;
    std::map<std::string, Value> partition_values;
    for (ChunkInfo& chunk : chunks) {
      if (chunk.tier || chunk.live_rows() >= schema_.chunk_rows) continue;
      std::string key = partition_map_key(chunk.partition);
      partition_values[key] = chunk.partition;
      classes[key][merge_class(chunk.live_rows())].push_back(std::move(chunk));
    }
    bool merged = false;
    for (auto& [key, by_class] : classes) {
      for (auto& [level, members] : by_class) {
        if (static_cast<int64_t>(members.size()) < kMergeFanout) continue;
        STRATA_RETURN_IF_ERROR(merge_chunks(partition_values[key], members));
        merged = true;
        break;
      }
      if (merged) break;
    }
    if (!merged) return Status::ok();
  }
}

Result<int64_t> ColumnarTable::compact() {
  PreserveLastInsertRowid preserve(db_);
  STRATA_RETURN_IF_ERROR(flush());
  if (open_cursors_ > 0) {
    return Status::busy(str_cat("columnar_compact: table ", name(), " has a scan in progress"));
  }
  STRATA_RETURN_IF_ERROR(store_.upgrade_format());
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.list_chunks());
  refresh_cache();  // the listing above holds the read lock: the data version is current
  std::map<std::string, std::pair<Value, std::vector<ChunkInfo>>> partitions;
  for (ChunkInfo& chunk : chunks) {
    if (chunk.tier) continue;
    if (chunk.deleted_count == 0 && chunk.row_count >= schema_.chunk_rows) continue;
    auto& group = partitions[partition_map_key(chunk.partition)];
    group.first = chunk.partition;
    group.second.push_back(std::move(chunk));
  }
  int64_t rewritten = 0;
  for (auto& [key, group] : partitions) {
    // A single full-enough chunk without deletions is already as compact as it gets.
    if (group.second.size() == 1 && group.second[0].deleted_count == 0) continue;
    rewritten += static_cast<int64_t>(group.second.size());
    STRATA_RETURN_IF_ERROR(merge_chunks(group.first, group.second));
  }
  return rewritten;
}

Status ColumnarTable::on_begin() {
  max_rowid_.reset();
  forget_replaced_rows();
  // SQLite has taken this transaction's locks by now, so the data version is current.
  refresh_cache();
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
  sealed_.reset();
  return store_.drop_tables();
}

Status ColumnarTable::rename(const std::string& new_name) {
  STRATA_RETURN_IF_ERROR(settle());
  std::string old_name = name();
  STRATA_RETURN_IF_ERROR(store_.rename_tables(new_name));
  registry_->rename(schema_name_, old_name, name(), this);
  return Status::ok();
}

Result<bool> ColumnarTable::looks_low_cardinality(int column) {
  auto known = low_cardinality_.find(column);
  if (known != low_cardinality_.end()) return known->second;
  bool low = false;
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.list_chunks());
  if (!chunks.empty() && !chunks.front().tier) {
    STRATA_ASSIGN_OR_RETURN(auto prefixes, store_.column_blob_prefixes(chunks.front().chunk_id));
    for (const auto& blob : prefixes) {
      if (blob.column != column) continue;
      Result<ColumnBlobInfo> info = inspect_column_prefix(blob.prefix, static_cast<uint64_t>(blob.stored_size));
      if (info.is_ok()) {
        auto codec = static_cast<CodecId>(info->codec);
        low = codec == CodecId::kConstant || codec == CodecId::kRunLength || codec == CodecId::kDictionary;
      }
    }
  }
  low_cardinality_[column] = low;
  return low;
}

Result<int64_t> ColumnarTable::estimated_rows() {
  STRATA_ASSIGN_OR_RETURN(int64_t stored, store_.total_live_rows());
  int64_t sealed = sealed_ ? static_cast<int64_t>(sealed_->rows->live_rows()) : 0;
  return stored + sealed + static_cast<int64_t>(inserts_->live_rows()) - static_cast<int64_t>(deletes_->size());
}

Result<std::string> ColumnarTable::check() {
  STRATA_RETURN_IF_ERROR(settle());
  // Verify what is stored, not what a cache remembers.
  cache_.clear();
  cold_.forget();
  std::vector<std::string> problems;
  auto report = [&](std::string problem) {
    if (problems.size() < 100) problems.push_back(std::move(problem));
  };
  std::vector<std::string> damaged_chunks;
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.list_chunks(&damaged_chunks));
  for (std::string& problem : damaged_chunks) report(std::move(problem));
  std::set<int64_t> live;
  int64_t live_count = 0;
  for (const ChunkInfo& chunk : chunks) {
    std::string where = str_cat("chunk ", std::to_string(chunk.chunk_id), ": ");
    if (chunk.row_count <= 0) report(where + "has no rows");
    if (chunk.deleted_count < 0 || chunk.deleted_count > chunk.row_count) {
      report(where + "deleted_count out of range");
    }
    Result<std::vector<int64_t>> rowids = store_.read_rowids(chunk);
    if (!rowids.is_ok()) {
      report(rowids.status().message());
      continue;
    }
    for (size_t i = 0; i < rowids->size(); ++i) {
      if (chunk.is_deleted(i)) continue;
      if (!live.insert((*rowids)[i]).second) {
        report(str_cat(where, "rowid ", std::to_string((*rowids)[i]), " is live in more than one chunk"));
      }
      ++live_count;
    }
    for (size_t c = 0; c < schema_.columns.size(); ++c) {
      if (static_cast<int>(c) == schema_.rowid_alias) continue;
      // A cold chunk's column comes from its object (fetched, through the local cache).
      Result<ColumnVector> values = chunk.tier ? cold_.read_column(chunk, static_cast<int>(c))
                                               : store_.read_column(chunk.chunk_id, static_cast<int>(c), chunk.row_count);
      if (!values.is_ok()) {
        report(values.status().message());
        continue;
      }
      if (values->size() != rowids->size()) {
        report(str_cat(where, "column ", schema_.columns[c].name, " has ", std::to_string(values->size()),
                       " values for ", std::to_string(rowids->size()), " rows"));
        continue;
      }
      // A bloom filter that misses a stored value would hide rows: every value must be in it.
      Result<std::optional<BloomFilter>> bloom = store_.read_bloom(chunk.chunk_id, static_cast<int>(c));
      if (!bloom.is_ok()) {
        report(bloom.status().message());
      } else if (*bloom) {
        for (size_t row = 0; row < values->size(); ++row) {
          if (values->type(row) != ValueType::kNull && !(*bloom)->may_contain(values->get(row))) {
            report(str_cat(where, "column ", schema_.columns[c].name, ": bloom filter misses row ", std::to_string(row)));
            break;
          }
        }
      }
      // A zone map that excludes a stored value would hide rows too.
      Result<std::optional<ZoneMap>> zone = store_.read_zone(chunk.chunk_id, static_cast<int>(c));
      if (!zone.is_ok()) {
        report(zone.status().message());
      } else if (*zone) {
        ZoneMap actual = compute_zone_map(*values);
        bool consistent = (*zone)->rows == actual.rows && (*zone)->nulls == actual.nulls && (*zone)->types == actual.types &&
                          (*zone)->min.has_value() == actual.min.has_value();
        if (consistent && actual.min) {
          consistent = same_value((*zone)->min->view(), actual.min->view()) && same_value((*zone)->max->view(), actual.max->view());
        }
        if (!consistent) report(str_cat(where, "column ", schema_.columns[c].name, ": zone map disagrees with the values"));
      }
    }
  }
  // Every non-NULL key of a live row is in its unique index, and nothing else is.
  for (size_t k = 0; k < schema_.key_indexes.size(); ++k) {
    STRATA_ASSIGN_OR_RETURN(int64_t entries, store_.key_count(k));
    int64_t expected = 0;
    for (const ChunkInfo& chunk : chunks) {
      Result<ChunkRows> rows = read_chunk_rows(chunk, ~uint64_t{0});
      if (!rows.is_ok()) continue;  // reported above
      for (size_t i = 0; i < rows->size(); ++i) {
        std::vector<ValueView> key;
        bool has_null = false;
        for (int column : schema_.key_indexes[k].columns) {
          ValueView value = rows->value(column, i);
          has_null |= value.type == ValueType::kNull;
          key.push_back(value);
        }
        if (has_null) continue;
        ++expected;
        STRATA_ASSIGN_OR_RETURN(bool indexed, store_.key_entry_exists(k, rows->rowid(i), key));
        if (!indexed) {
          report(str_cat("unique index ", std::to_string(k), " has no entry for rowid ",
                         std::to_string(rows->rowid(i))));
        } else if (schema_.key_indexes[k].unique) {
          // Only a UNIQUE key's holders are few enough to list per row.
          STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> holders, store_.key_lookup(k, key, std::nullopt));
          if (holders.size() > 1) {
            report(str_cat("unique index ", std::to_string(k), ": the key of rowid ",
                           std::to_string(rows->rowid(i)), " is held by ", std::to_string(holders.size()), " rows"));
          }
        }
      }
    }
    // Buffered rows are indexed but not yet in chunks.
    for (uint32_t position : inserts_->live_positions_in_rowid_order()) {
      bool has_null = false;
      for (int column : schema_.key_indexes[k].columns) has_null |= inserts_->value(column, position).type == ValueType::kNull;
      if (!has_null) ++expected;
    }
    if (entries != expected) {
      report(str_cat("unique index ", std::to_string(k), " has ", std::to_string(entries),
                     " entries, the table has ", std::to_string(expected), " keys"));
    }
  }
  if (problems.empty()) return std::string("ok");
  std::string text;
  for (const std::string& problem : problems) text += str_cat(text.empty() ? "" : "\n", problem);
  return text;
}

}  // namespace strata::columnar
