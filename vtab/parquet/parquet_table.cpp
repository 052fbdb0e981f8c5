#include "vtab/parquet/parquet_table.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <set>
#include <sstream>

#include "ext/interrupt.h"
#include "ext/module_arguments.h"
#include "ext/sqlite_handles.h"
#include "ext/str_cat.h"
#include "tiering/store_url.h"

namespace strata::parquet_sql {

namespace {

constexpr OptionSpec kOptions[] = {
    {.name = "hive_partitioning", .kind = OptionKind::kBoolean},
};

Status module_error(std::string_view message) { return Status::error(str_cat(kModule, ": ", message)); }

// Keeps a failure's code (kNotFound, kIoError …) and puts the module's name in front.
Status in_module(const Status& status) {
  if (status.is_ok()) return status;
  return Status(status.code(), str_cat(kModule, ": ", status.message()));
}

bool ends_with_ignore_case(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && equals_ignore_case(text.substr(text.size() - suffix.size()), suffix);
}

// A key below the prefix is a data file when it names a .parquet file and no part of its path
// is hidden: Spark, Hive and Delta keep bookkeeping in `_…` and `.…` names (_SUCCESS,
// _delta_log/, .part-0.parquet.crc, _temporary/).
bool is_data_file(std::string_view relative_key) {
  if (!ends_with_ignore_case(relative_key, ".parquet")) return false;
  size_t start = 0;
  while (start <= relative_key.size()) {
    const size_t end = std::min(relative_key.find('/', start), relative_key.size());
    const std::string_view part = relative_key.substr(start, end - start);
    if (part.starts_with('_') || part.starts_with('.')) return false;
    start = end + 1;
  }
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Hive escapes special characters of partition values as %XX.
std::string percent_decoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hex_digit(text[i + 1]);
      const int low = hex_digit(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// "2024" but not "007", "+5" or "1e3": a value whose text is exactly its integer's spelling.
std::optional<int64_t> canonical_integer(std::string_view text) {
  std::optional<int64_t> value = parse_int64(text);
  if (!value || std::to_string(*value) != text) return std::nullopt;
  return value;
}

std::string_view declared_type_of(ValueType type) {
  switch (type) {
    case ValueType::kInteger: return "INTEGER";
    case ValueType::kReal: return "REAL";
    case ValueType::kText: return "TEXT";
    case ValueType::kBlob: return "BLOB";
    case ValueType::kNull: return "";
  }
  return "";
}

int find_file_column(const parquet::FileReader& reader, std::string_view name) {
  const std::vector<parquet::Column>& columns = reader.columns();
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].name == name) return static_cast<int>(c);
  }
  for (size_t c = 0; c < columns.size(); ++c) {
    if (equals_ignore_case(columns[c].name, name)) return static_cast<int>(c);
  }
  return -1;
}

uint8_t type_bit(ValueType type) { return static_cast<uint8_t>(1u << static_cast<int>(type)); }

bool is_null_test(int op) { return op == SQLITE_INDEX_CONSTRAINT_ISNULL || op == SQLITE_INDEX_CONSTRAINT_ISNOTNULL; }

// A chunk's statistics as a zone map, or nullopt when they cannot decide `op`: null tests need
// the NULL count (and, for floating-point leaves, a NaN count of 0, since SQLite reads NaN as
// NULL); comparisons need bounds too, unless every value is NULL.
std::optional<ZoneMap> zone_of(const parquet::FileReader& reader, size_t row_group, size_t leaf, int op) {
  const parquet::ChunkStatistics stats = reader.chunk_statistics(row_group, leaf);
  if (!stats.null_count || *stats.null_count < 0 || *stats.null_count > stats.num_values) return std::nullopt;
  ZoneMap zone;
  zone.rows = static_cast<uint64_t>(stats.num_values);
  zone.nulls = static_cast<uint64_t>(*stats.null_count);
  const ValueType type = reader.leaves()[leaf].sqlite_type;
  if (type == ValueType::kReal && op == SQLITE_INDEX_CONSTRAINT_ISNULL && stats.nan_count.value_or(1) != 0) return std::nullopt;
  if (zone.nulls < zone.rows) {
    if (!is_null_test(op) && (!stats.min || !stats.max)) return std::nullopt;
    zone.types = type_bit(type);
    zone.min = stats.min;
    zone.max = stats.max;
  }
  return zone;
}

}  // namespace

