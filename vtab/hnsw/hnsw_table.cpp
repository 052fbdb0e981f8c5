#include "vtab/hnsw/hnsw_table.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_set>

#include "codecs/byte_io.h"
#include "codecs/checksum.h"
#include "codecs/value_compare.h"
#include "ext/module_arguments.h"
#include "ext/str_cat.h"
#include "vtab/columnar/values.h"

namespace strata::hnsw {

namespace {

constexpr std::string_view kModule = "hnsw";

const std::vector<OptionSpec>& option_specs() {
  static const std::vector<OptionSpec> specs = {
      {"metric", OptionKind::kChoice, 0, 0, {"l2", "cosine", "ip", "l1", "hamming"}},
      {"m", OptionKind::kInteger, 2, 128},
      {"ef_construction", OptionKind::kInteger, 4, 4096},
      {"ef_search", OptionKind::kInteger, 1, 4096},
      {"quantization", OptionKind::kChoice, 0, 0, {"none", "int8", "binary"}},
      {"dims", OptionKind::kInteger, 1, static_cast<int64_t>(kMaxDimensions)},
      // vec0's storage setting (rows per chunk of its shadow tables): accepted so that a vec0
      // declaration works unchanged, and ignored (an hnsw table has no chunks).
      {"chunk_size", OptionKind::kInteger, 1, 1 << 20},
  };
  return specs;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "embedding float[768] [distance_metric=cosine]" -> column name, element type, dimensions
// (and the metric, returned when given).
Result<std::optional<std::string>> parse_column(std::string_view definition, IndexSettings& settings) {
  auto usage = [&](std::string_view problem) {
    return Status::error(str_cat("hnsw: ", problem, " in '", definition,
                                 "'; expected one vector column such as 'embedding float[768]' (float[N], int8[N] or bit[N], N from 1 to ",
                                 std::to_string(kMaxDimensions), "), optionally followed by distance_metric=l2|cosine|ip|l1|hamming"));
  };
  size_t space = definition.find_first_of(" \t");
  if (space == std::string_view::npos) return usage("no vector type");
  std::string_view name = definition.substr(0, space);
  std::string type = lower(definition.substr(space + 1));
  std::optional<std::string> metric;
  if (size_t at = type.find("distance_metric"); at != std::string::npos) {
    std::string setting = type.substr(at + std::string_view("distance_metric").size());
    type.resize(at);
    setting.erase(std::remove_if(setting.begin(), setting.end(), [](char c) { return c == ' ' || c == '\t'; }), setting.end());
    if (setting.empty() || setting[0] != '=' || setting.size() == 1) return usage("distance_metric without a value");
    metric = setting.substr(1);
    if (!metric_from_name(*metric)) {
      return Status::error(str_cat("hnsw: distance_metric=", *metric, " is not supported; supported: l2, cosine, ip, l1, hamming"));
    }
  }
  type.erase(std::remove_if(type.begin(), type.end(), [](char c) { return c == ' ' || c == '\t'; }), type.end());
  size_t open = type.find('[');
  if (open == std::string::npos || type.back() != ']') return usage("no dimension");
  std::string element = type.substr(0, open);
  std::string count = type.substr(open + 1, type.size() - open - 2);
  if (element == "float" || element == "float32" || element == "f32") {
    settings.element = ElementType::kFloat32;
  } else if (element == "int8" || element == "i8") {
    settings.element = ElementType::kInt8;
  } else if (element == "bit") {
    settings.element = ElementType::kBit;
  } else {
    return usage(str_cat("unknown element type '", element, "'"));
  }
  if (count.empty() || count.size() > 9 || !std::all_of(count.begin(), count.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return usage("a bad dimension");
  }
  size_t dimensions = std::stoul(count);
  if (dimensions < 1 || dimensions > kMaxDimensions) {
    return Status::error(str_cat("hnsw: dimension must be from 1 to ", std::to_string(kMaxDimensions), ", got ",
                                 std::to_string(dimensions)));
  }
  if (name.empty() || name.front() == '"' || name.front() == '`' || name.front() == '[') {
    return usage("a column name that is not a plain identifier");
  }
  settings.column = std::string(name);
  settings.dimensions = dimensions;
  return metric;
}

bool is_plain_identifier(std::string_view name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

constexpr std::string_view kSupportedColumns =
    "supported: one vector column ('embedding float[768]'), 'id INTEGER PRIMARY KEY' or 'id TEXT PRIMARY KEY', "
    "metadata columns ('genre TEXT', 'year INTEGER', 'rating FLOAT', 'flag BOOLEAN'), partition keys "
    "('user_id INTEGER PARTITION KEY' or TEXT), auxiliary columns ('+contents TEXT', INTEGER, FLOAT, BLOB or no type)";

// A column type's spelling (as vec0 reads them, case-insensitively).
std::optional<ColumnType> column_type_from(std::string_view spelled) {
  const std::string type = lower(spelled);
  if (type == "text" || type == "varchar") return ColumnType::kText;
  if (type == "integer" || type == "int") return ColumnType::kInteger;
  if (type == "float" || type == "real" || type == "double" || type == "float64" || type == "f64") return ColumnType::kFloat;
  if (type == "boolean" || type == "bool") return ColumnType::kBoolean;
  if (type == "blob") return ColumnType::kBlob;
  return std::nullopt;
}

std::vector<std::string_view> words_of(std::string_view text) {
  std::vector<std::string_view> words;
  size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
    size_t end = at;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    if (end > at) words.push_back(text.substr(at, end - at));
    at = end;
  }
  return words;
}

// A declared column other than the vector.
Result<TableColumn> parse_other_column(std::string_view definition) {
  auto unsupported = [&](std::string_view problem) {
    return Status::error(str_cat("hnsw: column '", definition, "': ", problem, "; ", kSupportedColumns));
  };
  TableColumn column;
  std::string_view text = definition;
  const bool auxiliary = !text.empty() && text[0] == '+';
  if (auxiliary) text.remove_prefix(1);
  std::vector<std::string_view> words = words_of(text);
  if (words.empty() || !is_plain_identifier(words[0])) return unsupported("the name must be a plain identifier");
  column.name = std::string(words[0]);
  std::string rest;
  for (size_t i = 2; i < words.size(); ++i) rest += str_cat(i > 2 ? " " : "", lower(words[i]));
  std::optional<ColumnType> type = words.size() >= 2 ? column_type_from(words[1]) : std::nullopt;
  if (auxiliary) {
    column.kind = ColumnKind::kAuxiliary;
    if (words.size() > 2) return unsupported("an auxiliary column takes a name and optionally a type");
    if (words.size() == 2 && (!type || *type == ColumnType::kBoolean)) return unsupported(str_cat("unknown auxiliary type '", words[1], "'"));
    column.type = words.size() == 2 ? *type : ColumnType::kAny;
    return column;
  }
  if (words.size() < 2 || !type) return unsupported(words.size() < 2 ? "no type" : str_cat("unknown type '", words[1], "'"));
  column.type = *type;
  if (rest == "primary key") {
    if (*type != ColumnType::kInteger && *type != ColumnType::kText) return unsupported("a primary key is INTEGER or TEXT");
    column.kind = *type == ColumnType::kInteger ? ColumnKind::kIntegerKey : ColumnKind::kTextKey;
  } else if (rest == "partition key") {
    if (*type != ColumnType::kInteger && *type != ColumnType::kText) return unsupported("a partition key is INTEGER or TEXT");
    column.kind = ColumnKind::kPartitionKey;
  } else if (rest.empty()) {
    if (*type == ColumnType::kBlob) return unsupported("a metadata column is TEXT, INTEGER, FLOAT or BOOLEAN");
    column.kind = ColumnKind::kMetadata;
  } else {
    return unsupported(str_cat("'", rest, "' is not understood"));
  }
  return column;
}

std::string_view kind_name(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kVector: return "vector";
    case ColumnKind::kIntegerKey: return "integer_key";
    case ColumnKind::kTextKey: return "text_key";
    case ColumnKind::kMetadata: return "metadata";
    case ColumnKind::kPartitionKey: return "partition_key";
    case ColumnKind::kAuxiliary: return "auxiliary";
  }
  return "vector";
}

std::string_view type_name(ColumnType type) {
  switch (type) {
    case ColumnType::kAny: return "any";
    case ColumnType::kInteger: return "integer";
    case ColumnType::kFloat: return "float";
    case ColumnType::kText: return "text";
    case ColumnType::kBoolean: return "boolean";
    case ColumnType::kBlob: return "blob";
  }
  return "any";
}

// The config table's "columns" value: one line per declared column, "kind type name".
std::string encode_columns(const std::vector<TableColumn>& columns) {
  std::string text;
  for (const TableColumn& column : columns) text += str_cat(kind_name(column.kind), " ", type_name(column.type), " ", column.name, "\n");
  return text;
}

std::optional<std::vector<TableColumn>> decode_columns(std::string_view text) {
  std::vector<TableColumn> columns;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) return std::nullopt;
    std::vector<std::string_view> words = words_of(text.substr(at, end - at));
    at = end + 1;
    if (words.size() != 3) return std::nullopt;
    TableColumn column;
    column.name = std::string(words[2]);
    bool known_kind = false, known_type = false;
    for (ColumnKind kind : {ColumnKind::kVector, ColumnKind::kIntegerKey, ColumnKind::kTextKey, ColumnKind::kMetadata,
                            ColumnKind::kPartitionKey, ColumnKind::kAuxiliary}) {
      if (kind_name(kind) == words[0]) column.kind = kind, known_kind = true;
    }
    for (ColumnType type : {ColumnType::kAny, ColumnType::kInteger, ColumnType::kFloat, ColumnType::kText, ColumnType::kBoolean,
                            ColumnType::kBlob}) {
      if (type_name(type) == words[1]) column.type = type, known_type = true;
    }
    if (!known_kind || !known_type || !is_plain_identifier(column.name)) return std::nullopt;
    columns.push_back(std::move(column));
  }
  if (std::count_if(columns.begin(), columns.end(), [](const TableColumn& c) { return c.kind == ColumnKind::kVector; }) != 1) {
    return std::nullopt;
  }
  return columns;
}

Result<IndexSettings> settings_from_arguments(int argc, const char* const* argv) {
  std::span<const char* const> arguments(argv + 3, static_cast<size_t>(std::max(0, argc - 3)));
  STRATA_ASSIGN_OR_RETURN(ModuleArguments parsed, parse_module_arguments(kModule, option_specs(), arguments));
  IndexSettings settings;
  settings.columns.clear();
  std::optional<std::string> column_metric;
  int vectors = 0, keys = 0, metadata = 0, partitions = 0, auxiliaries = 0;
  for (const std::string& definition : parsed.column_definitions()) {
    const bool is_vector = definition.find('[') != std::string::npos && definition[0] != '+';
    if (is_vector) {
      if (++vectors > 1) {
        return Status::error(str_cat("hnsw: expected exactly one vector column such as 'embedding float[768]', got a second: '",
                                     definition, "'"));
      }
      STRATA_ASSIGN_OR_RETURN(column_metric, parse_column(definition, settings));
      settings.columns.push_back(TableColumn{settings.column});
      continue;
    }
    STRATA_ASSIGN_OR_RETURN(TableColumn column, parse_other_column(definition));
    switch (column.kind) {
      case ColumnKind::kIntegerKey:
      case ColumnKind::kTextKey: ++keys; break;
      case ColumnKind::kMetadata: ++metadata; break;
      case ColumnKind::kPartitionKey: ++partitions; break;
      case ColumnKind::kAuxiliary: ++auxiliaries; break;
      case ColumnKind::kVector: break;
    }
    if (keys > 1 || metadata > 16 || partitions > 4 || auxiliaries > 16) {
      return Status::error("hnsw: too many columns of a kind; at most one primary key, 16 metadata columns, 4 partition keys and 16 auxiliary columns (as sqlite-vec)");
    }
    settings.columns.push_back(std::move(column));
  }
  if (vectors == 0) {
    return Status::error(str_cat("hnsw: expected exactly one vector column such as 'embedding float[768]', got ",
                                 parsed.column_definitions().empty() ? "none" : "only other columns"));
  }
  for (size_t i = 0; i < settings.columns.size(); ++i) {
    const std::string name = lower(settings.columns[i].name);
    for (size_t j = 0; j < i; ++j) {
      if (lower(settings.columns[j].name) == name) return Status::error(str_cat("hnsw: two columns are named '", settings.columns[i].name, "'"));
    }
    if (name == "distance" || name == "k" || name == "ef_search" || name == "rowid" || name == "oid" || name == "_rowid_") {
      return Status::error(str_cat("hnsw: a column cannot be named '", settings.columns[i].name,
                                   "': distance, k and ef_search are the table's hidden columns, and rowid is the key"));
    }
  }
  if (column_metric && parsed.has("metric") && *parsed.text("metric") != *column_metric) {
    return Status::error(str_cat("hnsw: metric=", *parsed.text("metric"), " and distance_metric=", *column_metric, " disagree; give one"));
  }
  if (column_metric) settings.metric = *metric_from_name(*column_metric);
  if (auto metric = parsed.text("metric")) settings.metric = *metric_from_name(*metric);
  // Bit vectors are compared by the bits that differ, and only they.
  if (settings.element == ElementType::kBit && !parsed.has("metric") && !column_metric) settings.metric = Metric::kHamming;
  if ((settings.element == ElementType::kBit) != (settings.metric == Metric::kHamming)) {
    return Status::error(str_cat("hnsw: metric=", metric_name(settings.metric), " does not apply to ",
                                 element_type_name(settings.element), "[N] vectors; bit[N] takes metric=hamming, ",
                                 "float[N] and int8[N] take l2, cosine, ip or l1"));
  }
  if (auto m = parsed.integer("m")) settings.m = static_cast<uint32_t>(*m);
  if (auto ef = parsed.integer("ef_construction")) settings.ef_construction = static_cast<uint32_t>(*ef);
  if (auto ef = parsed.integer("ef_search")) settings.ef_search = static_cast<uint32_t>(*ef);
  if (auto quantization = parsed.text("quantization")) settings.quantization = *quantization_from_name(*quantization);
  if (settings.metric == Metric::kL1 && settings.quantization != Quantization::kNone) {
    return Status::error(str_cat("hnsw: quantization=", quantization_name(settings.quantization),
                                 " works with metric l2, cosine or ip; metric=l1 walks the float vectors (quantization=none)"));
  }
  if (auto chunk = parsed.integer("chunk_size"); chunk && *chunk % 8 != 0) {
    return Status::error(str_cat("hnsw: chunk_size (vec0's storage setting, accepted and ignored) must be a multiple of 8, as vec0 requires; got ",
                                 std::to_string(*chunk)));
  }
  if (auto dims = parsed.integer("dims")) {
    if (static_cast<size_t>(*dims) > settings.dimensions) {
      return Status::error(str_cat("hnsw: dims (the prefix to index) must be from 1 to the vector's ",
                                   std::to_string(settings.dimensions), " dimensions, got ", std::to_string(*dims)));
    }
    if (static_cast<size_t>(*dims) < settings.dimensions) settings.indexed_dimensions = static_cast<size_t>(*dims);
  }
  return settings;
}

// Links as stored: per level, a varint count and the neighbours' rowids, ascending, as zigzag
// varint deltas (docs/format-hnsw.md).
std::string encode_links(const HnswGraph& graph, NodeId node, const std::vector<int64_t>& rowid_of) {
  std::string blob;
  for (int l = 0; l <= graph.level(node); ++l) {
    std::vector<int64_t> rowids;
    for (NodeId link : graph.links(node, l)) rowids.push_back(rowid_of[link]);
    std::sort(rowids.begin(), rowids.end());
    put_varint(blob, rowids.size());
    int64_t previous = 0;
    for (int64_t rowid : rowids) {
      put_varint(blob, zigzag_encode(static_cast<int64_t>(static_cast<uint64_t>(rowid) - static_cast<uint64_t>(previous))));
      previous = rowid;
    }
  }
  return blob;
}

std::optional<std::vector<std::vector<int64_t>>> decode_links(std::string_view blob, int level) {
  ByteReader reader(blob);
  std::vector<std::vector<int64_t>> levels(static_cast<size_t>(level) + 1);
  for (auto& rowids : levels) {
    std::optional<uint64_t> count = reader.varint();
    if (!count || *count > blob.size()) return std::nullopt;
    int64_t previous = 0;
    for (uint64_t i = 0; i < *count; ++i) {
      std::optional<uint64_t> delta = reader.varint();
      if (!delta) return std::nullopt;
      previous = static_cast<int64_t>(static_cast<uint64_t>(previous) + static_cast<uint64_t>(zigzag_decode(*delta)));
      rowids.push_back(previous);
    }
  }
  if (!reader.at_end()) return std::nullopt;
  return levels;
}

std::string_view as_view(std::span<const std::byte> bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Status corrupt(const std::string& table, std::string_view what) {
  return Status::corruption(str_cat("hnsw: table ", table, ": ", what));
}

// The affinity SQLite gives a column declared with `type` (docs: the declaration in open()).
columnar::Affinity affinity_of(ColumnType type) {
  switch (type) {
    case ColumnType::kInteger:
    case ColumnType::kBoolean: return columnar::Affinity::kInteger;
    case ColumnType::kFloat: return columnar::Affinity::kReal;
    case ColumnType::kText: return columnar::Affinity::kText;
    case ColumnType::kAny:
    case ColumnType::kBlob: return columnar::Affinity::kBlob;
  }
  return columnar::Affinity::kBlob;
}

std::string_view sql_class_name(int type) {
  switch (type) {
    case SQLITE_INTEGER: return "INTEGER";
    case SQLITE_FLOAT: return "FLOAT";
    case SQLITE_TEXT: return "TEXT";
    case SQLITE_BLOB: return "BLOB";
    default: return "NULL";
  }
}

}  // namespace

int IndexSettings::vector_column() const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].kind == ColumnKind::kVector) return static_cast<int>(i);
  }
  return 0;
}

