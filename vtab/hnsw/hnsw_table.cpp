#include "vtab/hnsw/hnsw_table.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_set>

#include "codecs/byte_io.h"
#include "codecs/checksum.h"
#include "ext/module_arguments.h"
#include "ext/str_cat.h"

namespace strata::hnsw {

namespace {

constexpr std::string_view kModule = "hnsw";

const std::vector<OptionSpec>& option_specs() {
  static const std::vector<OptionSpec> specs = {
      {"metric", OptionKind::kChoice, 0, 0, {"l2", "cosine", "ip", "hamming"}},
      {"m", OptionKind::kInteger, 2, 128},
      {"ef_construction", OptionKind::kInteger, 4, 4096},
      {"ef_search", OptionKind::kInteger, 1, 4096},
      {"quantization", OptionKind::kChoice, 0, 0, {"none", "int8", "binary"}},
      {"dims", OptionKind::kInteger, 1, static_cast<int64_t>(kMaxDimensions)},
  };
  return specs;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "embedding float[768]" -> column name, element type, dimensions.
Status parse_column(std::string_view definition, IndexSettings& settings) {
  auto usage = [&](std::string_view problem) {
    return Status::error(str_cat("hnsw: ", problem, " in '", definition,
                                 "'; expected one vector column such as 'embedding float[768]' (float[N], int8[N] or bit[N], N from 1 to ",
                                 std::to_string(kMaxDimensions), ")"));
  };
  size_t space = definition.find_first_of(" \t");
  if (space == std::string_view::npos) return usage("no vector type");
  std::string_view name = definition.substr(0, space);
  std::string type = lower(definition.substr(space + 1));
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
  return Status::ok();
}

Result<IndexSettings> settings_from_arguments(int argc, const char* const* argv) {
  std::span<const char* const> arguments(argv + 3, static_cast<size_t>(std::max(0, argc - 3)));
  STRATA_ASSIGN_OR_RETURN(ModuleArguments parsed, parse_module_arguments(kModule, option_specs(), arguments));
  if (parsed.column_definitions().size() != 1) {
    return Status::error(str_cat("hnsw: expected exactly one vector column such as 'embedding float[768]', got ",
                                 std::to_string(parsed.column_definitions().size())));
  }
  IndexSettings settings;
  STRATA_RETURN_IF_ERROR(parse_column(parsed.column_definitions()[0], settings));
  if (auto metric = parsed.text("metric")) settings.metric = *metric_from_name(*metric);
  // Bit vectors are compared by the bits that differ, and only they.
  if (settings.element == ElementType::kBit && !parsed.has("metric")) settings.metric = Metric::kHamming;
  if ((settings.element == ElementType::kBit) != (settings.metric == Metric::kHamming)) {
    return Status::error(str_cat("hnsw: metric=", metric_name(settings.metric), " does not apply to ",
                                 element_type_name(settings.element), "[N] vectors; bit[N] takes metric=hamming, ",
                                 "float[N] and int8[N] take l2, cosine or ip"));
  }
  if (auto m = parsed.integer("m")) settings.m = static_cast<uint32_t>(*m);
  if (auto ef = parsed.integer("ef_construction")) settings.ef_construction = static_cast<uint32_t>(*ef);
  if (auto ef = parsed.integer("ef_search")) settings.ef_search = static_cast<uint32_t>(*ef);
  if (auto quantization = parsed.text("quantization")) settings.quantization = *quantization_from_name(*quantization);
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

}  // namespace

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
  std::string declaration = str_cat("CREATE TABLE x(", quote_identifier(table->settings_.column),
                                    " BLOB, distance REAL HIDDEN, k INTEGER HIDDEN, ef_search INTEGER HIDDEN, ",
                                    quote_identifier(name), " HIDDEN)");
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
  STRATA_ASSIGN_OR_RETURN(Statement insert, Statement::prepare(db_, str_cat("INSERT INTO ", shadow("config"), " VALUES (?1, ?2)")));
  const std::pair<std::string, std::string> values[] = {
      {"format_version", std::to_string(kFormatVersion)},
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
                              "; DROP TABLE IF EXISTS ", shadow("links"), ";"));
}

Status HnswTable::rename(const std::string& new_name) {
  STRATA_RETURN_IF_ERROR(flush());
  statements_.clear();
  for (std::string_view suffix : {"config", "vectors", "links"}) {
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
  {
    STRATA_ASSIGN_OR_RETURN(Statement vectors, Statement::prepare(db_, str_cat("SELECT rowid, vector FROM ", shadow("vectors"))));
    while (true) {
      STRATA_ASSIGN_OR_RETURN(bool row, vectors.step());
      if (!row) break;
      int64_t rowid = vectors.column_int64(0);
      STRATA_ASSIGN_OR_RETURN(std::string_view blob, vector_bytes(rowid, as_view(vectors.column_blob(1))));
      Result<FloatVector> values = elements_from_blob("hnsw", settings_.element, settings_.dimensions, blob);
      if (!values.is_ok()) {
        return corrupt(name_, str_cat("the vector of rowid ", std::to_string(rowid), ": ", values.status().message()));
      }
      auto node = static_cast<NodeId>(rowid_of.size());
      space->set(node, values->data());
      rowid_of.push_back(rowid);
      node_of[rowid] = node;
    }
  }
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
  graph->take_dirty();
  if (sqlite3_file_control(db_, schema_.c_str(), SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK) data_version_ = version;
  space_ = std::move(space);
  graph_ = std::move(graph);
  rowid_of_ = std::move(rowid_of);
  node_of_ = std::move(node_of);
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

Status HnswTable::delete_row(int64_t rowid) {
  auto found = node_of_.find(rowid);
  if (found == node_of_.end()) return Status::ok();
  NodeId node = found->second;
  graph_->remove(node);
  node_of_.erase(found);
  free_nodes_.push_back(node);
  if (max_rowid_ == rowid) max_rowid_.reset();
  changed_ = true;
  for (std::string_view suffix : {"vectors", "links"}) {
    STRATA_ASSIGN_OR_RETURN(Statement* erase, statement(suffix == "vectors" ? 5 : 6,
                                                        str_cat("DELETE FROM ", shadow(suffix), " WHERE rowid = ?1")));
    STRATA_RETURN_IF_ERROR(erase->bind_int64(1, rowid));
    STRATA_RETURN_IF_ERROR(erase->run());
  }
  return Status::ok();
}

Status HnswTable::optimize() {
  // Rewrites every node's links (after many deletions the graph may hold nodes with few links
  // left) and renumbers nodes densely, so memory freed by deletions is given back. A table of
  // format 1 also gets every vector rewritten with its checksum (format 2).
  STRATA_RETURN_IF_ERROR(flush());
  const bool upgrade = settings_.format_version < kFormatVersion;
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
  space_ = std::move(space);
  graph_ = std::move(graph);
  rowid_of_ = std::move(rowid_of);
  node_of_ = std::move(node_of);
  free_nodes_.clear();
  changed_ = true;
  if (upgrade) {
    read.reset();
    STRATA_ASSIGN_OR_RETURN(Statement rewrite, Statement::prepare(db_, str_cat("UPDATE ", shadow("vectors"), " SET vector = ?2 WHERE rowid = ?1")));
    for (const auto& [rowid, stored] : upgraded) {
      rewrite.reset();
      STRATA_RETURN_IF_ERROR(rewrite.bind_int64(1, rowid));
      STRATA_RETURN_IF_ERROR(rewrite.bind_blob(2, std::as_bytes(std::span(stored.data(), stored.size()))));
      STRATA_RETURN_IF_ERROR(rewrite.run());
    }
    STRATA_RETURN_IF_ERROR(execute(db_, str_cat("UPDATE ", shadow("config"), " SET value = '", std::to_string(kFormatVersion),
                                                "' WHERE key = 'format_version'")));
    settings_.format_version = kFormatVersion;
  }
  STRATA_RETURN_IF_ERROR(execute(db_, str_cat("DELETE FROM ", shadow("links"))));
  return flush();
}

Status HnswTable::update(int argc, sqlite3_value** argv, sqlite3_int64* rowid_out) {
  STRATA_RETURN_IF_ERROR(ensure_loaded());
  PreserveLastInsertRowid preserve(db_);
  if (argc == 1) return delete_row(sqlite3_value_int64(argv[0]));
  if (argc != 2 + 5) return Status::internal("hnsw: wrong xUpdate arity");
  bool is_insert = sqlite3_value_type(argv[0]) == SQLITE_NULL;
  sqlite3_value* command = argv[2 + kCommandColumn];
  if (is_insert && sqlite3_value_type(command) != SQLITE_NULL) {
    std::string_view word = value_text(command);
    if (word == "optimize") return optimize();
    return Status::error(str_cat("hnsw: unknown command '", word, "'; the only command is 'optimize'"));
  }
  for (int column : {kDistanceColumn, kKColumn, kEfSearchColumn}) {
    if (sqlite3_value_type(argv[2 + column]) != SQLITE_NULL) {
      return Status::error("hnsw: distance, k and ef_search are query parameters and cannot be written");
    }
  }
  STRATA_ASSIGN_OR_RETURN(FloatVector vector, parse_vector(argv[2 + kEmbeddingColumn]));
  std::string blob = elements_blob(settings_.element, vector);

  int64_t rowid;
  if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    if (!max_rowid_) {
      max_rowid_ = 0;
      for (const auto& [existing, node] : node_of_) max_rowid_ = std::max(*max_rowid_, existing);
    }
    if (*max_rowid_ == INT64_MAX) return Status(StatusCode::kError, "database or disk is full").with_sqlite_code(SQLITE_FULL);
    rowid = *max_rowid_ + 1;
  } else {
    if (sqlite3_value_numeric_type(argv[1]) != SQLITE_INTEGER) {
      return Status(StatusCode::kError, "datatype mismatch").with_sqlite_code(SQLITE_MISMATCH);
    }
    rowid = sqlite3_value_int64(argv[1]);
  }
  std::optional<int64_t> old_rowid;
  if (!is_insert) old_rowid = sqlite3_value_int64(argv[0]);
  if (node_of_.contains(rowid) && rowid != old_rowid) {
    if (sqlite3_vtab_on_conflict(db_) != SQLITE_REPLACE) {
      return Status::constraint(str_cat("UNIQUE constraint failed: ", name_, ".rowid")).with_sqlite_code(SQLITE_CONSTRAINT);
    }
    STRATA_RETURN_IF_ERROR(delete_row(rowid));
  }
  if (old_rowid) STRATA_RETURN_IF_ERROR(delete_row(*old_rowid));
  STRATA_RETURN_IF_ERROR(insert_vector(rowid, vector, blob));
  *rowid_out = rowid;
  return Status::ok();
}

Result<std::vector<KnnResult>> HnswTable::nearest(const FloatVector& query, size_t k, size_t ef,
                                                  const std::vector<int64_t>* allowed) {
  STRATA_RETURN_IF_ERROR(ensure_loaded());
  PreparedQuery prepared = space_->prepare(query.data());
  // With quantization or a prefix the walk ranks approximately: it returns ef candidates,
  // which are re-ranked by their exact distances.
  const bool rerank = space_->approximate();
  const size_t candidates = rerank ? std::max(k, ef) : k;
  std::vector<Neighbor> found;
  const size_t total = node_of_.size();
  if (allowed != nullptr) {
    // The allowed nodes, each once (an IN list may repeat a value), as a list and a bitmap.
    std::vector<bool> accepted(rowid_of_.size(), false);
    std::vector<NodeId> nodes;
    for (int64_t rowid : *allowed) {
      auto node = node_of_.find(rowid);
      if (node == node_of_.end() || accepted[node->second]) continue;
      accepted[node->second] = true;
      nodes.push_back(node->second);
    }
    // A walk at selectivity s visits about ef / s nodes, measuring about m distances at each;
    // an exact search measures one per allowed row. Exact wins while allowed^2 < ef * m * total / 2.
    double allowed_rows = static_cast<double>(nodes.size());
    bool exact = allowed_rows * allowed_rows < static_cast<double>(ef) * settings_.m * static_cast<double>(total) / 2 ||
                 nodes.size() <= k;
    if (!exact) {
      std::function<bool(NodeId)> filter = [&accepted](NodeId node) { return accepted[node]; };
      size_t wanted = std::min(k, nodes.size());
      for (size_t widened = ef; ; widened *= 2) {
        found = graph_->search(prepared, candidates, widened, &filter);
        if (found.size() >= wanted || widened >= total) break;
      }
      exact = found.size() < wanted;
    }
    if (exact) {
      found.clear();
      for (NodeId node : nodes) found.push_back({space_->exact_distance(prepared, node), node});
      std::sort(found.begin(), found.end());
      if (found.size() > k) found.resize(k);
      return to_results(found);
    }
  } else {
    found = graph_->search(prepared, candidates, ef);
  }
  if (rerank) {
    for (Neighbor& n : found) n.distance = space_->exact_distance(prepared, n.node);
    std::sort(found.begin(), found.end());
  }
  if (found.size() > k) found.resize(k);
  return to_results(found);
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
