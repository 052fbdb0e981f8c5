#include "codecs/parquet/parquet_writer.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>
#include <type_traits>
#include <unordered_set>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "codecs/bloom_filter.h"
#include "codecs/byte_io.h"
#include "codecs/distinct_estimate.h"
#include "codecs/parquet/compression.h"
#include "codecs/parquet/strata_layout.h"
#include "codecs/parquet/rle_hybrid.h"
#include "ext/str_cat.h"
#include "strata/version.h"

namespace strata::parquet {

Status FileDescriptorSink::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(str_cat("parquet: writing the file failed: ", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return Status::ok();
}

std::string strata_created_by() { return str_cat("strata version ", STRATA_VERSION, " (build ", STRATA_BUILD_HASH, ")"); }

namespace {

// Statistics longer than this are truncated (min to a prefix, max to a prefix rounded up).
constexpr size_t kMaxStatisticsBytes = 64;
// A bloom filter is at most this large, whatever the distinct count (parquet-mr's default).
constexpr size_t kMaxBloomFilterBytes = size_t{1} << 20;

// Whether `bytes` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF):
// what other engines require of a STRING column. ASCII runs are checked eight bytes at a time.
bool is_valid_utf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t length;
    uint32_t lowest;
    if ((c & 0xe0) == 0xc0) length = 2, lowest = 0x80;
    else if ((c & 0xf0) == 0xe0) length = 3, lowest = 0x800;
    else if ((c & 0xf8) == 0xf0) length = 4, lowest = 0x10000;
    else return false;
    if (end - p < static_cast<std::ptrdiff_t>(length)) return false;
    uint32_t code = c & (0x7f >> length);
    for (size_t i = 1; i < length; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      code = (code << 6) | (p[i] & 0x3f);
    }
    if (code < lowest || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    p += length;
  }
  return true;
}

SchemaElement leaf_schema(const std::string& name, ValueType type, bool raw_text = false) {
  SchemaElement e;
  e.name = name;
  e.repetition = Repetition::kOptional;
  if (raw_text) {  // TEXT that is not valid UTF-8: plain BYTE_ARRAY, which every engine reads
    e.type = PhysicalType::kByteArray;
    return e;
  }
  switch (type) {
    case ValueType::kInteger: e.type = PhysicalType::kInt64; break;
    case ValueType::kReal: e.type = PhysicalType::kDouble; break;
    case ValueType::kText:
      e.type = PhysicalType::kByteArray;
      e.converted_type = static_cast<int32_t>(ConvertedType::kUtf8);
      e.logical_type.kind = LogicalType::Kind::kString;
      break;
    case ValueType::kBlob: e.type = PhysicalType::kByteArray; break;
    case ValueType::kNull:
      e.type = PhysicalType::kInt32;
      e.logical_type.kind = LogicalType::Kind::kUnknown;
      break;
  }
  return e;
}

// The bytes of a value in statistics and PLAIN encoding (without the BYTE_ARRAY length).
std::string statistics_bytes(ValueType type, uint64_t bits, std::string_view bytes) {
  if (type == ValueType::kText || type == ValueType::kBlob) return std::string(bytes);
  std::string out;
  put_fixed64(out, bits);
  return out;
}

// A prefix of `value` no longer than kMaxStatisticsBytes that is >= value's first bytes (for max)
// or the plain prefix (for min). For text, cuts on a character boundary and only increments an
// ASCII byte, so the bound stays valid UTF-8. nullopt when no upper bound that short exists.
std::optional<std::string> truncated_bound(std::string_view value, bool upper, bool text) {
  if (value.size() <= kMaxStatisticsBytes) return std::string(value);
  size_t cut = kMaxStatisticsBytes;
  if (text) {
    while (cut > 0 && (static_cast<uint8_t>(value[cut]) & 0xc0) == 0x80) --cut;
  }
  std::string prefix(value.substr(0, cut));
  if (!upper) return prefix;
  while (!prefix.empty()) {
    const auto last = static_cast<uint8_t>(prefix.back());
    if (text ? last < 0x7f : last < 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::nullopt;
}

// Builds a dictionary of distinct values: `insert` returns each value's index, or -1 once the
// dictionary outgrew its limits (the caller then writes PLAIN).
template <class Key>
class DictionaryBuilder {
 public:
  DictionaryBuilder(size_t max_entries, size_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {
    resize(1024);
  }

  int64_t insert(const Key& key) {
    const uint64_t h = hash(key);
    size_t slot = h & mask_;
    while (true) {
      const int32_t index = slots_[slot];
      if (index < 0) break;
      if (keys_[index] == key) return index;
      slot = (slot + 1) & mask_;
    }
    if (keys_.size() >= max_entries_) return -1;
    bytes_ += entry_bytes(key);
    if (bytes_ > max_bytes_) return -1;
    const auto index = static_cast<int32_t>(keys_.size());
    keys_.push_back(key);
    slots_[slot] = index;
    if (keys_.size() * 2 > slots_.size()) resize(slots_.size() * 2);
    return index;
  }

  const std::vector<Key>& keys() const { return keys_; }
  size_t plain_bytes() const { return bytes_; }

 private:
  static uint64_t hash(uint64_t key) { return XXH3_64bits(&key, sizeof key); }
  static uint64_t hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }
  static size_t entry_bytes(uint64_t) { return 8; }
  static size_t entry_bytes(std::string_view key) { return 4 + key.size(); }

  void resize(size_t capacity) {
    slots_.assign(capacity, -1);
    mask_ = capacity - 1;
    for (size_t i = 0; i < keys_.size(); ++i) {
      size_t slot = hash(keys_[i]) & mask_;
      while (slots_[slot] >= 0) slot = (slot + 1) & mask_;
      slots_[slot] = static_cast<int32_t>(i);
    }
  }

  size_t max_entries_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  std::vector<Key> keys_;
  std::vector<int32_t> slots_;
  size_t mask_ = 0;
};

// Whether `keys` surely hold more than `limit` distinct values: the estimate is 1.25 times the
// limit or more (over ten standard errors). A failing dictionary attempt's hash table is most of
// the encoding time of a high-cardinality column; the estimate touches 2 KiB. Small chunks are
// not estimated: building is cheap there.
template <class Key>
bool surely_more_distinct_than(const std::vector<Key>& keys, size_t limit) {
  if (keys.size() < 4096) return false;
  DistinctEstimate estimate;
  for (const Key& key : keys) {
    if constexpr (std::is_same_v<Key, uint64_t>) {
      estimate.add_hash(XXH3_64bits(&key, sizeof key));
    } else {
      estimate.add_hash(XXH3_64bits(key.data(), key.size()));
    }
  }
  return estimate.estimate() >= 1.25 * static_cast<double>(limit);
}

// One leaf's values in a row group, gathered from the column's ColumnVector.
struct LeafValues {
  std::vector<uint32_t> levels;   // per row: 1 when the value is in this leaf
  std::vector<uint64_t> numbers;  // integer or double bits
  std::vector<std::string_view> bytes;
  size_t present() const { return numbers.size() + bytes.size(); }
};

}  // namespace

struct Writer::Leaf {
  size_t column = 0;
  ValueType type = ValueType::kNull;
  // A TEXT leaf for the column's values that are not valid UTF-8 (class "text_bytes"): written as
  // a plain BYTE_ARRAY, so that other engines can read the file, and read back by strata as TEXT.
  bool raw_text = false;
  std::string name;
  bool bloom_requested = false;
  std::vector<std::optional<ColumnChunk>> chunks;  // by row group
};

struct Writer::Column {
  ColumnSpec spec;
  std::optional<ValueType> primary;
  std::vector<Leaf*> leaves;
};

struct Writer::Encoder {
  explicit Encoder(int level) : zstd(level) {}
  ZstdCompressor zstd;
  std::string body;
  std::string compressed;
  std::string header;
  std::vector<uint32_t> indices;
  std::vector<uint8_t> raw_text_rows;  // per row of the column being written: 1 for TEXT that is not UTF-8
};

Writer::Writer(std::vector<ColumnSpec> columns, WriterOptions options, OutputSink& sink)
    : options_(std::move(options)), sink_(sink), encoder_(std::make_unique<Encoder>(options_.zstd_level)) {
  for (ColumnSpec& spec : columns) columns_.push_back(Column{std::move(spec), std::nullopt, {}});
  if (options_.created_by.empty()) options_.created_by = strata_created_by();
}

Writer::~Writer() {
  if (encoding_.valid()) encoding_.wait();  // the helper uses this writer's members
}

Status Writer::start() {
  if (started_) return Status::ok();
  if (columns_.empty()) return Status::error("parquet: a file needs at least one column");
  if (options_.row_group_rows == 0) return Status::error("parquet: row_group_rows must be at least 1");
  if (options_.row_group_bytes == 0) return Status::error("parquet: row_group_bytes must be at least 1");
  if (options_.page_bytes == 0) return Status::error("parquet: page_bytes must be at least 1");
  if (options_.threads < 1 || options_.threads > 2) return Status::error("parquet: threads must be 1 or 2");
  if (options_.zstd_level < 1 || options_.zstd_level > 22) {
    return Status::error("parquet: the zstd level must be from 1 to 22");
  }
  for (const KeyValue& kv : options_.key_value_metadata) {
    if (kv.key == kStorageClassesKey) {
      return Status::error(str_cat("parquet: the key_value_metadata key '", kv.key,
                                   "' is written by strata itself (the columns' storage classes); choose another key"));
    }
  }
  if (!(options_.bloom_filter_fpp > 0 && options_.bloom_filter_fpp < 1)) {
    return Status::error("parquet: the bloom filter false-positive rate must be above 0 and below 1");
  }
  std::unordered_set<std::string_view> names;
  for (const Column& column : columns_) {
    if (column.spec.name.empty()) return Status::error("parquet: a column has an empty name; name it with AS");
    if (!names.insert(column.spec.name).second) {
      return Status::error(str_cat("parquet: the column name '", column.spec.name,
                                   "' appears twice; give the columns distinct names with AS"));
    }
  }
  for (const std::string& name : options_.bloom_filter_columns) {
    if (!names.contains(name)) {
      return Status::error(str_cat("parquet: bloom_filter_columns names '", name, "', which is not a column"));
    }
  }
  buffer_.resize(columns_.size());
  sealed_.resize(columns_.size());
  started_ = true;
  return write(kMagic);
}

Status Writer::write(std::string_view bytes) {
  STRATA_RETURN_IF_ERROR(sink_.write(bytes));
  position_ += bytes.size();
  return Status::ok();
}

Status Writer::append_row(std::span<const ValueView> row) {
  if (!started_) STRATA_RETURN_IF_ERROR(start());
  if (finished_) return Status::internal("parquet: append_row after finish");
  if (!failed_.is_ok()) return failed_;
  if (row.size() != columns_.size()) {
    return Status::internal(str_cat("parquet: a row of ", std::to_string(row.size()), " values for ",
                                    std::to_string(columns_.size()), " columns"));
  }
  for (size_t c = 0; c < row.size(); ++c) {
    buffer_[c].append(row[c]);
    buffered_bytes_ += 8 + row[c].bytes.size();
  }
  ++buffered_rows_;
  ++rows_;
  if (buffered_rows_ >= options_.row_group_rows || buffered_bytes_ >= options_.row_group_bytes) {
    return seal_row_group();
  }
  return Status::ok();
}

Status Writer::append_row_group(std::vector<ColumnVector> columns, std::vector<std::string> blooms) {
  if (!started_) STRATA_RETURN_IF_ERROR(start());
  if (finished_) return Status::internal("parquet: append_row_group after finish");
  if (!failed_.is_ok()) return failed_;
  if (columns.size() != columns_.size()) {
    return Status::internal(str_cat("parquet: a row group of ", std::to_string(columns.size()), " columns for ",
                                    std::to_string(columns_.size())));
  }
  const uint64_t rows = columns.empty() ? 0 : columns.front().size();
  for (const ColumnVector& column : columns) {
    if (column.size() != rows) return Status::internal("parquet: the columns of a row group differ in length");
  }
  if (rows == 0) return Status::ok();
  STRATA_RETURN_IF_ERROR(seal_row_group());  // rows appended one by one so far: a row group of their own
  STRATA_RETURN_IF_ERROR(settle());          // the helper is done with sealed_ and buffer_'s spares
  buffer_ = std::move(columns);
  buffer_blooms_ = std::move(blooms);
  buffered_rows_ = rows;
  rows_ += rows;
  return seal_row_group();
}

Status Writer::seal_row_group() {
  STRATA_RETURN_IF_ERROR(settle());  // one row group in flight at a time, written in order
  const uint64_t rows = buffered_rows_;
  buffered_rows_ = 0;
  buffered_bytes_ = 0;
  if (rows == 0) return Status::ok();
  std::swap(buffer_, sealed_);  // buffer_ takes the vectors the helper cleared (keeping their capacity)
  sealed_blooms_ = std::move(buffer_blooms_);
  buffer_blooms_.clear();
  if (options_.threads > 1) {
    try {
      encoding_ = std::async(std::launch::async, [this, rows] { return encode_row_group(sealed_, rows); });
      return Status::ok();
    } catch (const std::system_error&) {
      // No thread to be had: encode here and now.
    }
  }
  failed_ = encode_row_group(sealed_, rows);
  return failed_;
}

Status Writer::settle() {
  if (encoding_.valid()) {
    try {
      failed_ = encoding_.get();
    } catch (const std::bad_alloc&) {
      failed_ = Status::too_big("parquet: out of memory encoding a row group");
    } catch (const std::exception& error) {
      failed_ = Status::internal(str_cat("parquet: encoding a row group failed: ", error.what()));
    }
  }
  return failed_;
}

Writer::Leaf& Writer::add_leaf(size_t column, ValueType type, bool raw_text) {
  Column& owner = columns_[column];
  auto leaf = std::make_unique<Leaf>();
  leaf->column = column;
  leaf->type = type;
  leaf->raw_text = raw_text;
  if (owner.leaves.empty()) {
    leaf->name = owner.spec.name;
  } else {
    // A sibling: "<name>__<class>", made unique against every other leaf and column name.
    const std::string base = str_cat(owner.spec.name, "__", raw_text ? kRawTextClass : storage_class_name(type));
    auto taken = [&](const std::string& name) {
      for (const Column& c : columns_) if (c.spec.name == name) return true;
      for (const auto& l : leaves_) if (l->name == name) return true;
      return false;
    };
    leaf->name = base;
    for (int suffix = 2; taken(leaf->name); ++suffix) leaf->name = str_cat(base, "_", std::to_string(suffix));
  }
  const auto& wanted = options_.bloom_filter_columns;
  leaf->bloom_requested = std::find(wanted.begin(), wanted.end(), owner.spec.name) != wanted.end();
  Leaf& added = *leaf;
  owner.leaves.push_back(leaf.get());
  leaves_.push_back(std::move(leaf));
  return added;
}

Status Writer::encode_row_group(std::vector<ColumnVector>& buffer, uint64_t rows) {
  const size_t group = group_rows_.size();
  group_rows_.push_back(static_cast<int64_t>(rows));
  for (size_t c = 0; c < columns_.size(); ++c) {
    Column& column = columns_[c];
    const ColumnVector& values = buffer[c];
    size_t counts[6] = {};
    for (size_t row = 0; row < values.size(); ++row) ++counts[static_cast<int>(values.type(row))];
    if (!column.primary) {
      // The class most values have; the declared class, then INTEGER < REAL < TEXT < BLOB on ties.
      std::optional<ValueType> best;
      for (ValueType type : {ValueType::kInteger, ValueType::kReal, ValueType::kText, ValueType::kBlob}) {
        const size_t count = counts[static_cast<int>(type)];
        if (count == 0) continue;
        const size_t best_count = best ? counts[static_cast<int>(*best)] : 0;
        if (!best || count > best_count || (count == best_count && type == column.spec.declared)) best = type;
      }
      if (best) {
        column.primary = best;
        add_leaf(c, *best);
      }
    }
    for (ValueType type : {ValueType::kInteger, ValueType::kReal, ValueType::kText, ValueType::kBlob}) {
      if (counts[static_cast<int>(type)] == 0) continue;
      const bool has_leaf = std::any_of(column.leaves.begin(), column.leaves.end(),
                                        [&](const Leaf* leaf) { return leaf->type == type && !leaf->raw_text; });
      if (!has_leaf) add_leaf(c, type);
    }
    // TEXT that is not valid UTF-8 (SQLite allows it) goes to its own leaf, byte for byte.
    std::vector<uint8_t>& raw = encoder_->raw_text_rows;
    raw.clear();
    if (counts[static_cast<int>(ValueType::kText)] > 0) {
      size_t invalid = 0;
      raw.assign(values.size(), 0);
      for (size_t row = 0; row < values.size(); ++row) {
        if (values.type(row) == ValueType::kText && !is_valid_utf8(values.get(row).bytes)) {
          raw[row] = 1;
          ++invalid;
        }
      }
      const bool has_leaf = std::any_of(column.leaves.begin(), column.leaves.end(), [](const Leaf* leaf) { return leaf->raw_text; });
      if (invalid > 0 && !has_leaf) add_leaf(c, ValueType::kText, true);
      if (invalid == 0) raw.clear();
    }
    // A bloom filter the caller gave (append_row_group) is for the column's main leaf.
    const std::string_view given = &buffer == &sealed_ && c < sealed_blooms_.size() ? std::string_view(sealed_blooms_[c]) : std::string_view();
    for (Leaf* leaf : column.leaves) {
      const bool main_leaf = column.primary && leaf->type == *column.primary && !leaf->raw_text;
      STRATA_RETURN_IF_ERROR(write_chunk(*leaf, values, group, main_leaf ? given : std::string_view()));
    }
    buffer[c].clear();
  }
  return Status::ok();
}

namespace {

// Appends the page header and compressed body, tallying sizes into `meta`.
Status emit_page(PageHeader header, std::string_view body, bool compress, ZstdCompressor& zstd,
                 std::string& compressed, std::string& out, ColumnMetaData& meta) {
  std::string_view stored = body;
  if (compress) {
    compressed.clear();
    STRATA_RETURN_IF_ERROR(zstd.compress(body, compressed));
    stored = compressed;
  }
  if (body.size() > INT32_MAX || stored.size() > INT32_MAX) {
    return Status::too_big("parquet: a page is larger than 2 GiB");
  }
  header.uncompressed_page_size = static_cast<int32_t>(body.size());
  header.compressed_page_size = static_cast<int32_t>(stored.size());
  const size_t header_start = out.size();
  serialize(header, out);
  const size_t header_size = out.size() - header_start;
  out.append(stored);
  meta.total_uncompressed_size += static_cast<int64_t>(header_size + body.size());
  meta.total_compressed_size += static_cast<int64_t>(header_size + stored.size());
  return Status::ok();
}

void append_plain(ValueType type, uint64_t number, std::string_view bytes, std::string& out) {
  if (type == ValueType::kText || type == ValueType::kBlob) {
    put_fixed32(out, static_cast<uint32_t>(bytes.size()));
    out.append(bytes);
  } else {
    put_fixed64(out, number);
  }
}

}  // namespace

Status Writer::write_chunk(Leaf& leaf, const ColumnVector& values, size_t group, std::string_view given_bloom) {
  const size_t rows = values.size();
  const ValueType type = leaf.type;
  const bool is_bytes = type == ValueType::kText || type == ValueType::kBlob;
  Encoder& enc = *encoder_;

  // Gather this leaf's values, their bounds and the NULL count (a loop per class: this runs for
  // every value written).
  LeafValues gathered;
  gathered.levels.assign(rows, 0);
  bool have_bounds = false;
  int64_t min_integer = 0, max_integer = 0;
  double min_real = 0, max_real = 0;
  std::string_view min_bytes, max_bytes;
  if (values.is_coded()) return Status::internal("parquet: the writer buffers plain vectors only");
  const std::span<const int64_t> payloads = values.payloads();  // integers and doubles' bits
  switch (type) {
    case ValueType::kNull: break;  // a kNull leaf holds no value
    case ValueType::kInteger:
      gathered.numbers.reserve(rows);
      for (size_t row = 0; row < rows; ++row) {
        if (values.type(row) != type) continue;
        gathered.levels[row] = 1;
        const int64_t value = payloads[row];
        gathered.numbers.push_back(static_cast<uint64_t>(value));
        if (!have_bounds) min_integer = max_integer = value, have_bounds = true;
        min_integer = std::min(min_integer, value);
        max_integer = std::max(max_integer, value);
      }
      break;
    case ValueType::kReal:
      gathered.numbers.reserve(rows);
      for (size_t row = 0; row < rows; ++row) {
        if (values.type(row) != type) continue;
        gathered.levels[row] = 1;
        gathered.numbers.push_back(static_cast<uint64_t>(payloads[row]));
        const double value = std::bit_cast<double>(payloads[row]);
        if (std::isnan(value)) continue;  // bounds are over the other values
        if (!have_bounds) min_real = max_real = value, have_bounds = true;
        if (value < min_real) min_real = value;
        if (value > max_real) max_real = value;
      }
      break;
    case ValueType::kText:
    case ValueType::kBlob:
      gathered.bytes.reserve(rows);
      for (size_t row = 0; row < rows; ++row) {
        if (values.type(row) != type) continue;
        // TEXT rows split between the UTF-8 leaf and the raw one (enc.raw_text_rows, when any).
        if (type == ValueType::kText && (!enc.raw_text_rows.empty() ? enc.raw_text_rows[row] != 0 : false) != leaf.raw_text) {
          continue;
        }
        gathered.levels[row] = 1;
        const std::string_view value = values.get(row).bytes;
        gathered.bytes.push_back(value);
        if (!have_bounds) min_bytes = max_bytes = value, have_bounds = true;
        if (value < min_bytes) min_bytes = value;
        else if (value > max_bytes) max_bytes = value;
      }
      break;
  }
  const size_t present = gathered.present();

  // A dictionary when it is small and cheaper than the values themselves.
  std::vector<uint64_t> dictionary_numbers;
  std::vector<std::string_view> dictionary_bytes;
  std::vector<uint32_t>& indices = enc.indices;
  indices.clear();
  bool use_dictionary = false;
  size_t dictionary_plain = 0;
  if (options_.dictionary && present > 0) {
    const size_t max_entries = std::max<size_t>(present / 2, 1);
    bool overflow = is_bytes ? surely_more_distinct_than(gathered.bytes, max_entries)
                             : surely_more_distinct_than(gathered.numbers, max_entries);
    indices.reserve(present);
    auto build = [&](auto& builder, const auto& keys) {
      for (const auto& key : keys) {
        const int64_t index = builder.insert(key);
        if (index < 0) {
          overflow = true;
          return;
        }
        indices.push_back(static_cast<uint32_t>(index));
      }
    };
    size_t plain = 0;
    if (overflow) {
      // PLAIN without trying.
    } else if (is_bytes) {
      DictionaryBuilder<std::string_view> builder(max_entries, options_.dictionary_bytes);
      build(builder, gathered.bytes);
      for (std::string_view v : gathered.bytes) plain += 4 + v.size();
      if (!overflow) {
        dictionary_bytes = builder.keys();
        dictionary_plain = builder.plain_bytes();
      }
    } else {
      DictionaryBuilder<uint64_t> builder(max_entries, options_.dictionary_bytes);
      build(builder, gathered.numbers);
      plain = 8 * present;
      if (!overflow) {
        dictionary_numbers = builder.keys();
        dictionary_plain = builder.plain_bytes();
      }
    }
    if (!overflow) {
      const size_t entries = is_bytes ? dictionary_bytes.size() : dictionary_numbers.size();
      const int width = bit_width_of(static_cast<uint32_t>(entries - 1));
      const size_t dictionary_cost = dictionary_plain + (present * static_cast<size_t>(width) + 7) / 8;
      use_dictionary = dictionary_cost < plain;
    }
  }
  const size_t entries = use_dictionary ? (is_bytes ? dictionary_bytes.size() : dictionary_numbers.size()) : 0;
  const int index_width = use_dictionary ? bit_width_of(static_cast<uint32_t>(entries - 1)) : 0;

  ColumnMetaData meta;
  meta.type = *leaf_schema(leaf.name, type, leaf.raw_text).type;
  meta.path_in_schema = {leaf.name};
  meta.codec = static_cast<int32_t>(options_.compress ? Compression::kZstd : Compression::kUncompressed);
  meta.num_values = static_cast<int64_t>(rows);
  meta.encodings = use_dictionary ? std::vector<int32_t>{static_cast<int32_t>(Encoding::kPlain),
                                                         static_cast<int32_t>(Encoding::kRle),
                                                         static_cast<int32_t>(Encoding::kRleDictionary)}
                                  : std::vector<int32_t>{static_cast<int32_t>(Encoding::kPlain),
                                                         static_cast<int32_t>(Encoding::kRle)};
  std::string out;
  const int64_t chunk_start = static_cast<int64_t>(position_);

  if (use_dictionary) {
    enc.body.clear();
    for (size_t i = 0; i < entries; ++i) {
      append_plain(type, is_bytes ? 0 : dictionary_numbers[i], is_bytes ? dictionary_bytes[i] : std::string_view(),
                   enc.body);
    }
    PageHeader header;
    header.type = static_cast<int32_t>(PageType::kDictionaryPage);
    header.dictionary_page_header = DictionaryPageHeader{static_cast<int32_t>(entries),
                                                         static_cast<int32_t>(Encoding::kPlain), std::nullopt};
    meta.dictionary_page_offset = chunk_start;
    STRATA_RETURN_IF_ERROR(emit_page(header, enc.body, options_.compress, enc.zstd, enc.compressed, out, meta));
  }
  meta.data_page_offset = chunk_start + static_cast<int64_t>(out.size());

  // Data pages of about page_bytes of encoded values each.
  size_t row = 0, value = 0;
  do {  // at least one page, even for a chunk of no rows
    const size_t first_row = row, first_value = value;
    size_t page_bytes = 0;
    while (row < rows && page_bytes < options_.page_bytes) {
      if (gathered.levels[row]) {
        page_bytes += use_dictionary ? 1 : (is_bytes ? 4 + gathered.bytes[value].size() : 8);
        ++value;
      }
      ++row;
    }
    enc.body.assign(4, '\0');
    encode_rle_hybrid(std::span<const uint32_t>(gathered.levels).subspan(first_row, row - first_row), 1, enc.body);
    const auto levels_length = static_cast<uint32_t>(enc.body.size() - 4);
    std::memcpy(enc.body.data(), &levels_length, 4);
    if (use_dictionary) {
      enc.body.push_back(static_cast<char>(index_width));
      encode_rle_hybrid(std::span<const uint32_t>(indices).subspan(first_value, value - first_value), index_width,
                        enc.body);
    } else {
      for (size_t v = first_value; v < value; ++v) {
        append_plain(type, is_bytes ? 0 : gathered.numbers[v], is_bytes ? gathered.bytes[v] : std::string_view(),
                     enc.body);
      }
    }
    PageHeader header;
    header.type = static_cast<int32_t>(PageType::kDataPage);
    header.data_page_header = DataPageHeader{
        static_cast<int32_t>(row - first_row),
        static_cast<int32_t>(use_dictionary ? Encoding::kRleDictionary : Encoding::kPlain),
        static_cast<int32_t>(Encoding::kRle), static_cast<int32_t>(Encoding::kRle)};
    STRATA_RETURN_IF_ERROR(emit_page(header, enc.body, options_.compress, enc.zstd, enc.compressed, out, meta));
  } while (row < rows);

  Statistics stats;
  stats.null_count = static_cast<int64_t>(rows - present);
  if (have_bounds) {
    switch (type) {
      case ValueType::kInteger:
        stats.min_value = statistics_bytes(type, static_cast<uint64_t>(min_integer), {});
        stats.max_value = statistics_bytes(type, static_cast<uint64_t>(max_integer), {});
        break;
      case ValueType::kReal:
        // Zero bounds are written as -0.0 (min) and +0.0 (max), as the format asks.
        if (min_real == 0) min_real = -0.0;
        if (max_real == 0) max_real = 0.0;
        stats.min_value = statistics_bytes(type, std::bit_cast<uint64_t>(min_real), {});
        stats.max_value = statistics_bytes(type, std::bit_cast<uint64_t>(max_real), {});
        break;
      default: {
        const bool text = type == ValueType::kText;
        stats.min_value = truncated_bound(min_bytes, false, text);
        stats.is_min_value_exact = min_bytes.size() <= kMaxStatisticsBytes;
        std::optional<std::string> max = truncated_bound(max_bytes, true, text);
        if (max) {
          stats.max_value = std::move(max);
          stats.is_max_value_exact = max_bytes.size() <= kMaxStatisticsBytes;
        }
        break;
      }
    }
    if (type == ValueType::kInteger || type == ValueType::kReal) {
      // The deprecated signed-order fields, for readers that know no others.
      stats.min = stats.min_value;
      stats.max = stats.max_value;
    }
  }
  if (type == ValueType::kReal) {
    int64_t nans = 0;
    for (uint64_t bits : gathered.numbers) nans += std::isnan(std::bit_cast<double>(bits));
    stats.nan_count = nans;
  }
  meta.statistics = std::move(stats);

  // The bloom filter, right after the chunk's pages.
  const bool want_bloom = present > 0 && (leaf.bloom_requested || options_.bloom_filters == BloomFilterColumns::kAll ||
                                          (options_.bloom_filters == BloomFilterColumns::kDictionary && use_dictionary));
  if (want_bloom) {
    // The caller's filter for these values (append_row_group), when it is one this file may hold.
    const bool use_given = !given_bloom.empty() && given_bloom.size() % BloomFilter::kBlockBytes == 0 &&
                           given_bloom.size() <= kMaxBloomFilterBytes;
    std::vector<uint64_t> hashes;
    auto hash_of = [&](size_t i, bool from_dictionary) {
      if (is_bytes) return BloomFilter::hash_bytes(from_dictionary ? dictionary_bytes[i] : gathered.bytes[i]);
      const uint64_t bits = from_dictionary ? dictionary_numbers[i] : gathered.numbers[i];
      return BloomFilter::hash(type == ValueType::kInteger ? ValueView::of_integer(static_cast<int64_t>(bits))
                                                           : ValueView::of_real(std::bit_cast<double>(bits)));
    };
    if (use_dictionary && !use_given) {
      for (size_t i = 0; i < entries; ++i) hashes.push_back(hash_of(i, true));
    }
    // A reader probes the hash of the literal it is given, and 0.0 = -0.0: a DOUBLE column holding
    // either zero gets both in its filter (DuckDB probes -0.0 and 0.0 each as written).
    if (type == ValueType::kReal && !is_bytes && !use_given) {
      const size_t count = use_dictionary ? entries : present;
      for (size_t i = 0; i < count; ++i) {
        const double value = std::bit_cast<double>(use_dictionary ? dictionary_numbers[i] : gathered.numbers[i]);
        if (value == 0.0) {
          hashes.push_back(BloomFilter::hash(ValueView::of_real(0.0)));
          hashes.push_back(BloomFilter::hash(ValueView::of_real(-0.0)));
          break;
        }
      }
    }
    if (!use_dictionary && !use_given) {
      for (size_t i = 0; i < present; ++i) hashes.push_back(hash_of(i, false));
      std::sort(hashes.begin(), hashes.end());
      hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
    }
    BloomFilter filter = use_given ? BloomFilter::from_bytes(given_bloom).value()
                                   : BloomFilter(std::min(BloomFilter::optimal_bytes(hashes.size(), options_.bloom_filter_fpp),
                                                          kMaxBloomFilterBytes));
    if (!use_given) {
      for (uint64_t h : hashes) filter.insert_hash(h);
    }
    const size_t bloom_start = out.size();
    BloomFilterHeader bloom_header;
    bloom_header.num_bytes = static_cast<int32_t>(filter.bytes().size());
    serialize(bloom_header, out);
    out.append(filter.bytes());
    meta.bloom_filter_offset = chunk_start + static_cast<int64_t>(bloom_start);
    meta.bloom_filter_length = static_cast<int32_t>(out.size() - bloom_start);
  }
  STRATA_RETURN_IF_ERROR(write(out));

  ColumnChunk chunk;
  chunk.file_offset = chunk_start;
  chunk.meta_data = std::move(meta);
  if (leaf.chunks.size() <= group) leaf.chunks.resize(group + 1);
  leaf.chunks[group] = std::move(chunk);
  return Status::ok();
}

Status Writer::write_null_chunk(Leaf& leaf, size_t rows, size_t group) {
  ColumnVector nulls;
  nulls.reserve(rows);
  for (size_t i = 0; i < rows; ++i) nulls.append_null();
  return write_chunk(leaf, nulls, group);
}

Status Writer::finish() {
  if (!started_) STRATA_RETURN_IF_ERROR(start());
  if (finished_) return Status::internal("parquet: finish called twice");
  finished_ = true;
  STRATA_RETURN_IF_ERROR(seal_row_group());
  STRATA_RETURN_IF_ERROR(settle());
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (columns_[c].leaves.empty()) add_leaf(c, columns_[c].spec.declared);
  }
  // Leaves in schema order: by column, then in the order they appeared.
  std::vector<Leaf*> ordered;
  for (Column& column : columns_) ordered.insert(ordered.end(), column.leaves.begin(), column.leaves.end());
  for (Leaf* leaf : ordered) {
    leaf->chunks.resize(group_rows_.size());
    for (size_t g = 0; g < group_rows_.size(); ++g) {
      if (!leaf->chunks[g]) STRATA_RETURN_IF_ERROR(write_null_chunk(*leaf, static_cast<size_t>(group_rows_[g]), g));
    }
  }

  FileMetaData metadata;
  metadata.version = 1;
  SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(ordered.size());
  metadata.schema.push_back(root);
  std::string layout;
  for (Leaf* leaf : ordered) {
    metadata.schema.push_back(leaf_schema(leaf->name, leaf->type, leaf->raw_text));
    if (!layout.empty()) layout += ',';
    layout += str_cat(std::to_string(leaf->column), ":", leaf->raw_text ? kRawTextClass : storage_class_name(leaf->type));
    metadata.column_orders.push_back(kTypeDefinedOrder);
  }
  metadata.num_rows = static_cast<int64_t>(rows_);
  for (size_t g = 0; g < group_rows_.size(); ++g) {
    RowGroup group;
    group.num_rows = group_rows_[g];
    int64_t first = INT64_MAX, compressed = 0;
    for (Leaf* leaf : ordered) {
      const ColumnChunk& chunk = *leaf->chunks[g];
      const ColumnMetaData& meta = *chunk.meta_data;
      group.total_byte_size += meta.total_uncompressed_size;
      compressed += meta.total_compressed_size;
      first = std::min(first, meta.dictionary_page_offset.value_or(meta.data_page_offset));
      group.columns.push_back(chunk);
    }
    group.file_offset = first;
    group.total_compressed_size = compressed;
    if (g <= static_cast<size_t>(INT16_MAX)) group.ordinal = static_cast<int16_t>(g);
    metadata.row_groups.push_back(std::move(group));
  }
  metadata.key_value_metadata.push_back({std::string(kStorageClassesKey), layout});
  for (const KeyValue& kv : options_.key_value_metadata) metadata.key_value_metadata.push_back(kv);
  metadata.created_by = options_.created_by;

  std::string footer;
  serialize(metadata, footer);
  if (footer.size() > UINT32_MAX) return Status::too_big("parquet: the footer is larger than 4 GiB");
  put_fixed32(footer, static_cast<uint32_t>(footer.size()));
  footer.append(kMagic);
  return write(footer);
}

}  // namespace strata::parquet