int IndexSettings::integer_key_column() const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].kind == ColumnKind::kIntegerKey) return static_cast<int>(i);
  }
  return -1;
}

bool IndexSettings::has_stored_columns() const {
  return std::any_of(columns.begin(), columns.end(), [](const TableColumn& column) { return column.stored(); });
}

HnswTable::HnswTable(sqlite3* db, std::string schema, std::string name, IndexSettings settings)
    : db_(db), schema_(std::move(schema)), name_(std::move(name)), settings_(std::move(settings)) {}

std::string HnswTable::shadow(std::string_view suffix) const {
  return str_cat(quote_identifier(schema_), ".", quote_identifier(str_cat(name_, "_", suffix)));
}

Result<Statement*> HnswTable::statement(int key, const std::string& sql) {
  auto found = statements_.find(key);
  if (found == statements_.end()) {
    STRATA_ASSIGN_OR_RETURN(Statement prepared, Statement::prepare_persistent(db_, sql));
    found = statements_.emplace(key, std::move(prepared)).first;
  }
  found->second.reset();
  found->second.clear_bindings();
  return &found->second;
}

Result<IndexSettings> HnswTable::read_stored_settings(sqlite3* db, const std::string& schema, const std::string& name) {
  HnswTable probe(db, schema, name, IndexSettings());
  IndexSettings settings;
  // The stored settings win: they are what the index was built with.
  STRATA_ASSIGN_OR_RETURN(Statement read, Statement::prepare(db, str_cat("SELECT key, value FROM ", probe.shadow("config"))));
  std::map<std::string, std::string> values;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, read.step());
    if (!row) break;
    values[std::string(read.column_text(0))] = std::string(read.column_text(1));
  }
  // A number, written by strata in decimal: anything else means the shadow table was damaged.
  auto number = [&](const char* key) -> Result<int64_t> {
    auto found = values.find(key);
    if (found == values.end()) return corrupt(name, str_cat("config has no ", key));
    const std::string& text = found->second;
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
      return corrupt(name, str_cat("config value ", key, " is not a number: '", text.substr(0, 40), "'"));
    }
    return value;
  };
  STRATA_ASSIGN_OR_RETURN(int64_t version, number("format_version"));
  settings.format_version = static_cast<int>(version);
  if (version < 1 || version > kFormatVersion) {
    return Status::error(str_cat("hnsw: table ", name, " has storage format ", std::to_string(version),
                                 "; this strata reads format ", std::to_string(kFormatVersion)));
  }
  settings.column = values["column"];
  STRATA_ASSIGN_OR_RETURN(int64_t dimensions, number("dimensions"));
  settings.dimensions = static_cast<size_t>(dimensions);
  std::optional<Metric> metric = metric_from_name(values["metric"]);
  if (!metric || settings.column.empty() || dimensions < 1 || dimensions > static_cast<int64_t>(kMaxDimensions)) {
    return corrupt(name, "config is damaged");
  }
  settings.metric = *metric;
  const std::string& element = values["element"];
  if (element == "float") {
    settings.element = ElementType::kFloat32;
  } else if (element == "int8") {
    settings.element = ElementType::kInt8;
  } else if (element == "bit") {
    settings.element = ElementType::kBit;
  } else {
    return corrupt(name, "config names an unknown element type");
  }
  STRATA_ASSIGN_OR_RETURN(int64_t m, number("m"));
  STRATA_ASSIGN_OR_RETURN(int64_t ef_construction, number("ef_construction"));
  STRATA_ASSIGN_OR_RETURN(int64_t ef_search, number("ef_search"));
  if (m < 2 || m > 128 || ef_construction < 4 || ef_construction > 4096 || ef_search < 1 || ef_search > 4096) {  // option_specs()
    return corrupt(name, "config holds an m or ef value out of range");
  }
  settings.m = static_cast<uint32_t>(m);
  settings.ef_construction = static_cast<uint32_t>(ef_construction);
  settings.ef_search = static_cast<uint32_t>(ef_search);
  std::optional<Quantization> quantization = quantization_from_name(values.contains("quantization") ? values["quantization"] : "none");
  if (!quantization) return corrupt(name, "config names an unknown quantization");
  settings.quantization = *quantization;
  if (values.contains("indexed_dimensions")) {
    STRATA_ASSIGN_OR_RETURN(int64_t indexed, number("indexed_dimensions"));
    if (indexed < 0 || indexed > dimensions) return corrupt(name, "config is damaged");
    settings.indexed_dimensions = static_cast<size_t>(indexed);
  }
  settings.columns = {TableColumn{settings.column}};
  if (values.contains("columns")) {
    std::optional<std::vector<TableColumn>> columns = decode_columns(values["columns"]);
    if (!columns) return corrupt(name, "config lists damaged columns");
    settings.columns = std::move(*columns);
    if (settings.columns[static_cast<size_t>(settings.vector_column())].name != settings.column) {
      return corrupt(name, "config lists damaged columns");
    }
  }
  return settings;
}

