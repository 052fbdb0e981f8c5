// The Parquet writer: rows of SQLite values in, a Parquet file out (docs/format-parquet.md).
//
//   PAR1 | row group 0: each column chunk [dictionary page] data pages… [bloom filter] | …
//        | chunks of columns that appeared late (see below) | FileMetaData | length | PAR1
//
// FileMetaData version 1, V1 data pages (definition levels RLE, every column OPTIONAL), values
// RLE_DICTIONARY when a dictionary pays and PLAIN otherwise, pages compressed with zstd,
// statistics (min_value, max_value, null_count) under TYPE_ORDER column orders, split-block
// bloom filters, created_by "strata version X (build H)".
//
// Threads: append_row buffers values; a full row group is encoded, compressed and written to
// the sink by one helper thread while the caller buffers the next (WriterOptions::threads), so
// the sink is called from that thread. The bytes do not depend on it.
//
// Storage classes: INTEGER → INT64, REAL → DOUBLE, TEXT → BYTE_ARRAY (STRING), BLOB → BYTE_ARRAY.
// A column's leaf takes the class most of its values have in the first row group where it has
// any. Values of any other class go to a sibling leaf "<name>__<class>" beside it, NULL in the
// rows where the value is elsewhere, so no value is lost or converted; the key
// "strata.storage_classes" tells strata's reader to join the leaves back into one column. A
// sibling that first appears in a later row group gets all-NULL chunks for the earlier ones,
// written after the last row group (a column chunk may lie anywhere in the file). A column with
// no value at all is INT32 with the UNKNOWN (always NULL) logical type unless a declared type
// says otherwise.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/column_vector.h"
#include "codecs/parquet/parquet_format.h"
#include "ext/status.h"

namespace strata::parquet {

// Where the file's bytes go, in order.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual Status write(std::string_view bytes) = 0;
};

class StringSink final : public OutputSink {
 public:
  Status write(std::string_view bytes) override {
    data_.append(bytes);
    return Status::ok();
  }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

// Writes to an open file descriptor (which the caller owns, fsyncs and closes).
class FileDescriptorSink final : public OutputSink {
 public:
  explicit FileDescriptorSink(int fd) : fd_(fd) {}
  Status write(std::string_view bytes) override;

 private:
  int fd_;
};

enum class BloomFilterColumns {
  kNone,
  kDictionary,  // the leaves of each row group that were dictionary-encoded (few distinct values)
  kAll,
};

struct WriterOptions {
  uint64_t row_group_rows = 122880;           // DuckDB's default, so files compare like for like
  uint64_t row_group_bytes = uint64_t{128} << 20;  // of buffered values, whichever comes first
  uint64_t page_bytes = uint64_t{1} << 20;    // of encoded values before compression
  bool compress = true;                       // zstd; false writes UNCOMPRESSED pages
  int zstd_level = 3;
  bool dictionary = true;
  uint64_t dictionary_bytes = uint64_t{1} << 20;  // a dictionary larger than this falls back to PLAIN
  BloomFilterColumns bloom_filters = BloomFilterColumns::kDictionary;
  std::vector<std::string> bloom_filter_columns;  // also these columns, whatever their encoding
  double bloom_filter_fpp = 0.01;
  std::string created_by;                      // default: "strata version X (build H)"
  std::vector<KeyValue> key_value_metadata;
  // With 2, a full row group is encoded and written by a helper thread while append_row buffers
  // the next one (so up to two row groups are in memory); with 1, by append_row's caller.
  int threads = 2;
};

struct ColumnSpec {
  std::string name;
  // The declared class (from a column's declared type), used when the column holds no value and
  // to break ties; kNull when unknown.
  ValueType declared = ValueType::kNull;
};

// The created_by strata writes: "strata version <version> (build <git hash>)".
std::string strata_created_by();

class Writer {
 public:
  Writer(std::vector<ColumnSpec> columns, WriterOptions options, OutputSink& sink);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Checks the options and column names; call before the first row.
  Status start();
  // An error may come from encoding or writing an earlier row group (on the helper thread);
  // after any error the writer only returns errors.
  Status append_row(std::span<const ValueView> row);
  // Writes `columns` (one vector per column, all of one length) as one row group of their own,
  // whatever row_group_rows says: for a caller whose data is already column-wise (a columnar
  // chunk becomes exactly one row group). Rows appended before it are sealed into a row group
  // first. `blooms`, when given, holds per column a split-block bloom filter bitset the caller
  // already has for these values (empty: none): a column whose filter is written uses it for its
  // main leaf instead of building one, so the file carries the caller's very bytes. It must hold
  // every value of the column (a superset is fine), with both zeros for a REAL zero.
  Status append_row_group(std::vector<ColumnVector> columns, std::vector<std::string> blooms = {});
  // Writes the last row group, late chunks and the footer. The file is complete only when this
  // returns OK.
  Status finish();

  uint64_t rows() const { return rows_; }
  uint64_t bytes_written() const { return position_; }  // once finish() returned (the helper counts it)

 private:
  struct Leaf;
  struct Column;

  Status write(std::string_view bytes);
  // Hands the buffered rows to the helper thread (or encodes them here with threads = 1).
  Status seal_row_group();
  // Waits for the row group the helper is encoding, and returns how that went.
  Status settle();
  Status encode_row_group(std::vector<ColumnVector>& buffer, uint64_t rows);
  Status write_chunk(Leaf& leaf, const ColumnVector& values, size_t group, std::string_view given_bloom = {});
  Status write_null_chunk(Leaf& leaf, size_t rows, size_t group);
  Leaf& add_leaf(size_t column, ValueType type, bool raw_text = false);

  std::vector<Column> columns_;
  std::vector<std::unique_ptr<Leaf>> leaves_;
  WriterOptions options_;
  OutputSink& sink_;
  std::vector<ColumnVector> buffer_;
  uint64_t buffered_rows_ = 0;
  uint64_t buffered_bytes_ = 0;
  std::vector<int64_t> group_rows_;
  uint64_t rows_ = 0;
  uint64_t position_ = 0;
  bool started_ = false;
  bool finished_ = false;
  struct Encoder;
  std::unique_ptr<Encoder> encoder_;
  Status failed_;  // the first error; every later call returns it
  // The row group being encoded on the helper thread (declared last: it is waited for first).
  std::vector<ColumnVector> sealed_;
  std::vector<std::string> buffer_blooms_;  // append_row_group's blooms, per column, sealed with the rows
  std::vector<std::string> sealed_blooms_;
  std::future<Status> encoding_;
};

}  // namespace strata::parquet
