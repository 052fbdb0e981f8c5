// Moving partitions of a columnar table to its tier and back (docs/tiering.md). The order of a
// flush's steps and what is undone on failure are tiering/partition_mover.{h,cpp} (plain C++);
// this file is the table's side of them (ColumnarPartitionCatalog), restore and GC.
//
// Flush of one partition P, each step its own SQLite transaction or none:
//   1. intent   — t_objects gets (key, P, 'writing', owner): from now on the key is known, so
//                 whatever happens next, tier_gc can find the object without listing the bucket.
//   2. write    — in one read transaction: P's visible rows, in rowid order, cut into chunks of
//                 chunk_rows; each is one row group of a local Parquet file, and its zone maps,
//                 bloom filters and rowids are encoded for the hot side.
//   3. upload   — create-only under the fresh key, then verified (size, version tag, footer).
//   4. commit   — one write transaction: P's chunks are still those step 2 read (else the flush
//                 is abandoned: another connection wrote), they go, the new cold chunks come,
//                 the intent becomes 'live' with its footer, and P's older objects 'retired'.
//   5. clean up — retired objects are removed from the store, then forgotten.
// A failure or kill before 4 leaves the table as it was plus an intent (its object at worst an
// orphan); after 4, retired objects that tier_gc removes. Restore is the mirror image: read the
// cold chunks' columns, then one transaction stores them hot and retires the object, then the
// object is removed.
#include <algorithm>
#include <chrono>
#include <set>

#include "codecs/checksum.h"
#include "codecs/column_codec.h"
#include "codecs/value_compare.h"
#include "ext/str_cat.h"
#include "tiering/flush_owner.h"
#include "tiering/partition_mover.h"
#include "tiering/partition_object.h"
#include "vtab/columnar/partition.h"
#include "vtab/columnar/table.h"

namespace strata::columnar {

namespace {

std::string_view unit_name(PartitionUnit unit) {
  switch (unit) {
    case PartitionUnit::kHour: return "hour";
    case PartitionUnit::kDay: return "day";
    case PartitionUnit::kMonth: return "month";
    case PartitionUnit::kYear: return "year";
    case PartitionUnit::kValue: break;
  }
  return "";
}

// Whether the partition a user named (as SQL passed it) is `partition`: equal as values, or
// equal as text ('5' names the partition 5).
bool names_partition(const Value& named, const Value& partition) {
  if (named.type == ValueType::kNull || partition.type == ValueType::kNull) return named.type == partition.type;
  if (partition_map_key(named) == partition_map_key(partition)) return true;
  return partition_text(named) == partition_text(partition);
}

// Partitions in ascending order of their values (NULL first), each once.
std::vector<Value> distinct_partitions(const std::vector<ChunkInfo>& chunks) {
  std::vector<Value> values;
  std::set<std::string> seen;
  for (const ChunkInfo& chunk : chunks) {
    if (seen.insert(partition_map_key(chunk.partition)).second) values.push_back(chunk.partition);
  }
  std::sort(values.begin(), values.end(), [](const Value& a, const Value& b) {
    return compare_values(a.view(), b.view(), Collation::kBinary) < 0;
  });
  return values;
}

std::vector<ChunkInfo> chunks_of(const std::vector<ChunkInfo>& chunks, const Value& partition) {
  const std::string key = partition_map_key(partition);
  std::vector<ChunkInfo> found;
  for (const ChunkInfo& chunk : chunks) {
    if (partition_map_key(chunk.partition) == key) found.push_back(chunk);
  }
  return found;
}

// What a flush must look at again before it commits: the chunks it read, as it read them.
struct ChunkFingerprint {
  int64_t chunk_id;
  int64_t deleted_count;
  std::optional<std::string> tier;
  bool operator==(const ChunkFingerprint&) const = default;
};
std::vector<ChunkFingerprint> fingerprints(const std::vector<ChunkInfo>& chunks) {
  std::vector<ChunkFingerprint> out;
  for (const ChunkInfo& chunk : chunks) out.push_back({chunk.chunk_id, chunk.deleted_count, chunk.tier});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.chunk_id < b.chunk_id; });
  return out;
}

// Whether P's chunks are exactly what the lake should hold: all cold, one object, no deletion.
bool already_cold(const std::vector<ChunkInfo>& chunks) {
  std::set<std::string> objects;
  for (const ChunkInfo& chunk : chunks) {
    if (!chunk.tier || chunk.deleted_count > 0) return false;
    objects.insert(*chunk.tier);
  }
  return objects.size() <= 1;
}

}  // namespace