Result<std::unique_ptr<HnswTable>> HnswTable::open(sqlite3* db, int argc, const char* const* argv, bool create) {
  std::string schema = argv[1];
  std::string name = argv[2];
  IndexSettings settings;
  if (create) {
    STRATA_ASSIGN_OR_RETURN(settings, settings_from_arguments(argc, argv));
  }
  std::unique_ptr<HnswTable> table(new HnswTable(db, schema, name, settings));
  if (create) {
    STRATA_RETURN_IF_ERROR(table->create_shadow_tables());
  } else {
    STRATA_ASSIGN_OR_RETURN(table->settings_, read_stored_settings(db, schema, name));
  }
  // The declared columns with the types that give SQLite's comparisons the affinity vec0's
  // columns have, then the hidden ones.
  std::string declaration = "CREATE TABLE x(";
  for (const TableColumn& column : table->settings_.columns) {
    std::string_view type = "BLOB";
    switch (column.type) {
      case ColumnType::kInteger:
      case ColumnType::kBoolean: type = "INTEGER"; break;
      case ColumnType::kFloat: type = "FLOAT"; break;
      case ColumnType::kText: type = "TEXT"; break;
      case ColumnType::kBlob: type = "BLOB"; break;
      case ColumnType::kAny: type = column.kind == ColumnKind::kVector ? "BLOB" : ""; break;
    }
    declaration += str_cat(quote_identifier(column.name), type.empty() ? "" : " ", type, ", ");
  }
  declaration += str_cat("distance REAL HIDDEN, k INTEGER HIDDEN, ef_search INTEGER HIDDEN, ", quote_identifier(name), " HIDDEN)");
  int rc = sqlite3_declare_vtab(db, declaration.c_str());
  if (rc != SQLITE_OK) return Status::error(str_cat("hnsw: declaring the table failed: ", sqlite3_errmsg(db)));
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  return table;
}

Status HnswTable::create_shadow_tables() {
  STRATA_RETURN_IF_ERROR(execute(db_, str_cat("CREATE TABLE ", shadow("config"), "(key TEXT PRIMARY KEY, value) WITHOUT ROWID;",
                                              "CREATE TABLE ", shadow("vectors"), "(rowid INTEGER PRIMARY KEY, vector BLOB NOT NULL);",
                                              "CREATE TABLE ", shadow("links"),
                                              "(rowid INTEGER PRIMARY KEY, level INTEGER NOT NULL, links BLOB NOT NULL);")));
  STRATA_RETURN_IF_ERROR(execute(db_, str_cat("CREATE TABLE ", shadow("tombstones"), "(rowid INTEGER PRIMARY KEY, vector BLOB NOT NULL);")));
  if (settings_.has_stored_columns()) {
    std::string columns;
    for (const TableColumn& column : settings_.columns) {
      if (!column.stored()) continue;
      columns += str_cat(", ", quote_identifier(column.name), column.kind == ColumnKind::kTextKey ? " UNIQUE" : "");
    }
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("CREATE TABLE ", shadow("columns"), "(rowid INTEGER PRIMARY KEY", columns, ");")));
  }
  STRATA_ASSIGN_OR_RETURN(Statement insert, Statement::prepare(db_, str_cat("INSERT INTO ", shadow("config"), " VALUES (?1, ?2)")));
  const std::pair<std::string, std::string> values[] = {
      {"format_version", std::to_string(settings_.format_version)},
      {"column", settings_.column},
      {"element", std::string(element_type_name(settings_.element))},
      {"dimensions", std::to_string(settings_.dimensions)},
      {"metric", std::string(metric_name(settings_.metric))},
      {"m", std::to_string(settings_.m)},
      {"ef_construction", std::to_string(settings_.ef_construction)},
      {"ef_search", std::to_string(settings_.ef_search)},
      {"quantization", std::string(quantization_name(settings_.quantization))},
      {"indexed_dimensions", std::to_string(settings_.indexed_dimensions)},
      {"generation", "0"},
      {"columns", encode_columns(settings_.columns)},
  };
  for (const auto& [key, value] : values) {
    insert.reset();
    STRATA_RETURN_IF_ERROR(insert.bind_text(1, key));
    STRATA_RETURN_IF_ERROR(insert.bind_text(2, value));
    STRATA_RETURN_IF_ERROR(insert.run());
  }
  return Status::ok();
}

