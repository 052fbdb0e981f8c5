#include "codecs/parquet/parquet_format.h"

#include <optional>

#include "codecs/parquet/thrift_compact.h"
#include "ext/str_cat.h"

namespace strata::parquet {

using thrift::FieldHeader;
using thrift::Type;

std::string_view physical_type_name(PhysicalType type) {
  switch (type) {
    case PhysicalType::kBoolean: return "BOOLEAN";
    case PhysicalType::kInt32: return "INT32";
    case PhysicalType::kInt64: return "INT64";
    case PhysicalType::kInt96: return "INT96";
    case PhysicalType::kFloat: return "FLOAT";
    case PhysicalType::kDouble: return "DOUBLE";
    case PhysicalType::kByteArray: return "BYTE_ARRAY";
    case PhysicalType::kFixedLenByteArray: return "FIXED_LEN_BYTE_ARRAY";
  }
  return "?";
}

std::string encoding_name(int32_t encoding) {
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::kPlain: return "PLAIN";
    case Encoding::kPlainDictionary: return "PLAIN_DICTIONARY";
    case Encoding::kRle: return "RLE";
    case Encoding::kBitPacked: return "BIT_PACKED";
    case Encoding::kDeltaBinaryPacked: return "DELTA_BINARY_PACKED";
    case Encoding::kDeltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY";
    case Encoding::kDeltaByteArray: return "DELTA_BYTE_ARRAY";
    case Encoding::kRleDictionary: return "RLE_DICTIONARY";
    case Encoding::kByteStreamSplit: return "BYTE_STREAM_SPLIT";
  }
  return str_cat("encoding ", std::to_string(encoding));
}

std::string compression_name(int32_t codec) {
  switch (static_cast<Compression>(codec)) {
    case Compression::kUncompressed: return "UNCOMPRESSED";
    case Compression::kSnappy: return "SNAPPY";
    case Compression::kGzip: return "GZIP";
    case Compression::kLzo: return "LZO";
    case Compression::kBrotli: return "BROTLI";
    case Compression::kLz4: return "LZ4";
    case Compression::kZstd: return "ZSTD";
    case Compression::kLz4Raw: return "LZ4_RAW";
  }
  return str_cat("codec ", std::to_string(codec));
}

// ---- writing ---------------------------------------------------------------------------------

namespace {

void write_statistics(thrift::Writer& w, int16_t id, const Statistics& s) {
  w.begin_struct_field(id);
  if (s.max) w.field_binary(1, *s.max);
  if (s.min) w.field_binary(2, *s.min);
  if (s.null_count) w.field_i64(3, *s.null_count);
  if (s.distinct_count) w.field_i64(4, *s.distinct_count);
  if (s.max_value) w.field_binary(5, *s.max_value);
  if (s.min_value) w.field_binary(6, *s.min_value);
  if (s.is_max_value_exact) w.field_bool(7, *s.is_max_value_exact);
  if (s.is_min_value_exact) w.field_bool(8, *s.is_min_value_exact);
  if (s.nan_count) w.field_i64(9, *s.nan_count);
  w.end_struct();
}

void write_logical_type(thrift::Writer& w, const LogicalType& logical) {
  if (logical.kind == LogicalType::Kind::kNone || logical.kind == LogicalType::Kind::kOther) return;
  w.begin_struct_field(10);
  if (logical.kind == LogicalType::Kind::kDecimal) {
    w.begin_struct_field(5);
    w.field_i32(1, logical.scale);
    w.field_i32(2, logical.precision);
    w.end_struct();
  } else {
    w.empty_struct_field(static_cast<int16_t>(logical.kind));
  }
  w.end_struct();
}

void write_schema_element(thrift::Writer& w, const SchemaElement& e) {
  w.begin_struct_element();
  if (e.type) w.field_i32(1, static_cast<int32_t>(*e.type));
  if (e.type_length) w.field_i32(2, *e.type_length);
  if (e.repetition) w.field_i32(3, static_cast<int32_t>(*e.repetition));
  w.field_binary(4, e.name);
  if (e.num_children) w.field_i32(5, *e.num_children);
  if (e.converted_type) w.field_i32(6, *e.converted_type);
  if (e.scale) w.field_i32(7, *e.scale);
  if (e.precision) w.field_i32(8, *e.precision);
  if (e.field_id) w.field_i32(9, *e.field_id);
  write_logical_type(w, e.logical_type);
  w.end_struct();
}

void write_column_metadata(thrift::Writer& w, const ColumnMetaData& m) {
  w.begin_struct_field(3);
  w.field_i32(1, static_cast<int32_t>(m.type));
  w.begin_list_field(2, Type::kI32, m.encodings.size());
  for (int32_t encoding : m.encodings) w.element_i32(encoding);
  w.begin_list_field(3, Type::kBinary, m.path_in_schema.size());
  for (const std::string& part : m.path_in_schema) w.element_binary(part);
  w.field_i32(4, m.codec);
  w.field_i64(5, m.num_values);
  w.field_i64(6, m.total_uncompressed_size);
  w.field_i64(7, m.total_compressed_size);
  w.field_i64(9, m.data_page_offset);
  if (m.index_page_offset) w.field_i64(10, *m.index_page_offset);
  if (m.dictionary_page_offset) w.field_i64(11, *m.dictionary_page_offset);
  if (m.statistics) write_statistics(w, 12, *m.statistics);
  if (m.bloom_filter_offset) w.field_i64(14, *m.bloom_filter_offset);
  if (m.bloom_filter_length) w.field_i32(15, *m.bloom_filter_length);
  w.end_struct();
}

}  // namespace

