// The schema of a columnar table, parsed from its CREATE VIRTUAL TABLE arguments.
//
// Column definitions are read as an ordinary CREATE TABLE reads them: the declared type gives
// the affinity (SQLite's rules, section 3.1 of "Datatypes In SQLite"), NOT NULL, DEFAULT and
// COLLATE are kept, INTEGER PRIMARY KEY (not DESC) makes the column an alias of the rowid, and
// PRIMARY KEY / UNIQUE (column or table constraints) become unique constraints. CHECK, foreign
// keys and generated columns are refused by name: a columnar table cannot enforce them, and
// silently ignoring a constraint would be worse than refusing it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codecs/column_codec.h"
#include "codecs/value_compare.h"
#include "ext/status.h"

namespace strata::columnar {

enum class Affinity { kBlob, kText, kNumeric, kInteger, kReal };

// SQLite's rule: INT -> INTEGER; CHAR, CLOB, TEXT -> TEXT; BLOB or no type -> BLOB;
// REAL, FLOA, DOUB -> REAL; anything else NUMERIC.
Affinity affinity_of_declared_type(std::string_view declared_type);

// The storage class a declared type suggests (for all-NULL columns and ties when writing
// Parquet): kNull when there is no declared type or a NUMERIC one.
ValueType storage_class_of_declared_type(std::string_view declared_type);

// ON CONFLICT clause of a constraint; kDefault when none was written.
enum class ConflictMode { kDefault, kRollback, kAbort, kFail, kIgnore, kReplace };

struct ColumnDefinition {
  std::string name;
  std::string declared_type;  // as written, e.g. "VARCHAR(10)"; empty when none
  Affinity affinity = Affinity::kBlob;
  bool not_null = false;
  ConflictMode not_null_conflict = ConflictMode::kDefault;
  std::string default_sql;  // the DEFAULT value as written; empty when none
  std::string collation;    // empty: BINARY
};

// A shadow B-tree over some columns (docs/format-columnar.md): a UNIQUE or PRIMARY KEY
// constraint (unique, enforced), or a secondary index from the index= option (not unique).
// Both serve equality lookups.
struct KeyIndex {
  std::vector<int> columns;
  std::vector<std::string> collations;  // per key column; the column's own when not written
  bool unique = true;
  bool primary_key = false;
  ConflictMode conflict = ConflictMode::kDefault;
};

enum class PartitionUnit { kValue, kHour, kDay, kMonth, kYear };

struct PartitionSpec {
  int column = -1;
  PartitionUnit unit = PartitionUnit::kValue;
  bool milliseconds = false;  // hour_ms(col) …: the column holds unix milliseconds
  std::string text;           // as written, e.g. "day(ts)"
};

// retention='400 days': time partitions wholly older than now minus this are expired (dropped,
// hot or cold) by tier_flush('t') and tier_expire('t').
struct Retention {
  int64_t count = 0;
  PartitionUnit unit = PartitionUnit::kDay;  // kHour, kDay, kMonth or kYear
  std::string text;                          // as written, e.g. "400 days"
};

inline constexpr int64_t kDefaultChunkRows = 65536;
inline constexpr int64_t kMaxChunkRows = 1 << 22;

struct TableSchema {
  std::vector<ColumnDefinition> columns;
  int rowid_alias = -1;  // the INTEGER PRIMARY KEY column, or -1
  bool autoincrement = false;
  ConflictMode rowid_conflict = ConflictMode::kDefault;
  // UNIQUE / PRIMARY KEY constraints in declaration order, then one per index= column.
  std::vector<KeyIndex> key_indexes;

  int64_t chunk_rows = kDefaultChunkRows;
  std::optional<PartitionSpec> partition;
  std::vector<int> bloom_columns;
  std::vector<int> index_columns;  // index= (each also has an entry in key_indexes)
  Compression compression;
  std::string compression_text = "zstd:3";
  std::string tier;            // where cold partitions go ("file:DIR" or "s3://…"); empty: nowhere
  int64_t hot_partitions = 1;  // the newest partitions tier_flush('t') keeps hot
  std::optional<Retention> retention;

  // CREATE TABLE x(…) for sqlite3_declare_vtab: names, types, NOT NULL, DEFAULT, COLLATE.
  std::string declaration_sql() const;
  int column_index(std::string_view name) const;  // case-insensitive; -1 when absent
  bool has_defaults() const {
    for (const ColumnDefinition& column : columns) {
      if (!column.default_sql.empty()) return true;
    }
    return false;
  }
};

// The built-in collation of that name (empty: BINARY); nullopt for any other, which only SQLite
// can apply.
std::optional<Collation> builtin_collation(std::string_view name);

// Parses argv[3..] of xCreate/xConnect.
Result<TableSchema> parse_table_schema(std::span<const char* const> arguments);

}  // namespace strata::columnar