Status HnswTable::destroy() {
  statements_.clear();
  return execute(db_, str_cat("DROP TABLE IF EXISTS ", shadow("config"), "; DROP TABLE IF EXISTS ", shadow("vectors"),
                              "; DROP TABLE IF EXISTS ", shadow("links"), "; DROP TABLE IF EXISTS ", shadow("columns"),
                              "; DROP TABLE IF EXISTS ", shadow("tombstones"), ";"));
}

Status HnswTable::rename(const std::string& new_name) {
  STRATA_RETURN_IF_ERROR(flush());
  statements_.clear();
  STRATA_ASSIGN_OR_RETURN(int version, format_version());
  for (std::string_view suffix : {"config", "vectors", "links", "columns", "tombstones"}) {
    if (suffix == "columns" && !settings_.has_stored_columns()) continue;
    if (suffix == "tombstones" && version < 3) continue;
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("ALTER TABLE ", shadow(suffix), " RENAME TO ",
                                                quote_identifier(str_cat(new_name, "_", suffix)))));
  }
  name_ = new_name;
  return Status::ok();
}

Result<int64_t> HnswTable::stored_generation() {
  STRATA_ASSIGN_OR_RETURN(Statement* read, statement(1, str_cat("SELECT value FROM ", shadow("config"), " WHERE key = 'generation'")));
  STRATA_ASSIGN_OR_RETURN(bool row, read->step());
  int64_t generation = row ? read->column_int64(0) : 0;
  read->reset();
  return generation;
}

void HnswTable::discard() {
  loaded_ = false;
  graph_.reset();
  space_.reset();
  rowid_of_.clear();
  node_of_.clear();
  free_nodes_.clear();
  max_rowid_.reset();
  tombstone_of_.clear();
  dead_.clear();
  column_values_.clear();
  rowid_of_text_key_.clear();
  changed_ = false;
  data_version_.reset();
}

Status HnswTable::on_begin() {
  // A write transaction starts: make sure the graph is what the shadow tables hold now.
  return ensure_loaded();
}

Status HnswTable::ensure_loaded() {
  if (loaded_) {
    unsigned version = 0;
    bool known = sqlite3_file_control(db_, schema_.c_str(), SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK;
    if (known && data_version_ == version) return Status::ok();
    // Another connection committed something (to this database): reload only if it was to us.
    STRATA_ASSIGN_OR_RETURN(int64_t generation, stored_generation());
    if (known) data_version_ = version;
    if (generation == generation_ && known) return Status::ok();
    discard();
  }
  return load();
}

Status HnswTable::load() {
  discard();
  unsigned version = 0;
  auto space = std::make_unique<VectorSpace>(settings_.space());
  auto graph = std::make_unique<HnswGraph>(GraphParameters{settings_.m, settings_.ef_construction, 0x5eed}, space.get());
  std::vector<int64_t> rowid_of;
  std::unordered_map<int64_t, NodeId> node_of;
  STRATA_ASSIGN_OR_RETURN(int64_t generation, stored_generation());
  // Read again: another connection's 'optimize' may have upgraded the table (it also changes
  // the generation, which is what brings this load about).
  format_known_ = false;
  STRATA_RETURN_IF_ERROR(format_version().status());
  float stored_norm_bound = 0;
  {
    // ip's norm bound as it was when the links were chosen (space.h), so that the walk
    // measures as it did before.
    STRATA_ASSIGN_OR_RETURN(Statement bound, Statement::prepare(db_, str_cat("SELECT value FROM ", shadow("config"),
                                                                            " WHERE key = 'ip_norm_bound'")));
    STRATA_ASSIGN_OR_RETURN(bool row, bound.step());
    if (row) stored_norm_bound = static_cast<float>(bound.column_double(0));
    space->set_norm_bound(stored_norm_bound);
  }
  // Tombstones: nodes for the walk, rows no more. Links name them by rowid like the others.
  // Each stored vector becomes a node: the rows', then the tombstones' (nodes for the walk, rows
  // no more; links name them by rowid like the others).
  std::unordered_map<int64_t, NodeId> tombstone_of;
  auto read_vectors = [&](std::string_view table, bool tombstones) -> Status {
    STRATA_ASSIGN_OR_RETURN(Statement vectors, Statement::prepare(db_, str_cat("SELECT rowid, vector FROM ", shadow(table))));
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, vectors.step());
      if (!row) break;
      int64_t rowid = vectors.column_int64(0);
      STRATA_ASSIGN_OR_RETURN(std::string_view blob, vector_bytes(rowid, as_view(vectors.column_blob(1))));
      Result<FloatVector> values = elements_from_blob("hnsw", settings_.element, settings_.dimensions, blob);
      if (!values.is_ok() || node_of.contains(rowid)) {
        return corrupt(name_, str_cat(tombstones ? "the tombstone of rowid " : "the vector of rowid ", std::to_string(rowid), ": ",
                                      values.is_ok() ? std::string_view("stored twice") : values.status().message()));
      }
      auto node = static_cast<NodeId>(rowid_of.size());
      space->set(node, values->data());
      rowid_of.push_back(rowid);
      node_of[rowid] = node;
      if (tombstones) tombstone_of[rowid] = node;
    }
    return Status::ok();
  };
  STRATA_RETURN_IF_ERROR(read_vectors("vectors", false));
  const size_t live = rowid_of.size();
  if (settings_.format_version >= 3) STRATA_RETURN_IF_ERROR(read_vectors("tombstones", true));
  std::vector<bool> dead(rowid_of.size(), false);
  for (size_t node = live; node < dead.size(); ++node) dead[node] = true;
  {
    STRATA_ASSIGN_OR_RETURN(Statement links, Statement::prepare(db_, str_cat("SELECT rowid, level, links FROM ", shadow("links"))));
    size_t restored = 0;
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, links.step());
      if (!row) break;
      int64_t rowid = links.column_int64(0);
      int64_t level = links.column_int64(1);
      auto node = node_of.find(rowid);
      if (node == node_of.end() || level < 0 || level > 31) {
        return corrupt(name_, str_cat("links of rowid ", std::to_string(rowid), " belong to no vector"));
      }
      std::optional<std::vector<std::vector<int64_t>>> decoded = decode_links(as_view(links.column_blob(2)), static_cast<int>(level));
      if (!decoded) return corrupt(name_, str_cat("links of rowid ", std::to_string(rowid), " are damaged"));
      std::vector<std::vector<NodeId>> node_links;
      for (const auto& level_rowids : *decoded) {
        std::vector<NodeId>& ids = node_links.emplace_back();
        for (int64_t target : level_rowids) {
          auto found = node_of.find(target);
          if (found == node_of.end()) return corrupt(name_, str_cat("rowid ", std::to_string(rowid), " links to a missing row"));
          ids.push_back(found->second);
        }
      }
      graph->restore(node->second, static_cast<int>(level), std::move(node_links));
      ++restored;
    }
    if (restored != rowid_of.size() || !graph->finish_restore()) return corrupt(name_, "vectors and links disagree");
  }
  // The filterable columns, in memory beside the graph (the walk's filters read them).
  std::vector<std::vector<Value>> column_values(settings_.columns.size());
  std::unordered_map<std::string, int64_t> rowid_of_text_key;
  std::string filterable;
  std::vector<int> filterable_columns;
  for (size_t c = 0; c < settings_.columns.size(); ++c) {
    if (!settings_.columns[c].filterable()) continue;
    column_values[c].resize(rowid_of.size());
    filterable += str_cat(", ", quote_identifier(settings_.columns[c].name));
    filterable_columns.push_back(static_cast<int>(c));
  }
  if (!filterable_columns.empty()) {
    STRATA_ASSIGN_OR_RETURN(Statement rows, Statement::prepare(db_, str_cat("SELECT rowid", filterable, " FROM ", shadow("columns"))));
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, rows.step());
      if (!row) break;
      auto node = node_of.find(rows.column_int64(0));
      if (node == node_of.end()) continue;  // columns of no vector: ignored, as a query would
      for (size_t i = 0; i < filterable_columns.size(); ++i) {
        const int c = filterable_columns[i];
        column_values[c][node->second] = columnar::value_from_sqlite(rows.column_value(static_cast<int>(i) + 1));
        if (settings_.columns[c].kind == ColumnKind::kTextKey) rowid_of_text_key[column_values[c][node->second].bytes] = rows.column_int64(0);
      }
    }
  }
  graph->take_dirty();
  if (sqlite3_file_control(db_, schema_.c_str(), SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK) data_version_ = version;
  space_ = std::move(space);
  graph_ = std::move(graph);
  for (const auto& [rowid, node] : tombstone_of) node_of.erase(rowid);
  rowid_of_ = std::move(rowid_of);
  node_of_ = std::move(node_of);
  tombstone_of_ = std::move(tombstone_of);
  dead_ = std::move(dead);
  column_values_ = std::move(column_values);
  rowid_of_text_key_ = std::move(rowid_of_text_key);
  generation_ = generation;
  stored_norm_bound_ = stored_norm_bound;
  loaded_ = true;
  return Status::ok();
}