// ---- pruning -------------------------------------------------------------------------------

bool partition_rules_out(const columnar::ColumnFilter& filter, const DataFile& file) {
  const Value& value = file.partition_value[filter.column];
  ZoneMap zone;
  zone.rows = 1;
  zone.nulls = value.is_null() ? 1 : 0;
  if (!value.is_null()) {
    zone.types = type_bit(value.type);
    zone.min = value;
    zone.max = value;
  }
  return filter.rules_out(zone);
}

bool statistics_rule_out(const columnar::ColumnFilter& filter, const DataFile& file, size_t row_group) {
  const parquet::FileReader& reader = *file.reader;
  const int column = file.file_column[filter.column];
  if (column < 0) {
    // The file lacks the column: every row reads NULL.
    ZoneMap all_null;
    all_null.rows = all_null.nulls = 1;
    return filter.rules_out(all_null);
  }
  if (reader.columns()[column].nested_root) return false;  // JSON text: the leaves' statistics say nothing of it
  const std::vector<size_t>& leaves = reader.columns()[column].leaves;
  if (leaves.size() == 1) {
    std::optional<ZoneMap> zone = zone_of(reader, row_group, leaves[0], filter.op);
    return zone && filter.rules_out(*zone);
  }
  // strata's mixed-class column: a row is NULL when every leaf is, so IS NULL is ruled out by
  // any leaf without NULLs and IS NOT NULL by all leaves being all NULL. Values are not pruned.
  if (filter.op == SQLITE_INDEX_CONSTRAINT_ISNULL) {
    for (size_t leaf : leaves) {
      std::optional<ZoneMap> zone = zone_of(reader, row_group, leaf, filter.op);
      if (zone && zone->nulls == 0) return true;
    }
    return false;
  }
  if (filter.op == SQLITE_INDEX_CONSTRAINT_ISNOTNULL) {
    for (size_t leaf : leaves) {
      std::optional<ZoneMap> zone = zone_of(reader, row_group, leaf, filter.op);
      if (!zone || zone->nulls != zone->rows) return false;
    }
    return true;
  }
  return false;
}

bool bloom_rules_out(const columnar::ColumnFilter& filter, const parquet::Leaf& leaf, const BloomFilter& bloom) {
  if (filter.lets_everything_through) return false;
  if (filter.op != SQLITE_INDEX_CONSTRAINT_EQ && filter.op != SQLITE_INDEX_CONSTRAINT_IS) return false;
  for (const Value& rhs : filter.values) {
    if (rhs.is_null()) {
      if (filter.op == SQLITE_INDEX_CONSTRAINT_IS) return false;  // NULLs are not in filters
      continue;
    }
    // Text equality under NOCASE or RTRIM matches spellings the filter never saw.
    if (rhs.type == ValueType::kText && filter.collation != Collation::kBinary) return false;
    std::optional<std::vector<std::string>> encodings = parquet::plain_encodings_equal_to(leaf, rhs.view());
    if (!encodings) return false;
    for (const std::string& encoding : *encodings) {
      if (bloom.may_contain_hash(BloomFilter::hash_bytes(encoding))) return false;
    }
  }
  return true;
}

// ---- counters ------------------------------------------------------------------------------

void ScanCounters::add(const ScanCounters& other) {
  files += other.files;
  files_pruned += other.files_pruned;
  row_groups += other.row_groups;
  row_groups_pruned_by_statistics += other.row_groups_pruned_by_statistics;
  row_groups_pruned_by_bloom_filter += other.row_groups_pruned_by_bloom_filter;
  requests += other.requests;
  bytes_read += other.bytes_read;
}

