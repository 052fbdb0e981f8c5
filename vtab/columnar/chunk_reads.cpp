// ColumnarTable: the decoded-chunk cache and reading chunks through it, each from its
// ChunkSource (chunk_source.h: HotChunks or ColdChunks).
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

namespace strata::columnar {

Result<bool> HotChunks::looks_low_cardinality(const ChunkInfo& chunk, int column) {
  STRATA_ASSIGN_OR_RETURN(auto prefixes, store_->column_blob_prefixes(chunk.chunk_id));
  for (const auto& blob : prefixes) {
    if (blob.column != column) continue;
    Result<ColumnBlobInfo> info = inspect_column_prefix(blob.prefix, static_cast<uint64_t>(blob.stored_size));
    if (!info.is_ok()) return false;  // a damaged blob is reported when read, not when planning
    auto codec = static_cast<CodecId>(info->codec);
    return codec == CodecId::kConstant || codec == CodecId::kRunLength || codec == CodecId::kDictionary;
  }
  return false;
}

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

Result<std::shared_ptr<const ChunkRowids>> ColumnarTable::chunk_rowids(const ChunkInfo& chunk) {
  ChunkCache::Entry& entry = cache_.entry(chunk.chunk_id);
  if (!entry.rowids) {
    STRATA_ASSIGN_OR_RETURN(ChunkRowids rowids, source_of(chunk).read_rowids(chunk));
    size_t bytes = rowids.memory_bytes();
    entry.rowids = std::make_shared<const ChunkRowids>(std::move(rowids));
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
    STRATA_ASSIGN_OR_RETURN(bloom, source_of(chunk).read_bloom(chunk, column));
  }
  entry.blooms[column] = bloom;
  if (bloom) cache_.charge(chunk.chunk_id, bloom->bytes().size());
  return bloom;
}

Result<std::optional<ZoneMap>> ColumnarTable::chunk_zone(const ChunkInfo& chunk, int column) {
  ChunkCache::Entry& entry = cache_.entry(chunk.chunk_id);
  auto found = entry.zones.find(column);
  if (found != entry.zones.end()) return found->second;
  STRATA_ASSIGN_OR_RETURN(std::optional<ZoneMap> zone, source_of(chunk).read_zone(chunk, column));
  entry.zones[column] = zone;
  return zone;
}

Result<ChunkRows> ColumnarTable::read_chunk_rows(const ChunkInfo& chunk, uint64_t column_mask,
                                                 const std::vector<int>* eager_columns) {
  ChunkRows result;
  STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const ChunkRowids> rowids, chunk_rowids(chunk));
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
    if (!reads_column(c, column_mask, eager_columns)) continue;
    STRATA_ASSIGN_OR_RETURN(result.columns[c], chunk_column(chunk, static_cast<int>(c)));
  }
  return result;
}

bool ColumnarTable::reads_column(size_t c, uint64_t column_mask, const std::vector<int>* eager_columns) const {
  const bool used = c < 63 ? (column_mask >> c) & 1
                           : ((column_mask >> 63) & 1) != 0 &&
                                 (eager_columns == nullptr ||
                                  std::find(eager_columns->begin(), eager_columns->end(), static_cast<int>(c)) != eager_columns->end());
  return used && static_cast<int>(c) != schema_.rowid_alias;
}

Result<ChunkRows> ColumnarTable::read_chunk_points(const ChunkInfo& chunk, uint64_t column_mask, const std::vector<int>* eager_columns,
                                                   const std::vector<int64_t>& wanted) {
  ChunkRows result;
  STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const ChunkRowids> rowids, chunk_rowids(chunk));
  // The visible rows among those wanted, in rowid order (so in position order).
  std::vector<uint32_t> positions;
  std::vector<int64_t> selected;
  for (int64_t rowid : wanted) {
    std::optional<size_t> position = rowids->find(rowid);
    if (!position || chunk.is_deleted(*position) || deletes_->contains(rowid)) continue;
    positions.push_back(static_cast<uint32_t>(*position));
    selected.push_back(rowid);
  }
  if (positions.empty()) return result;
  result.all_rowids = std::make_shared<const ChunkRowids>(ChunkRowids::list(std::move(selected)));
  result.visible = positions.size();
  result.chunk_positions = positions;
  result.columns.resize(schema_.columns.size());
  ChunkCache::Entry& entry = cache_.entry(chunk.chunk_id);
  // A chunk looked into again and again (a join probing it row by row) is decoded whole into the
  // cache after a few point reads, as a scan would.
  if (point_reads_.size() > 4096) point_reads_.clear();
  const bool whole = ++point_reads_[chunk.chunk_id] > kPointReadsBeforeCaching;
  for (size_t c = 0; c < schema_.columns.size(); ++c) {
    if (!reads_column(c, column_mask, eager_columns)) continue;
    const int column = static_cast<int>(c);
    if (auto cached = entry.columns.find(column); cached != entry.columns.end()) {
      result.columns[c] = std::make_shared<const ColumnVector>(cached->second->gather(positions));
      continue;
    }
    std::optional<ColumnVector> some;
    if (!whole) {
      STRATA_ASSIGN_OR_RETURN(some, source_of(chunk).read_rows(chunk, column, positions));
    }
    if (!some) {
      STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const ColumnVector> all, chunk_column(chunk, column));
      result.columns[c] = std::make_shared<const ColumnVector>(all->gather(positions));
      continue;
    }
    if (some->size() != positions.size()) {
      return Status::corruption(str_cat("columnar: table ", name(), ": chunk ", std::to_string(chunk.chunk_id), " column ",
                                        std::to_string(column), " gave ", std::to_string(some->size()), " values for ",
                                        std::to_string(positions.size()), " rows"));
    }
    ++last_scan_.columns_read_in_part;
    last_scan_.bytes_decoded += some->memory_bytes();
    result.columns[c] = std::make_shared<const ColumnVector>(std::move(*some));
  }
  return result;
}

Result<std::shared_ptr<const ColumnVector>> ColumnarTable::chunk_column(const ChunkInfo& chunk, int column) {
  ChunkCache::Entry& entry = cache_.entry(chunk.chunk_id);  // charging it never evicts it
  auto found = entry.columns.find(column);
  if (found != entry.columns.end()) return found->second;
  STRATA_ASSIGN_OR_RETURN(ColumnVector all, source_of(chunk).read_column(chunk, column));
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

}  // namespace strata::columnar
