#include "vtab/graph/tiered_rows.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>

#include "ext/civil_time.h"
#include "ext/str_cat.h"
#include "tiering/flush_owner.h"
#include "tiering/partition_mover.h"
#include "tiering/partition_object.h"
#include "tiering/store_url.h"
#include "vtab/columnar/storage.h"
#include "vtab/columnar/values.h"

namespace strata::graph {

namespace {

constexpr int64_t kDayMs = 86'400'000;
// Row groups decoded and kept per table and connection (a scan over cold rows reads each group
// once; a lookup of a recently read row decodes nothing).
constexpr size_t kCachedGroups = 16;
// Rows created outside years 1–9999 (unix ms) stay hot: their months have no Hive name DuckDB
// parses, and month arithmetic on them could overflow.
constexpr int64_t kFirstTieredMs = -62'135'596'800'000;  // 0001-01-01
constexpr int64_t kLastTieredMs = 253'402'300'799'999;   // 9999-12-31T23:59:59.999

int64_t month_index_of_ms(int64_t ms) {
  const CivilDate date = civil_from_days(floor_div(ms, kDayMs));
  return date.year * 12 + (date.month - 1);
}

int64_t month_start_ms(int64_t month_index) {
  const int64_t year = floor_div(month_index, 12);
  const int month = static_cast<int>(month_index - year * 12) + 1;
  return days_from_civil(year, month, 1) * kDayMs;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Hashes a row's columns as SQLite returns them (type and bytes).
void hash_row(XXH64_state_t* state, const Statement& row) {
  for (int c = 0; c < row.column_count(); ++c) {
    const int type = row.column_type(c);
    XXH64_update(state, &type, sizeof type);
    if (type == SQLITE_INTEGER) {
      const int64_t value = row.column_int64(c);
      XXH64_update(state, &value, sizeof value);
    } else if (type == SQLITE_FLOAT) {
      const double value = row.column_double(c);
      XXH64_update(state, &value, sizeof value);
    } else if (type != SQLITE_NULL) {
      const std::span<const std::byte> bytes = row.column_blob(c);
      XXH64_update(state, bytes.data(), bytes.size());
    }
  }
}

class HashState {
 public:
  HashState() : state_(XXH64_createState()) { XXH64_reset(state_, 0); }
  ~HashState() { XXH64_freeState(state_); }
  HashState(const HashState&) = delete;
  HashState& operator=(const HashState&) = delete;
  XXH64_state_t* get() { return state_; }
  uint64_t digest() const { return XXH64_digest(state_); }

 private:
  XXH64_state_t* state_;
};

Result<parquet::FileReader> reader_of_footer(const Statement& row, int footer_column, int size_column) {
  const std::span<const std::byte> footer = row.column_blob(footer_column);
  return parquet::FileReader::from_metadata(std::string_view(reinterpret_cast<const char*>(footer.data()), footer.size()),
                                            static_cast<uint64_t>(row.column_int64(size_column)));
}

}  // namespace

Status check_tier_location(std::string_view module, std::string_view tier) {
  if (tiering::is_tier_location(tier)) return Status::ok();
  return Status::error(str_cat(module, ": option 'tier' must be 'file:DIR' or 's3://bucket/prefix', got '", tier, "'"));
}

std::string objects_table_sql(const std::string& objects_table) {
  return str_cat("CREATE TABLE ", objects_table,
                 "(object_id INTEGER PRIMARY KEY AUTOINCREMENT, object_key TEXT NOT NULL UNIQUE, partition TEXT NOT NULL,"
                 " state TEXT NOT NULL, owner TEXT, size INTEGER, etag TEXT, footer BLOB, row_count INTEGER,"
                 " stale_rows INTEGER NOT NULL DEFAULT 0, flushed_at INTEGER);");
}

Status read_tier_options(sqlite3* db, const std::string& config_table, std::string& tier, int64_t& hot_months) {
  STRATA_ASSIGN_OR_RETURN(Statement read, Statement::prepare(db, str_cat("SELECT key, value FROM ", config_table,
                                                                         " WHERE key IN ('tier', 'hot_months')")));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, read.step());
    if (!row) break;
    if (read.column_text(0) == "tier") tier = std::string(read.column_text(1));
    if (read.column_text(0) == "hot_months") hot_months = read.column_int64(1);
  }
  return Status::ok();
}