Status ColumnarTable::require_tiering(std::string_view function) const {
  if (!schema_.partition || schema_.tier.empty()) {
    return Status::error(str_cat(function, ": table ", name(), " has no ",
                                 !schema_.partition ? "partition_by= option" : "tier= option",
                                 "; tiering moves partitions to the tier= location, so it needs both"
                                 " (CREATE VIRTUAL TABLE … USING columnar(…, partition_by='day(ts)', tier='file:lake'))"));
  }
  return require_partitions(function);
}

Status ColumnarTable::require_partitions(std::string_view function) const {
  if (!schema_.partition) {
    return Status::error(str_cat(function, ": table ", name(), " has no partition_by= option, so no partitions"
                                 " (CREATE VIRTUAL TABLE … USING columnar(…, partition_by='day(ts)'))"));
  }
  if (sqlite3_get_autocommit(db_) == 0) {
    return Status::error(str_cat(function, ": cannot run inside a transaction: it commits its own steps"
                                           " (so that a crash never loses data); run it on its own"));
  }
  if (open_cursors_ > 0) return Status::busy(str_cat(function, ": table ", name(), " has a scan in progress"));
  return Status::ok();
}

void ColumnarTable::forget_stored_state() {
  cache_.clear();
  point_reads_.clear();
  cold_.forget();
  stored_rowid_bound_.reset();
  max_rowid_.reset();
  low_cardinality_.clear();
}

Result<int64_t> ColumnarTable::tier_flush(const std::optional<Value>& only) {
  STRATA_RETURN_IF_ERROR(require_tiering("tier_flush"));
  PreserveLastInsertRowid preserve(db_);
  STRATA_RETURN_IF_ERROR(settle());
  STRATA_RETURN_IF_ERROR(flush());
  tiering::FlushOwner active;
  if (!only) {
    // The whole policy: orphans of earlier failures first, then what retention= expires (no
    // point moving it), then the moves.
    STRATA_RETURN_IF_ERROR(tier_gc().status());
    if (schema_.retention) STRATA_RETURN_IF_ERROR(expire_partitions(std::nullopt).status());
  }
  std::vector<Value> targets;
  {
    SqlTransaction read(db_);
    STRATA_RETURN_IF_ERROR(read.begin(false));
    STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.list_chunks());
    std::vector<Value> partitions = distinct_partitions(chunks);
    if (only) {
      for (const Value& partition : partitions) {
        if (names_partition(*only, partition)) targets.push_back(partition);
      }
    } else {
      const size_t keep = static_cast<size_t>(std::min<int64_t>(schema_.hot_partitions, static_cast<int64_t>(partitions.size())));
      targets.assign(partitions.begin(), partitions.end() - static_cast<std::ptrdiff_t>(keep));
    }
    std::erase_if(targets, [&](const Value& partition) { return already_cold(chunks_of(chunks, partition)); });
    STRATA_RETURN_IF_ERROR(read.commit());
  }
  int64_t moved = 0;
  for (const Value& partition : targets) {
    Result<bool> flushed = flush_partition(partition, active.name());
    forget_stored_state();
    STRATA_RETURN_IF_ERROR(flushed.status());
    if (*flushed) ++moved;
  }
  return moved;
}

// The columnar table's side of moving one partition (tiering/partition_mover.h): its intent,
// rows and commit over the shadow tables, each in its own transaction. `partition` nullopt: every
// partition (for removing retired objects only).
class ColumnarPartitionCatalog final : public tiering::PartitionCatalog {
 public:
  ColumnarPartitionCatalog(ColumnarTable& table, std::optional<Value> partition, std::string owner = {})
      : table_(table), partition_(std::move(partition)), owner_(std::move(owner)) {}

  Result<int64_t> record_intent(const std::string& key) override {
    SqlTransaction intent(table_.db_);
    STRATA_RETURN_IF_ERROR(intent.begin(true));
    STRATA_RETURN_IF_ERROR(table_.store_.upgrade_format());
    STRATA_ASSIGN_OR_RETURN(const int64_t object_id, table_.store_.add_object_intent(key, *partition_, owner_));
    STRATA_RETURN_IF_ERROR(intent.commit());
    key_ = key;
    return object_id;
  }