Status HnswTable::flush() {
  if (!loaded_ || !changed_) return Status::ok();
  PreserveLastInsertRowid preserve(db_);
  STRATA_ASSIGN_OR_RETURN(Statement* write, statement(2, str_cat("INSERT OR REPLACE INTO ", shadow("links"),
                                                                 "(rowid, level, links) VALUES (?1, ?2, ?3)")));
  for (NodeId node : graph_->take_dirty()) {
    if (!graph_->contains(node)) continue;  // removed: its row went with it
    std::string blob = encode_links(*graph_, node, rowid_of_);
    write->reset();
    STRATA_RETURN_IF_ERROR(write->bind_int64(1, rowid_of_[node]));
    STRATA_RETURN_IF_ERROR(write->bind_int64(2, graph_->level(node)));
    STRATA_RETURN_IF_ERROR(write->bind_blob(3, std::as_bytes(std::span(blob.data(), blob.size()))));
    STRATA_RETURN_IF_ERROR(write->run());
  }
  if (space_->norm_bound() != stored_norm_bound_) {
    STRATA_ASSIGN_OR_RETURN(Statement* bound, statement(9, str_cat("INSERT OR REPLACE INTO ", shadow("config"),
                                                                   " VALUES ('ip_norm_bound', ?1)")));
    STRATA_RETURN_IF_ERROR(bound->bind_double(1, space_->norm_bound()));
    STRATA_RETURN_IF_ERROR(bound->run());
    stored_norm_bound_ = space_->norm_bound();
  }
  STRATA_ASSIGN_OR_RETURN(Statement* bump, statement(3, str_cat("UPDATE ", shadow("config"),
                                                                " SET value = value + 1 WHERE key = 'generation'")));
  STRATA_RETURN_IF_ERROR(bump->run());
  ++generation_;
  changed_ = false;
  return Status::ok();
}

Result<FloatVector> HnswTable::parse_vector(sqlite3_value* value) const {
  const size_t n = settings_.dimensions;
  const ElementType element = settings_.element;
  switch (sqlite3_value_type(value)) {
    case SQLITE_BLOB: return elements_from_blob("hnsw", element, n, value_blob(value));
    case SQLITE_TEXT: {
      STRATA_ASSIGN_OR_RETURN(FloatVector vector, parse_json_vector("hnsw", value_text(value)));
      STRATA_RETURN_IF_ERROR(check_finite("hnsw", vector));
      if (vector.size() != n) {
        return Status::error(str_cat("hnsw: expected ", std::to_string(n), " values, got ", std::to_string(vector.size())));
      }
      STRATA_RETURN_IF_ERROR(check_elements("hnsw", element, vector));
      return vector;
    }
    case SQLITE_NULL: return Status::error(str_cat("hnsw: ", settings_.column, " must not be NULL"));
    default:
      return Status::error(str_cat("hnsw: ", settings_.column, " must be a ",
                                   element == ElementType::kFloat32 ? "float32" : element_type_name(element),
                                   " BLOB or a JSON array of ", std::to_string(n), " numbers"));
  }
}

Result<FloatVector> HnswTable::query_vector(sqlite3_value* value) const { return parse_vector(value); }

Status HnswTable::insert_vector(int64_t rowid, const FloatVector& vector, std::string_view blob) {
  NodeId node;
  if (!free_nodes_.empty()) {
    node = free_nodes_.back();
    free_nodes_.pop_back();
    rowid_of_[node] = rowid;
  } else {
    node = static_cast<NodeId>(rowid_of_.size());
    rowid_of_.push_back(rowid);
  }
  node_of_[rowid] = node;
  if (dead_.size() < rowid_of_.size()) dead_.resize(rowid_of_.size(), false);
  dead_[node] = false;
  if (max_rowid_) max_rowid_ = std::max(*max_rowid_, rowid);
  space_->set(node, vector.data());
  graph_->insert(node);
  changed_ = true;
  STRATA_ASSIGN_OR_RETURN(Statement* write, statement(4, str_cat("INSERT INTO ", shadow("vectors"), "(rowid, vector) VALUES (?1, ?2)")));
  STRATA_RETURN_IF_ERROR(write->bind_int64(1, rowid));
  STRATA_ASSIGN_OR_RETURN(std::string stored, stored_form(blob));
  STRATA_RETURN_IF_ERROR(write->bind_blob(2, std::as_bytes(std::span(stored.data(), stored.size()))));
  return write->run();
}

Status HnswTable::delete_row(int64_t rowid, bool relink) {
  auto found = node_of_.find(rowid);
  if (found == node_of_.end()) return Status::ok();
  NodeId node = found->second;
  STRATA_ASSIGN_OR_RETURN(int version, format_version());
  const bool tombstone = version >= 3 && !relink;
  if (tombstone) {
    // The vector moves to the tombstones table; the links stay as they are.
    dead_[node] = true;
    tombstone_of_[rowid] = node;
    STRATA_ASSIGN_OR_RETURN(Statement* keep, statement(33, str_cat("INSERT INTO ", shadow("tombstones"), "(rowid, vector) SELECT rowid, vector FROM ",
                                                                   shadow("vectors"), " WHERE rowid = ?1")));
    STRATA_RETURN_IF_ERROR(keep->bind_int64(1, rowid));
    STRATA_RETURN_IF_ERROR(keep->run());
  } else {
    graph_->remove(node);
    free_nodes_.push_back(node);
  }
  node_of_.erase(found);
  for (size_t c = 0; c < column_values_.size(); ++c) {
    if (node >= column_values_[c].size()) continue;
    if (settings_.columns[c].kind == ColumnKind::kTextKey && column_values_[c][node].type == ValueType::kText) {
      rowid_of_text_key_.erase(column_values_[c][node].bytes);
    }
    column_values_[c][node] = Value();
  }
  if (settings_.has_stored_columns()) {
    STRATA_ASSIGN_OR_RETURN(Statement* erase, statement(32, str_cat("DELETE FROM ", shadow("columns"), " WHERE rowid = ?1")));
    STRATA_RETURN_IF_ERROR(erase->bind_int64(1, rowid));
    STRATA_RETURN_IF_ERROR(erase->run());
  }
  if (max_rowid_ == rowid) max_rowid_.reset();
  changed_ = true;
  for (std::string_view suffix : {"vectors", "links"}) {
    if (tombstone && suffix == "links") continue;
    STRATA_ASSIGN_OR_RETURN(Statement* erase, statement(suffix == "vectors" ? 5 : 6,
                                                        str_cat("DELETE FROM ", shadow(suffix), " WHERE rowid = ?1")));
    STRATA_RETURN_IF_ERROR(erase->bind_int64(1, rowid));
    STRATA_RETURN_IF_ERROR(erase->run());
  }
  return tombstone ? purge_tombstones_if_many() : Status::ok();
}

Status HnswTable::purge_tombstone(int64_t rowid) {
  auto found = tombstone_of_.find(rowid);
  if (found == tombstone_of_.end()) return Status::ok();
  const NodeId node = found->second;
  graph_->remove(node);
  dead_[node] = false;
  free_nodes_.push_back(node);
  tombstone_of_.erase(found);
  changed_ = true;
  for (std::string_view suffix : {"tombstones", "links"}) {
    STRATA_ASSIGN_OR_RETURN(Statement* erase, statement(suffix == "links" ? 6 : 34, str_cat("DELETE FROM ", shadow(suffix), " WHERE rowid = ?1")));
    STRATA_RETURN_IF_ERROR(erase->bind_int64(1, rowid));
    STRATA_RETURN_IF_ERROR(erase->run());
  }
  return Status::ok();
}

