// The `parquet` virtual table's table object: its columns, the data files it reads (listed
// again for each statement, footers cached), and how a scan prunes files and row groups.
// vtab/parquet/parquet.cpp has the manual and the sqlite3_module around it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codecs/column_vector.h"
#include "codecs/parquet/parquet_reader.h"
#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "ext/table_registry.h"
#include "tiering/object_store.h"
#include "vtab/columnar/filter.h"
#include "vtab/columnar/schema.h"

namespace strata::parquet_sql {

inline constexpr std::string_view kModule = "parquet";

// One column of the table as SQLite sees it.
struct TableColumn {
  std::string name;           // the SQL name (made unique case-blind)
  std::string source;         // the Parquet column's name, or the hive partition key
  bool partition = false;     // from the key's `source=value` directories, not from the files
  std::string declared_type;  // INTEGER, REAL, TEXT, BLOB, or empty (mixed or unknown)
};

// One Parquet file of a snapshot.
struct DataFile {
  tiering::ObjectInfo object;
  std::shared_ptr<const parquet::FileReader> reader;
  std::vector<int> file_column;        // per table column: its index in reader->columns(), or -1
  std::vector<Value> partition_value;  // per table column: the value of a partition column
  int64_t first_row = 0;               // rowids of this file start here
};

// The files a statement reads: taken once per statement, so that its scans agree.
struct Snapshot {
  std::vector<DataFile> files;
  int64_t rows = 0;
};

// What a statement's scans did, for parquet_scan_stats().
struct ScanCounters {
  uint64_t files = 0;
  uint64_t files_pruned = 0;
  uint64_t row_groups = 0;
  uint64_t row_groups_pruned_by_statistics = 0;
  uint64_t row_groups_pruned_by_bloom_filter = 0;
  uint64_t requests = 0;  // ranged reads of the store (footers not counted)
  uint64_t bytes_read = 0;

  void add(const ScanCounters& other);
  std::string to_json() const;
};

class ParquetTable;
using ParquetRegistry = TableRegistry<ParquetTable>;

class ParquetTable {
 public:
  sqlite3_vtab base{};  // first: SQLite's handle is this object

  static ParquetTable* from(sqlite3_vtab* vtab) { return reinterpret_cast<ParquetTable*>(vtab); }
  static Result<std::unique_ptr<ParquetTable>> open(sqlite3* db, ParquetRegistry* registry, int argc,
                                                    const char* const* argv, bool create);
  ~ParquetTable();
  ParquetTable(const ParquetTable&) = delete;
  ParquetTable& operator=(const ParquetTable&) = delete;

  const std::vector<TableColumn>& columns() const { return columns_; }
  // The columns in the shape the columnar filters take (names, declared types, affinities).
  const columnar::TableSchema& filter_schema() const { return filter_schema_; }
  double estimated_rows() const { return estimated_rows_; }

  // Lists the files again and reads the footers of new or changed ones.
  Result<std::shared_ptr<const Snapshot>> take_snapshot();
  // Reads of exactly the bytes asked for from the object `key` (which must outlive the reader),
  // counted in `counters`.
  parquet::RangeReader range_reader(const std::string& key, ScanCounters& counters);
  // `status` with the module, the store and the object's key in front.
  Status file_error(std::string_view key, const Status& status) const;

  void record_scan(const ScanCounters& counters) { last_scan_ = counters; }
  const ScanCounters& last_scan() const { return last_scan_; }

  Status destroy();
  Status rename(const std::string& new_name);

 private:
  ParquetTable(sqlite3* db, ParquetRegistry* registry, std::string schema, std::string name, std::string url,
               bool hive_partitioning);
  std::string shadow_columns() const;
  Status open_store();
  // The data files' objects: the one object, or every .parquet below the prefix.
  Result<std::vector<tiering::ObjectInfo>> list_objects();
  Result<std::shared_ptr<const parquet::FileReader>> footer_of(const tiering::ObjectInfo& object);
  // Key-value pairs of the `k=v` directories between the prefix and the file's name.
  std::vector<std::pair<std::string, std::optional<std::string>>> partitions_of(const std::string& key) const;
  Status discover_columns(const std::vector<tiering::ObjectInfo>& objects);
  Status store_columns();
  Status load_columns();
  Status declare() const;
  void build_filter_schema();

  sqlite3* db_;
  ParquetRegistry* registry_;
  std::string schema_;
  std::string name_;
  std::string url_;
  bool hive_partitioning_ = true;
  std::string location_;  // the store
  std::string key_;       // the object, or the prefix ("" or ending in '/') when listing
  bool listing_ = false;  // key_ is a prefix

  std::unique_ptr<tiering::ObjectStore> store_;
  std::string store_settings_;  // store_settings_fingerprint() when store_ was opened
  std::vector<TableColumn> columns_;
  columnar::TableSchema filter_schema_;
  struct CachedFooter {
    std::string etag;
    uint64_t size = 0;
    std::shared_ptr<const parquet::FileReader> reader;
  };
  std::map<std::string, CachedFooter> footers_;
  double estimated_rows_ = 1e6;
  ScanCounters last_scan_;
};

// Row-group and file pruning (exact: a pruned row group holds no row the filter could match).
// True when no row of `row_group` of `file` can satisfy `filter`.
bool statistics_rule_out(const columnar::ColumnFilter& filter, const DataFile& file, size_t row_group);
// True when a partition column's value in `file` cannot satisfy `filter`.
bool partition_rules_out(const columnar::ColumnFilter& filter, const DataFile& file);
// True when the leaf's bloom filter holds none of the filter's right-hand values.
bool bloom_rules_out(const columnar::ColumnFilter& filter, const parquet::Leaf& leaf, const BloomFilter& bloom);

}  // namespace strata::parquet_sql