  Result<bool> write_rows(tiering::PartitionObject& object) override {
    SqlTransaction read(table_.db_);
    STRATA_RETURN_IF_ERROR(read.begin(false));
    STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, table_.store_.list_chunks());
    table_.refresh_cache();  // the read transaction is open: another connection's commits show now
    std::vector<ChunkInfo> mine = chunks_of(chunks, *partition_);
    read_state_ = fingerprints(mine);
    const ChunkEncoding encoding = table_.store_.chunk_encoding();
    const TableSchema& schema = table_.schema_;
    metadata_.clear();
    STRATA_RETURN_IF_ERROR(table_.regroup_rows(mine, [&](std::vector<int64_t>& rowids, std::vector<ColumnVector>& columns) -> Status {
      metadata_.push_back(encode_chunk(encoding, rowids, columns, rowids.size() >= 4096, /*metadata_only=*/true));
      if (schema.rowid_alias >= 0) {
        ColumnVector alias;
        alias.append_integers(rowids.data(), rowids.size());
        columns[schema.rowid_alias] = std::move(alias);
      }
      // The hot bloom filters are the file's: the same bytes (without their checksum).
      std::vector<std::string> blooms(columns.size());
      for (const EncodedColumn& encoded : metadata_.back().columns) {
        if (encoded.column < 0 || !encoded.bloom) continue;
        if (std::optional<std::string_view> bitset = without_checksum(*encoded.bloom)) blooms[encoded.column] = *bitset;
      }
      return object.append_chunk(std::move(columns), std::move(blooms));
    }));
    STRATA_RETURN_IF_ERROR(read.commit());
    return !metadata_.empty();
  }

  Status commit(int64_t intent, const tiering::ObjectInfo& stored, const tiering::PartitionObject& object) override {
    ChunkStore& store = table_.store_;
    SqlTransaction commit(table_.db_);
    STRATA_RETURN_IF_ERROR(commit.begin(true));
    STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store.list_chunks());
    std::vector<ChunkInfo> mine = chunks_of(chunks, *partition_);
    if (fingerprints(mine) != read_state_) {
      return Status::busy(str_cat("tier_flush: table ", table_.name(), ": partition ", partition_in_message(*partition_),
                                  " changed while it was being flushed; run tier_flush again"));
    }
    std::set<int64_t> replaced_objects;
    for (const ChunkInfo& chunk : mine) {
      if (chunk.tier) {
        STRATA_ASSIGN_OR_RETURN(std::optional<ColdPlace> place, store.cold_place(chunk.chunk_id));
        if (place) replaced_objects.insert(place->object_id);
      }
      STRATA_RETURN_IF_ERROR(store.delete_chunk(chunk.chunk_id));
    }
    for (int64_t replaced : replaced_objects) STRATA_RETURN_IF_ERROR(store.set_object_state(replaced, ObjectState::kRetired));
    for (size_t group = 0; group < metadata_.size(); ++group) {
      STRATA_RETURN_IF_ERROR(store.store_cold_chunk(*partition_, metadata_[group], key_,
                                                    ColdPlace{intent, static_cast<int64_t>(group)}).status());
    }
    STRATA_RETURN_IF_ERROR(store.set_object_live(intent, static_cast<int64_t>(object.size()), stored.etag, object.footer(),
                                                 static_cast<int64_t>(object.rows())));
    return commit.commit();
  }

  Status forget_intent(int64_t intent) override { return table_.store_.delete_object(intent); }

  Result<std::vector<std::pair<int64_t, std::string>>> retired_objects() override {
    STRATA_ASSIGN_OR_RETURN(std::vector<ColdObject> objects, table_.store_.list_objects(false));
    std::vector<std::pair<int64_t, std::string>> retired;
    for (const ColdObject& object : objects) {
      if (object.state != ObjectState::kRetired) continue;
      if (partition_ && partition_map_key(object.partition) != partition_map_key(*partition_)) continue;
      retired.emplace_back(object.object_id, object.key);
    }
    return retired;
  }

  Status forget_object(int64_t object_id) override { return table_.store_.delete_object(object_id); }

 private:
  ColumnarTable& table_;
  std::optional<Value> partition_;
  std::string owner_;
  std::string key_;
  std::vector<ChunkFingerprint> read_state_;  // the partition's chunks as write_rows() read them
  std::vector<EncodedChunk> metadata_;        // the new cold chunks' hot side, one per row group
};

