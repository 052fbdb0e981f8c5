#include "vtab/graph/things_tier.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "ext/civil_time.h"
#include "ext/str_cat.h"
#include "tiering/flush_owner.h"
#include "tiering/partition_mover.h"
#include "tiering/partition_object.h"
#include "tiering/store_url.h"
#include "vtab/columnar/storage.h"
#include "vtab/columnar/values.h"
#include "vtab/graph/graph_common.h"

namespace strata::graph {

namespace {

constexpr int64_t kDayMs = 86'400'000;
// Row groups decoded and kept per table and connection (a scan over cold things reads each
// group once; a lookup of a recently read thing decodes nothing).
constexpr size_t kCachedGroups = 16;

// Months counted from year 0: year * 12 + month - 1.
int64_t month_index_of_ms(int64_t ms) {
  const CivilDate date = civil_from_days(floor_div(ms, kDayMs));
  return date.year * 12 + (date.month - 1);
}

int64_t month_start_ms(int64_t month_index) {
  const int64_t year = floor_div(month_index, 12);
  const int month = static_cast<int>(month_index - year * 12) + 1;
  return days_from_civil(year, month, 1) * kDayMs;
}

std::string month_text(int64_t month_index) {
  const int64_t year = floor_div(month_index, 12);
  char text[32];
  std::snprintf(text, sizeof text, "%04lld-%02d", static_cast<long long>(year), static_cast<int>(month_index - year * 12) + 1);
  return text;
}

// The hive path of a partition: type=<type, %-escaped>/dt=<YYYY-MM>.
std::string partition_name(std::string_view type, int64_t month_index) {
  return str_cat(tiering::hive_directory("type", ValueView::of_text(type)), "/dt=", month_text(month_index));
}

// One (type, month) partition of a tiered things table as its shadow tables show it.
struct LiveObject {
  int64_t object_id = 0;
  std::string key;
  std::string etag;
  int64_t size = 0;
  int64_t row_count = 0;
  int64_t stale_rows = 0;
  std::optional<int64_t> flushed_at;
};
struct PartitionSummary {
  std::string name;
  std::string type;
  int64_t month = 0;
  bool has_rows = false;  // type and month are known
  int64_t rows = 0;
  int64_t hot_rows = 0;
  std::vector<LiveObject> objects;  // live