std::string month_text(int64_t month_index) {
  const int64_t year = floor_div(month_index, 12);
  char text[32];
  std::snprintf(text, sizeof text, "%04lld-%02d", static_cast<long long>(year), static_cast<int>(month_index - year * 12) + 1);
  return text;
}

bool PartitionSummary::already_cold() const {
  if (hot_rows > 0 || objects.size() > 1) return false;
  if (objects.empty()) return rows == 0;
  return objects.front().stale_rows == 0 && objects.front().row_count == rows;
}

int64_t PartitionSummary::first_ms() const { return month_start_ms(month); }
int64_t PartitionSummary::end_ms() const { return month_start_ms(month + 1); }

// ---- reading cold rows -----------------------------------------------------------------------

ColdRows::ColdRows(sqlite3* db, std::string schema_name, std::string objects_table, std::string tier, std::string who,
                   std::vector<std::string> columns)
    : db_(db),
      objects_table_(std::move(objects_table)),
      who_(who),
      columns_(std::move(columns)),
      tier_(db, std::move(schema_name), std::move(tier), std::move(who)) {}

Status ColdRows::cold_error(const OpenObject& object, const Status& cause) const {
  return Status(cause.code(), str_cat(who_, ": partition ", object.partition, ": object ", tiering::printable_key(object.key), ": ",
                                      cause.message()));
}

Result<const ColdRows::OpenObject*> ColdRows::open_object(int64_t object_id) {
  auto found = objects_.find(object_id);
  if (found != objects_.end()) return found->second.get();
  STRATA_ASSIGN_OR_RETURN(Statement read, Statement::prepare(db_, str_cat("SELECT object_key, partition, state, etag, size, footer FROM ",
                                                                          objects_table_, " WHERE object_id = ?1")));
  STRATA_RETURN_IF_ERROR(read.bind_int64(1, object_id));
  STRATA_ASSIGN_OR_RETURN(bool exists, read.step());
  const std::string where = str_cat(who_, ": object ", std::to_string(object_id));
  if (!exists) return Status::corruption(str_cat(where, " is named by a cold row but not recorded in ", objects_table_));
  if (read.column_text(2) != "live") {
    return Status::corruption(str_cat(where, " (", read.column_text(0), ") is named by a cold row but is ", read.column_text(2)));
  }
  Result<parquet::FileReader> reader = reader_of_footer(read, 5, 4);
  if (!reader.is_ok()) {
    return Status::corruption(str_cat(where, " (", read.column_text(0), "): its recorded footer is damaged: ", reader.status().message()));
  }
  auto object = std::make_unique<OpenObject>(OpenObject{std::string(read.column_text(0)), std::string(read.column_text(3)),
                                                        std::string(read.column_text(1)), std::move(reader).value(), {}, {}});
  int64_t rows = 0;
  for (size_t group = 0; group < object->reader.row_groups(); ++group) {
    rows += object->reader.row_group_rows(group);
    object->group_ends.push_back(rows);
  }
  const std::vector<parquet::Column>& columns = object->reader.columns();
  for (const std::string& name : columns_) {
    auto column = std::find_if(columns.begin(), columns.end(), [&](const parquet::Column& c) { return c.name == name; });
    if (column == columns.end()) return cold_error(*object, Status::corruption(str_cat("it has no column ", name)));
    object->columns.push_back(static_cast<int>(column - columns.begin()));
  }
  const OpenObject* opened = object.get();
  objects_[object_id] = std::move(object);
  return opened;
}