Result<bool> ColumnarTable::flush_partition(const Value& partition, const std::string& owner) {
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectStore * object_store, cold_.object_store());
  const PartitionSpec& spec = *schema_.partition;
  std::string column_label = schema_.columns[spec.column].name;
  if (spec.unit != PartitionUnit::kValue) column_label = str_cat(column_label, "_", unit_name(spec.unit));
  STRATA_ASSIGN_OR_RETURN(std::string object_name, tiering::fresh_object_name());
  tiering::FlushPlan plan;
  plan.key = str_cat(tiering::escape_path_segment(name()), "/", tiering::hive_directory(column_label, partition.view()), "/",
                     object_name);
  plan.what = str_cat("tier_flush: table ", name(), ": partition ", partition_in_message(partition));
  for (const ColumnDefinition& column : schema_.columns) plan.columns.push_back({column.name, storage_class_of_declared_type(column.declared_type)});
  plan.options.bloom_filters = parquet::BloomFilterColumns::kNone;
  for (int column : schema_.bloom_columns) plan.options.bloom_filter_columns.push_back(schema_.columns[column].name);
  plan.options.bloom_filter_fpp = kBloomFalsePositiveRate;
  // Data pages of 64 KiB of encoded values (about 8,000 numbers) rather than the writer's 1 MiB:
  // a point lookup then decodes one small page per column instead of the whole column chunk
  // (W1 at 2M rows: q5 warm/hot 2.3x -> 1.3x), for 3% more bytes (tier_bench, docs/tiering.md).
  plan.options.page_bytes = kColdPageBytes;
  if (schema_.compression.zstd) {
    plan.options.zstd_level = schema_.compression.level;
  } else {
    plan.options.compress = false;
  }
  ColumnarPartitionCatalog catalog(*this, partition, owner);
  return tiering::flush_partition(*object_store, catalog, plan);
}

Status ColumnarTable::remove_retired_objects(std::optional<Value> partition) {
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectStore * object_store, cold_.object_store());
  ColumnarPartitionCatalog catalog(*this, std::move(partition));
  return tiering::remove_retired(*object_store, catalog);
}

Result<int64_t> ColumnarTable::tier_restore(const Value& partition) {
  STRATA_RETURN_IF_ERROR(require_tiering("tier_restore"));
  PreserveLastInsertRowid preserve(db_);
  STRATA_RETURN_IF_ERROR(settle());
  STRATA_RETURN_IF_ERROR(flush());
  Result<bool> restored = restore_partition(partition);
  forget_stored_state();
  STRATA_ASSIGN_OR_RETURN(bool moved, std::move(restored));
  return moved ? 1 : 0;
}

Result<bool> ColumnarTable::restore_partition(const Value& named) {
  // 1. Read the cold chunks' columns and encode them as hot blobs.
  struct HotAgain {
    ChunkInfo chunk;
    std::vector<EncodedColumn> columns;
  };
  std::vector<HotAgain> chunks;
  std::vector<ChunkFingerprint> read_state;
  std::optional<Value> partition;
  {
    SqlTransaction read(db_);
    STRATA_RETURN_IF_ERROR(read.begin(false));
    STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> all, store_.list_chunks());
    refresh_cache();
    for (const Value& candidate : distinct_partitions(all)) {
      if (names_partition(named, candidate)) partition = candidate;
    }
    if (!partition) return false;
    std::vector<ChunkInfo> cold;
    for (ChunkInfo& chunk : chunks_of(all, *partition)) {
      if (chunk.tier) cold.push_back(std::move(chunk));
    }
    if (cold.empty()) return false;
    read_state = fingerprints(cold);
    for (const ChunkInfo& chunk : cold) {
      HotAgain hot{chunk, {}};
      for (int c = 0; c < static_cast<int>(schema_.columns.size()); ++c) {
        if (c == schema_.rowid_alias) continue;
        STRATA_ASSIGN_OR_RETURN(ColumnVector values, cold_.read_column(chunk, c));
        hot.columns.push_back({c, encode_column(values, schema_.compression), std::nullopt, std::nullopt});
      }
      chunks.push_back(std::move(hot));
    }
    STRATA_RETURN_IF_ERROR(read.commit());
  }
  // 2. One transaction: the chunks hot again, their objects retired.
  {
    SqlTransaction commit(db_);
    STRATA_RETURN_IF_ERROR(commit.begin(true));
    STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> all, store_.list_chunks());
    std::vector<ChunkInfo> cold;
    for (ChunkInfo& chunk : chunks_of(all, *partition)) {
      if (chunk.tier) cold.push_back(std::move(chunk));
    }
    // Deletions since step 1 only changed bitmaps, which stay as they are; anything else
    // (another flush or restore) means starting again.
    std::vector<ChunkFingerprint> now = fingerprints(cold);
    auto same_chunks = [](std::vector<ChunkFingerprint> a, std::vector<ChunkFingerprint> b) {
      for (auto& print : a) print.deleted_count = 0;
      for (auto& print : b) print.deleted_count = 0;
      return a == b;
    };
    if (!same_chunks(now, read_state)) {
      return Status::busy(str_cat("tier_restore: table ", name(), ": partition ", partition_in_message(*partition),
                                  " changed while it was being restored; run tier_restore again"));
    }
    std::set<int64_t> objects;
    for (const HotAgain& hot : chunks) {
      STRATA_ASSIGN_OR_RETURN(std::optional<ColdPlace> place, store_.cold_place(hot.chunk.chunk_id));
      if (place) objects.insert(place->object_id);
      STRATA_RETURN_IF_ERROR(store_.make_chunk_hot(hot.chunk.chunk_id, hot.columns));
    }
    STRATA_RETURN_IF_ERROR(retire_unused_objects(objects));
    STRATA_RETURN_IF_ERROR(commit.commit());
  }
  // 3. The object.
  (void)remove_retired_objects(*partition);
  return true;
}

