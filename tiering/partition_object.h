// One cold partition as an object: a Parquet file written column-wise to a local temporary
// file (one row group per chunk), then uploaded under a fresh name and verified.
//
//   Result<PartitionObject> object = PartitionObject::create(columns, options);
//   for (each chunk) STRATA_RETURN_IF_ERROR(object->append_chunk(std::move(vectors)));
//   STRATA_RETURN_IF_ERROR(object->finish());
//   Result<ObjectInfo> info = upload_verified(store, key, *object);  // create-only, then checked
//
// The names of objects and the layout of keys (docs/tiering.md, "Object layout") live here too,
// so that the columnar table only says which table, partition column and value.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/column_vector.h"
#include "codecs/parquet/parquet_writer.h"
#include "ext/status.h"
#include "tiering/object_store.h"

namespace strata::tiering {

// A path segment as Hive writes it: every byte outside [A-Za-z0-9._-] as %XX.
std::string escape_path_segment(std::string_view text);

// The Hive directory name of a partition value: `<name>=<value>`, the value as text (integers in
// decimal, reals shortest round-trip, text and blob bytes as they are) with every byte outside
// [A-Za-z0-9._-] written %XX, and `__HIVE_DEFAULT_PARTITION__` for NULL, as Hive and DuckDB do.
std::string hive_directory(std::string_view name, const ValueView& value);

// A fresh object name: a random (version 4) UUID and ".parquet".
Result<std::string> fresh_object_name();

class PartitionObject {
 public:
  // A temporary file in the system's temporary directory (TMPDIR), removed when this goes.
  static Result<PartitionObject> create(std::vector<parquet::ColumnSpec> columns, parquet::WriterOptions options);
  PartitionObject(PartitionObject&& other) noexcept;
  PartitionObject& operator=(PartitionObject&&) = delete;
  PartitionObject(const PartitionObject&) = delete;
  ~PartitionObject();

  // One chunk: one row group (with the chunk's bloom filter bitsets per column, when it has them:
  // parquet::Writer::append_row_group).
  Status append_chunk(std::vector<ColumnVector> columns, std::vector<std::string> blooms = {});
  // Writes the footer and syncs; afterwards size() and footer() are known.
  Status finish();

  uint64_t size() const { return size_; }
  // The serialized FileMetaData (the bytes before the last 8 of the file), which the table keeps
  // so that reading the object never needs a footer request.
  const std::string& footer() const { return footer_; }
  const std::string& path() const { return path_; }
  uint64_t rows() const { return writer_ ? writer_->rows() : 0; }

 private:
  PartitionObject() = default;
  struct Parts;

  std::string path_;
  int fd_ = -1;
  std::unique_ptr<parquet::FileDescriptorSink> sink_;
  std::unique_ptr<parquet::Writer> writer_;
  uint64_t size_ = 0;
  std::string footer_;
};

// Uploads a finished object under `key` (create-only: a key that exists is an error, never
// overwritten), then verifies what the store holds: its size and version tag as the upload
// reported them, and its footer byte for byte (a ranged read). The object's info on success.
Result<ObjectInfo> upload_verified(ObjectStore& store, std::string_view key, const PartitionObject& object);

}  // namespace strata::tiering
