#include "codecs/parquet/parquet_reader.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include "codecs/parquet/compression.h"
#include "codecs/parquet/page_values.h"
#include "codecs/parquet/rle_hybrid.h"
#include "ext/str_cat.h"

namespace strata::parquet {

namespace {

constexpr uint64_t kFooterTailBytes = 64 * 1024;
constexpr int kMaxSchemaDepth = 32;

uint32_t load_u32(std::string_view bytes, size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, bytes.data() + at, 4);
  return v;
}

}  // namespace

RangeReader memory_range_reader(std::string_view bytes) {
  return [bytes](uint64_t offset, uint64_t length) -> Result<std::string> {
    if (offset > bytes.size() || length > bytes.size() - offset) {
      return Status::io_error("parquet: a read past the end of the file");
    }
    return std::string(bytes.substr(offset, length));
  };
}

// ---- footer and schema -----------------------------------------------------------------------

Result<FileReader> FileReader::open(const RangeReader& read, uint64_t file_size) {
  if (file_size < 12) {
    return Status::corruption(str_cat("parquet: a file of ", std::to_string(file_size),
                                      " bytes is too small to be Parquet (at least 12)"));
  }
  const uint64_t tail_length = std::min(file_size, kFooterTailBytes);
  STRATA_ASSIGN_OR_RETURN(std::string tail, read(file_size - tail_length, tail_length));
  if (tail.size() != tail_length) return Status::io_error("parquet: a read returned fewer bytes than asked");
  const std::string_view end_magic = std::string_view(tail).substr(tail.size() - 4);
  if (end_magic == "PARE") {
    return Status::unsupported("parquet: files with an encrypted footer are not supported");
  }
  if (end_magic != kMagic) return Status::corruption("parquet: not a Parquet file (it does not end with PAR1)");
  if (tail_length == file_size && std::string_view(tail).substr(0, 4) != kMagic) {
    return Status::corruption("parquet: not a Parquet file (it does not start with PAR1)");
  }
  const uint32_t footer_length = load_u32(tail, tail.size() - 8);
  if (footer_length > file_size - 12) {
    return Status::corruption(str_cat("parquet: the footer length ", std::to_string(footer_length),
                                      " is larger than the file"));
  }
  if (footer_length + 8 <= tail_length) {
    return from_metadata(std::string_view(tail).substr(tail_length - 8 - footer_length, footer_length), file_size);
  }
  STRATA_ASSIGN_OR_RETURN(std::string footer, read(file_size - 8 - footer_length, footer_length));
  if (footer.size() != footer_length) return Status::io_error("parquet: a read returned fewer bytes than asked");
  return from_metadata(footer, file_size);
}

Result<FileReader> FileReader::from_metadata(std::string_view metadata, uint64_t file_size) {
  FileReader reader;
  STRATA_ASSIGN_OR_RETURN(reader.metadata_, parse_file_metadata(metadata));
  if (reader.metadata_.encrypted) return Status::unsupported("parquet: encrypted files are not supported");
  reader.file_size_ = file_size;
  if (metadata.size() + 12 > file_size) return Status::corruption("parquet: the footer is larger than the file");
  reader.data_end_ = file_size - 8 - metadata.size();
  reader.pads_chunks_ = reader.metadata_.created_by && written_by_parquet_mr_before_1_2_9(*reader.metadata_.created_by);
  STRATA_RETURN_IF_ERROR(reader.resolve_schema());
  STRATA_RETURN_IF_ERROR(reader.check_row_groups());
  reader.group_columns();
  return reader;
}

Status FileReader::resolve_schema() {
  const std::vector<SchemaElement>& schema = metadata_.schema;
  if (schema.empty()) return Status::corruption("parquet: the schema is empty");
  const int32_t root_children = schema[0].num_children.value_or(0);
  if (root_children < 0) return Status::corruption("parquet: the schema root has a negative child count");
  size_t next = 1;
  std::vector<std::string> path;
  std::vector<size_t> parents;
  nodes_.assign(schema.size(), SchemaNode());
  roots_.clear();
  // Depth-first over the flattened tree; recursion is bounded by kMaxSchemaDepth.
  auto visit = [&](auto&& self, int depth, int definition, int repetition) -> Status {
    if (next >= schema.size()) return Status::corruption("parquet: the schema ends before its tree does");
    if (depth > kMaxSchemaDepth) return Status::corruption("parquet: the schema is nested too deeply");
    const size_t index = next;
    const SchemaElement& element = schema[next++];
    const Repetition kind = element.repetition.value_or(Repetition::kRequired);
    SchemaNode& node = nodes_[index];
    if (kind == Repetition::kOptional) {
      ++definition;
      node.optional = true;
    }
    if (static_cast<int32_t>(kind) >= static_cast<int32_t>(Repetition::kRepeated)) {
      ++definition;
      ++repetition;
      node.repeated = true;
    }
    node.definition = definition;
    node.repetition = repetition;
    if (parents.empty()) {
      roots_.push_back(index);
    } else {
      nodes_[parents.back()].children.push_back(index);
    }
    path.push_back(element.name);
    const bool group = element.num_children && (*element.num_children > 0 || !element.type);
    if (group) {
      const int32_t children = *element.num_children;
      if (children < 0 || static_cast<size_t>(children) > schema.size() - next) {
        return Status::corruption(str_cat("parquet: schema group '", element.name, "' claims ",
                                          std::to_string(children), " children"));
      }
      parents.push_back(index);
      for (int32_t i = 0; i < children; ++i) STRATA_RETURN_IF_ERROR(self(self, depth + 1, definition, repetition));
      parents.pop_back();
    } else {
      if (!element.type) {
        return Status::corruption(str_cat("parquet: schema element '", element.name, "' has neither a type nor children"));
      }
      Leaf leaf;
      for (size_t i = 0; i < path.size(); ++i) {
        if (i > 0) leaf.name += '.';
        leaf.name += path[i];
      }
      leaf.element = element;
      leaf.max_definition_level = definition;
      leaf.max_repetition_level = repetition;
      leaf.sqlite_type = sqlite_type_of(element, leaf.unsupported);
      nodes_[index].leaf = static_cast<int>(leaves_.size());
      leaves_.push_back(std::move(leaf));
    }
    path.pop_back();
    return Status::ok();
  };
  for (int32_t i = 0; i < root_children; ++i) STRATA_RETURN_IF_ERROR(visit(visit, 1, 0, 0));
  if (next != schema.size()) {
    return Status::corruption(str_cat("parquet: the schema has ", std::to_string(schema.size() - next),
                                      " elements outside its tree"));
  }
  return Status::ok();
}