Result<int64_t> ColumnarTable::tier_expire(const std::optional<Value>& only) {
  STRATA_RETURN_IF_ERROR(require_partitions("tier_expire"));
  if (!only && !schema_.retention) {
    return Status::error(str_cat("tier_expire: table ", name(), " has no retention= option; name the partition to drop"
                                 " (tier_expire('", name(), "', '2024-01-01')) or give the table a retention"
                                 " (retention='400 days')"));
  }
  PreserveLastInsertRowid preserve(db_);
  STRATA_RETURN_IF_ERROR(settle());
  STRATA_RETURN_IF_ERROR(flush());
  return expire_partitions(only);
}

Result<int64_t> ColumnarTable::expire_partitions(const std::optional<Value>& only) {
  std::vector<Value> targets;
  {
    SqlTransaction read(db_);
    STRATA_RETURN_IF_ERROR(read.begin(false));
    STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.list_chunks());
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const int64_t cutoff = schema_.retention ? retention_cutoff(*schema_.retention, now) : INT64_MIN;
    for (const Value& partition : distinct_partitions(chunks)) {
      if (only) {
        if (names_partition(*only, partition)) targets.push_back(partition);
      } else if (std::optional<int64_t> end = partition_end(*schema_.partition, partition); end && *end <= cutoff) {
        targets.push_back(partition);  // every time it covers is before the cutoff
      }
    }
    STRATA_RETURN_IF_ERROR(read.commit());
  }
  int64_t expired = 0;
  for (const Value& partition : targets) {
    Result<bool> dropped = expire_partition(partition);
    forget_stored_state();
    STRATA_ASSIGN_OR_RETURN(bool done, std::move(dropped));
    if (done) ++expired;
  }
  return expired;
}

Result<bool> ColumnarTable::expire_partition(const Value& partition) {
  // 1. One transaction: the partition's rows leave the key indexes, its chunks (hot and cold)
  // go, and objects no chunk points to any more are retired.
  {
    SqlTransaction commit(db_);
    STRATA_RETURN_IF_ERROR(commit.begin(true));
    STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> all, store_.list_chunks());
    refresh_cache();
    std::vector<ChunkInfo> mine = chunks_of(all, partition);
    if (mine.empty()) return false;
    std::set<int64_t> objects;
    for (const ChunkInfo& chunk : mine) {
      if (!schema_.key_indexes.empty()) {
        STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const ChunkRowids> rowids, chunk_rowids(chunk));
        for (size_t row = 0; row < rowids->size(); ++row) {
          if (chunk.is_deleted(row)) continue;  // an older copy: its rowid may be live elsewhere
          for (size_t k = 0; k < schema_.key_indexes.size(); ++k) STRATA_RETURN_IF_ERROR(store_.key_delete(k, (*rowids)[row]));
        }
      }
      if (chunk.tier) {
        STRATA_ASSIGN_OR_RETURN(std::optional<ColdPlace> place, store_.cold_place(chunk.chunk_id));
        if (place) objects.insert(place->object_id);
      }
      STRATA_RETURN_IF_ERROR(drop_chunk(chunk));
    }
    STRATA_RETURN_IF_ERROR(retire_unused_objects(objects));
    STRATA_RETURN_IF_ERROR(commit.commit());
    if (objects.empty()) return true;
  }
  // 2. The objects, after the commit (a failure leaves them retired, for tier_gc).
  (void)remove_retired_objects(partition);
  return true;
}