void serialize(const FileMetaData& metadata, std::string& out) {
  thrift::Writer w(out);
  w.field_i32(1, metadata.version);
  w.begin_list_field(2, Type::kStruct, metadata.schema.size());
  for (const SchemaElement& element : metadata.schema) write_schema_element(w, element);
  w.field_i64(3, metadata.num_rows);
  w.begin_list_field(4, Type::kStruct, metadata.row_groups.size());
  for (const RowGroup& group : metadata.row_groups) {
    w.begin_struct_element();
    w.begin_list_field(1, Type::kStruct, group.columns.size());
    for (const ColumnChunk& chunk : group.columns) {
      w.begin_struct_element();
      if (chunk.file_path) w.field_binary(1, *chunk.file_path);
      w.field_i64(2, chunk.file_offset);
      if (chunk.meta_data) write_column_metadata(w, *chunk.meta_data);
      w.end_struct();
    }
    w.field_i64(2, group.total_byte_size);
    w.field_i64(3, group.num_rows);
    if (group.file_offset) w.field_i64(5, *group.file_offset);
    if (group.total_compressed_size) w.field_i64(6, *group.total_compressed_size);
    if (group.ordinal) w.field_i16(7, *group.ordinal);
    w.end_struct();
  }
  if (!metadata.key_value_metadata.empty()) {
    w.begin_list_field(5, Type::kStruct, metadata.key_value_metadata.size());
    for (const KeyValue& kv : metadata.key_value_metadata) {
      w.begin_struct_element();
      w.field_binary(1, kv.key);
      if (kv.value) w.field_binary(2, *kv.value);
      w.end_struct();
    }
  }
  if (metadata.created_by) w.field_binary(6, *metadata.created_by);
  if (!metadata.column_orders.empty()) {
    w.begin_list_field(7, Type::kStruct, metadata.column_orders.size());
    for (int16_t order : metadata.column_orders) {
      w.begin_struct_element();
      w.empty_struct_field(order);
      w.end_struct();
    }
  }
  w.end_struct();
}