std::string ScanCounters::to_json() const {
  std::ostringstream out;
  out << "{\"files\":" << files << ",\"files_pruned\":" << files_pruned << ",\"row_groups\":" << row_groups
      << ",\"row_groups_pruned_by_statistics\":" << row_groups_pruned_by_statistics
      << ",\"row_groups_pruned_by_bloom_filter\":" << row_groups_pruned_by_bloom_filter << ",\"requests\":" << requests
      << ",\"bytes_read\":" << bytes_read << "}";
  return out.str();
}

// ---- the table -----------------------------------------------------------------------------

ParquetTable::ParquetTable(sqlite3* db, ParquetRegistry* registry, std::string schema, std::string name,
                           std::string url, bool hive_partitioning)
    : db_(db),
      registry_(registry),
      schema_(std::move(schema)),
      name_(std::move(name)),
      url_(std::move(url)),
      hive_partitioning_(hive_partitioning) {}

ParquetTable::~ParquetTable() { registry_->remove(schema_, name_, this); }

std::string ParquetTable::shadow_columns() const {
  return str_cat(quote_identifier(schema_), ".", quote_identifier(str_cat(name_, "_columns")));
}

Result<std::unique_ptr<ParquetTable>> ParquetTable::open(sqlite3* db, ParquetRegistry* registry, int argc,
                                                         const char* const* argv, bool create) {
  STRATA_ASSIGN_OR_RETURN(ModuleArguments arguments,
                          parse_module_arguments(kModule, kOptions, std::span<const char* const>(argv + 3, argc - 3)));
  const std::vector<std::string>& positional = arguments.column_definitions();
  if (positional.size() != 1) {
    return module_error(
        "expects one location, as in USING parquet('file:data/events.parquet') or "
        "parquet('s3://bucket/lake/events/'), and optionally hive_partitioning=false");
  }
  Result<std::string> url = unquote_option_value(positional[0]);
  if (!url.is_ok()) return module_error(str_cat("the location ", url.status().message()));
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectUrl parts, tiering::split_object_url(kModule, *url));
  std::unique_ptr<ParquetTable> table(
      new ParquetTable(db, registry, argv[1], argv[2], *url, arguments.boolean("hive_partitioning").value_or(true)));
  // A relative file: location is relative to the database file's directory, whatever the
  // process's working directory (docs/parquet.md).
  table->location_ = tiering::resolve_file_location(parts.location, database_directory(db, argv[1]));
  table->key_ = parts.key;
  table->listing_ = parts.key.empty();
  if (create) {
    STRATA_ASSIGN_OR_RETURN(std::vector<tiering::ObjectInfo> objects, table->list_objects());
    STRATA_RETURN_IF_ERROR(table->discover_columns(objects));
    STRATA_RETURN_IF_ERROR(table->store_columns());
  } else {
    STRATA_RETURN_IF_ERROR(table->load_columns());
  }
  table->build_filter_schema();
  STRATA_RETURN_IF_ERROR(table->declare());
  registry->add(table->schema_, table->name_, table.get());
  return table;
}

Status ParquetTable::open_store() {
  std::string settings = tiering::store_settings_fingerprint(location_);
  if (store_ && settings == store_settings_) return Status::ok();
  store_.reset();
  store_settings_ = std::move(settings);
  Result<std::unique_ptr<tiering::ObjectStore>> store = tiering::open_object_store(location_, tiering::StoreAccess::kRead);
  if (!store.is_ok()) return in_module(store.status());
  store_ = std::move(*store);
  store_->set_cancellation(interrupt_check(db_));  // Ctrl-C ends a wait on the network
  return Status::ok();
}