Status FileReader::check_row_groups() {
  int64_t rows = 0;
  for (size_t g = 0; g < metadata_.row_groups.size(); ++g) {
    const RowGroup& group = metadata_.row_groups[g];
    if (group.columns.size() != leaves_.size()) {
      return Status::corruption(str_cat("parquet: row group ", std::to_string(g), " has ",
                                        std::to_string(group.columns.size()), " column chunks for ",
                                        std::to_string(leaves_.size()), " columns"));
    }
    if (group.num_rows < 0 || group.num_rows > INT64_MAX - rows) {
      return Status::corruption(str_cat("parquet: row group ", std::to_string(g), " has an invalid row count"));
    }
    rows += group.num_rows;
    for (size_t c = 0; c < group.columns.size(); ++c) {
      const ColumnChunk& chunk = group.columns[c];
      if (chunk.encrypted) continue;  // refused when read
      if (!chunk.meta_data) {
        return Status::corruption(str_cat("parquet: column chunk ", std::to_string(c), " of row group ",
                                          std::to_string(g), " has no metadata"));
      }
      if (chunk.meta_data->type != *leaves_[c].element.type) {
        return Status::corruption(str_cat("parquet: column '", leaves_[c].name, "' is ",
                                          physical_type_name(*leaves_[c].element.type), " in the schema but ",
                                          physical_type_name(chunk.meta_data->type), " in row group ",
                                          std::to_string(g)));
      }
    }
  }
  // The row groups' counts are what the pages hold; some writers leave the footer's total 0
  // (repeated_no_annotation.parquet). Other readers (DuckDB, arrow) trust the row groups; so
  // does strata.
  metadata_.num_rows = rows;
  return Status::ok();
}

void FileReader::group_columns() {
  // strata's layout, when present and consistent with the schema: "<column>:<class>,...".
  for (const KeyValue& kv : metadata_.key_value_metadata) {
    if (kv.key != kStorageClassesKey || !kv.value) continue;
    std::vector<Column> columns;
    std::vector<size_t> raw_text_leaves;
    std::string_view rest = *kv.value;
    size_t leaf = 0;
    bool valid = true;
    while (valid && !rest.empty() && leaf < leaves_.size()) {
      const size_t comma = rest.find(',');
      const std::string_view entry = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      const size_t colon = entry.find(':');
      if (colon == std::string_view::npos) {
        valid = false;
        break;
      }
      size_t index = 0;
      for (char c : entry.substr(0, colon)) {
        if (c < '0' || c > '9' || index > leaves_.size()) {
          valid = false;
          break;
        }
        index = index * 10 + static_cast<size_t>(c - '0');
      }
      const std::string_view cls = entry.substr(colon + 1);
      const bool raw_text = cls == kRawTextClass && leaves_[leaf].sqlite_type == ValueType::kBlob;
      if (raw_text) raw_text_leaves.push_back(leaf);
      const bool class_matches = raw_text || cls == storage_class_name(leaves_[leaf].sqlite_type);
      if (!valid || colon == 0 || !class_matches) {
        valid = false;
        break;
      }
      if (index == columns.size()) {
        columns.push_back({leaves_[leaf].name, {leaf}, std::nullopt});
      } else if (index + 1 == columns.size()) {
        columns.back().leaves.push_back(leaf);
      } else {
        valid = false;
      }
      ++leaf;
    }
    if (valid && rest.empty() && leaf == leaves_.size()) {
      for (size_t raw : raw_text_leaves) leaves_[raw].sqlite_type = ValueType::kText;  // byte for byte
      columns_ = std::move(columns);
      written_by_strata_ = true;
      return;
    }
  }
  columns_.clear();
  for (size_t root : roots_) {
    const SchemaNode& node = nodes_[root];
    if (node.leaf >= 0 && !node.repeated) {
      columns_.push_back({leaves_[static_cast<size_t>(node.leaf)].name, {static_cast<size_t>(node.leaf)}, std::nullopt});
      continue;
    }
    Column column{metadata_.schema[root].name, {}, root};
    auto collect = [&](auto&& self, size_t index) -> void {
      if (nodes_[index].leaf >= 0) column.leaves.push_back(static_cast<size_t>(nodes_[index].leaf));
      for (size_t child : nodes_[index].children) self(self, child);
    };
    collect(collect, root);
    columns_.push_back(std::move(column));
  }
}