Result<const ColdRows::Group*> ColdRows::read_group(int64_t object_id, const OpenObject& object, size_t group) {
  for (auto it = groups_.begin(); it != groups_.end(); ++it) {
    if (it->object_id == object_id && it->group == group) {
      groups_.splice(groups_.begin(), groups_, it);
      return &groups_.front();
    }
  }
  // The cold columns are adjacent column chunks: one ranged read covers them all, and each
  // column is decoded from it.
  const parquet::FileReader& reader = object.reader;
  uint64_t begin = UINT64_MAX, end = 0;
  for (int column : object.columns) {
    for (size_t leaf : reader.columns()[static_cast<size_t>(column)].leaves) {
      Result<parquet::ByteRange> range = reader.chunk_range(group, leaf);
      if (!range.is_ok()) return cold_error(object, range.status());
      begin = std::min(begin, range->offset);
      end = std::max(end, range->offset + range->length);
    }
  }
  STRATA_ASSIGN_OR_RETURN(parquet::RangeReader fetch, tier_.reader(object.key, object.etag, counters_[object.partition]));
  Result<std::string> bytes = fetch(begin, end - begin);
  if (!bytes.is_ok()) return cold_error(object, bytes.status());
  const std::string& fetched = *bytes;
  parquet::RangeReader within = [&](uint64_t offset, uint64_t length) -> Result<std::string> {
    if (offset < begin || offset + length > end) return Status::internal("graph: a cold read outside the range fetched");
    return fetched.substr(offset - begin, length);
  };
  Group read{object_id, group, {}};
  for (int column : object.columns) {
    Result<ColumnVector> values = reader.read_column(within, group, static_cast<size_t>(column));
    if (!values.is_ok()) return cold_error(object, values.status());
    read.columns.push_back(std::move(values).value());
  }
  groups_.push_front(std::move(read));
  if (groups_.size() > kCachedGroups) groups_.pop_back();
  return &groups_.front();
}

Result<std::span<const ValueView>> ColdRows::read(const ColdPlace& place) {
  STRATA_ASSIGN_OR_RETURN(const OpenObject* object, open_object(place.object_id));
  const auto& ends = object->group_ends;
  const auto group_end = std::upper_bound(ends.begin(), ends.end(), place.row);
  if (place.row < 0 || group_end == ends.end()) {
    return cold_error(*object, Status::corruption(str_cat("it has no row ", std::to_string(place.row))));
  }
  const auto group = static_cast<size_t>(group_end - ends.begin());
  const int64_t first = group == 0 ? 0 : ends[group - 1];
  STRATA_ASSIGN_OR_RETURN(const Group* values, read_group(place.object_id, *object, group));
  const auto row = static_cast<size_t>(place.row - first);
  row_.clear();
  for (const ColumnVector& column : values->columns) {
    if (row >= column.size()) {
      return cold_error(*object, Status::corruption(str_cat("row group ", std::to_string(group), " is shorter than its footer says")));
    }
    row_.push_back(column.get(row));
  }
  return std::span<const ValueView>(row_);
}

// ---- the partitions --------------------------------------------------------------------------

namespace {

// Every partition: of the rows (by group and month of created_at) and of the live objects.
Result<std::map<std::string, PartitionSummary>> list_partitions(TieredRows& table) {
  std::map<std::string, PartitionSummary> partitions;
  std::map<std::pair<std::optional<std::string>, int64_t>, PartitionSummary*> by_group_month;
  STRATA_ASSIGN_OR_RETURN(Statement rows, table.listing());
  STRATA_RETURN_IF_ERROR(rows.bind_int64(1, kFirstTieredMs));
  STRATA_RETURN_IF_ERROR(rows.bind_int64(2, kLastTieredMs));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, rows.step());
    if (!row) break;
    std::optional<std::string> group;
    if (!rows.column_is_null(0)) group = std::string(rows.column_text(0));
    const int64_t month = month_index_of_ms(rows.column_int64(1));
    auto found = by_group_month.find({group, month});
    if (found == by_group_month.end()) {
      std::string name = table.partition_name(group, month);
      PartitionSummary& summary = partitions[name];
      summary.name = name;
      summary.group = group;
      summary.month = month;
      summary.has_rows = true;
      found = by_group_month.emplace(std::make_pair(std::move(group), month), &summary).first;
    }
    ++found->second->rows;
    if (rows.column_int64(2) != 0) ++found->second->hot_rows;
  }
  STRATA_ASSIGN_OR_RETURN(Statement objects, Statement::prepare(table.db(), str_cat("SELECT object_id, object_key, partition, etag, size, row_count,"
                                                                                    " stale_rows, flushed_at FROM ",
                                                                                    table.objects_table(), " WHERE state = 'live'")));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, objects.step());
    if (!row) break;
    PartitionSummary& summary = partitions[std::string(objects.column_text(2))];
    summary.name = std::string(objects.column_text(2));
    LiveObject object{objects.column_int64(0), std::string(objects.column_text(1)), std::string(objects.column_text(3)),
                      objects.column_int64(4), objects.column_int64(5), objects.column_int64(6), std::nullopt};
    if (!objects.column_is_null(7)) object.flushed_at = objects.column_int64(7);
    summary.objects.push_back(std::move(object));
  }
  return partitions;
}