Status ColumnarTable::retire_unused_objects(const std::set<int64_t>& objects) {
  if (objects.empty()) return Status::ok();
  STRATA_ASSIGN_OR_RETURN(auto still_used, store_.cold_chunks_per_object());
  for (int64_t object_id : objects) {
    if (!still_used.contains(object_id)) STRATA_RETURN_IF_ERROR(store_.set_object_state(object_id, ObjectState::kRetired));
  }
  return Status::ok();
}

Result<int64_t> ColumnarTable::tier_gc() {
  if (schema_.tier.empty()) {
    return Status::error(str_cat("tier_gc: table ", name(), " has no tier= option, so no objects to collect"));
  }
  if (sqlite3_get_autocommit(db_) == 0) {
    return Status::error("tier_gc: cannot run inside a transaction: it commits its own steps; run it on its own");
  }
  PreserveLastInsertRowid preserve(db_);
  {
    // Every object no committed chunk points to becomes 'retired' first, in one transaction: a
    // flush can then no longer make it live, so removing it below is safe.
    SqlTransaction retire(db_);
    STRATA_RETURN_IF_ERROR(retire.begin(true));
    STRATA_RETURN_IF_ERROR(store_.upgrade_format());
    STRATA_ASSIGN_OR_RETURN(std::vector<ColdObject> objects, store_.list_objects(false));
    STRATA_ASSIGN_OR_RETURN(auto used, store_.cold_chunks_per_object());
    for (const ColdObject& object : objects) {
      bool orphan = false;
      switch (object.state) {
        case ObjectState::kWriting: orphan = tiering::flush_owner_gone(object.owner); break;
        case ObjectState::kLive: orphan = !used.contains(object.object_id); break;
        case ObjectState::kRetired: break;
      }
      if (orphan) STRATA_RETURN_IF_ERROR(store_.set_object_state(object.object_id, ObjectState::kRetired));
    }
    STRATA_RETURN_IF_ERROR(retire.commit());
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<ColdObject> before, store_.list_objects(false));
  STRATA_RETURN_IF_ERROR(remove_retired_objects(std::nullopt));
  // And what killed uploads left in the store (the file store's temporary files).
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectStore * object_store, cold_.object_store());
  STRATA_RETURN_IF_ERROR(object_store->tidy(tiering::escape_path_segment(name()) + "/"));
  STRATA_ASSIGN_OR_RETURN(std::vector<ColdObject> after, store_.list_objects(false));
  return static_cast<int64_t>(before.size() - after.size());
}

Result<std::vector<ColumnarTable::PartitionTierRow>> ColumnarTable::tier_partitions() {
  STRATA_RETURN_IF_ERROR(settle());
  STRATA_ASSIGN_OR_RETURN(std::vector<ChunkInfo> chunks, store_.list_chunks());
  STRATA_ASSIGN_OR_RETURN(std::vector<ColdObject> objects, store_.list_objects(false));
  STRATA_ASSIGN_OR_RETURN(auto used, store_.cold_chunks_per_object());
  std::vector<PartitionTierRow> rows;
  for (const Value& partition : distinct_partitions(chunks)) {
    PartitionTierRow row;
    row.partition = partition;
    bool any_hot = false, any_cold = false;
    for (const ChunkInfo& chunk : chunks_of(chunks, partition)) {
      row.rows += chunk.live_rows();
      if (chunk.tier) {
        any_cold = true;
      } else {
        any_hot = true;
        STRATA_ASSIGN_OR_RETURN(auto blobs, store_.column_blob_prefixes(chunk.chunk_id));
        for (const auto& blob : blobs) row.hot_bytes += blob.stored_size;
      }
    }
    row.tier = any_hot && any_cold ? "mixed" : any_cold ? "cold" : "hot";
    const std::string key = partition_map_key(partition);
    for (const ColdObject& object : objects) {
      if (object.state != ObjectState::kLive || !used.contains(object.object_id) ||
          partition_map_key(object.partition) != key) {
        continue;
      }
      row.cold_bytes += object.size;
      row.object_keys += str_cat(row.object_keys.empty() ? "" : ", ", object.key);
      row.etags += str_cat(row.etags.empty() ? "" : ", ", object.etag);
      if (object.flushed_at) row.flushed_at = std::max(row.flushed_at.value_or(0), *object.flushed_at);
    }
    auto counted = cold_.counters().find(key);
    if (counted != cold_.counters().end()) row.counters = counted->second;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace strata::columnar