// ---- column chunks ---------------------------------------------------------------------------

Result<ByteRange> FileReader::chunk_range(size_t row_group, size_t leaf) const {
  const Leaf& column = leaves_[leaf];
  if (!column.unsupported.empty()) return Status::unsupported(str_cat("parquet: ", column.unsupported));
  const ColumnChunk& chunk = metadata_.row_groups[row_group].columns[leaf];
  if (chunk.encrypted) {
    return Status::unsupported(str_cat("parquet: column '", column.name, "' is encrypted, which strata does not read"));
  }
  if (chunk.file_path) {
    return Status::unsupported(str_cat("parquet: column '", column.name, "' keeps its data in another file ('",
                                       *chunk.file_path, "'), which strata does not read"));
  }
  const ColumnMetaData& meta = *chunk.meta_data;
  int64_t start = meta.data_page_offset;
  if (meta.dictionary_page_offset && *meta.dictionary_page_offset > 0 && *meta.dictionary_page_offset < start) {
    start = *meta.dictionary_page_offset;
  }
  const int64_t length = meta.total_compressed_size;
  if (start < 4 || length < 0 || static_cast<uint64_t>(start) > data_end_ ||
      static_cast<uint64_t>(length) > data_end_ - static_cast<uint64_t>(start)) {
    return Status::corruption(str_cat("parquet: column chunk '", column.name, "' of row group ",
                                      std::to_string(row_group), " lies outside the file's data"));
  }
  uint64_t padded = static_cast<uint64_t>(length);
  if (pads_chunks_) {
    constexpr uint64_t kDictionaryHeaderAllowance = 100;
    padded += std::min(kDictionaryHeaderAllowance, data_end_ - static_cast<uint64_t>(start) - padded);
  }
  return ByteRange{static_cast<uint64_t>(start), padded};
}

bool written_by_parquet_mr_before_1_2_9(std::string_view created_by) {
  constexpr std::string_view kWriter = "parquet-mr";
  if (created_by.substr(0, kWriter.size()) != kWriter) return false;
  constexpr std::string_view kVersion = " version ";
  size_t at = created_by.find(kVersion, kWriter.size());
  if (at == std::string_view::npos) return true;
  std::string_view rest = created_by.substr(at + kVersion.size());
  int parts[3] = {0, 0, 0};
  for (int& part : parts) {
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    std::from_chars(rest.data(), rest.data() + digits, part);
    rest.remove_prefix(digits);
    if (rest.empty() || rest.front() != '.') break;
    rest.remove_prefix(1);
  }
  constexpr int kFixed[3] = {1, 2, 9};
  return std::lexicographical_compare(parts, parts + 3, kFixed, kFixed + 3);
}

namespace {

// Decodes the pages of one column chunk into a ColumnVector.
class ChunkDecoder {
 public:
  // `leveled`: keep every entry's levels (a leaf of a nested column, which has one entry per
  // value or empty list, not one per row).
  ChunkDecoder(const Leaf& leaf, const ColumnMetaData& meta, int64_t rows, bool leveled = false)
      : leaf_(leaf), meta_(meta), rows_(rows), leveled_(leveled) {}

  Result<LeveledValues> decode_leveled(std::string_view chunk) {
    STRATA_ASSIGN_OR_RETURN(ColumnVector values, decode(chunk));
    int64_t rows = 0;
    for (uint8_t level : repetitions_) rows += level == 0;
    if (leaf_.max_repetition_level == 0) rows = static_cast<int64_t>(definitions_.size());
    if (rows != rows_) return corrupt(str_cat("has ", std::to_string(rows), " rows for ", std::to_string(rows_)));
    return LeveledValues{std::move(repetitions_), std::move(definitions_), std::move(values)};
  }

  // Only rows `rows` (ascending, each below the chunk's row count) of a flat leaf: data pages
  // holding none of them are skipped without being decompressed, and the result has one value
  // per listed row.
  Result<ColumnVector> decode_rows(std::string_view chunk, std::span<const uint32_t> rows) {
    if (leveled_ || leaf_.max_repetition_level > 0) return Status::internal("parquet: decode_rows of a nested leaf");
    selected_ = rows;
    coding_ = false;  // a few values: plain ones
    return decode(chunk);
  }