Status retire_live_objects(TieredRows& table, const std::string& partition, int64_t except) {
  STRATA_ASSIGN_OR_RETURN(Statement retire, Statement::prepare(table.db(), str_cat("UPDATE ", table.objects_table(),
                                                                                   " SET state = 'retired' WHERE partition = ?1"
                                                                                   " AND state = 'live' AND object_id <> ?2")));
  STRATA_RETURN_IF_ERROR(retire.bind_text(1, partition));
  STRATA_RETURN_IF_ERROR(retire.bind_int64(2, except));
  return retire.run();
}

// What a flush or restore must find unchanged before it commits: every column of the
// partition's rows, hashed.
Result<std::pair<int64_t, uint64_t>> partition_fingerprint(TieredRows& table, const PartitionSummary& partition) {
  STRATA_ASSIGN_OR_RETURN(Statement rows, table.partition_rows(partition, false));
  HashState hash;
  int64_t count = 0;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, rows.step());
    if (!row) break;
    hash_row(hash.get(), rows);
    ++count;
  }
  return std::make_pair(count, hash.digest());
}

Status require_autocommit(sqlite3* db, std::string_view function) {
  if (sqlite3_get_autocommit(db) != 0) return Status::ok();
  return Status::error(str_cat(function, ": cannot run inside a transaction: it commits its own steps"
                                         " (so that a crash never loses data); run it on its own"));
}

// The table's side of moving one partition (tiering/partition_mover.h).
class GraphPartitionCatalog final : public tiering::PartitionCatalog {
 public:
  GraphPartitionCatalog(TieredRows& table, const PartitionSummary* partition, std::string owner = {})
      : table_(table), partition_(partition), owner_(std::move(owner)) {}

  Result<int64_t> record_intent(const std::string& key) override {
    SqlTransaction intent(table_.db());
    STRATA_RETURN_IF_ERROR(intent.begin(true));
    STRATA_ASSIGN_OR_RETURN(Statement insert, Statement::prepare(table_.db(), str_cat("INSERT INTO ", table_.objects_table(),
                                                                                      "(object_key, partition, state, owner)"
                                                                                      " VALUES (?1, ?2, 'writing', ?3)")));
    STRATA_RETURN_IF_ERROR(insert.bind_text(1, key));
    STRATA_RETURN_IF_ERROR(insert.bind_text(2, partition_->name));
    STRATA_RETURN_IF_ERROR(insert.bind_text(3, owner_));
    STRATA_RETURN_IF_ERROR(insert.run());
    const int64_t object_id = sqlite3_last_insert_rowid(table_.db());
    STRATA_RETURN_IF_ERROR(intent.commit());
    return object_id;
  }