  // Whether the lake holds exactly this partition's things already: all cold, in one object
  // without stale rows.
  bool already_cold() const {
    if (hot_rows > 0 || objects.size() > 1) return false;
    if (objects.empty()) return rows == 0;
    return objects.front().stale_rows == 0 && objects.front().row_count == rows;
  }
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Hashes a row's columns as SQLite returns them (type and bytes).
void hash_row(XXH64_state_t* state, const Statement& row, int columns) {
  for (int c = 0; c < columns; ++c) {
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

}  // namespace

Status check_tier_location(std::string_view tier) {
  if (tiering::is_tier_location(tier)) return Status::ok();
  return Status::error(str_cat("things: option 'tier' must be 'file:DIR' or 's3://bucket/prefix', got '", tier, "'"));
}

// ---- reading cold things ---------------------------------------------------------------------

ThingsCold::ThingsCold(ThingsTable& table)
    : table_(table), tier_(table.db(), table.schema_name(), table.tier(), str_cat("things: table ", table.name())) {}

Status ThingsCold::cold_error(const OpenObject& object, const Status& cause) const {
  return Status(cause.code(), str_cat("things: table ", table_.name(), ": partition ", object.partition, ": object ",
                                      tiering::printable_key(object.key), ": ", cause.message()));
}

Result<const ThingsCold::OpenObject*> ThingsCold::open_object(int64_t object_id) {
  auto found = objects_.find(object_id);
  if (found != objects_.end()) return found->second.get();
  STRATA_ASSIGN_OR_RETURN(Statement read, Statement::prepare(table_.db(), str_cat("SELECT object_key, partition, state, etag, size, footer FROM ",
                                                                                  table_.shadow("objects"), " WHERE object_id = ?1")));
  STRATA_RETURN_IF_ERROR(read.bind_int64(1, object_id));
  STRATA_ASSIGN_OR_RETURN(bool exists, read.step());
  const std::string where = str_cat("things: table ", table_.name(), ": object ", std::to_string(object_id));
  if (!exists) return Status::corruption(str_cat(where, " is named by a cold thing but not recorded in ", table_.name(), "_objects"));
  if (read.column_text(2) != "live") {
    return Status::corruption(str_cat(where, " (", read.column_text(0), ") is named by a cold thing but is ", read.column_text(2)));
  }
  const std::span<const std::byte> footer = read.column_blob(5);
  Result<parquet::FileReader> reader = parquet::FileReader::from_metadata(
      std::string_view(reinterpret_cast<const char*>(footer.data()), footer.size()), static_cast<uint64_t>(read.column_int64(4)));
  if (!reader.is_ok()) {
    return Status::corruption(str_cat(where, " (", read.column_text(0), "): its recorded footer is damaged: ", reader.status().message()));
  }
  auto object = std::make_unique<OpenObject>(OpenObject{std::string(read.column_text(0)), std::string(read.column_text(3)),
                                                        std::string(read.column_text(1)), std::move(reader).value(), {}, -1, -1});
  int64_t rows = 0;
  for (size_t group = 0; group < object->reader.row_groups(); ++group) {
    rows += object->reader.row_group_rows(group);
    object->group_ends.push_back(rows);
  }
  const std::vector<parquet::Column>& columns = object->reader.columns();
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].name == "data") object->data_column = static_cast<int>(c);
    if (columns[c].name == "embedding") object->embedding_column = static_cast<int>(c);
  }
  if (object->data_column < 0 || object->embedding_column < 0) {
    return cold_error(*object, Status::corruption("it has no data or no embedding column"));
  }
  const OpenObject* opened = object.get();
  objects_[object_id] = std::move(object);
  return opened;
}

Result<const ThingsCold::Group*> ThingsCold::read_group(int64_t object_id, const OpenObject& object, size_t group) {
  for (auto it = groups_.begin(); it != groups_.end(); ++it) {
    if (it->object_id == object_id && it->group == group) {
      groups_.splice(groups_.begin(), groups_, it);
      return &groups_.front();
    }
  }
  // data and embedding are adjacent column chunks: one ranged read covers both, and the two
  // columns are decoded from it.
  const parquet::FileReader& reader = object.reader;
  uint64_t begin = UINT64_MAX, end = 0;
  for (int column : {object.data_column, object.embedding_column}) {
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
    if (offset < begin || offset + length > end) return Status::internal("things: a cold read outside the range fetched");
    return fetched.substr(offset - begin, length);
  };
  Result<ColumnVector> data = reader.read_column(within, group, static_cast<size_t>(object.data_column));
  if (!data.is_ok()) return cold_error(object, data.status());
  Result<ColumnVector> embedding = reader.read_column(within, group, static_cast<size_t>(object.embedding_column));
  if (!embedding.is_ok()) return cold_error(object, embedding.status());
  groups_.push_front(Group{object_id, group, std::move(data).value(), std::move(embedding).value()});
  if (groups_.size() > kCachedGroups) groups_.pop_back();
  return &groups_.front();
}

Result<ThingsTable::ColdValues> ThingsCold::read(const ColdThing& thing) {
  STRATA_ASSIGN_OR_RETURN(const OpenObject* object, open_object(thing.object_id));
  const auto& ends = object->group_ends;
  const auto group_end = std::upper_bound(ends.begin(), ends.end(), thing.row);
  if (thing.row < 0 || group_end == ends.end()) {
    return cold_error(*object, Status::corruption(str_cat("it has no row ", std::to_string(thing.row))));
  }
  const auto group = static_cast<size_t>(group_end - ends.begin());
  const int64_t first = group == 0 ? 0 : ends[group - 1];
  STRATA_ASSIGN_OR_RETURN(const Group* values, read_group(thing.object_id, *object, group));
  const auto row = static_cast<size_t>(thing.row - first);
  if (row >= values->data.size() || row >= values->embedding.size()) {
    return cold_error(*object, Status::corruption(str_cat("row group ", std::to_string(group), " is shorter than its footer says")));
  }
  return ThingsTable::ColdValues{values->data.get(row), values->embedding.get(row)};
}

Result<ThingsTable::ColdValues> ThingsTable::read_cold(const ColdThing& thing) {
  if (!cold_) return Status::corruption(str_cat("things: table ", name_, " has a cold thing but no tier= option"));
  return cold_->read(thing);
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

// ---- the partitions --------------------------------------------------------------------------

namespace {

// Every partition of a tiered table: of its things (by type and month of created_at; a type that
// is not text stays hot) and of its live objects, by name.
Result<std::map<std::string, PartitionSummary>> list_partitions(ThingsTable& table) {
  std::map<std::string, PartitionSummary> partitions;
  std::map<std::pair<std::string, int64_t>, PartitionSummary*> by_type_month;
  STRATA_ASSIGN_OR_RETURN(Statement things, Statement::prepare(table.db(), str_cat("SELECT type, created_at, cold_object IS NULL FROM ",
                                                                                   table.shadow("things"),
                                                                                   " WHERE typeof(type) = 'text' ORDER BY type, created_at")));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, things.step());
    if (!row) break;
    std::string type(things.column_text(0));
    const int64_t month = month_index_of_ms(things.column_int64(1));
    auto found = by_type_month.find({type, month});
    if (found == by_type_month.end()) {
      std::string name = partition_name(type, month);
      PartitionSummary& summary = partitions[name];
      summary.name = name;
      summary.type = type;
      summary.month = month;
      summary.has_rows = true;
      found = by_type_month.emplace(std::make_pair(std::move(type), month), &summary).first;
    }
    ++found->second->rows;
    if (things.column_int64(2) != 0) ++found->second->hot_rows;
  }
  STRATA_ASSIGN_OR_RETURN(Statement objects, Statement::prepare(table.db(), str_cat("SELECT object_id, object_key, partition, etag, size, row_count,"
                                                                                    " stale_rows, flushed_at FROM ",
                                                                                    table.shadow("objects"), " WHERE state = 'live'")));
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

Result<std::vector<std::string>> indexed_paths(ThingsTable& table) {
  STRATA_ASSIGN_OR_RETURN(Statement list, Statement::prepare(table.db(), str_cat("SELECT substr(key, 6) FROM ", table.shadow("config"),
                                                                                 " WHERE key GLOB 'path:*' ORDER BY key")));
  return first_column_texts(list);
}

Status retire_live_objects(ThingsTable& table, const std::string& partition, int64_t except) {
  STRATA_ASSIGN_OR_RETURN(Statement retire, Statement::prepare(table.db(), str_cat("UPDATE ", table.shadow("objects"),
                                                                                   " SET state = 'retired' WHERE partition = ?1"
                                                                                   " AND state = 'live' AND object_id <> ?2")));
  STRATA_RETURN_IF_ERROR(retire.bind_text(1, partition));
  STRATA_RETURN_IF_ERROR(retire.bind_int64(2, except));
  return retire.run();
}

// The things of partition (type, month), in node order.
Result<Statement> partition_things(ThingsTable& table, const PartitionSummary& partition, std::string_view where = "") {
  STRATA_ASSIGN_OR_RETURN(Statement rows, Statement::prepare(table.db(), str_cat("SELECT node, id, type, data, embedding, created_at, updated_at,"
                                                                                 " cold_object, cold_row FROM ",
                                                                                 table.shadow("things"),
                                                                                 " WHERE type = ?1 AND created_at >= ?2 AND created_at < ?3",
                                                                                 where, " ORDER BY node")));
  STRATA_RETURN_IF_ERROR(rows.bind_text(1, partition.type));
  STRATA_RETURN_IF_ERROR(rows.bind_int64(2, month_start_ms(partition.month)));
  STRATA_RETURN_IF_ERROR(rows.bind_int64(3, month_start_ms(partition.month + 1)));
  return rows;
}

// What a flush or restore must find unchanged before it commits: every column of the
// partition's things, hashed.
Result<std::pair<int64_t, uint64_t>> partition_fingerprint(ThingsTable& table, const PartitionSummary& partition) {
  STRATA_ASSIGN_OR_RETURN(Statement rows, partition_things(table, partition));
  HashState hash;
  int64_t count = 0;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, rows.step());
    if (!row) break;
    hash_row(hash.get(), rows, 9);
    ++count;
  }
  return std::make_pair(count, hash.digest());
}

}  // namespace