Result<std::vector<tiering::ObjectInfo>> ParquetTable::list_objects() {
  STRATA_RETURN_IF_ERROR(open_store());
  if (!listing_) {
    Result<tiering::ObjectInfo> object = store_->head(key_);
    if (object.is_ok()) return std::vector<tiering::ObjectInfo>{*object};
    if (object.status().code() != StatusCode::kNotFound) return in_module(object.status());
    // A directory named without its trailing '/': read what is below it.
    Result<std::vector<tiering::ObjectInfo>> below = store_->list(key_ + "/");
    if (!below.is_ok() || below->empty()) {
      return Status::not_found(str_cat(kModule, ": no object '", url_, "' (a prefix ends with '/', as in 'file:lake/events/')"));
    }
    key_ += "/";
    listing_ = true;
  }
  Result<std::vector<tiering::ObjectInfo>> listed = store_->list(key_);
  if (!listed.is_ok()) return in_module(listed.status());
  std::vector<tiering::ObjectInfo> objects;
  for (tiering::ObjectInfo& object : *listed) {
    if (is_data_file(std::string_view(object.key).substr(key_.size()))) objects.push_back(std::move(object));
  }
  if (objects.empty()) {
    return Status::not_found(str_cat(kModule, ": no .parquet files below '", url_, "'"));
  }
  return objects;
}

Result<std::shared_ptr<const parquet::FileReader>> ParquetTable::footer_of(const tiering::ObjectInfo& object) {
  auto cached = footers_.find(object.key);
  if (cached != footers_.end() && cached->second.etag == object.etag && cached->second.size == object.size) {
    return cached->second.reader;
  }
  ScanCounters footers_are_not_counted;
  Result<parquet::FileReader> reader = parquet::FileReader::open(range_reader(object.key, footers_are_not_counted), object.size);
  if (!reader.is_ok()) return file_error(object.key, reader.status());
  auto shared = std::make_shared<const parquet::FileReader>(std::move(*reader));
  footers_[object.key] = CachedFooter{object.etag, object.size, shared};
  return shared;
}

parquet::RangeReader ParquetTable::range_reader(const std::string& key, ScanCounters& counters) {
  return [this, &key, &counters](uint64_t offset, uint64_t length) -> Result<std::string> {
    STRATA_RETURN_IF_ERROR(open_store());
    Result<std::string> bytes = store_->get_range(key, offset, length);
    if (!bytes.is_ok()) return in_module(bytes.status());
    ++counters.requests;
    counters.bytes_read += bytes->size();
    if (bytes->size() != length) {
      return file_error(key, Status::io_error("the object is shorter than its listing said (it changed while being read?)"));
    }
    return std::move(*bytes);
  };
}

Status ParquetTable::file_error(std::string_view key, const Status& status) const {
  return Status(status.code(), str_cat(kModule, ": ", location_, "/", tiering::printable_key(key), ": ", status.message()));
}

std::vector<std::pair<std::string, std::optional<std::string>>> ParquetTable::partitions_of(const std::string& key) const {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  if (!hive_partitioning_ || !listing_) return out;
  const std::string_view relative = std::string_view(key).substr(key_.size());
  size_t start = 0;
  while (true) {
    const size_t end = relative.find('/', start);
    if (end == std::string_view::npos) break;  // the last part is the file's name
    const std::string_view part = relative.substr(start, end - start);
    const size_t equals = part.find('=');
    if (equals != std::string_view::npos && equals > 0) {
      std::string value = percent_decoded(part.substr(equals + 1));
      // Hive's and Spark's spelling of a NULL partition value.
      if (value == "__HIVE_DEFAULT_PARTITION__") {
        out.emplace_back(percent_decoded(part.substr(0, equals)), std::nullopt);
      } else {
        out.emplace_back(percent_decoded(part.substr(0, equals)), std::move(value));
      }
    }
    start = end + 1;
  }
  return out;
}