  Result<ColumnVector> decode(std::string_view chunk) {
    if (!leveled_ && meta_.num_values != rows_) {
      return corrupt(str_cat("has ", std::to_string(meta_.num_values), " values for ", std::to_string(rows_), " rows"));
    }
    if (!selected_) out_.reserve(static_cast<size_t>(std::min<int64_t>(rows_, 1 << 20)));
    size_t position = 0;
    while (values_read_ < meta_.num_values) {
      if (position >= chunk.size()) return corrupt("ends before all its values");
      size_t header_size = 0;
      STRATA_ASSIGN_OR_RETURN(PageHeader header, parse_page_header(chunk.substr(position), header_size));
      position += header_size;
      if (header.compressed_page_size < 0 || header.uncompressed_page_size < 0 ||
          static_cast<size_t>(header.compressed_page_size) > chunk.size() - position) {
        return corrupt("has a page whose size runs past the chunk");
      }
      const std::string_view page = chunk.substr(position, static_cast<size_t>(header.compressed_page_size));
      position += page.size();
      if (selected_) {
        // A flat leaf has one value per row: the page's rows are the next `count` ones.
        const PageType type = static_cast<PageType>(header.type);
        const int32_t count = type == PageType::kDataPage && header.data_page_header     ? header.data_page_header->num_values
                              : type == PageType::kDataPageV2 && header.data_page_header_v2 ? header.data_page_header_v2->num_values
                                                                                          : -1;
        if (count >= 0) {
          STRATA_RETURN_IF_ERROR(check_value_count(count));
          const int64_t first = values_read_, end = values_read_ + count;
          if (next_selected_ == selected_->size() || (*selected_)[next_selected_] >= end) {
            values_read_ = end;
            continue;
          }
          out_.clear();
          STRATA_RETURN_IF_ERROR(type == PageType::kDataPage ? data_page_v1(header, page) : data_page_v2(header, page));
          if (out_.size() != static_cast<size_t>(count)) return corrupt("decoded a page into the wrong number of rows");
          for (; next_selected_ < selected_->size() && (*selected_)[next_selected_] < end; ++next_selected_) {
            picked_.append(out_.get(static_cast<size_t>((*selected_)[next_selected_] - first)));
          }
          continue;
        }
      }
      switch (static_cast<PageType>(header.type)) {
        case PageType::kDictionaryPage: STRATA_RETURN_IF_ERROR(dictionary_page(header, page)); break;
        case PageType::kDataPage: STRATA_RETURN_IF_ERROR(data_page_v1(header, page)); break;
        case PageType::kDataPageV2: STRATA_RETURN_IF_ERROR(data_page_v2(header, page)); break;
        default: break;  // index pages and unknown pages carry no values
      }
    }
    if (selected_) {
      if (picked_.size() != selected_->size()) return corrupt("ends before a row asked for");
      return std::move(picked_);
    }
    if (coding_ && !codes_.empty()) return coded_result();
    return std::move(out_);
  }

 private:
  Status corrupt(std::string_view what) const {
    return Status::corruption(str_cat("parquet: column chunk '", leaf_.name, "' ", what));
  }

  Status dictionary_page(const PageHeader& header, std::string_view page) {
    if (!header.dictionary_page_header) return corrupt("has a dictionary page without its header");
    if (dictionary_ || values_read_ > 0) return corrupt("has a dictionary page after its first data page");
    const DictionaryPageHeader& d = *header.dictionary_page_header;
    if (d.num_values < 0) return corrupt("has a dictionary with a negative number of values");
    const auto encoding = static_cast<Encoding>(d.encoding);
    if (encoding != Encoding::kPlain && encoding != Encoding::kPlainDictionary) {
      return Status::unsupported(str_cat("parquet: column '", leaf_.name, "' has a dictionary page encoded as ",
                                         encoding_name(d.encoding)));
    }
    STRATA_RETURN_IF_ERROR(decompress_page(meta_.codec, page, static_cast<size_t>(header.uncompressed_page_size), buffer_));
    dictionary_.emplace();
    STRATA_RETURN_IF_ERROR(decode_page_values(leaf_, static_cast<int32_t>(Encoding::kPlain), buffer_,
                                              static_cast<size_t>(d.num_values), nullptr, *dictionary_));
    dictionary_->own_bytes();
    return Status::ok();
  }

  // A V1 page's levels of one kind: a u32 length, then that many bytes of RLE, taken off `body`.
  Result<std::string_view> v1_levels(std::string_view& body, int32_t encoding, std::string_view kind) const {
    if (static_cast<Encoding>(encoding) != Encoding::kRle) {
      return Status::unsupported(str_cat("parquet: column '", leaf_.name, "' has ", kind, " levels encoded as ",
                                         encoding_name(encoding), " (strata reads RLE)"));
    }
    if (body.size() < 4) return corrupt(str_cat("has a data page too short for its ", kind, " levels"));
    const uint32_t length = load_u32(body, 0);
    if (length > body.size() - 4) return corrupt(str_cat("has ", kind, " levels longer than their page"));
    std::string_view levels = body.substr(4, length);
    body.remove_prefix(4 + length);
    return levels;
  }

  Status data_page_v1(const PageHeader& header, std::string_view page) {
    if (!header.data_page_header) return corrupt("has a data page without its header");
    const DataPageHeader& d = *header.data_page_header;
    STRATA_RETURN_IF_ERROR(check_value_count(d.num_values));
    STRATA_RETURN_IF_ERROR(decompress_page(meta_.codec, page, static_cast<size_t>(header.uncompressed_page_size), buffer_));
    std::string_view body = buffer_;
    const size_t count = static_cast<size_t>(d.num_values);
    if (leaf_.max_repetition_level > 0) {
      STRATA_ASSIGN_OR_RETURN(std::string_view levels, v1_levels(body, d.repetition_level_encoding, "repetition"));
      STRATA_RETURN_IF_ERROR(decode_repetition_levels(levels, count));
    }
    if (leaf_.max_definition_level > 0) {
      STRATA_ASSIGN_OR_RETURN(std::string_view levels, v1_levels(body, d.definition_level_encoding, "definition"));
      STRATA_RETURN_IF_ERROR(decode_levels(levels, count));
    } else {
      levels_.assign(count, 0);
    }
    return values(d.encoding, body, count);
  }

