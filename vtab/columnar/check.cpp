// ColumnarTable::check — columnar_check(): every chunk (hot and cold) and key index verified.
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
    Result<ChunkRowids> rowids = source_of(chunk).read_rowids(chunk);
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
      // From the chunk's source: a cold chunk's column from its object (through the local cache).
      Result<ColumnVector> values = source_of(chunk).read_column(chunk, static_cast<int>(c));
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
      Result<std::optional<BloomFilter>> bloom = source_of(chunk).read_bloom(chunk, static_cast<int>(c));
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
      Result<std::optional<ZoneMap>> zone = source_of(chunk).read_zone(chunk, static_cast<int>(c));
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