Status HnswTable::purge_tombstones_if_many() {
  if (tombstone_of_.size() <= std::max<size_t>(node_of_.size(), 16)) return Status::ok();
  std::vector<int64_t> rowids;
  rowids.reserve(tombstone_of_.size());
  for (const auto& [rowid, node] : tombstone_of_) rowids.push_back(rowid);
  std::sort(rowids.begin(), rowids.end());
  for (int64_t rowid : rowids) STRATA_RETURN_IF_ERROR(purge_tombstone(rowid));
  return Status::ok();
}

Status HnswTable::optimize() {
  // Rewrites every node's links from the live rows (tombstones go) and renumbers nodes densely,
  // so memory freed by deletions is given back. A table of format 1 also gets every vector
  // rewritten with its checksum, and one of format 1 or 2 its tombstones table (format 3).
  STRATA_RETURN_IF_ERROR(flush());
  // Format 1 has no checksums; 2 no tombstones table.
  const bool upgrade = settings_.format_version < 2;
  std::vector<std::pair<int64_t, std::string>> upgraded;  // (rowid, stored form)
  STRATA_ASSIGN_OR_RETURN(Statement read, Statement::prepare(db_, str_cat("SELECT rowid, vector FROM ", shadow("vectors"), " ORDER BY rowid")));
  auto space = std::make_unique<VectorSpace>(settings_.space());
  auto graph = std::make_unique<HnswGraph>(GraphParameters{settings_.m, settings_.ef_construction, 0x5eed}, space.get());
  std::vector<int64_t> rowid_of;
  std::unordered_map<int64_t, NodeId> node_of;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, read.step());
    if (!row) break;
    STRATA_ASSIGN_OR_RETURN(std::string_view bytes, vector_bytes(read.column_int64(0), as_view(read.column_blob(1))));
    Result<FloatVector> vector = elements_from_blob("hnsw", settings_.element, settings_.dimensions, bytes);
    if (!vector.is_ok()) return corrupt(name_, str_cat("a stored vector: ", vector.status().message()));
    if (upgrade) upgraded.emplace_back(read.column_int64(0), with_checksum(bytes));
    auto node = static_cast<NodeId>(rowid_of.size());
    space->set(node, vector->data());
    graph->insert(node);
    rowid_of.push_back(read.column_int64(0));
    node_of[rowid_of.back()] = node;
  }
  if (upgrade) {
    read.reset();
    STRATA_ASSIGN_OR_RETURN(Statement rewrite, Statement::prepare(db_, str_cat("UPDATE ", shadow("vectors"), " SET vector = ?2 WHERE rowid = ?1")));
    for (const auto& [rowid, stored] : upgraded) {
      rewrite.reset();
      STRATA_RETURN_IF_ERROR(rewrite.bind_int64(1, rowid));
      STRATA_RETURN_IF_ERROR(rewrite.bind_blob(2, std::as_bytes(std::span(stored.data(), stored.size()))));
      STRATA_RETURN_IF_ERROR(rewrite.run());
    }
  }
  // Only the live rows were read: the tombstones go (their links with all the others below).
  if (settings_.format_version < 3) {
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("CREATE TABLE ", shadow("tombstones"), "(rowid INTEGER PRIMARY KEY, vector BLOB NOT NULL);",
                                                "UPDATE ", shadow("config"), " SET value = '", std::to_string(kFormatVersion),
                                                "' WHERE key = 'format_version'")));
    settings_.format_version = kFormatVersion;
  } else {
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("DELETE FROM ", shadow("tombstones"))));
  }
  STRATA_RETURN_IF_ERROR(execute(db_, str_cat("DELETE FROM ", shadow("links"))));
  // The new graph takes over only now: the statements above may make SQLite open savepoints,
  // which flush the graph in place (links written then would be deleted just above).
  // The filterable values follow their rows to the new node numbers.
  for (std::vector<Value>& column : column_values_) {
    if (column.empty()) continue;
    std::vector<Value> renumbered(rowid_of.size());
    for (size_t node = 0; node < rowid_of.size(); ++node) {
      auto old_node = node_of_.find(rowid_of[node]);
      if (old_node != node_of_.end() && old_node->second < column.size()) renumbered[node] = std::move(column[old_node->second]);
    }
    column = std::move(renumbered);
  }
  space_ = std::move(space);
  graph_ = std::move(graph);
  rowid_of_ = std::move(rowid_of);
  node_of_ = std::move(node_of);
  free_nodes_.clear();
  changed_ = true;
  tombstone_of_.clear();
  dead_.assign(rowid_of_.size(), false);
  return flush();
}

Status HnswTable::update(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out) {
  STRATA_RETURN_IF_ERROR(ensure_loaded());
  PreserveLastInsertRowid preserve(db_);
  if (argc == 1) return delete_row(sqlite3_value_int64(argv[0]));
  if (argc != 2 + settings_.command_column() + 1) return Status::internal("hnsw: wrong xUpdate arity");
  bool is_insert = sqlite3_value_type(argv[0]) == SQLITE_NULL;
  sqlite3_value** values = argv + 2;  // by declared column
  sqlite3_value* command = values[settings_.command_column()];
  if (is_insert && sqlite3_value_type(command) != SQLITE_NULL) {
    std::string_view word = value_text(command);
    if (word == "optimize") return optimize();
    return Status::error(str_cat("hnsw: unknown command '", word, "'; the only command is 'optimize'"));
  }
  for (int column : {settings_.distance_column(), settings_.k_column(), settings_.ef_search_column()}) {
    if (sqlite3_value_type(values[column]) != SQLITE_NULL) {
      return Status::error("hnsw: distance, k and ef_search are query parameters and cannot be written");
    }
  }
  STRATA_ASSIGN_OR_RETURN(FloatVector vector, parse_vector(values[settings_.vector_column()]));
  std::string blob = elements_blob(settings_.element, vector);
  STRATA_RETURN_IF_ERROR(check_column_values(values));

  // The rowid: given, or the integer key's value (the same thing under another name), or the
  // largest + 1.
  const int integer_key = settings_.integer_key_column();
  sqlite3_value* given =
      integer_key >= 0 && sqlite3_value_type(values[integer_key]) != SQLITE_NULL ? values[integer_key] : argv[1];
  int64_t rowid;
  if (sqlite3_value_type(given) == SQLITE_NULL) {
    if (!max_rowid_) {
      max_rowid_ = 0;
      for (const auto& [existing, node] : node_of_) max_rowid_ = std::max(*max_rowid_, existing);
    }
    if (*max_rowid_ == INT64_MAX) return Status(StatusCode::kError, "database or disk is full").with_sqlite_code(SQLITE_FULL);
    rowid = *max_rowid_ + 1;
  } else {
    if (sqlite3_value_numeric_type(given) != SQLITE_INTEGER) {
      return Status(StatusCode::kError, "datatype mismatch").with_sqlite_code(SQLITE_MISMATCH);
    }
    rowid = sqlite3_value_int64(given);
  }
  std::optional<int64_t> old_rowid;
  if (!is_insert) old_rowid = sqlite3_value_int64(argv[0]);
  const bool replace = sqlite3_vtab_on_conflict(db_) == SQLITE_REPLACE;
  if (node_of_.contains(rowid) && rowid != old_rowid) {
    if (!replace) {
      const std::string key = integer_key >= 0 ? settings_.columns[static_cast<size_t>(integer_key)].name : "rowid";
      return Status::constraint(str_cat("UNIQUE constraint failed: ", name_, ".", key)).with_sqlite_code(SQLITE_CONSTRAINT);
    }
    STRATA_RETURN_IF_ERROR(delete_row(rowid, /*relink=*/true));
  }
  for (size_t c = 0; c < settings_.columns.size(); ++c) {
    if (settings_.columns[c].kind != ColumnKind::kTextKey) continue;
    auto holder = rowid_of_text_key_.find(std::string(value_text(values[c])));
    if (holder == rowid_of_text_key_.end() || holder->second == old_rowid) continue;
    if (!replace) {
      return Status::constraint(str_cat("UNIQUE constraint failed: ", name_, ".", settings_.columns[c].name)).with_sqlite_code(SQLITE_CONSTRAINT);
    }
    STRATA_RETURN_IF_ERROR(delete_row(holder->second));
  }
  // An UPDATE that keeps the row's vector and rowid changes its columns only: the graph stays.
  if (old_rowid && *old_rowid == rowid && node_of_.contains(rowid)) {
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> stored, stored_vector(rowid));
    if (stored && *stored == blob) {
      STRATA_RETURN_IF_ERROR(write_columns(rowid, values, true));
      remember_columns(node_of_[rowid], values);
      *rowid_out = rowid;
      return Status::ok();
    }
  }
  if (old_rowid) STRATA_RETURN_IF_ERROR(delete_row(*old_rowid, /*relink=*/*old_rowid == rowid));
  // A rowid written again: its tombstone goes first (links name rows by rowid).
  STRATA_RETURN_IF_ERROR(purge_tombstone(rowid));
  STRATA_RETURN_IF_ERROR(insert_vector(rowid, vector, blob));
  STRATA_RETURN_IF_ERROR(write_columns(rowid, values, false));
  remember_columns(node_of_[rowid], values);
  *rowid_out = rowid;
  return Status::ok();
}

