// The Parquet reader: a file's footer, its schema as SQLite-typed columns, and the values of the
// column chunks a caller asks for, decoded into ColumnVectors.
//
// It reads through a RangeReader, so a caller backed by an object store fetches the footer and
// then exactly the byte ranges of the chunks it wants (chunk_range), nothing else.
//
// What it reads (docs/format-parquet.md has the details): every schema: a top-level primitive
// field is a column of SQLite values, a top-level group or repeated field (LIST, MAP, STRUCT)
// is a column of JSON text (nested_json.h); V1 and V2 data pages; PLAIN, PLAIN_DICTIONARY,
// RLE_DICTIONARY, RLE (booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY
// and BYTE_STREAM_SPLIT; UNCOMPRESSED, SNAPPY, GZIP and ZSTD pages. Values become SQLite values:
//   BOOLEAN, INT32, INT64           INTEGER (UINT_8/16/32 zero-extended)
//   INT96 (legacy timestamps)       INTEGER microseconds since 1970-01-01 UTC
//   FLOAT, DOUBLE, FLOAT16          REAL
//   DECIMAL (any physical type)     REAL (value / 10^scale)
//   BYTE_ARRAY STRING/ENUM/JSON     TEXT;  other BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY: BLOB
// Encrypted columns and other codecs are an error that names the feature, raised when such a
// column is read. Every inconsistency in a file is an error, never a
// crash or an out-of-bounds read.
//
// Files strata wrote carry the key "strata.storage_classes"; a column whose values had several
// storage classes then spans several leaves, and columns() joins them back into one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/bloom_filter.h"
#include "codecs/column_vector.h"
#include "codecs/parquet/nested_json.h"
#include "codecs/parquet/parquet_format.h"
#include "codecs/parquet/strata_layout.h"
#include "ext/status.h"

namespace strata::parquet {

// Returns `length` bytes at `offset` of the file (exactly that many, or an error).
using RangeReader = std::function<Result<std::string>(uint64_t offset, uint64_t length)>;

// A RangeReader over a whole file held in memory (a fetched object, a test's bytes); `bytes`
// must outlive it. Reads past the end are an error.
RangeReader memory_range_reader(std::string_view bytes);

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// A primitive column of the schema.
struct Leaf {
  std::string name;  // the path joined with '.'
  SchemaElement element;
  int max_definition_level = 0;
  int max_repetition_level = 0;
  ValueType sqlite_type = ValueType::kNull;  // the class its values become (kNull: always NULL)
  std::string unsupported;  // why it cannot be read, empty when it can
};

// A column as SQLite sees it: one leaf, or for strata's mixed-class columns several (the first
// one names the column; a row takes its value from whichever leaf is not NULL).
struct Column {
  std::string name;
  std::vector<size_t> leaves;
  // A LIST, MAP, STRUCT or repeated field: the index of its SchemaElement; its values are JSON
  // text assembled from all its leaves. Statistics and bloom filters do not apply to it.
  std::optional<size_t> nested_root;
};

// How a pruning decision sees a chunk: bounds of its non-NULL values as SQLite values (absent
// when the file has none or strata cannot order them) and its NULL count.
struct ChunkStatistics {
  std::optional<Value> min;
  std::optional<Value> max;
  std::optional<int64_t> null_count;
  std::optional<int64_t> nan_count;  // floating-point NaNs, which SQLite reads as NULL
  int64_t num_values = 0;
};

class FileReader {
 public:
  // Reads and checks the footer: the last 64 KiB of the file in one read, more only when the
  // footer is larger.
  static Result<FileReader> open(const RangeReader& read, uint64_t file_size);
  // From the serialized FileMetaData alone (as a cache may keep it).
  static Result<FileReader> from_metadata(std::string_view metadata, uint64_t file_size);

  const FileMetaData& metadata() const { return metadata_; }
  const std::vector<Leaf>& leaves() const { return leaves_; }
  const std::vector<Column>& columns() const { return columns_; }
  size_t row_groups() const { return metadata_.row_groups.size(); }
  int64_t row_group_rows(size_t row_group) const { return metadata_.row_groups[row_group].num_rows; }
  bool written_by_strata() const { return written_by_strata_; }

  // The bytes of one column chunk (dictionary page and data pages).
  Result<ByteRange> chunk_range(size_t row_group, size_t leaf) const;
  // Decodes a chunk from exactly the bytes chunk_range named.
  Result<ColumnVector> decode_chunk(size_t row_group, size_t leaf, std::string_view bytes) const;
  // The same with every level kept (for the leaves of a nested column).
  Result<LeveledValues> decode_leveled(size_t row_group, size_t leaf, std::string_view bytes) const;
  // Fetches exactly the bytes chunk_range names.
  Result<std::string> fetch_chunk(const RangeReader& read, size_t row_group, size_t leaf) const;
  // Fetches and decodes one column (all its leaves) of one row group.
  Result<ColumnVector> read_column(const RangeReader& read, size_t row_group, size_t column) const;
  // The same for rows `rows` only (ascending): one value per listed row. The column chunks are
  // fetched whole; data pages holding none of the rows are not decompressed or decoded.
  Result<ColumnVector> read_column_rows(const RangeReader& read, size_t row_group, size_t column,
                                        std::span<const uint32_t> rows) const;

  ChunkStatistics chunk_statistics(size_t row_group, size_t leaf) const;
  // The chunk's bloom filter, nullopt when it has none.
  Result<std::optional<BloomFilter>> read_bloom_filter(const RangeReader& read, size_t row_group,
                                                       size_t leaf) const;

 private:
  // read_column (rows nullopt) and read_column_rows.
  Result<ColumnVector> read_values(const RangeReader& read, size_t row_group, size_t column,
                                   std::optional<std::span<const uint32_t>> rows) const;
  Status resolve_schema();
  Status check_row_groups();
  void group_columns();

  FileMetaData metadata_;
  uint64_t file_size_ = 0;
  uint64_t data_end_ = 0;  // where the footer starts: chunks must end before it
  std::vector<Leaf> leaves_;
  std::vector<Column> columns_;
  std::vector<SchemaNode> nodes_;  // per SchemaElement
  std::vector<size_t> roots_;      // the top-level fields' SchemaElements
  bool written_by_strata_ = false;
  // parquet-mr before 1.2.9 left the dictionary page header out of total_compressed_size
  // (PARQUET-816): such chunks are read with up to 100 bytes more, as other readers do.
  bool pads_chunks_ = false;
};

// Whether a created_by string names parquet-mr older than 1.2.9 (no version: older).
bool written_by_parquet_mr_before_1_2_9(std::string_view created_by);

// The PLAIN encodings of the values a leaf could hold that equal `value` in SQLite's comparison
// (5 = 5.0; 0.0 = -0.0), which is what a bloom filter probe hashes. Empty when no value of the
// leaf can equal it (5.5 in an INT64 leaf, text in a number leaf); nullopt when the leaf's values
// are not read as stored (decimals, INT96, FLOAT16, booleans), so a filter cannot be probed.
std::optional<std::vector<std::string>> plain_encodings_equal_to(const Leaf& leaf, const ValueView& value);

}  // namespace strata::parquet