  Result<bool> write_rows(tiering::PartitionObject& object) override {
    SqlTransaction read(table_.db());
    STRATA_RETURN_IF_ERROR(read.begin(false));
    STRATA_ASSIGN_OR_RETURN(Statement rows, table_.partition_rows(*partition_, false));
    const size_t width = table_.object_columns().size();
    const std::vector<int> cold_columns = table_.cold_value_columns();
    const int cold_object = static_cast<int>(width) + 1;  // after the key and the object columns
    HashState hash;
    keys_.clear();
    std::vector<ColumnVector> columns(width);
    auto seal = [&]() -> Status {
      if (columns[0].empty()) return Status::ok();
      STRATA_RETURN_IF_ERROR(object.append_chunk(std::move(columns)));
      columns = std::vector<ColumnVector>(width);
      return Status::ok();
    };
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, rows.step());
      if (!row) break;
      hash_row(hash.get(), rows);
      const bool cold = !rows.column_is_null(cold_object);
      keys_.push_back({rows.column_int64(0), !cold});
      std::span<const ValueView> cold_values;
      if (cold) {
        STRATA_ASSIGN_OR_RETURN(cold_values, table_.cold().read({rows.column_int64(cold_object), rows.column_int64(cold_object + 1)}));
      }
      for (size_t c = 0; c < width; ++c) {
        const auto in_cold = std::find(cold_columns.begin(), cold_columns.end(), static_cast<int>(c));
        if (cold && in_cold != cold_columns.end()) {
          columns[c].append(cold_values[static_cast<size_t>(in_cold - cold_columns.begin())]);
        } else {
          columns[c].append(columnar::value_from_sqlite(rows.column_value(static_cast<int>(c) + 1)).view());
        }
      }
      if (columns[0].size() == kRowsPerGroup) STRATA_RETURN_IF_ERROR(seal());
    }
    STRATA_RETURN_IF_ERROR(seal());
    read_state_ = {static_cast<int64_t>(keys_.size()), hash.digest()};
    STRATA_RETURN_IF_ERROR(read.commit());
    return !keys_.empty();
  }

  Status commit(int64_t intent, const tiering::ObjectInfo& stored, const tiering::PartitionObject& object) override {
    sqlite3* db = table_.db();
    SqlTransaction commit(db);
    STRATA_RETURN_IF_ERROR(commit.begin(true));
    STRATA_ASSIGN_OR_RETURN(auto now, partition_fingerprint(table_, *partition_));
    if (now != read_state_) {
      return Status::busy(str_cat("tier_flush: ", table_.who(), ": partition ", partition_->name,
                                  " changed while it was being flushed; run tier_flush again"));
    }
    for (size_t row = 0; row < keys_.size(); ++row) {
      STRATA_RETURN_IF_ERROR(table_.make_cold(keys_[row].first, keys_[row].second, {intent, static_cast<int64_t>(row)}));
    }
    STRATA_RETURN_IF_ERROR(retire_live_objects(table_, partition_->name, intent));
    STRATA_ASSIGN_OR_RETURN(Statement live, Statement::prepare(db, str_cat("UPDATE ", table_.objects_table(),
                                                                           " SET state = 'live', owner = NULL, size = ?2, etag = ?3, footer = ?4,"
                                                                           " row_count = ?5, stale_rows = 0, flushed_at = ?6 WHERE object_id = ?1")));
    STRATA_RETURN_IF_ERROR(live.bind_int64(1, intent));
    STRATA_RETURN_IF_ERROR(live.bind_int64(2, static_cast<int64_t>(object.size())));
    STRATA_RETURN_IF_ERROR(live.bind_text(3, stored.etag));
    STRATA_RETURN_IF_ERROR(live.bind_blob(4, std::as_bytes(std::span(object.footer().data(), object.footer().size()))));
    STRATA_RETURN_IF_ERROR(live.bind_int64(5, static_cast<int64_t>(object.rows())));
    STRATA_RETURN_IF_ERROR(live.bind_int64(6, now_ms()));
    STRATA_RETURN_IF_ERROR(live.run());
    return commit.commit();
  }

  Status forget_intent(int64_t intent) override { return forget_object(intent); }

  Result<std::vector<std::pair<int64_t, std::string>>> retired_objects() override {
    STRATA_ASSIGN_OR_RETURN(Statement list, Statement::prepare(table_.db(), str_cat("SELECT object_id, object_key FROM ", table_.objects_table(),
                                                                                    " WHERE state = 'retired' AND (?1 IS NULL OR partition = ?1)")));
    if (partition_ != nullptr) STRATA_RETURN_IF_ERROR(list.bind_text(1, partition_->name));
    std::vector<std::pair<int64_t, std::string>> retired;
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, list.step());
      if (!row) break;
      retired.emplace_back(list.column_int64(0), std::string(list.column_text(1)));
    }
    return retired;
  }

  Status forget_object(int64_t object_id) override {
    STRATA_ASSIGN_OR_RETURN(Statement remove, Statement::prepare(table_.db(), str_cat("DELETE FROM ", table_.objects_table(), " WHERE object_id = ?1")));
    STRATA_RETURN_IF_ERROR(remove.bind_int64(1, object_id));
    return remove.run();
  }

 private:
  TieredRows& table_;
  const PartitionSummary* partition_;  // nullptr: every partition (removing retired objects)
  std::string owner_;
  std::vector<std::pair<int64_t, bool>> keys_;  // key, whether its values were hot; in the object's row order
  std::pair<int64_t, uint64_t> read_state_;
};