// The things table's side of moving one partition (tiering/partition_mover.h).
class ThingsPartitionCatalog final : public tiering::PartitionCatalog {
 public:
  ThingsPartitionCatalog(ThingsTable& table, const PartitionSummary* partition, std::string owner = {})
      : table_(table), partition_(partition), owner_(std::move(owner)) {}

  Result<int64_t> record_intent(const std::string& key) override {
    SqlTransaction intent(table_.db());
    STRATA_RETURN_IF_ERROR(intent.begin(true));
    STRATA_ASSIGN_OR_RETURN(Statement insert, Statement::prepare(table_.db(), str_cat("INSERT INTO ", table_.shadow("objects"),
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
    STRATA_ASSIGN_OR_RETURN(Statement rows, partition_things(table_, *partition_));
    HashState hash;
    nodes_.clear();
    std::vector<ColumnVector> columns(6);
    auto seal = [&]() -> Status {
      if (columns[0].empty()) return Status::ok();
      STRATA_RETURN_IF_ERROR(object.append_chunk(std::move(columns)));
      columns = std::vector<ColumnVector>(6);
      return Status::ok();
    };
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, rows.step());
      if (!row) break;
      hash_row(hash.get(), rows, 9);
      const bool cold = !rows.column_is_null(7);
      nodes_.push_back({rows.column_int64(0), !cold});
      columns[0].append(columnar::value_from_sqlite(rows.column_value(1)).view());  // id
      columns[1].append(columnar::value_from_sqlite(rows.column_value(2)).view());  // type
      if (cold) {
        STRATA_ASSIGN_OR_RETURN(ThingsTable::ColdValues values, table_.read_cold({rows.column_int64(7), rows.column_int64(8)}));
        columns[2].append(values.data);
        columns[3].append(values.embedding);
      } else {
        columns[2].append(columnar::value_from_sqlite(rows.column_value(3)).view());
        columns[3].append(columnar::value_from_sqlite(rows.column_value(4)).view());
      }
      columns[4].append_integer(rows.column_int64(5));
      columns[5].append_integer(rows.column_int64(6));
      if (columns[0].size() == kRowsPerGroup) STRATA_RETURN_IF_ERROR(seal());
    }
    STRATA_RETURN_IF_ERROR(seal());
    read_state_ = {static_cast<int64_t>(nodes_.size()), hash.digest()};
    STRATA_RETURN_IF_ERROR(read.commit());
    return !nodes_.empty();
  }

  Status commit(int64_t intent, const tiering::ObjectInfo& stored, const tiering::PartitionObject& object) override {
    sqlite3* db = table_.db();
    SqlTransaction commit(db);
    STRATA_RETURN_IF_ERROR(commit.begin(true));
    STRATA_ASSIGN_OR_RETURN(auto now, partition_fingerprint(table_, *partition_));
    if (now != read_state_) {
      return Status::busy(str_cat("tier_flush: things table ", table_.name(), ": partition ", partition_->name,
                                  " changed while it was being flushed; run tier_flush again"));
    }
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> paths, indexed_paths(table_));
    STRATA_ASSIGN_OR_RETURN(Statement path_entry,
                            Statement::prepare(db, str_cat("INSERT OR REPLACE INTO ", table_.shadow("cold_paths"), "(path, value, node)"
                                                           " SELECT ?1, v, ?2 FROM (SELECT json_extract(data, ?1) AS v FROM ",
                                                           table_.shadow("things"), " WHERE node = ?2) WHERE v IS NOT NULL")));
    STRATA_ASSIGN_OR_RETURN(Statement make_cold, Statement::prepare(db, str_cat("UPDATE ", table_.shadow("things"),
                                                                                " SET data = NULL, embedding = NULL, cold_object = ?2,"
                                                                                " cold_row = ?3 WHERE node = ?1")));
    for (size_t row = 0; row < nodes_.size(); ++row) {
      const auto& [node, was_hot] = nodes_[row];
      if (was_hot) {
        for (const std::string& path : paths) {
          path_entry.reset();
          STRATA_RETURN_IF_ERROR(path_entry.bind_text(1, path));
          STRATA_RETURN_IF_ERROR(path_entry.bind_int64(2, node));
          STRATA_RETURN_IF_ERROR(path_entry.run());
        }
      }
      make_cold.reset();
      STRATA_RETURN_IF_ERROR(make_cold.bind_int64(1, node));
      STRATA_RETURN_IF_ERROR(make_cold.bind_int64(2, intent));
      STRATA_RETURN_IF_ERROR(make_cold.bind_int64(3, static_cast<int64_t>(row)));
      STRATA_RETURN_IF_ERROR(make_cold.run());
    }
    STRATA_RETURN_IF_ERROR(retire_live_objects(table_, partition_->name, intent));
    STRATA_ASSIGN_OR_RETURN(Statement live, Statement::prepare(db, str_cat("UPDATE ", table_.shadow("objects"),
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
    STRATA_ASSIGN_OR_RETURN(Statement list, Statement::prepare(table_.db(), str_cat("SELECT object_id, object_key FROM ", table_.shadow("objects"),
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
    STRATA_ASSIGN_OR_RETURN(Statement remove, Statement::prepare(table_.db(), str_cat("DELETE FROM ", table_.shadow("objects"), " WHERE object_id = ?1")));
    STRATA_RETURN_IF_ERROR(remove.bind_int64(1, object_id));
    return remove.run();
  }

 private:
  ThingsTable& table_;
  const PartitionSummary* partition_;  // nullptr: every partition (removing retired objects)
  std::string owner_;
  std::vector<std::pair<int64_t, bool>> nodes_;  // node, whether it was hot; in the object's row order
  std::pair<int64_t, uint64_t> read_state_;
};

// ---- the tier functions ----------------------------------------------------------------------

Status ThingsTable::require_tiering(std::string_view function) const {
  if (!tiered()) {
    return Status::error(str_cat(function, ": things table ", name_, " has no tier= option; tiering moves old things to the"
                                 " tier= location (CREATE VIRTUAL TABLE … USING things(tier='file:lake', hot_months=3))"));
  }
  if (sqlite3_get_autocommit(db_) == 0) {
    return Status::error(str_cat(function, ": cannot run inside a transaction: it commits its own steps"
                                           " (so that a crash never loses data); run it on its own"));
  }
  return Status::ok();
}

namespace {

Status remove_retired(ThingsTable& table, ThingsCold& cold, const PartitionSummary* partition) {
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectStore * store, cold.tier().store());
  ThingsPartitionCatalog catalog(table, partition);
  return tiering::remove_retired(*store, catalog);
}

}  // namespace

Result<int64_t> ThingsTable::tier_flush(std::optional<std::string> only) {
  STRATA_RETURN_IF_ERROR(require_tiering("tier_flush"));
  PreserveLastInsertRowid preserve(db_);
  tiering::FlushOwner owner;
  if (!only) STRATA_RETURN_IF_ERROR(tier_gc().status());  // orphans of earlier failures first
  std::vector<PartitionSummary> targets;
  {
    SqlTransaction read(db_);
    STRATA_RETURN_IF_ERROR(read.begin(false));
    STRATA_ASSIGN_OR_RETURN(auto partitions, list_partitions(*this));
    const int64_t newest_cold = month_index_of_ms(now_unix_ms()) - hot_months_;
    for (auto& [name, partition] : partitions) {
      if (partition.already_cold()) continue;
      // A partition whose things are all gone has only objects to retire, whatever its month.
      const bool eligible = only ? name == *only : !partition.has_rows || partition.month <= newest_cold;
      if (eligible) targets.push_back(std::move(partition));
    }
    STRATA_RETURN_IF_ERROR(read.commit());
  }
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectStore * store, cold_->tier().store());
  int64_t moved = 0;
  for (const PartitionSummary& partition : targets) {
    if (!partition.has_rows) {
      SqlTransaction retire(db_);
      STRATA_RETURN_IF_ERROR(retire.begin(true));
      STRATA_RETURN_IF_ERROR(retire_live_objects(*this, partition.name, 0));
      STRATA_RETURN_IF_ERROR(retire.commit());
      (void)remove_retired(*this, *cold_, &partition);
      ++moved;
      continue;
    }
    STRATA_ASSIGN_OR_RETURN(std::string object_name, tiering::fresh_object_name());
    tiering::FlushPlan plan;
    plan.key = str_cat(tiering::escape_path_segment(name_), "/", partition.name, "/", object_name);
    plan.what = str_cat("tier_flush: things table ", name_, ": partition ", partition.name);
    plan.columns = {{"id", ValueType::kText},   {"type", ValueType::kText},          {"data", ValueType::kText},
                    {"embedding", ValueType::kBlob}, {"created_at", ValueType::kInteger}, {"updated_at", ValueType::kInteger}};
    plan.options.bloom_filters = parquet::BloomFilterColumns::kNone;
    plan.options.bloom_filter_columns = {"id"};  // for other readers: the hot id index answers strata's lookups exactly
    ThingsPartitionCatalog catalog(*this, &partition, owner.name());
    STRATA_ASSIGN_OR_RETURN(bool flushed, tiering::flush_partition(*store, catalog, plan));
    if (flushed) ++moved;
  }
  return moved;
}

Result<int64_t> ThingsTable::tier_restore(const std::string& named) {
  STRATA_RETURN_IF_ERROR(require_tiering("tier_restore"));
  PreserveLastInsertRowid preserve(db_);
  // 1. Read the cold things' data and embedding.
  struct HotAgain {
    int64_t node;
    Value data;
    Value embedding;
  };
  std::vector<HotAgain> things;
  PartitionSummary partition;
  std::pair<int64_t, uint64_t> read_state;
  {
    SqlTransaction read(db_);
    STRATA_RETURN_IF_ERROR(read.begin(false));
    STRATA_ASSIGN_OR_RETURN(auto partitions, list_partitions(*this));
    auto found = partitions.find(named);
    if (found == partitions.end() || !found->second.has_rows || found->second.hot_rows == found->second.rows) return 0;
    partition = std::move(found->second);
    STRATA_ASSIGN_OR_RETURN(Statement rows, partition_things(*this, partition, " AND cold_object IS NOT NULL"));
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, rows.step());
      if (!row) break;
      STRATA_ASSIGN_OR_RETURN(ColdValues values, read_cold({rows.column_int64(7), rows.column_int64(8)}));
      things.push_back({rows.column_int64(0), Value(values.data), Value(values.embedding)});
    }
    STRATA_ASSIGN_OR_RETURN(read_state, partition_fingerprint(*this, partition));
    STRATA_RETURN_IF_ERROR(read.commit());
  }
  // 2. One transaction: the things hot again, the partition's objects retired.
  {
    SqlTransaction commit(db_);
    STRATA_RETURN_IF_ERROR(commit.begin(true));
    STRATA_ASSIGN_OR_RETURN(auto now, partition_fingerprint(*this, partition));
    if (now != read_state) {
      return Status::busy(str_cat("tier_restore: things table ", name_, ": partition ", partition.name,
                                  " changed while it was being restored; run tier_restore again"));
    }
    STRATA_ASSIGN_OR_RETURN(Statement make_hot, Statement::prepare(db_, str_cat("UPDATE ", shadow("things"),
                                                                                " SET data = ?2, embedding = ?3, cold_object = NULL,"
                                                                                " cold_row = NULL WHERE node = ?1")));
    STRATA_ASSIGN_OR_RETURN(Statement forget_paths, Statement::prepare(db_, str_cat("DELETE FROM ", shadow("cold_paths"), " WHERE node = ?1")));
    for (const HotAgain& thing : things) {
      make_hot.reset();
      STRATA_RETURN_IF_ERROR(make_hot.bind_int64(1, thing.node));
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(make_hot, 2, thing.data.view()));
      STRATA_RETURN_IF_ERROR(columnar::bind_value_view(make_hot, 3, thing.embedding.view()));
      STRATA_RETURN_IF_ERROR(make_hot.run());
      forget_paths.reset();
      STRATA_RETURN_IF_ERROR(forget_paths.bind_int64(1, thing.node));
      STRATA_RETURN_IF_ERROR(forget_paths.run());
    }
    STRATA_RETURN_IF_ERROR(retire_live_objects(*this, partition.name, 0));
    STRATA_RETURN_IF_ERROR(commit.commit());
  }
  // 3. The objects.
  (void)remove_retired(*this, *cold_, &partition);
  return 1;
}

Result<int64_t> ThingsTable::tier_gc() {
  STRATA_RETURN_IF_ERROR(require_tiering("tier_gc"));
  PreserveLastInsertRowid preserve(db_);
  auto count_objects = [&]() -> Result<int64_t> {
    STRATA_ASSIGN_OR_RETURN(Statement count, Statement::prepare(db_, str_cat("SELECT count(*) FROM ", shadow("objects"))));
    STRATA_ASSIGN_OR_RETURN(bool row, count.step());
    return row ? count.column_int64(0) : 0;
  };
  {
    // Objects no thing can point to any more become 'retired' first, in one transaction: a flush
    // can then no longer make them live, so removing them below is safe.
    SqlTransaction retire(db_);
    STRATA_RETURN_IF_ERROR(retire.begin(true));
    STRATA_ASSIGN_OR_RETURN(Statement objects, Statement::prepare(db_, str_cat("SELECT object_id, state, owner, row_count, stale_rows FROM ",
                                                                               shadow("objects"), " WHERE state <> 'retired'")));
    std::vector<int64_t> orphans;
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, objects.step());
      if (!row) break;
      const bool writing = objects.column_text(1) == "writing";
      if (writing ? tiering::flush_owner_gone(std::string(objects.column_text(2))) : objects.column_int64(4) >= objects.column_int64(3)) {
        orphans.push_back(objects.column_int64(0));
      }
    }
    STRATA_ASSIGN_OR_RETURN(Statement mark, Statement::prepare(db_, str_cat("UPDATE ", shadow("objects"), " SET state = 'retired' WHERE object_id = ?1")));
    for (int64_t orphan : orphans) {
      mark.reset();
      STRATA_RETURN_IF_ERROR(mark.bind_int64(1, orphan));
      STRATA_RETURN_IF_ERROR(mark.run());
    }
    STRATA_RETURN_IF_ERROR(retire.commit());
  }
  STRATA_ASSIGN_OR_RETURN(int64_t before, count_objects());
  STRATA_RETURN_IF_ERROR(remove_retired(*this, *cold_, nullptr));
  // And what killed uploads left in the store (the file store's temporary files).
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectStore * store, cold_->tier().store());
  STRATA_RETURN_IF_ERROR(store->tidy(tiering::escape_path_segment(name_) + "/"));
  STRATA_ASSIGN_OR_RETURN(int64_t after, count_objects());
  return before - after;
}