void serialize(const PageHeader& header, std::string& out) {
  thrift::Writer w(out);
  w.field_i32(1, header.type);
  w.field_i32(2, header.uncompressed_page_size);
  w.field_i32(3, header.compressed_page_size);
  if (header.crc) w.field_i32(4, *header.crc);
  if (header.data_page_header) {
    const DataPageHeader& d = *header.data_page_header;
    w.begin_struct_field(5);
    w.field_i32(1, d.num_values);
    w.field_i32(2, d.encoding);
    w.field_i32(3, d.definition_level_encoding);
    w.field_i32(4, d.repetition_level_encoding);
    w.end_struct();
  }
  if (header.dictionary_page_header) {
    const DictionaryPageHeader& d = *header.dictionary_page_header;
    w.begin_struct_field(7);
    w.field_i32(1, d.num_values);
    w.field_i32(2, d.encoding);
    if (d.is_sorted) w.field_bool(3, *d.is_sorted);
    w.end_struct();
  }
  if (header.data_page_header_v2) {
    const DataPageHeaderV2& d = *header.data_page_header_v2;
    w.begin_struct_field(8);
    w.field_i32(1, d.num_values);
    w.field_i32(2, d.num_nulls);
    w.field_i32(3, d.num_rows);
    w.field_i32(4, d.encoding);
    w.field_i32(5, d.definition_levels_byte_length);
    w.field_i32(6, d.repetition_levels_byte_length);
    w.field_bool(7, d.is_compressed);
    w.end_struct();
  }
  w.end_struct();
}

void serialize(const BloomFilterHeader& header, std::string& out) {
  thrift::Writer w(out);
  w.field_i32(1, header.num_bytes);
  w.begin_struct_field(2);
  w.empty_struct_field(1);  // BLOCK
  w.end_struct();
  w.begin_struct_field(3);
  w.empty_struct_field(1);  // XXHASH
  w.end_struct();
  w.begin_struct_field(4);
  w.empty_struct_field(1);  // UNCOMPRESSED
  w.end_struct();
  w.end_struct();
}

// ---- reading ---------------------------------------------------------------------------------

namespace {

// Reads fields of an expected type. A field of another type is skipped, as a standard Thrift
// reader skips it (some writers put other types under ids the format later assigned): a required
// field then counts as missing.
class FieldReader {
 public:
  explicit FieldReader(thrift::Reader& r) : r_(r) {}

  // True when the field has `type`; otherwise skips its value.
  bool is(const FieldHeader& field, Type type) {
    if (field.type == type) return true;
    const bool both_bool = (field.type == Type::kBoolTrue || field.type == Type::kBoolFalse) &&
                           (type == Type::kBoolTrue || type == Type::kBoolFalse);
    if (both_bool) return true;
    r_.skip(field.type);
    return false;
  }
  // Each read() stores the field's value in `out` and returns true, or skips a field of
  // another type, leaving `out` as it was, and returns false.
  bool read(const FieldHeader& f, int32_t& out) { return is(f, Type::kI32) && (out = r_.read_i32(), true); }
  bool read(const FieldHeader& f, int64_t& out) { return is(f, Type::kI64) && (out = r_.read_i64(), true); }
  bool read(const FieldHeader& f, std::string& out) {
    return is(f, Type::kBinary) && (out = std::string(r_.read_binary()), true);
  }
  bool read(const FieldHeader& f, bool& out) { return is(f, Type::kBoolTrue) && (out = r_.read_bool(f), true); }
  template <class T>
  bool read(const FieldHeader& f, std::optional<T>& out) {
    T value{};
    if (!read(f, value)) return false;
    out = std::move(value);
    return true;
  }
  // An enum field whose value must lie in [low, high]; nullopt when the field has another type.
  std::optional<int32_t> enumeration(const FieldHeader& f, int32_t low, int32_t high, std::string_view what) {
    int32_t value = 0;
    if (!read(f, value)) return std::nullopt;
    if (r_.ok() && (value < low || value > high)) {
      r_.fail(str_cat(what, " ", std::to_string(value), " is not a valid value"));
    }
    return value;
  }
  void require(bool present, std::string_view what) {
    if (r_.ok() && !present) r_.fail(str_cat("required field ", what, " is missing"));
  }
  // Calls `element` once per list element, after checking the element type.
  template <class Element>
  void list(const FieldHeader& f, Type element_type, Element&& element) {
    if (!is(f, Type::kList)) return;
    const thrift::ListHeader header = r_.read_list_header();
    if (header.size > 0 && header.element_type != element_type) {
      r_.fail(str_cat("list field ", std::to_string(f.id), " has the wrong element type"));
      return;
    }
    for (uint32_t i = 0; r_.ok() && i < header.size; ++i) element();
  }
  // Reads a struct's fields, passing each to `field`; skips the ones `field` returns false for.
  template <class Field>
  void fields(Field&& field) {
    r_.begin_struct();
    for (FieldHeader f = r_.next_field(); r_.ok() && f.type != Type::kStop; f = r_.next_field()) {
      if (!field(f)) r_.skip(f.type);
    }
    r_.end_struct();
  }
  // A union of empty structs: returns the id of the member that is set (0 if none).
  int16_t union_member() {
    int16_t member = 0;
    fields([&](const FieldHeader& f) {
      if (f.type != Type::kStruct) return false;
      member = f.id;
      return false;  // skip its (empty or unknown) content
    });
    return member;
  }

