// ColumnarTable: xUpdate — rows inserted, updated and deleted, with SQLite's constraint and
// conflict semantics (NOT NULL, UNIQUE, INTEGER PRIMARY KEY, OR REPLACE/IGNORE/…), DEFAULT values
// and rowid allocation.
#include "vtab/columnar/table.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <system_error>

#include "codecs/codecs.h"
#include "codecs/value_encoding.h"
#include "ext/module_arguments.h"
#include "ext/sql_tokenizer.h"
#include "ext/str_cat.h"
#include "vtab/columnar/partition.h"
#include "vtab/columnar/values.h"
#include "vtab/timeseries/rollup_maintenance.h"

namespace strata::columnar {

namespace {


// Buffered rows are written out at chunk_rows rows or at this many bytes, whichever comes first,
// so that one column blob stays far below SQLite's blob size limit.
constexpr size_t kMaxPendingBytes = 64u << 20;

Status constraint_failed(std::string message) {
  // Plain SQLITE_CONSTRAINT: with SQLITE_VTAB_CONSTRAINT_SUPPORT, SQLite applies the statement's
  // conflict mode (ABORT, FAIL, IGNORE, ROLLBACK) only to exactly this code.
  return Status::constraint(std::move(message)).with_sqlite_code(SQLITE_CONSTRAINT);
}

Status datatype_mismatch() {
  return Status(StatusCode::kError, "datatype mismatch").with_sqlite_code(SQLITE_MISMATCH);
}

}  // namespace

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
  std::vector<Value> values;
  STRATA_ASSIGN_OR_RETURN(bool live, row_values(rowid, index.columns, values));
  if (!live) return damaged();
  for (size_t i = 0; i < index.columns.size(); ++i) {
    std::optional<Collation> collation = builtin_collation(index.collations[i]);
    if (!collation) continue;  // only SQLite knows how to compare these
    if (compare_values(values[i].view(), key[i], *collation) != 0) return damaged();
  }
  return Status::ok();
}

Result<bool> ColumnarTable::row_values(int64_t rowid, const std::vector<int>& columns, std::vector<Value>& out) {
  out.clear();
  auto from_buffer = [&](const WriteBuffer& buffer, uint32_t position) {
    for (int column : columns) {
      out.emplace_back(column == schema_.rowid_alias ? ValueView::of_integer(rowid) : buffer.value(column, position));
    }
    return true;
  };
  if (std::optional<uint32_t> position = inserts_->find(rowid)) return from_buffer(*inserts_, *position);
  if (sealed_) {
    if (std::optional<uint32_t> position = sealed_->rows->find(rowid)) return from_buffer(*sealed_->rows, *position);
  }
  if (deletes_->contains(rowid)) return false;
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.chunks_overlapping(rowid, rowid));
  for (const ChunkInfo& chunk : chunks) {
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const ChunkRowids> rowids, chunk_rowids(chunk));
    std::optional<size_t> row = rowids->find(rowid);
    if (!row || chunk.is_deleted(*row)) continue;
    for (int column : columns) {
      if (column == schema_.rowid_alias) {
        out.emplace_back(ValueView::of_integer(rowid));
        continue;
      }
      STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const ColumnVector> values, chunk_column(chunk, column));
      out.emplace_back(values->get(*row));
    }
    return true;
  }
  return false;
}

Status ColumnarTable::report_removed_row(int64_t rowid) {
  const std::vector<int>& columns = rollups_->columns_read();
  STRATA_ASSIGN_OR_RETURN(bool live, row_values(rowid, columns, removed_values_));
  if (!live) return Status::ok();
  rollup_row_.assign(schema_.columns.size(), ValueView{});
  for (size_t i = 0; i < columns.size(); ++i) rollup_row_[columns[i]] = removed_values_[i].view();
  return rollups_->row_changed(-1, rollup_row_);
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
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const ChunkRowids> rowids, chunk_rowids(chunk));
    std::optional<size_t> row = rowids->find(rowid);
    if (row && !chunk.is_deleted(*row)) return true;
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
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const ChunkRowids> rowids, chunk_rowids(chunk));
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
  if (rollups_ && !rollups_->empty()) STRATA_RETURN_IF_ERROR(report_removed_row(rowid));
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
  if (rollups_ && !rollups_->empty()) {  // first: a row no rollup can take is not inserted
    rollup_row_.resize(values.size());
    for (size_t c = 0; c < values.size(); ++c) rollup_row_[c] = values[c].view();
    if (schema_.rowid_alias >= 0) rollup_row_[schema_.rowid_alias] = ValueView::of_integer(rowid);
    STRATA_RETURN_IF_ERROR(rollups_->row_changed(+1, rollup_row_));
  }
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

}  // namespace strata::columnar