  Status data_page_v2(const PageHeader& header, std::string_view page) {
    if (!header.data_page_header_v2) return corrupt("has a V2 data page without its header");
    const DataPageHeaderV2& d = *header.data_page_header_v2;
    STRATA_RETURN_IF_ERROR(check_value_count(d.num_values));
    if (d.definition_levels_byte_length < 0 || d.repetition_levels_byte_length < 0 ||
        static_cast<uint64_t>(d.definition_levels_byte_length) + static_cast<uint64_t>(d.repetition_levels_byte_length) >
            page.size()) {
      return corrupt("has V2 level lengths that do not fit its page");
    }
    const size_t levels_size =
        static_cast<size_t>(d.definition_levels_byte_length) + static_cast<size_t>(d.repetition_levels_byte_length);
    const size_t count = static_cast<size_t>(d.num_values);
    const std::string_view definition = page.substr(static_cast<size_t>(d.repetition_levels_byte_length),
                                                    static_cast<size_t>(d.definition_levels_byte_length));
    if (leaf_.max_repetition_level > 0) {
      STRATA_RETURN_IF_ERROR(decode_repetition_levels(
          page.substr(0, static_cast<size_t>(d.repetition_levels_byte_length)), count));
    }
    if (leaf_.max_definition_level > 0) {
      STRATA_RETURN_IF_ERROR(decode_levels(definition, count));
    } else {
      levels_.assign(count, 0);
    }
    if (static_cast<size_t>(header.uncompressed_page_size) < levels_size) {
      return corrupt("has a V2 page smaller than its levels");
    }
    const size_t values_size = static_cast<size_t>(header.uncompressed_page_size) - levels_size;
    const std::string_view compressed = page.substr(levels_size);
    if (d.is_compressed && !(compressed.empty() && values_size == 0)) {
      STRATA_RETURN_IF_ERROR(decompress_page(meta_.codec, compressed, values_size, buffer_));
    } else {
      if (compressed.size() != values_size) return corrupt("has a V2 page whose values size disagrees with its header");
      buffer_.assign(compressed);
    }
    return values(d.encoding, buffer_, count);
  }

  Status check_value_count(int32_t num_values) const {
    if (num_values < 0 || num_values > meta_.num_values - values_read_) {
      return corrupt("has pages with more values than the chunk");
    }
    return Status::ok();
  }

  Status decode_levels(std::string_view data, size_t count) {
    levels_.resize(count);
    STRATA_RETURN_IF_ERROR(decode_rle_hybrid(data, bit_width_of(static_cast<uint32_t>(leaf_.max_definition_level)), levels_));
    for (uint32_t level : levels_) {
      if (level > static_cast<uint32_t>(leaf_.max_definition_level)) return corrupt("has a definition level above its maximum");
    }
    return Status::ok();
  }

  // A page's repetition levels, appended to repetitions_ (they are only kept, never used here).
  Status decode_repetition_levels(std::string_view data, size_t count) {
    page_repetitions_.resize(count);
    const auto max = static_cast<uint32_t>(leaf_.max_repetition_level);
    STRATA_RETURN_IF_ERROR(decode_rle_hybrid(data, bit_width_of(max), page_repetitions_));
    for (uint32_t level : page_repetitions_) {
      if (level > max) return corrupt("has a repetition level above its maximum");
      repetitions_.push_back(static_cast<uint8_t>(level));
    }
    return Status::ok();
  }

  // Decodes the page's non-NULL values and appends the page's rows to the output.
  Status values(int32_t encoding, std::string_view data, size_t count) {
    const uint32_t defined = static_cast<uint32_t>(leaf_.max_definition_level);
    size_t present = 0;
    for (uint32_t level : levels_) present += level == defined;
    const auto page_encoding = static_cast<Encoding>(encoding);
    const bool dictionary_coded = (page_encoding == Encoding::kRleDictionary || page_encoding == Encoding::kPlainDictionary) &&
                                  dictionary_ && !leveled_ && leaf_.sqlite_type != ValueType::kNull;
    if (coding_ && dictionary_coded) {
      // Kept coded: the rows' dictionary indices, NULL rows one past the dictionary's entries.
      const size_t entries = dictionary_->size(leaf_.sqlite_type);
      if (codes_.empty()) codes_.reserve(static_cast<size_t>(std::min<int64_t>(rows_, 1 << 20)));
      STRATA_RETURN_IF_ERROR(decode_dictionary_codes(data, present, entries, page_codes_));
      size_t next = 0;
      for (size_t row = 0; row < count; ++row) {
        codes_.push_back(levels_[row] == defined ? page_codes_[next++] : static_cast<uint32_t>(entries));
      }
      values_read_ += static_cast<int64_t>(count);
      return Status::ok();
    }
    if (coding_) {
      // A page that is not dictionary-encoded (a writer's fallback to PLAIN): the rows so far
      // become plain values, and so does the rest.
      coding_ = false;
      for (uint32_t code : codes_) append_dictionary_value(code, out_);
      codes_.clear();
    }
    page_values_.clear();
    if (leaf_.sqlite_type != ValueType::kNull || present > 0) {
      STRATA_RETURN_IF_ERROR(decode_page_values(leaf_, encoding, data, present, dictionary_ ? &*dictionary_ : nullptr,
                                                page_values_));
    }
    const ValueType type = leaf_.sqlite_type;
    if (page_values_.size(type) != present && type != ValueType::kNull) {
      return corrupt("decoded fewer values than its levels promise");
    }
    if (leveled_) {
      for (uint32_t level : levels_) definitions_.push_back(static_cast<uint8_t>(level));
    }
    if (type == ValueType::kInteger || type == ValueType::kReal) {
      // Numbers go in at once, NULL rows marked in a bitmap.
      const unsigned char* nulls = nullptr;
      if (present < count) {
        null_bits_.assign((count + 7) / 8, 0);
        for (size_t row = 0; row < count; ++row) {
          if (levels_[row] != defined) null_bits_[row / 8] |= static_cast<unsigned char>(1u << (row % 8));
        }
        nulls = null_bits_.data();
      }
      if (type == ValueType::kInteger) {
        out_.append_integers(page_values_.integers.data(), count, nulls);
      } else {
        out_.append_reals(page_values_.reals.data(), count, nulls);
      }
      values_read_ += static_cast<int64_t>(count);
      return Status::ok();
    }
    size_t next = 0;
    for (size_t row = 0; row < count; ++row) {
      if (levels_[row] != defined || type == ValueType::kNull) {
        out_.append_null();
        continue;
      }
      switch (type) {
        case ValueType::kInteger: out_.append_integer(page_values_.integers[next]); break;
        case ValueType::kReal: out_.append_real(page_values_.reals[next]); break;
        case ValueType::kText: out_.append_text(page_values_.bytes[next]); break;
        case ValueType::kBlob: out_.append_blob(page_values_.bytes[next]); break;
        case ValueType::kNull: break;
      }
      ++next;
    }
    values_read_ += static_cast<int64_t>(count);
    return Status::ok();
  }