Status remove_retired(TieredRows& table, const PartitionSummary* partition) {
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectStore * store, table.cold().tier().store());
  GraphPartitionCatalog catalog(table, partition);
  return tiering::remove_retired(*store, catalog);
}

}  // namespace

// ---- the tier functions ----------------------------------------------------------------------

Result<int64_t> flush_tiered(TieredRows& table, const std::optional<std::string>& only) {
  STRATA_RETURN_IF_ERROR(require_autocommit(table.db(), "tier_flush"));
  PreserveLastInsertRowid preserve(table.db());
  tiering::FlushOwner owner;
  if (!only) STRATA_RETURN_IF_ERROR(collect_tiered(table).status());  // orphans of earlier failures first
  std::vector<PartitionSummary> targets;
  {
    SqlTransaction read(table.db());
    STRATA_RETURN_IF_ERROR(read.begin(false));
    STRATA_ASSIGN_OR_RETURN(auto partitions, list_partitions(table));
    const int64_t newest_cold = month_index_of_ms(now_ms()) - table.hot_months();
    for (auto& [name, partition] : partitions) {
      if (partition.already_cold()) continue;
      // A partition whose rows are all gone has only objects to retire, whatever its month.
      const bool eligible = only ? name == *only : !partition.has_rows || partition.month <= newest_cold;
      if (eligible) targets.push_back(std::move(partition));
    }
    STRATA_RETURN_IF_ERROR(read.commit());
  }
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectStore * store, table.cold().tier().store());
  int64_t moved = 0;
  for (const PartitionSummary& partition : targets) {
    if (!partition.has_rows) {
      SqlTransaction retire(table.db());
      STRATA_RETURN_IF_ERROR(retire.begin(true));
      STRATA_RETURN_IF_ERROR(retire_live_objects(table, partition.name, 0));
      STRATA_RETURN_IF_ERROR(retire.commit());
      (void)remove_retired(table, &partition);
      ++moved;
      continue;
    }
    STRATA_ASSIGN_OR_RETURN(std::string object_name, tiering::fresh_object_name());
    tiering::FlushPlan plan;
    plan.key = str_cat(table.key_prefix(), "/", partition.name, "/", object_name);
    plan.what = str_cat("tier_flush: ", table.who(), ": partition ", partition.name);
    plan.columns = table.object_columns();
    plan.options.bloom_filters = parquet::BloomFilterColumns::kNone;
    plan.options.bloom_filter_columns = table.bloom_columns();
    GraphPartitionCatalog catalog(table, &partition, owner.name());
    STRATA_ASSIGN_OR_RETURN(bool flushed, tiering::flush_partition(*store, catalog, plan));
    if (flushed) ++moved;
  }
  return moved;
}