  thrift::Reader& reader() { return r_; }

 private:
  thrift::Reader& r_;
};

Statistics read_statistics(FieldReader& in) {
  Statistics s;
  in.fields([&](const FieldHeader& f) {
    switch (f.id) {
      case 1: in.read(f, s.max); return true;
      case 2: in.read(f, s.min); return true;
      case 3: in.read(f, s.null_count); return true;
      case 4: in.read(f, s.distinct_count); return true;
      case 5: in.read(f, s.max_value); return true;
      case 6: in.read(f, s.min_value); return true;
      case 7: in.read(f, s.is_max_value_exact); return true;
      case 8: in.read(f, s.is_min_value_exact); return true;
      case 9: in.read(f, s.nan_count); return true;
      default: return false;
    }
  });
  return s;
}

LogicalType read_logical_type(FieldReader& in) {
  LogicalType logical;
  in.fields([&](const FieldHeader& f) {
    if (!in.is(f, Type::kStruct)) return true;
    const bool known = (f.id >= 1 && f.id <= 8) || (f.id >= 10 && f.id <= 15);
    logical.kind = known ? static_cast<LogicalType::Kind>(f.id) : LogicalType::Kind::kOther;
    if (f.id == 7 || f.id == 8) {  // TimeType, TimestampType: isAdjustedToUTC, unit
      in.fields([&](const FieldHeader& t) {
        if (t.id == 1) return in.read(t, logical.adjusted_to_utc) || true;
        if (t.id == 2 && in.is(t, Type::kStruct)) {
          logical.time_unit = in.union_member();
          return true;
        }
        return t.id == 2;  // a unit of another type has been skipped by is()
      });
      return true;
    }
    if (f.id != 5) return false;  // the other members' parameters are not used
    in.fields([&](const FieldHeader& d) {
      if (d.id == 1) in.read(d, logical.scale);
      else if (d.id == 2) in.read(d, logical.precision);
      else return false;
      return true;
    });
    return true;
  });
  return logical;
}

SchemaElement read_schema_element(FieldReader& in) {
  SchemaElement e;
  bool has_name = false;
  in.fields([&](const FieldHeader& f) {
    switch (f.id) {
      case 1:
        if (std::optional<int32_t> type = in.enumeration(f, 0, 7, "physical type")) e.type = static_cast<PhysicalType>(*type);
        return true;
      case 2: in.read(f, e.type_length); return true;
      case 3:
        if (std::optional<int32_t> repetition = in.enumeration(f, 0, 3, "repetition type")) {
          e.repetition = static_cast<Repetition>(*repetition);
        }
        return true;
      case 4: has_name = in.read(f, e.name); return true;
      case 5: in.read(f, e.num_children); return true;
      case 6: in.read(f, e.converted_type); return true;
      case 7: in.read(f, e.scale); return true;
      case 8: in.read(f, e.precision); return true;
      case 9: in.read(f, e.field_id); return true;
      case 10:
        if (in.is(f, Type::kStruct)) e.logical_type = read_logical_type(in);
        return true;
      default: return false;
    }
  });
  in.require(has_name, "SchemaElement.name");
  return e;
}

ColumnMetaData read_column_metadata(FieldReader& in) {
  ColumnMetaData m;
  bool has_type = false, has_codec = false, has_num_values = false, has_sizes = false, has_offset = false;
  in.fields([&](const FieldHeader& f) {
    switch (f.id) {
      case 1:
        if (std::optional<int32_t> type = in.enumeration(f, 0, 7, "physical type")) {
          m.type = static_cast<PhysicalType>(*type);
          has_type = true;
        }
        return true;
      case 2: in.list(f, Type::kI32, [&] { m.encodings.push_back(in.reader().read_i32()); }); return true;
      case 3:
        in.list(f, Type::kBinary, [&] { m.path_in_schema.emplace_back(in.reader().read_binary()); });
        return true;
      case 4: has_codec = in.read(f, m.codec); return true;
      case 5: has_num_values = in.read(f, m.num_values); return true;
      case 6: in.read(f, m.total_uncompressed_size); return true;
      case 7: has_sizes = in.read(f, m.total_compressed_size); return true;
      case 9: has_offset = in.read(f, m.data_page_offset); return true;
      case 10: in.read(f, m.index_page_offset); return true;
      case 11: in.read(f, m.dictionary_page_offset); return true;
      case 12:
        if (in.is(f, Type::kStruct)) m.statistics = read_statistics(in);
        return true;
      case 14: in.read(f, m.bloom_filter_offset); return true;
      case 15: in.read(f, m.bloom_filter_length); return true;
      default: return false;
    }
  });
  in.require(has_type, "ColumnMetaData.type");
  in.require(has_codec, "ColumnMetaData.codec");
  in.require(has_num_values, "ColumnMetaData.num_values");
  in.require(has_sizes, "ColumnMetaData.total_compressed_size");
  in.require(has_offset, "ColumnMetaData.data_page_offset");
  return m;
}

ColumnChunk read_column_chunk(FieldReader& in) {
  ColumnChunk c;
  in.fields([&](const FieldHeader& f) {
    switch (f.id) {
      case 1: in.read(f, c.file_path); return true;
      case 2: in.read(f, c.file_offset); return true;
      case 3:
        if (in.is(f, Type::kStruct)) c.meta_data = read_column_metadata(in);
        return true;
      case 8:
      case 9: c.encrypted = true; return false;
      default: return false;
    }
  });
  return c;
}

RowGroup read_row_group(FieldReader& in) {
  RowGroup g;
  bool has_columns = false, has_rows = false;
  in.fields([&](const FieldHeader& f) {
    switch (f.id) {
      case 1:
        has_columns = true;
        in.list(f, Type::kStruct, [&] { g.columns.push_back(read_column_chunk(in)); });
        return true;
      case 2: in.read(f, g.total_byte_size); return true;
      case 3: has_rows = in.read(f, g.num_rows); return true;
      case 5: in.read(f, g.file_offset); return true;
      case 6: in.read(f, g.total_compressed_size); return true;
      case 7:
        if (in.is(f, Type::kI16)) g.ordinal = in.reader().read_i16();
        return true;
      default: return false;
    }
  });
  in.require(has_columns, "RowGroup.columns");
  in.require(has_rows, "RowGroup.num_rows");
  return g;
}

}  // namespace

