// ColumnarTable: buffered writes into chunks (flush, the helper-thread seal), merging small
// chunks and columnar_compact.
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

namespace {

// Small-chunk merging: chunks are classed by live rows in powers of kMergeFanout; a class is
// merged when it holds kMergeFanout chunks.
constexpr int64_t kMergeFanout = 16;

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
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const ChunkRowids> rowids, chunk_rowids(chunk));
    std::string bitmap = chunk.deleted;
    int64_t deleted_count = chunk.deleted_count;
    for (auto it = first; it != deletes.end() && *it <= chunk.max_rowid; ++it) {
      std::optional<size_t> found = rowids->find(*it);
      if (!found) continue;
      size_t row = *found;
      if (chunk.is_deleted(row)) continue;  // an older copy; the live one is in another chunk
      bitmap = set_bit(std::move(bitmap), row, rowids->size());
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

}  // namespace strata::columnar