Result<int64_t> restore_tiered(TieredRows& table, const std::string& named) {
  STRATA_RETURN_IF_ERROR(require_autocommit(table.db(), "tier_restore"));
  PreserveLastInsertRowid preserve(table.db());
  // 1. Read the cold rows' values.
  struct HotAgain {
    int64_t key;
    std::vector<Value> values;
  };
  std::vector<HotAgain> rows;
  PartitionSummary partition;
  std::pair<int64_t, uint64_t> read_state;
  {
    SqlTransaction read(table.db());
    STRATA_RETURN_IF_ERROR(read.begin(false));
    STRATA_ASSIGN_OR_RETURN(auto partitions, list_partitions(table));
    auto found = partitions.find(named);
    if (found == partitions.end() || !found->second.has_rows || found->second.hot_rows == found->second.rows) return 0;
    partition = std::move(found->second);
    STRATA_ASSIGN_OR_RETURN(Statement cold, table.partition_rows(partition, true));
    const int cold_object = static_cast<int>(table.object_columns().size()) + 1;
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, cold.step());
      if (!row) break;
      STRATA_ASSIGN_OR_RETURN(std::span<const ValueView> values,
                              table.cold().read({cold.column_int64(cold_object), cold.column_int64(cold_object + 1)}));
      rows.push_back({cold.column_int64(0), std::vector<Value>(values.begin(), values.end())});
    }
    STRATA_ASSIGN_OR_RETURN(read_state, partition_fingerprint(table, partition));
    STRATA_RETURN_IF_ERROR(read.commit());
  }
  // 2. One transaction: the rows hot again, the partition's objects retired.
  {
    SqlTransaction commit(table.db());
    STRATA_RETURN_IF_ERROR(commit.begin(true));
    STRATA_ASSIGN_OR_RETURN(auto now, partition_fingerprint(table, partition));
    if (now != read_state) {
      return Status::busy(str_cat("tier_restore: ", table.who(), ": partition ", partition.name,
                                  " changed while it was being restored; run tier_restore again"));
    }
    for (const HotAgain& row : rows) STRATA_RETURN_IF_ERROR(table.make_hot(row.key, row.values));
    STRATA_RETURN_IF_ERROR(retire_live_objects(table, partition.name, 0));
    STRATA_RETURN_IF_ERROR(commit.commit());
  }
  // 3. The objects.
  (void)remove_retired(table, &partition);
  return 1;
}

Result<int64_t> collect_tiered(TieredRows& table) {
  sqlite3* db = table.db();
  STRATA_RETURN_IF_ERROR(require_autocommit(db, "tier_gc"));
  PreserveLastInsertRowid preserve(db);
  auto count_objects = [&]() -> Result<int64_t> {
    STRATA_ASSIGN_OR_RETURN(Statement count, Statement::prepare(db, str_cat("SELECT count(*) FROM ", table.objects_table())));
    STRATA_ASSIGN_OR_RETURN(bool row, count.step());
    return row ? count.column_int64(0) : 0;
  };
  {
    // Objects no row can point to any more become 'retired' first, in one transaction: a flush
    // can then no longer make them live, so removing them below is safe.
    SqlTransaction retire(db);
    STRATA_RETURN_IF_ERROR(retire.begin(true));
    STRATA_ASSIGN_OR_RETURN(Statement objects, Statement::prepare(db, str_cat("SELECT object_id, state, owner, row_count, stale_rows FROM ",
                                                                              table.objects_table(), " WHERE state <> 'retired'")));
    std::vector<int64_t> orphans;
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, objects.step());
      if (!row) break;
      const bool writing = objects.column_text(1) == "writing";
      if (writing ? tiering::flush_owner_gone(std::string(objects.column_text(2))) : objects.column_int64(4) >= objects.column_int64(3)) {
        orphans.push_back(objects.column_int64(0));
      }
    }
    STRATA_ASSIGN_OR_RETURN(Statement mark, Statement::prepare(db, str_cat("UPDATE ", table.objects_table(),
                                                                           " SET state = 'retired' WHERE object_id = ?1")));
    for (int64_t orphan : orphans) {
      mark.reset();
      STRATA_RETURN_IF_ERROR(mark.bind_int64(1, orphan));
      STRATA_RETURN_IF_ERROR(mark.run());
    }
    STRATA_RETURN_IF_ERROR(retire.commit());
  }
  STRATA_ASSIGN_OR_RETURN(int64_t before, count_objects());
  STRATA_RETURN_IF_ERROR(remove_retired(table, nullptr));
  // And what killed uploads left in the store (the file store's temporary files).
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectStore * store, table.cold().tier().store());
  STRATA_RETURN_IF_ERROR(store->tidy(table.key_prefix() + "/"));
  STRATA_ASSIGN_OR_RETURN(int64_t after, count_objects());
  return before - after;
}