Result<std::vector<TierPartitionRow>> ThingsTable::tier_partitions() {
  std::vector<TierPartitionRow> rows;
  if (!tiered()) return rows;
  STRATA_ASSIGN_OR_RETURN(auto partitions, list_partitions(*this));
  STRATA_ASSIGN_OR_RETURN(Statement hot_bytes, Statement::prepare(db_, str_cat("SELECT sum(ifnull(length(CAST(data AS BLOB)), 0) +"
                                                                              " ifnull(length(CAST(embedding AS BLOB)), 0)) FROM ",
                                                                              shadow("things"), " WHERE type = ?1 AND created_at >= ?2"
                                                                              " AND created_at < ?3 AND cold_object IS NULL")));
  for (const auto& [name, partition] : partitions) {
    TierPartitionRow row;
    row.partition = Value(ValueView::of_text(name));
    row.rows = partition.rows;
    const int64_t cold_rows = partition.rows - partition.hot_rows;
    row.tier = partition.hot_rows > 0 && cold_rows > 0 ? "mixed" : cold_rows > 0 ? "cold" : "hot";
    if (partition.hot_rows > 0) {
      hot_bytes.reset();
      STRATA_RETURN_IF_ERROR(hot_bytes.bind_text(1, partition.type));
      STRATA_RETURN_IF_ERROR(hot_bytes.bind_int64(2, month_start_ms(partition.month)));
      STRATA_RETURN_IF_ERROR(hot_bytes.bind_int64(3, month_start_ms(partition.month + 1)));
      STRATA_ASSIGN_OR_RETURN(bool summed, hot_bytes.step());
      if (summed) row.hot_bytes = hot_bytes.column_int64(0);
      hot_bytes.reset();
    }
    for (const LiveObject& object : partition.objects) {
      if (object.stale_rows >= object.row_count) continue;  // no thing is in it any more
      row.cold_bytes += object.size;
      row.object_keys += str_cat(row.object_keys.empty() ? "" : ", ", object.key);
      row.etags += str_cat(row.etags.empty() ? "" : ", ", object.etag);
      if (object.flushed_at) row.flushed_at = std::max(row.flushed_at.value_or(0), *object.flushed_at);
    }
    if (auto counted = cold_->counters().find(name); counted != cold_->counters().end()) row.counters = counted->second;
    rows.push_back(std::move(row));
  }
  return rows;
}