Result<FileMetaData> parse_file_metadata(std::string_view bytes) {
  thrift::Reader r(bytes);
  FieldReader in(r);
  FileMetaData m;
  bool has_version = false, has_schema = false, has_rows = false, has_groups = false;
  in.fields([&](const FieldHeader& f) {
    switch (f.id) {
      case 1: has_version = in.read(f, m.version); return true;
      case 2:
        has_schema = true;
        in.list(f, Type::kStruct, [&] { m.schema.push_back(read_schema_element(in)); });
        return true;
      case 3: has_rows = in.read(f, m.num_rows); return true;
      case 4:
        has_groups = true;
        in.list(f, Type::kStruct, [&] { m.row_groups.push_back(read_row_group(in)); });
        return true;
      case 5:
        in.list(f, Type::kStruct, [&] {
          KeyValue kv;
          in.fields([&](const FieldHeader& k) {
            if (k.id == 1) in.read(k, kv.key);
            else if (k.id == 2) in.read(k, kv.value);
            else return false;
            return true;
          });
          m.key_value_metadata.push_back(std::move(kv));
        });
        return true;
      case 6: in.read(f, m.created_by); return true;
      case 7:
        in.list(f, Type::kStruct, [&] { m.column_orders.push_back(in.union_member()); });
        return true;
      case 8: m.encrypted = true; return false;
      default: return false;
    }
  });
  in.require(has_version, "FileMetaData.version");
  in.require(has_schema, "FileMetaData.schema");
  in.require(has_rows, "FileMetaData.num_rows");
  in.require(has_groups, "FileMetaData.row_groups");
  STRATA_RETURN_IF_ERROR(r.status("parquet: the file's footer (FileMetaData) is corrupt"));
  return m;
}