Status ParquetTable::discover_columns(const std::vector<tiering::ObjectInfo>& objects) {
  columns_.clear();
  struct PartitionKey {
    std::string name;
    bool all_integers = true;
  };
  std::vector<PartitionKey> partition_keys;
  for (const tiering::ObjectInfo& object : objects) {
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const parquet::FileReader> reader, footer_of(object));
    for (const parquet::Column& column : reader->columns()) {
      const std::string_view type = column.nested_root            ? "TEXT"
                                    : column.leaves.size() == 1 ? declared_type_of(reader->leaves()[column.leaves[0]].sqlite_type)
                                                                : "";
      auto same = std::find_if(columns_.begin(), columns_.end(), [&](const TableColumn& c) { return c.source == column.name; });
      if (same == columns_.end()) {
        columns_.push_back(TableColumn{column.name, column.name, false, std::string(type)});
      } else if (same->declared_type != type) {
        same->declared_type.clear();  // files disagree: values keep their own classes
      }
    }
    for (const auto& [key, value] : partitions_of(object.key)) {
      auto known = std::find_if(partition_keys.begin(), partition_keys.end(), [&](const PartitionKey& k) { return k.name == key; });
      if (known == partition_keys.end()) known = partition_keys.insert(partition_keys.end(), PartitionKey{key});
      if (value && !canonical_integer(*value)) known->all_integers = false;
    }
  }
  for (const PartitionKey& key : partition_keys) {
    // A column the files hold themselves wins over a directory of the same name.
    const bool in_files = std::any_of(columns_.begin(), columns_.end(), [&](const TableColumn& c) {
      return !c.partition && equals_ignore_case(c.source, key.name);
    });
    if (!in_files) columns_.push_back(TableColumn{key.name, key.name, true, key.all_integers ? "INTEGER" : "TEXT"});
  }
  if (columns_.empty()) return module_error(str_cat("'", url_, "' has no columns"));
  // SQL names are case-blind: "A" and "a" become "A" and "a_2".
  std::set<std::string> taken;
  auto folded = [](std::string text) {
    for (char& c : text) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return text;
  };
  for (TableColumn& column : columns_) {
    std::string name = column.name.empty() ? "column" : column.name;
    std::string candidate = name;
    for (int n = 2; taken.contains(folded(candidate)); ++n) candidate = str_cat(name, "_", std::to_string(n));
    taken.insert(folded(candidate));
    column.name = std::move(candidate);
  }
  estimated_rows_ = 0;
  for (const tiering::ObjectInfo& object : objects) estimated_rows_ += static_cast<double>(footers_[object.key].reader->metadata().num_rows);
  return Status::ok();
}

Status ParquetTable::store_columns() {
  STRATA_RETURN_IF_ERROR(execute(db_, str_cat("CREATE TABLE ", shadow_columns(),
                                              "(position INTEGER PRIMARY KEY, name TEXT NOT NULL, source TEXT NOT NULL, "
                                              "kind TEXT NOT NULL, declared_type TEXT NOT NULL)")));
  STRATA_ASSIGN_OR_RETURN(Statement insert, Statement::prepare(db_, str_cat("INSERT INTO ", shadow_columns(), " VALUES (?1, ?2, ?3, ?4, ?5)")));
  for (size_t i = 0; i < columns_.size(); ++i) {
    const TableColumn& column = columns_[i];
    insert.reset();
    STRATA_RETURN_IF_ERROR(insert.bind_int64(1, static_cast<int64_t>(i)));
    STRATA_RETURN_IF_ERROR(insert.bind_text(2, column.name));
    STRATA_RETURN_IF_ERROR(insert.bind_text(3, column.source));
    STRATA_RETURN_IF_ERROR(insert.bind_text(4, column.partition ? "partition" : "file"));
    STRATA_RETURN_IF_ERROR(insert.bind_text(5, column.declared_type));
    STRATA_RETURN_IF_ERROR(insert.run());
  }
  return Status::ok();
}