Status HnswTable::check_column_values(sqlite3_value** values) const {
  for (size_t c = 0; c < settings_.columns.size(); ++c) {
    const TableColumn& column = settings_.columns[c];
    if (!column.stored()) continue;
    const int given = sqlite3_value_type(values[c]);
    int wanted = SQLITE_NULL;
    switch (column.type) {
      case ColumnType::kAny: continue;
      case ColumnType::kInteger:
      case ColumnType::kBoolean: wanted = SQLITE_INTEGER; break;
      case ColumnType::kFloat: wanted = SQLITE_FLOAT; break;
      case ColumnType::kText: wanted = SQLITE_TEXT; break;
      case ColumnType::kBlob: wanted = SQLITE_BLOB; break;
    }
    const bool may_be_null = column.kind == ColumnKind::kPartitionKey || column.kind == ColumnKind::kAuxiliary;
    if (given == SQLITE_NULL && may_be_null) continue;
    if (given != wanted) {
      const std::string_view what = column.kind == ColumnKind::kMetadata       ? "metadata column "
                                    : column.kind == ColumnKind::kPartitionKey ? "partition key "
                                    : column.kind == ColumnKind::kAuxiliary    ? "auxiliary column "
                                                                               : "primary key ";
      return Status::error(str_cat("hnsw: ", what, column.name, " holds ", type_name(column.type), " values",
                                   may_be_null ? " (or NULL)" : "", ", got ", sql_class_name(given),
                                   column.type == ColumnType::kFloat ? " (write 3.0 for 3)" : ""));
    }
    if (column.type == ColumnType::kBoolean && sqlite3_value_int64(values[c]) != 0 && sqlite3_value_int64(values[c]) != 1) {
      return Status::error(str_cat("hnsw: metadata column ", column.name, " is BOOLEAN: 0 or 1, got ", value_text(values[c])));
    }
  }
  return Status::ok();
}

Status HnswTable::write_columns(int64_t rowid, sqlite3_value** values, bool replace) {
  if (!settings_.has_stored_columns()) return Status::ok();
  std::string names, places;
  std::vector<size_t> stored;
  for (size_t c = 0; c < settings_.columns.size(); ++c) {
    if (!settings_.columns[c].stored()) continue;
    names += str_cat(", ", quote_identifier(settings_.columns[c].name));
    places += str_cat(", ?", std::to_string(stored.size() + 2));
    stored.push_back(c);
  }
  STRATA_ASSIGN_OR_RETURN(Statement* write, statement(replace ? 31 : 30, str_cat(replace ? "INSERT OR REPLACE INTO " : "INSERT INTO ",
                                                                                 shadow("columns"), "(rowid", names, ") VALUES (?1", places, ")")));
  STRATA_RETURN_IF_ERROR(write->bind_int64(1, rowid));
  for (size_t i = 0; i < stored.size(); ++i) STRATA_RETURN_IF_ERROR(write->bind_value(static_cast<int>(i) + 2, values[stored[i]]));
  return write->run();
}

void HnswTable::remember_columns(NodeId node, sqlite3_value** values) {
  if (column_values_.size() != settings_.columns.size()) column_values_.resize(settings_.columns.size());
  for (size_t c = 0; c < settings_.columns.size(); ++c) {
    if (!settings_.columns[c].filterable()) continue;
    std::vector<Value>& column = column_values_[c];
    if (column.size() <= node) column.resize(std::max<size_t>(rowid_of_.size(), node + 1));
    if (settings_.columns[c].kind == ColumnKind::kTextKey && column[node].type == ValueType::kText) {
      rowid_of_text_key_.erase(column[node].bytes);
    }
    column[node] = columnar::value_from_sqlite(values[c]);
    if (settings_.columns[c].kind == ColumnKind::kTextKey) rowid_of_text_key_[column[node].bytes] = rowid_of_[node];
  }
}

namespace {

// One filter over a column's in-memory values (by node). Integer comparisons with an integer
// value, the common case, skip the general comparison.
class NodeFilter {
 public:
  NodeFilter(const std::vector<Value>& column, FilterOp op, std::vector<Value> values)
      : column_(column), op_(op), values_(std::move(values)) {
    integer_ = op_ != FilterOp::kIn && values_[0].type == ValueType::kInteger;
  }

  bool passes(NodeId node) const {
    if (node >= column_.size()) return false;
    const Value& value = column_[node];
    if (value.is_null()) return false;  // deleted rows' values are NULL; NULL matches nothing
    if (op_ == FilterOp::kIn) {
      return std::any_of(values_.begin(), values_.end(),
                         [&](const Value& v) { return compare_values(value.view(), v.view(), Collation::kBinary) == 0; });
    }
    const int order = integer_ && value.type == ValueType::kInteger
                          ? (value.integer < values_[0].integer ? -1 : value.integer > values_[0].integer ? 1 : 0)
                          : compare_values(value.view(), values_[0].view(), Collation::kBinary);
    switch (op_) {
      case FilterOp::kEq: return order == 0;
      case FilterOp::kNe: return order != 0;
      case FilterOp::kLt: return order < 0;
      case FilterOp::kLe: return order <= 0;
      case FilterOp::kGt: return order > 0;
      default: return order >= 0;
    }
  }

 private:
  const std::vector<Value>& column_;
  FilterOp op_;
  std::vector<Value> values_;
  bool integer_ = false;
};

// The filters of a KNN query over the in-memory values; nullopt when one of them can match
// nothing (a NULL value, an empty IN list).
Result<std::optional<std::vector<NodeFilter>>> node_filters_of(const std::vector<ColumnFilter>& filters,
                                                               const std::vector<std::vector<Value>>& column_values,
                                                               const std::vector<TableColumn>& columns) {
  std::vector<NodeFilter> node_filters;
  for (const ColumnFilter& filter : filters) {
    const size_t c = static_cast<size_t>(filter.column);
    if (c >= column_values.size() || !columns[c].filterable()) return Status::internal("hnsw: a filter on a column kept on disk");
    std::vector<Value> values;
    for (const Value& value : filter.values) {
      if (!value.is_null()) values.push_back(value);  // NULL matches nothing
    }
    if (values.empty()) return std::optional<std::vector<NodeFilter>>();
    node_filters.emplace_back(column_values[c], filter.op, std::move(values));
  }
  return std::optional<std::vector<NodeFilter>>(std::move(node_filters));
}

}  // namespace

template <typename Passes>
std::vector<NodeId> HnswTable::nodes_matching(const std::vector<int64_t>* allowed, const Passes& passes, std::vector<bool>& accepted) const {
  accepted.assign(rowid_of_.size(), false);
  std::vector<NodeId> nodes;
  if (allowed != nullptr) {
    for (int64_t rowid : *allowed) {
      auto node = node_of_.find(rowid);
      // Each once: an IN list may repeat a value.
      if (node == node_of_.end() || accepted[node->second] || !passes(node->second)) continue;
      accepted[node->second] = true;
      nodes.push_back(node->second);
    }
  } else {
    for (NodeId node = 0; node < rowid_of_.size(); ++node) {
      if (passes(node)) {
        accepted[node] = true;
        nodes.push_back(node);
      }
    }
  }
  return nodes;
}