Status check_tiered_things(sqlite3* db, const std::string& schema, const std::string& table, std::vector<std::string>& problems) {
  const std::string things = shadow_name(schema, table, "things");
  const std::string objects = shadow_name(schema, table, "objects");
  {
    STRATA_ASSIGN_OR_RETURN(Statement format, Statement::prepare(db, str_cat("SELECT value FROM ", shadow_name(schema, table, "config"),
                                                                             " WHERE key = 'format_version'")));
    STRATA_ASSIGN_OR_RETURN(bool row, format.step());
    if (!row || format.column_int64(0) < kTieredThingsFormatVersion) return Status::ok();
  }
  auto count = [&](const std::string& sql) -> Result<int64_t> {
    STRATA_ASSIGN_OR_RETURN(Statement query, Statement::prepare(db, sql));
    STRATA_ASSIGN_OR_RETURN(bool row, query.step());
    return row ? query.column_int64(0) : 0;
  };
  STRATA_ASSIGN_OR_RETURN(int64_t hot_values, count(str_cat("SELECT count(*) FROM ", things, " WHERE cold_object IS NOT NULL AND"
                                                            " (data IS NOT NULL OR embedding IS NOT NULL)")));
  if (hot_values > 0) problems.push_back(str_cat(std::to_string(hot_values), " cold things also hold data or an embedding hot"));
  STRATA_ASSIGN_OR_RETURN(int64_t unrecorded, count(str_cat("SELECT count(*) FROM ", things, " t WHERE cold_object IS NOT NULL AND NOT EXISTS"
                                                            " (SELECT 1 FROM ", objects, " o WHERE o.object_id = t.cold_object AND"
                                                            " o.state = 'live' AND t.cold_row >= 0 AND t.cold_row < o.row_count)")));
  if (unrecorded > 0) problems.push_back(str_cat(std::to_string(unrecorded), " cold things point to no row of a live object"));
  STRATA_ASSIGN_OR_RETURN(Statement live, Statement::prepare(db, str_cat("SELECT o.object_id, o.object_key, o.size, o.footer, o.row_count,"
                                                                         " o.stale_rows, (SELECT count(*) FROM ", things,
                                                                         " t WHERE t.cold_object = o.object_id) FROM ", objects,
                                                                         " o WHERE o.state = 'live'")));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, live.step());
    if (!row) break;
    const std::string key(live.column_text(1));
    const std::span<const std::byte> footer = live.column_blob(3);
    Result<parquet::FileReader> reader = parquet::FileReader::from_metadata(
        std::string_view(reinterpret_cast<const char*>(footer.data()), footer.size()), static_cast<uint64_t>(live.column_int64(2)));
    if (!reader.is_ok()) {
      problems.push_back(str_cat("object ", key, ": its recorded footer does not read: ", reader.status().message()));
    } else if (reader->metadata().num_rows != live.column_int64(4)) {
      problems.push_back(str_cat("object ", key, ": its footer counts ", std::to_string(reader->metadata().num_rows), " things, not ",
                                 std::to_string(live.column_int64(4))));
    }
    if (live.column_int64(4) - live.column_int64(5) != live.column_int64(6)) {
      problems.push_back(str_cat("object ", key, ": ", std::to_string(live.column_int64(6)), " things point into it, but it records ",
                                 std::to_string(live.column_int64(4) - live.column_int64(5)), " live rows"));
    }
  }
  return Status::ok();
}