Status ParquetTable::load_columns() {
  Result<Statement> read = Statement::prepare(
      db_, str_cat("SELECT name, source, kind, declared_type FROM ", shadow_columns(), " ORDER BY position"));
  if (!read.is_ok()) {
    return Status::corruption(str_cat(kModule, ": table ", name_, " is damaged: its column list ", shadow_columns(),
                                      " cannot be read (", read.status().message(), ")"));
  }
  columns_.clear();
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, read->step());
    if (!row) break;
    TableColumn column{std::string(read->column_text(0)), std::string(read->column_text(1)),
                       read->column_text(2) == "partition", std::string(read->column_text(3))};
    columns_.push_back(std::move(column));
  }
  if (columns_.empty()) return Status::corruption(str_cat(kModule, ": table ", name_, " is damaged: no columns in ", shadow_columns()));
  return Status::ok();
}

Status ParquetTable::declare() const {
  std::string sql = "CREATE TABLE x(";
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += quote_identifier(columns_[i].name);
    if (!columns_[i].declared_type.empty()) sql += str_cat(" ", columns_[i].declared_type);
  }
  sql += ")";
  const int rc = sqlite3_declare_vtab(db_, sql.c_str());
  if (rc != SQLITE_OK) return module_error(str_cat("declaring the table failed: ", sqlite3_errmsg(db_)));
  return Status::ok();
}

void ParquetTable::build_filter_schema() {
  filter_schema_ = columnar::TableSchema();
  for (const TableColumn& column : columns_) {
    columnar::ColumnDefinition definition;
    definition.name = column.name;
    definition.declared_type = column.declared_type;
    definition.affinity = columnar::affinity_of_declared_type(column.declared_type);
    filter_schema_.columns.push_back(std::move(definition));
  }
}

Result<std::shared_ptr<const Snapshot>> ParquetTable::take_snapshot() {
  STRATA_ASSIGN_OR_RETURN(std::vector<tiering::ObjectInfo> objects, list_objects());
  auto snapshot = std::make_shared<Snapshot>();
  std::set<std::string> listed;
  for (tiering::ObjectInfo& object : objects) {
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<const parquet::FileReader> reader, footer_of(object));
    listed.insert(object.key);
    DataFile file;
    file.reader = std::move(reader);
    file.file_column.assign(columns_.size(), -1);
    file.partition_value.assign(columns_.size(), Value());
    const auto partitions = partitions_of(object.key);
    for (size_t c = 0; c < columns_.size(); ++c) {
      const TableColumn& column = columns_[c];
      if (!column.partition) {
        file.file_column[c] = find_file_column(*file.reader, column.source);
        continue;
      }
      for (const auto& [key, value] : partitions) {
        if (key != column.source || !value) continue;
        std::optional<int64_t> integer = column.declared_type == "INTEGER" ? canonical_integer(*value) : std::nullopt;
        file.partition_value[c] = integer ? Value(ValueView::of_integer(*integer)) : Value(ValueView::of_text(*value));
      }
    }
    file.first_row = snapshot->rows;
    snapshot->rows += file.reader->metadata().num_rows;
    file.object = std::move(object);
    snapshot->files.push_back(std::move(file));
  }
  std::erase_if(footers_, [&](const auto& entry) { return !listed.contains(entry.first); });
  estimated_rows_ = static_cast<double>(snapshot->rows);
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

Status ParquetTable::destroy() {
  // The files are the user's: dropping the table forgets them, it never deletes them.
  return execute(db_, str_cat("DROP TABLE IF EXISTS ", shadow_columns()));
}

Status ParquetTable::rename(const std::string& new_name) {
  STRATA_RETURN_IF_ERROR(execute(db_, str_cat("ALTER TABLE ", shadow_columns(), " RENAME TO ",
                                              quote_identifier(str_cat(new_name, "_columns")))));
  const std::string old_name = name_;
  name_ = new_name;
  registry_->rename(schema_, old_name, name_, this);
  return Status::ok();
}

}  // namespace strata::parquet_sql