Result<std::vector<KnnResult>> HnswTable::nearest(const FloatVector& query, size_t k, size_t ef, const std::vector<int64_t>* allowed,
                                                  const std::vector<ColumnFilter>& filters) {
  STRATA_RETURN_IF_ERROR(ensure_loaded());
  PreparedQuery prepared = space_->prepare(query.data());
  // With quantization or a prefix the walk ranks approximately: it returns ef candidates,
  // which are re-ranked by their exact distances.
  const bool rerank = space_->approximate();
  const size_t candidates = rerank ? std::max(k, ef) : k;
  std::vector<Neighbor> found;
  const size_t total = node_of_.size();
  // Walks with `keep` (the nodes it rejects are passed through, never returned), widening ef
  // until `wanted` nodes come back; false when even a walk as wide as the graph finds fewer.
  auto walk = [&](const std::function<bool(NodeId)>& keep, size_t wanted) {
    for (size_t widened = ef; ; widened *= 2) {
      found = graph_->search(prepared, candidates, widened, &keep);
      if (found.size() >= wanted) return true;
      if (widened >= graph_->size()) return false;
    }
  };
  // The k nearest of `nodes` by measuring each.
  auto exactly = [&](const std::vector<NodeId>& nodes) {
    found.clear();
    for (NodeId node : nodes) found.push_back({space_->exact_distance(prepared, node), node});
    std::sort(found.begin(), found.end());
    if (found.size() > k) found.resize(k);
    return to_results(found);
  };
  // The walk's candidates, re-ranked by exact distances when it ranked approximately.
  auto finish = [&] {
    if (rerank) {
      for (Neighbor& n : found) n.distance = space_->exact_distance(prepared, n.node);
      std::sort(found.begin(), found.end());
    }
    if (found.size() > k) found.resize(k);
    return to_results(found);
  };
  // A walk at selectivity s visits about ef / s nodes, measuring up to 2m distances at each
  // (layer 0's links), each a random access; an exact search measures one per allowed row. Exact
  // wins while allowed^2 < ef * 2m * total (measured on 100k SIFT-like vectors: at 10%
  // selectivity and ef 64 the exact search takes 1.5 ms, the walk 2.4 ms; at 50% the walk 1.4 ms).
  auto exact_wins = [&](double allowed_rows) {
    return allowed_rows * allowed_rows < static_cast<double>(ef) * 2 * settings_.m * static_cast<double>(total);
  };
  std::optional<std::vector<NodeFilter>> node_filters;
  if (!filters.empty()) {
    STRATA_ASSIGN_OR_RETURN(node_filters, node_filters_of(filters, column_values_, settings_.columns));
    if (!node_filters) return std::vector<KnnResult>();
  }
  // Every node a filter passes is a live row: tombstones and free nodes hold NULL values.
  auto passes = [&](NodeId node) {
    return !dead_[node] && std::all_of(node_filters->begin(), node_filters->end(), [node](const NodeFilter& f) { return f.passes(node); });
  };
  if (allowed == nullptr && node_filters) {
    // Column filters alone: how many rows pass is estimated from a sample of the nodes, so that a
    // walk evaluates the filters only on the nodes it visits, not on every row first.
    // The sample is spread by a multiplicative hash, not a stride, so that values following the
    // insertion order (rowid % 10) do not bias it.
    const size_t slots = rowid_of_.size();
    const size_t sampled = std::min<size_t>(slots, 2048);
    size_t passed = 0;
    for (size_t i = 0; i < sampled; ++i) {
      passed += passes(static_cast<NodeId>(sampled == slots ? i : (i * uint64_t{2654435761}) % slots));
    }
    const double estimate = sampled == 0 ? 0 : static_cast<double>(passed) * static_cast<double>(slots) / static_cast<double>(sampled);
    // A walk as wide as the graph that finds fewer than k (fewer match) ends in the exact search.
    if (!exact_wins(estimate) && walk(passes, std::min(k, total))) return finish();
    std::vector<bool> accepted;
    return exactly(nodes_matching(nullptr, passes, accepted));
  }
  if (allowed != nullptr) {
    std::vector<bool> accepted;
    std::vector<NodeId> nodes = node_filters ? nodes_matching(allowed, passes, accepted)
                                             : nodes_matching(allowed, [this](NodeId node) { return !dead_[node]; }, accepted);
    const bool exact = exact_wins(static_cast<double>(nodes.size())) || nodes.size() <= k;
    if (exact || !walk([&accepted](NodeId node) { return accepted[node]; }, std::min(k, nodes.size()))) return exactly(nodes);
  } else if (!tombstone_of_.empty()) {
    // Tombstones are walked through, never returned, and take no place among the ef (as
    // hnswlib's deleted nodes).
    if (!walk([this](NodeId node) { return !dead_[node]; }, std::min(k, total))) {
      std::vector<NodeId> live;
      live.reserve(total);
      for (const auto& [rowid, node] : node_of_) live.push_back(node);
      return exactly(live);
    }
  } else {
    found = graph_->search(prepared, candidates, ef);
  }
  return finish();
}

Value HnswTable::filter_value(int column, sqlite3_value* value) const {
  return columnar::value_with_affinity(value, affinity_of(settings_.columns.at(static_cast<size_t>(column)).type));
}



Status HnswTable::column_value(int64_t rowid, int column, sqlite3_context* context) {
  const TableColumn& declared = settings_.columns.at(static_cast<size_t>(column));
  if (declared.kind == ColumnKind::kIntegerKey) {
    sqlite3_result_int64(context, rowid);
    return Status::ok();
  }
  // Filterable values are in memory once the graph is (kept current as it is): no query for them.
  if (loaded_ && declared.filterable()) STRATA_RETURN_IF_ERROR(ensure_loaded());
  if (auto node = node_of_.find(rowid); loaded_ && declared.filterable() && node != node_of_.end() &&
                                        node->second < column_values_[static_cast<size_t>(column)].size()) {
    columnar::set_result(context, column_values_[static_cast<size_t>(column)][node->second].view());
    return Status::ok();
  }
  STRATA_ASSIGN_OR_RETURN(Statement* read, statement(40 + column, str_cat("SELECT ", quote_identifier(declared.name), " FROM ",
                                                                          shadow("columns"), " WHERE rowid = ?1")));
  STRATA_RETURN_IF_ERROR(read->bind_int64(1, rowid));
  STRATA_ASSIGN_OR_RETURN(bool row, read->step());
  if (row) sqlite3_result_value(context, read->column_value(0));
  read->reset();
  return Status::ok();
}

std::vector<KnnResult> HnswTable::to_results(const std::vector<Neighbor>& found) const {
  std::vector<KnnResult> results;
  results.reserve(found.size());
  for (const Neighbor& n : found) results.push_back({rowid_of_[n.node], space_->user_distance(n.distance)});
  return results;
}

Result<std::optional<std::string>> HnswTable::stored_vector(int64_t rowid) {
  STRATA_ASSIGN_OR_RETURN(Statement* read, statement(7, str_cat("SELECT vector FROM ", shadow("vectors"), " WHERE rowid = ?1")));
  STRATA_RETURN_IF_ERROR(read->bind_int64(1, rowid));
  STRATA_ASSIGN_OR_RETURN(bool row, read->step());
  std::optional<std::string> blob;
  if (row) {
    Result<std::string_view> bytes = vector_bytes(rowid, as_view(read->column_blob(0)));
    if (!bytes.is_ok()) {
      read->reset();
      return bytes.status();
    }
    blob = std::string(*bytes);
  }
  read->reset();
  return blob;
}

Result<std::string_view> HnswTable::vector_bytes(int64_t rowid, std::string_view stored) {
  STRATA_ASSIGN_OR_RETURN(int version, format_version());
  if (version < 2) return stored;
  std::optional<std::string_view> bytes = without_checksum(stored);
  if (!bytes) return corrupt(name_, str_cat("the vector of rowid ", std::to_string(rowid), " is damaged (checksum mismatch)"));
  return *bytes;
}

Result<std::string> HnswTable::stored_form(std::string_view bytes) {
  STRATA_ASSIGN_OR_RETURN(int version, format_version());
  return version < 2 ? std::string(bytes) : with_checksum(bytes);
}

Result<int> HnswTable::format_version() {
  if (format_known_) return settings_.format_version;
  STRATA_ASSIGN_OR_RETURN(Statement* read, statement(20, str_cat("SELECT value FROM ", shadow("config"), " WHERE key = 'format_version'")));
  STRATA_ASSIGN_OR_RETURN(bool row, read->step());
  int64_t version = row && read->column_type(0) != SQLITE_NULL ? read->column_int64(0) : 0;
  read->reset();
  if (version < 1 || version > kFormatVersion) return corrupt(name_, "config has no valid format_version");
  settings_.format_version = static_cast<int>(version);
  format_known_ = true;
  return settings_.format_version;
}

Result<std::vector<int64_t>> HnswTable::all_rowids() {
  STRATA_ASSIGN_OR_RETURN(Statement* read, statement(8, str_cat("SELECT rowid FROM ", shadow("vectors"), " ORDER BY rowid")));
  std::vector<int64_t> rowids;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, read->step());
    if (!row) break;
    rowids.push_back(read->column_int64(0));
  }
  read->reset();
  return rowids;
}

Result<std::string> HnswTable::check(sqlite3* db, const std::string& schema, const std::string& table) {
  // A fresh connection to the stored index (not the in-memory one): load it and check it.
  STRATA_ASSIGN_OR_RETURN(IndexSettings settings, read_stored_settings(db, schema, table));
  HnswTable fresh(db, schema, table, settings);
  Status loaded = fresh.load();
  if (!loaded.is_ok()) return std::string(loaded.message());
  std::vector<std::string> problems = fresh.graph_->check();
  if (problems.empty()) return std::string("ok");
  std::string text;
  for (const std::string& problem : problems) text += str_cat(text.empty() ? "" : "\n", problem);
  return text;
}

}  // namespace strata::hnsw