Result<std::vector<TierPartitionRow>> list_tiered(TieredRows& table, const std::function<int64_t(const PartitionSummary&)>& hot_bytes) {
  std::vector<TierPartitionRow> rows;
  STRATA_ASSIGN_OR_RETURN(auto partitions, list_partitions(table));
  for (const auto& [name, partition] : partitions) {
    TierPartitionRow row;
    row.partition = Value(ValueView::of_text(name));
    row.rows = partition.rows;
    const int64_t cold_rows = partition.rows - partition.hot_rows;
    row.tier = partition.hot_rows > 0 && cold_rows > 0 ? "mixed" : cold_rows > 0 ? "cold" : "hot";
    if (partition.hot_rows > 0) row.hot_bytes = hot_bytes(partition);
    for (const LiveObject& object : partition.objects) {
      if (object.stale_rows >= object.row_count) continue;  // no row is in it any more
      row.cold_bytes += object.size;
      row.object_keys += str_cat(row.object_keys.empty() ? "" : ", ", object.key);
      row.etags += str_cat(row.etags.empty() ? "" : ", ", object.etag);
      if (object.flushed_at) row.flushed_at = std::max(row.flushed_at.value_or(0), *object.flushed_at);
    }
    if (auto counted = table.cold().counters().find(name); counted != table.cold().counters().end()) row.counters = counted->second;
    rows.push_back(std::move(row));
  }
  return rows;
}

Status check_cold_rows(sqlite3* db, const std::string& rows_table, const std::string& objects_table,
                       const std::vector<std::string>& cold_columns, std::vector<std::string>& problems) {
  auto count = [&](const std::string& sql) -> Result<int64_t> {
    STRATA_ASSIGN_OR_RETURN(Statement query, Statement::prepare(db, sql));
    STRATA_ASSIGN_OR_RETURN(bool row, query.step());
    return row ? query.column_int64(0) : 0;
  };
  std::string any_hot;
  for (const std::string& column : cold_columns) any_hot += str_cat(any_hot.empty() ? "" : " OR ", column, " IS NOT NULL");
  STRATA_ASSIGN_OR_RETURN(int64_t hot_values, count(str_cat("SELECT count(*) FROM ", rows_table, " WHERE cold_object IS NOT NULL AND (",
                                                            any_hot, ")")));
  if (hot_values > 0) problems.push_back(str_cat(rows_table, ": ", std::to_string(hot_values), " cold rows also hold their cold values hot"));
  STRATA_ASSIGN_OR_RETURN(int64_t unrecorded, count(str_cat("SELECT count(*) FROM ", rows_table, " t WHERE cold_object IS NOT NULL AND NOT EXISTS"
                                                            " (SELECT 1 FROM ", objects_table, " o WHERE o.object_id = t.cold_object AND"
                                                            " o.state = 'live' AND t.cold_row >= 0 AND t.cold_row < o.row_count)")));
  if (unrecorded > 0) problems.push_back(str_cat(rows_table, ": ", std::to_string(unrecorded), " cold rows point to no row of a live object"));
  STRATA_ASSIGN_OR_RETURN(Statement live, Statement::prepare(db, str_cat("SELECT o.object_id, o.object_key, o.size, o.footer, o.row_count,"
                                                                         " o.stale_rows, (SELECT count(*) FROM ", rows_table,
                                                                         " t WHERE t.cold_object = o.object_id) FROM ", objects_table,
                                                                         " o WHERE o.state = 'live'")));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, live.step());
    if (!row) break;
    const std::string key(live.column_text(1));
    Result<parquet::FileReader> reader = reader_of_footer(live, 3, 2);
    if (!reader.is_ok()) {
      problems.push_back(str_cat("object ", key, ": its recorded footer does not read: ", reader.status().message()));
    } else if (reader->metadata().num_rows != live.column_int64(4)) {
      problems.push_back(str_cat("object ", key, ": its footer counts ", std::to_string(reader->metadata().num_rows), " rows, not ",
                                 std::to_string(live.column_int64(4))));
    }
    if (live.column_int64(4) - live.column_int64(5) != live.column_int64(6)) {
      problems.push_back(str_cat("object ", key, ": ", std::to_string(live.column_int64(6)), " rows point into it, but it records ",
                                 std::to_string(live.column_int64(4) - live.column_int64(5)), " live rows"));
    }
  }
  return Status::ok();
}

}  // namespace strata::graph