  // Appends dictionary entry `code` to `out` (NULL for the code past the last entry).
  void append_dictionary_value(uint32_t code, ColumnVector& out) const {
    const ValueType type = leaf_.sqlite_type;
    if (code >= dictionary_->size(type)) {
      out.append_null();
      return;
    }
    switch (type) {
      case ValueType::kInteger: out.append_integer(dictionary_->integers[code]); break;
      case ValueType::kReal: out.append_real(dictionary_->reals[code]); break;
      case ValueType::kText: out.append_text(dictionary_->bytes[code]); break;
      case ValueType::kBlob: out.append_blob(dictionary_->bytes[code]); break;
      case ValueType::kNull: out.append_null(); break;
    }
  }

  // The chunk as a coded vector: its dictionary's values, then NULL, and one code per row.
  ColumnVector coded_result() {
    ColumnVector dictionary;
    const size_t entries = dictionary_->size(leaf_.sqlite_type);
    for (size_t i = 0; i <= entries; ++i) append_dictionary_value(static_cast<uint32_t>(i), dictionary);
    return ColumnVector::coded(std::move(dictionary), std::move(codes_));
  }

  const Leaf& leaf_;
  const ColumnMetaData& meta_;
  const int64_t rows_;
  const bool leveled_;
  // While every data page so far was dictionary-encoded, rows are kept as codes (codes_), and the
  // chunk decodes to a coded ColumnVector: a text column of few distinct values costs 4 bytes a
  // row, and grouping by it maps codes, not strings.
  bool coding_ = true;
  ColumnVector::Codes codes_;
  std::vector<uint32_t> page_codes_;
  std::vector<unsigned char> null_bits_;  // a page's NULL rows, for appending numbers at once
  int64_t values_read_ = 0;
  std::vector<uint32_t> page_repetitions_;
  std::vector<uint8_t> repetitions_;  // every entry's, when leveled_ (empty for a leaf that repeats nothing)
  std::vector<uint8_t> definitions_;  // every entry's, when leveled_
  std::optional<DecodedValues> dictionary_;
  DecodedValues page_values_;
  std::vector<uint32_t> levels_;
  std::string buffer_;
  ColumnVector out_;
  std::optional<std::span<const uint32_t>> selected_;  // decode_rows(): the rows asked for
  size_t next_selected_ = 0;
  ColumnVector picked_;  // decode_rows(): their values
};

}  // namespace

Result<ColumnVector> FileReader::decode_chunk(size_t row_group, size_t leaf, std::string_view bytes) const {
  STRATA_ASSIGN_OR_RETURN(ByteRange range, chunk_range(row_group, leaf));
  if (bytes.size() != range.length) return Status::internal("parquet: decode_chunk given the wrong bytes");
  const RowGroup& group = metadata_.row_groups[row_group];
  ChunkDecoder decoder(leaves_[leaf], *group.columns[leaf].meta_data, group.num_rows);
  return decoder.decode(bytes);
}

Result<LeveledValues> FileReader::decode_leveled(size_t row_group, size_t leaf, std::string_view bytes) const {
  STRATA_ASSIGN_OR_RETURN(ByteRange range, chunk_range(row_group, leaf));
  if (bytes.size() != range.length) return Status::internal("parquet: decode_leveled given the wrong bytes");
  const RowGroup& group = metadata_.row_groups[row_group];
  ChunkDecoder decoder(leaves_[leaf], *group.columns[leaf].meta_data, group.num_rows, true);
  return decoder.decode_leveled(bytes);
}

Result<std::string> FileReader::fetch_chunk(const RangeReader& read, size_t row_group, size_t leaf) const {
  STRATA_ASSIGN_OR_RETURN(ByteRange range, chunk_range(row_group, leaf));
  STRATA_ASSIGN_OR_RETURN(std::string bytes, read(range.offset, range.length));
  if (bytes.size() != range.length) return Status::io_error("parquet: a read returned fewer bytes than asked");
  return bytes;
}

