#include "vtab/columnar/cold_chunks.h"

#include <optional>

#include "codecs/value_encoding.h"
#include "ext/str_cat.h"
#include "tiering/read_cache.h"
#include "vtab/columnar/partition.h"

namespace strata::columnar {

Result<tiering::ObjectStore*> ColdChunks::object_store() {
  tier_.set_who(str_cat("columnar: table ", store_->table_name()));
  return tier_.store();
}

Result<const ColdChunks::OpenObject*> ColdChunks::open_object(int64_t object_id) {
  auto found = objects_.find(object_id);
  if (found != objects_.end()) return found->second.get();
  STRATA_ASSIGN_OR_RETURN(std::optional<ColdObject> record, store_->object(object_id));
  const std::string where = str_cat("object ", std::to_string(object_id));
  if (!record) return corrupt(store_->table_name(), where + " is named by a cold chunk but not recorded in t_objects");
  if (record->state != ObjectState::kLive) {
    return corrupt(store_->table_name(), str_cat(where, " (", record->key, ") is named by a cold chunk but is ",
                                                 object_state_name(record->state)));
  }
  Result<parquet::FileReader> reader = parquet::FileReader::from_metadata(record->footer, static_cast<uint64_t>(record->size));
  if (!reader.is_ok()) {
    return corrupt(store_->table_name(), str_cat(where, " (", record->key, "): its recorded footer is damaged: ",
                                                 reader.status().message()));
  }
  auto object = std::make_unique<OpenObject>(OpenObject{std::move(*record), std::move(reader).value(), {}});
  object->parquet_column.assign(schema_->columns.size(), -1);
  const std::vector<parquet::Column>& columns = object->reader.columns();
  for (size_t c = 0; c < schema_->columns.size(); ++c) {
    for (size_t p = 0; p < columns.size(); ++p) {
      if (columns[p].name == schema_->columns[c].name) object->parquet_column[c] = static_cast<int>(p);
    }
  }
  const OpenObject* opened = object.get();
  objects_[object_id] = std::move(object);
  return opened;
}

Status ColdChunks::cold_error(const ChunkInfo& chunk, const std::string& key, const Status& cause) const {
  return Status(cause.code(), str_cat("columnar: table ", store_->table_name(), ": partition ", partition_in_message(chunk.partition),
                                      ": object ", tiering::printable_key(key), ": ", cause.message()));
}

Result<ColdPlace> ColdChunks::place_of(const ChunkInfo& chunk) {
  auto place_found = places_.find(chunk.chunk_id);
  if (place_found == places_.end()) {
    STRATA_ASSIGN_OR_RETURN(std::optional<ColdPlace> place, store_->cold_place(chunk.chunk_id));
    if (!place) return corrupt(store_->table_name(), str_cat("cold chunk ", std::to_string(chunk.chunk_id), " has no row in t_cold"));
    place_found = places_.emplace(chunk.chunk_id, *place).first;
  }
  return place_found->second;
}

Result<bool> ColdChunks::looks_low_cardinality(const ChunkInfo& chunk, int column) {
  STRATA_ASSIGN_OR_RETURN(std::optional<ZoneMap> zone, read_zone(chunk, column));
  if (zone && zone->nulls == 0 && zone->min && zone->max && same_value(zone->min->view(), zone->max->view())) return true;
  STRATA_ASSIGN_OR_RETURN(const ColdPlace place, place_of(chunk));
  STRATA_ASSIGN_OR_RETURN(const OpenObject* object, open_object(place.object_id));
  const parquet::FileReader& reader = object->reader;
  if (place.row_group < 0 || static_cast<size_t>(place.row_group) >= reader.row_groups() || column < 0 ||
      static_cast<size_t>(column) >= object->parquet_column.size() || object->parquet_column[column] < 0) {
    return false;  // reported when the column is read
  }
  const parquet::Column& parquet_column = reader.columns()[static_cast<size_t>(object->parquet_column[column])];
  if (parquet_column.nested_root) return false;
  // A mixed-class column has a leaf per class: each must hold a dictionary or only NULLs.
  const auto row_group = static_cast<size_t>(place.row_group);
  const auto& chunks = reader.metadata().row_groups[row_group].columns;
  for (size_t leaf : parquet_column.leaves) {
    if (leaf >= chunks.size() || !chunks[leaf].meta_data) return false;
    const parquet::ColumnMetaData& meta = *chunks[leaf].meta_data;
    const parquet::ChunkStatistics statistics = reader.chunk_statistics(row_group, leaf);
    const bool only_nulls = statistics.null_count && *statistics.null_count == statistics.num_values;
    if (leaf == parquet_column.leaves.front() && meta.type != parquet::PhysicalType::kByteArray) return false;
    if (!meta.dictionary_page_offset && !only_nulls) return false;
  }
  return true;
}

Result<ColumnVector> ColdChunks::read_column(const ChunkInfo& chunk, int column) {
  return read_values(chunk, column, std::nullopt);
}

Result<std::optional<ColumnVector>> ColdChunks::read_rows(const ChunkInfo& chunk, int column, std::span<const uint32_t> rows) {
  STRATA_ASSIGN_OR_RETURN(ColumnVector values, read_values(chunk, column, rows));
  return std::optional<ColumnVector>(std::move(values));
}

Result<ColumnVector> ColdChunks::read_values(const ChunkInfo& chunk, int column, std::optional<std::span<const uint32_t>> rows) {
  STRATA_ASSIGN_OR_RETURN(const ColdPlace place, place_of(chunk));
  STRATA_ASSIGN_OR_RETURN(const OpenObject* object, open_object(place.object_id));
  const std::string& key = object->record.key;
  if (place.row_group < 0 || static_cast<size_t>(place.row_group) >= object->reader.row_groups() ||
      object->reader.row_group_rows(static_cast<size_t>(place.row_group)) != chunk.row_count) {
    return cold_error(chunk, key, corrupt(store_->table_name(), str_cat("row group ", std::to_string(place.row_group),
                                                                       " does not hold the ", std::to_string(chunk.row_count),
                                                                       " rows of chunk ", std::to_string(chunk.chunk_id))));
  }
  if (column < 0 || static_cast<size_t>(column) >= object->parquet_column.size() || object->parquet_column[column] < 0) {
    return cold_error(chunk, key, Status::corruption(str_cat("it has no column ", column >= 0 && static_cast<size_t>(column) < schema_->columns.size()
                                                                                       ? schema_->columns[column].name
                                                                                       : std::to_string(column))));
  }
  tier_.set_who(str_cat("columnar: table ", store_->table_name()));
  STRATA_ASSIGN_OR_RETURN(parquet::RangeReader read, tier_.reader(key, object->record.etag, counters_[partition_map_key(chunk.partition)]));
  const auto row_group = static_cast<size_t>(place.row_group);
  const auto parquet_column = static_cast<size_t>(object->parquet_column[column]);
  Result<ColumnVector> values = rows ? object->reader.read_column_rows(read, row_group, parquet_column, *rows)
                                     : object->reader.read_column(read, row_group, parquet_column);
  if (!values.is_ok()) return cold_error(chunk, key, values.status());
  return values;
}

}  // namespace strata::columnar