Result<PageHeader> parse_page_header(std::string_view bytes, size_t& header_size) {
  thrift::Reader r(bytes);
  FieldReader in(r);
  PageHeader h;
  bool has_type = false, has_sizes = false;
  in.fields([&](const FieldHeader& f) {
    switch (f.id) {
      case 1: has_type = in.read(f, h.type); return true;
      case 2: in.read(f, h.uncompressed_page_size); return true;
      case 3: has_sizes = in.read(f, h.compressed_page_size); return true;
      case 4: in.read(f, h.crc); return true;
      case 5:
        if (!in.is(f, Type::kStruct)) return true;
        h.data_page_header.emplace();
        in.fields([&](const FieldHeader& d) {
          DataPageHeader& p = *h.data_page_header;
          switch (d.id) {
            case 1: in.read(d, p.num_values); return true;
            case 2: in.read(d, p.encoding); return true;
            case 3: in.read(d, p.definition_level_encoding); return true;
            case 4: in.read(d, p.repetition_level_encoding); return true;
            default: return false;
          }
        });
        return true;
      case 7:
        if (!in.is(f, Type::kStruct)) return true;
        h.dictionary_page_header.emplace();
        in.fields([&](const FieldHeader& d) {
          DictionaryPageHeader& p = *h.dictionary_page_header;
          switch (d.id) {
            case 1: in.read(d, p.num_values); return true;
            case 2: in.read(d, p.encoding); return true;
            case 3: in.read(d, p.is_sorted); return true;
            default: return false;
          }
        });
        return true;
      case 8:
        if (!in.is(f, Type::kStruct)) return true;
        h.data_page_header_v2.emplace();
        in.fields([&](const FieldHeader& d) {
          DataPageHeaderV2& p = *h.data_page_header_v2;
          switch (d.id) {
            case 1: in.read(d, p.num_values); return true;
            case 2: in.read(d, p.num_nulls); return true;
            case 3: in.read(d, p.num_rows); return true;
            case 4: in.read(d, p.encoding); return true;
            case 5: in.read(d, p.definition_levels_byte_length); return true;
            case 6: in.read(d, p.repetition_levels_byte_length); return true;
            case 7: in.read(d, p.is_compressed); return true;
            default: return false;
          }
        });
        return true;
      default: return false;
    }
  });
  in.require(has_type, "PageHeader.type");
  in.require(has_sizes, "PageHeader.compressed_page_size");
  STRATA_RETURN_IF_ERROR(r.status("parquet: a page header is corrupt"));
  header_size = r.position();
  return h;
}

Result<BloomFilterHeader> parse_bloom_filter_header(std::string_view bytes, size_t& header_size) {
  thrift::Reader r(bytes);
  FieldReader in(r);
  BloomFilterHeader h;
  in.fields([&](const FieldHeader& f) {
    switch (f.id) {
      case 1: in.read(f, h.num_bytes); return true;
      case 2: if (in.is(f, Type::kStruct)) h.split_block = in.union_member() == 1; return true;
      case 3: if (in.is(f, Type::kStruct)) h.xxhash = in.union_member() == 1; return true;
      case 4: if (in.is(f, Type::kStruct)) h.uncompressed = in.union_member() == 1; return true;
      default: return false;
    }
  });
  STRATA_RETURN_IF_ERROR(r.status("parquet: a bloom filter header is corrupt"));
  header_size = r.position();
  return h;
}

}  // namespace strata::parquet