namespace {

// A column's values from its leaves: the one leaf itself, or for a mixed-class column (a leaf
// per storage class) each row's value from the one leaf where it is not NULL.
ColumnVector merge_class_leaves(std::vector<ColumnVector> parts, size_t rows) {
  if (parts.size() == 1) return std::move(parts[0]);
  ColumnVector merged;
  merged.reserve(rows);
  for (size_t row = 0; row < rows; ++row) {
    ValueView value;
    for (const ColumnVector& part : parts) {
      if (part.type(row) != ValueType::kNull) {
        value = part.get(row);
        break;
      }
    }
    merged.append(value);
  }
  return merged;
}

}  // namespace

Result<ColumnVector> FileReader::read_column(const RangeReader& read, size_t row_group, size_t column) const {
  return read_values(read, row_group, column, std::nullopt);
}

Result<ColumnVector> FileReader::read_column_rows(const RangeReader& read, size_t row_group, size_t column,
                                                 std::span<const uint32_t> rows) const {
  const int64_t group_rows = row_group_rows(row_group);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= group_rows || (i > 0 && rows[i] <= rows[i - 1])) {
      return Status::internal("parquet: read_column_rows needs ascending rows of the row group");
    }
  }
  return read_values(read, row_group, column, rows);
}

Result<ColumnVector> FileReader::read_values(const RangeReader& read, size_t row_group, size_t column,
                                             std::optional<std::span<const uint32_t>> rows) const {
  const std::vector<size_t>& leaves = columns_[column].leaves;
  if (columns_[column].nested_root) {
    std::vector<LeveledValues> decoded;
    decoded.reserve(leaves.size());
    for (size_t leaf : leaves) {
      STRATA_ASSIGN_OR_RETURN(std::string bytes, fetch_chunk(read, row_group, leaf));
      STRATA_ASSIGN_OR_RETURN(LeveledValues values, decode_leveled(row_group, leaf, bytes));
      decoded.push_back(std::move(values));
    }
    STRATA_ASSIGN_OR_RETURN(ColumnVector all, assemble_json(metadata_.schema, nodes_, *columns_[column].nested_root, decoded,
                                                            row_group_rows(row_group)));
    if (rows) return all.gather(*rows);  // nested values are assembled whole
    return all;
  }
  std::vector<ColumnVector> parts;
  for (size_t leaf : leaves) {
    STRATA_ASSIGN_OR_RETURN(std::string bytes, fetch_chunk(read, row_group, leaf));
    const RowGroup& group = metadata_.row_groups[row_group];
    ChunkDecoder decoder(leaves_[leaf], *group.columns[leaf].meta_data, group.num_rows);
    STRATA_ASSIGN_OR_RETURN(ColumnVector values, rows ? decoder.decode_rows(bytes, *rows) : decoder.decode(bytes));
    parts.push_back(std::move(values));
  }
  return merge_class_leaves(std::move(parts), rows ? rows->size() : static_cast<size_t>(row_group_rows(row_group)));
}

ChunkStatistics FileReader::chunk_statistics(size_t row_group, size_t leaf) const {
  ChunkStatistics stats;
  const ColumnChunk& chunk = metadata_.row_groups[row_group].columns[leaf];
  if (!chunk.meta_data) return stats;
  const ColumnMetaData& meta = *chunk.meta_data;
  stats.num_values = meta.num_values;
  if (!meta.statistics) return stats;
  const Statistics& s = *meta.statistics;
  stats.null_count = s.null_count;
  stats.nan_count = s.nan_count;
  const Leaf& column = leaves_[leaf];
  const SchemaElement& e = column.element;
  // min_value/max_value follow the column order; strata understands TYPE_ORDER only.
  const bool ordered = metadata_.column_orders.empty() ? e.type != PhysicalType::kByteArray &&
                                                             e.type != PhysicalType::kFixedLenByteArray
                                                       : leaf < metadata_.column_orders.size() &&
                                                             metadata_.column_orders[leaf] == kTypeDefinedOrder;
  std::optional<std::string> min = ordered ? s.min_value : std::nullopt;
  std::optional<std::string> max = ordered ? s.max_value : std::nullopt;
  // The deprecated fields are signed-order bounds, right for signed numbers.
  const bool signed_physical = e.type == PhysicalType::kInt32 || e.type == PhysicalType::kInt64 ||
                               e.type == PhysicalType::kFloat || e.type == PhysicalType::kDouble;
  if (!min && signed_physical) min = s.min;
  if (!max && signed_physical) max = s.max;
  auto convert = [&](const std::optional<std::string>& bytes) -> std::optional<Value> {
    if (!bytes) return std::nullopt;
    const std::string_view b = *bytes;
    Value value;
    switch (column.sqlite_type) {
      case ValueType::kInteger:
        if (e.converted_type && *e.converted_type >= 11 && *e.converted_type <= 14) return std::nullopt;  // unsigned
        if (e.type == PhysicalType::kInt32 && b.size() == 4) {
          value.integer = static_cast<int32_t>(load_u32(b, 0));
        } else if (e.type == PhysicalType::kInt64 && b.size() == 8) {
          std::memcpy(&value.integer, b.data(), 8);
        } else {
          return std::nullopt;
        }
        value.type = ValueType::kInteger;
        return value;
      case ValueType::kReal:
        if (e.type == PhysicalType::kDouble && b.size() == 8) {
          std::memcpy(&value.real, b.data(), 8);
        } else if (e.type == PhysicalType::kFloat && b.size() == 4) {
          value.real = std::bit_cast<float>(load_u32(b, 0));
        } else {
          return std::nullopt;  // decimals and FLOAT16: not used for pruning
        }
        if (std::isnan(value.real)) return std::nullopt;
        value.type = ValueType::kReal;
        return value;
      case ValueType::kText:
      case ValueType::kBlob:
        if (e.type != PhysicalType::kByteArray) return std::nullopt;
        value.type = column.sqlite_type;
        value.bytes = std::string(b);
        return value;
      case ValueType::kNull: return std::nullopt;
    }
    return std::nullopt;
  };
  stats.min = convert(min);
  stats.max = convert(max);
  return stats;
}