// ---- dispatch from the tier functions --------------------------------------------------------

namespace {

class TieredThings final : public OtherTieredTables {
 public:
  explicit TieredThings(std::shared_ptr<ThingsRegistry> registry) : registry_(std::move(registry)) {}

  Result<std::optional<int64_t>> call(sqlite3* db, std::string_view function, const QualifiedName& name,
                                      std::span<sqlite3_value* const> arguments) override {
    ThingsTable* table = find_connected(db, *registry_, name);
    if (table == nullptr) return std::optional<int64_t>();
    auto partition_argument = [&]() -> Result<std::string> {
      if (arguments.empty() || sqlite3_value_type(arguments[0]) != SQLITE_TEXT) {
        return Status::error(str_cat(function, ": a things table's partition is named as text, 'type=<type>/dt=<YYYY-MM>'"
                                               " (as tier_partitions lists it), e.g. 'type=User/dt=2024-01'"));
      }
      return std::string(value_text(arguments[0]));
    };
    int64_t answer = 0;
    if (function == "tier_flush") {
      std::optional<std::string> partition;
      if (!arguments.empty()) {
        STRATA_ASSIGN_OR_RETURN(partition, partition_argument());
      }
      STRATA_ASSIGN_OR_RETURN(answer, table->tier_flush(std::move(partition)));
    } else if (function == "tier_restore") {
      STRATA_ASSIGN_OR_RETURN(std::string partition, partition_argument());
      STRATA_ASSIGN_OR_RETURN(answer, table->tier_restore(partition));
    } else if (function == "tier_gc") {
      STRATA_ASSIGN_OR_RETURN(answer, table->tier_gc());
    } else {
      return Status::error(str_cat(function, ": things table ", table->name(), " has no retention; tier_flush moves things older"
                                   " than hot_months= to the tier, and DELETE removes things"));
    }
    return std::optional<int64_t>(answer);
  }