Result<std::optional<BloomFilter>> FileReader::read_bloom_filter(const RangeReader& read, size_t row_group,
                                                                 size_t leaf) const {
  const ColumnChunk& chunk = metadata_.row_groups[row_group].columns[leaf];
  if (!chunk.meta_data || !chunk.meta_data->bloom_filter_offset) return std::optional<BloomFilter>();
  const int64_t offset = *chunk.meta_data->bloom_filter_offset;
  if (offset < 4 || static_cast<uint64_t>(offset) >= data_end_) {
    return Status::corruption(str_cat("parquet: the bloom filter of column '", leaves_[leaf].name, "' lies outside the file"));
  }
  const uint64_t available = data_end_ - static_cast<uint64_t>(offset);
  // Without bloom_filter_length, read the header (a few bytes) plus a bitset guess, then the rest.
  uint64_t length = chunk.meta_data->bloom_filter_length
                        ? static_cast<uint64_t>(std::max<int32_t>(*chunk.meta_data->bloom_filter_length, 0))
                        : std::min<uint64_t>(available, 64);
  if (length > available) {
    return Status::corruption(str_cat("parquet: the bloom filter of column '", leaves_[leaf].name, "' runs past the data"));
  }
  STRATA_ASSIGN_OR_RETURN(std::string bytes, read(static_cast<uint64_t>(offset), length));
  size_t header_size = 0;
  STRATA_ASSIGN_OR_RETURN(BloomFilterHeader header, parse_bloom_filter_header(bytes, header_size));
  if (!header.split_block || !header.xxhash || !header.uncompressed) {
    return Status::unsupported(str_cat("parquet: the bloom filter of column '", leaves_[leaf].name,
                                       "' is not a split-block, XXHASH, uncompressed filter"));
  }
  if (header.num_bytes <= 0 || static_cast<uint64_t>(header.num_bytes) > available - header_size) {
    return Status::corruption(str_cat("parquet: the bloom filter of column '", leaves_[leaf].name, "' has an invalid size"));
  }
  const uint64_t total = header_size + static_cast<uint64_t>(header.num_bytes);
  if (bytes.size() < total) {
    STRATA_ASSIGN_OR_RETURN(bytes, read(static_cast<uint64_t>(offset), total));
  }
  STRATA_ASSIGN_OR_RETURN(BloomFilter filter,
                          BloomFilter::from_bytes(std::string_view(bytes).substr(header_size, header.num_bytes)));
  return std::optional<BloomFilter>(std::move(filter));
}

std::optional<std::vector<std::string>> plain_encodings_equal_to(const Leaf& leaf, const ValueView& value) {
  static_assert(std::endian::native == std::endian::little, "PLAIN encodings are little-endian");
  const SchemaElement& e = leaf.element;
  if (is_decimal(e) || !e.type) return std::nullopt;
  std::vector<std::string> out;
  auto plain = [&](const auto& number) {
    std::string bytes(sizeof(number), '\0');
    std::memcpy(bytes.data(), &number, sizeof(number));
    out.push_back(std::move(bytes));
  };
  std::optional<int64_t> integer;  // the integer the value equals, if any
  std::optional<double> real;      // the double it equals, if any
  if (value.type == ValueType::kInteger) {
    integer = value.integer;
    const auto as_double = static_cast<double>(value.integer);
    if (static_cast<long double>(as_double) == static_cast<long double>(value.integer)) real = as_double;
  } else if (value.type == ValueType::kReal) {
    real = value.real;
    if (std::isfinite(value.real) && value.real == std::trunc(value.real) && std::fabs(value.real) < 9.2e18) {
      integer = static_cast<int64_t>(value.real);
    }
  }
  switch (*e.type) {
    case PhysicalType::kInt64:
      if (integer) plain(*integer);
      return out;
    case PhysicalType::kInt32:
      if (is_unsigned_int32(e)) {
        if (integer && *integer >= 0 && *integer <= UINT32_MAX) plain(static_cast<uint32_t>(*integer));
      } else if (integer && *integer >= INT32_MIN && *integer <= INT32_MAX) {
        plain(static_cast<int32_t>(*integer));
      }
      return out;
    case PhysicalType::kDouble:
      if (real) {
        plain(*real);
        if (*real == 0) plain(-*real);
      }
      return out;
    case PhysicalType::kFloat:
      if (real && static_cast<double>(static_cast<float>(*real)) == *real) {
        plain(static_cast<float>(*real));
        if (*real == 0) plain(-static_cast<float>(*real));
      }
      return out;
    case PhysicalType::kByteArray:
      if (value.type == leaf.sqlite_type && (value.type == ValueType::kText || value.type == ValueType::kBlob)) {
        out.emplace_back(value.bytes);
      }
      return out;
    default: return std::nullopt;
  }
}

}  // namespace strata::parquet