  Result<std::optional<PartitionList>> partitions(sqlite3* db, const std::optional<QualifiedName>& only) override {
    PartitionList listed;
    auto list = [&](ThingsTable* table) -> Status {
      STRATA_ASSIGN_OR_RETURN(std::vector<TierPartitionRow> rows, table->tier_partitions());
      for (TierPartitionRow& row : rows) listed.emplace_back(table->name(), std::move(row));
      return Status::ok();
    };
    if (only) {
      ThingsTable* table = find_connected(db, *registry_, *only);
      if (table == nullptr) return std::optional<PartitionList>();
      STRATA_RETURN_IF_ERROR(list(table));
      return std::optional<PartitionList>(std::move(listed));
    }
    STRATA_ASSIGN_OR_RETURN(Statement names, Statement::prepare(db, "SELECT name FROM sqlite_schema WHERE type = 'table'"
                                                                    " AND sql LIKE 'CREATE VIRTUAL TABLE%USING things%' ORDER BY name"));
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> tables, first_column_texts(names));
    for (const std::string& name : tables) {
      if (ThingsTable* table = find_connected(db, *registry_, QualifiedName{"", name})) STRATA_RETURN_IF_ERROR(list(table));
    }
    return std::optional<PartitionList>(std::move(listed));
  }

 private:
  std::shared_ptr<ThingsRegistry> registry_;
};

}  // namespace

std::shared_ptr<OtherTieredTables> make_tiered_things(std::shared_ptr<ThingsRegistry> registry) {
  return std::make_shared<TieredThings>(std::move(registry));
}

}  // namespace strata::graph
