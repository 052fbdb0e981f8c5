// The Parquet codec: Thrift compact protocol, the RLE hybrid, writer/reader round trips of every
// storage class, other writers' files from parquet-testing, and damaged files.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "codecs/distinct_estimate.h"
#include "codecs/parquet/parquet_format.h"
#include "codecs/parquet/parquet_reader.h"
#include "codecs/parquet/parquet_writer.h"
#include "codecs/parquet/rle_hybrid.h"
#include "codecs/parquet/thrift_compact.h"
#include "ext/str_cat.h"
#include "tests/unit/test_database.h"

namespace strata::parquet {
namespace {

std::string read_file(const std::filesystem::path& path) { return testing::read_file_bytes(path.string()); }

RangeReader reader_of(const std::string& file, int* reads = nullptr) {
  return [read = memory_range_reader(file), reads](uint64_t offset, uint64_t length) {
    if (reads) ++*reads;
    return read(offset, length);
  };
}

Result<FileReader> open_bytes(const std::string& file) { return FileReader::open(reader_of(file), file.size()); }

// Every column of every row group, as rows of values.
Result<std::vector<std::vector<Value>>> read_all(const FileReader& reader, const std::string& file) {
  std::vector<std::vector<Value>> rows;
  for (size_t g = 0; g < reader.row_groups(); ++g) {
    std::vector<ColumnVector> columns;
    for (size_t c = 0; c < reader.columns().size(); ++c) {
      STRATA_ASSIGN_OR_RETURN(ColumnVector values, reader.read_column(reader_of(file), g, c));
      if (values.size() != static_cast<size_t>(reader.row_group_rows(g))) return Status::internal("row count");
      columns.push_back(std::move(values));
    }
    for (int64_t r = 0; r < reader.row_group_rows(g); ++r) {
      std::vector<Value> row;
      for (const ColumnVector& column : columns) row.emplace_back(column.get(static_cast<size_t>(r)));
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

bool same_value(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case ValueType::kInteger: return a.integer == b.integer;
    case ValueType::kReal: return std::bit_cast<uint64_t>(a.real) == std::bit_cast<uint64_t>(b.real);
    case ValueType::kText:
    case ValueType::kBlob: return a.bytes == b.bytes;
    case ValueType::kNull: return true;
  }
  return false;
}

// read_column_rows of every column of every row group, for row sets from none to all, against
// the same rows of read_column. Returns the row sets checked.
int expect_some_rows_read_as_all(const FileReader& reader, const std::string& file, uint32_t seed) {
  std::mt19937 random(seed);
  int checked = 0;
  for (size_t g = 0; g < reader.row_groups(); ++g) {
    const auto rows = static_cast<uint32_t>(reader.row_group_rows(g));
    std::vector<std::vector<uint32_t>> sets = {{}};
    if (rows > 0) sets.push_back({0}), sets.push_back({rows - 1});
    if (rows > 1) sets.push_back({0, rows - 1});
    for (int s = 0; s < 4 && rows > 0; ++s) {
      std::vector<uint32_t> some;
      for (uint32_t r = 0; r < rows; ++r) {
        if (random() % (1 + rows / (1 + random() % 20)) == 0) some.push_back(r);
      }
      sets.push_back(std::move(some));
    }
    std::vector<uint32_t> all(rows);
    for (uint32_t r = 0; r < rows; ++r) all[r] = r;
    sets.push_back(std::move(all));
    for (size_t c = 0; c < reader.columns().size(); ++c) {
      Result<ColumnVector> whole = reader.read_column(reader_of(file), g, c);
      if (!whole.is_ok()) continue;  // what this reader refuses (read_all reports it)
      for (const std::vector<uint32_t>& set : sets) {
        Result<ColumnVector> some = reader.read_column_rows(reader_of(file), g, c, set);
        EXPECT_TRUE(some.is_ok()) << "column " << reader.columns()[c].name << ": " << some.status().message();
        if (!some.is_ok()) continue;
        EXPECT_EQ(some->size(), set.size());
        for (size_t i = 0; i < set.size() && i < some->size(); ++i) {
          const Value expected(whole->get(set[i])), got(some->get(i));
          EXPECT_TRUE(same_value(got, expected)) << "column " << reader.columns()[c].name << " row " << set[i];
        }
        ++checked;
      }
    }
  }
  return checked;
}

std::string describe(const Value& v) {
  std::ostringstream out;
  switch (v.type) {
    case ValueType::kInteger: out << "int " << v.integer; break;
    case ValueType::kReal: out << "real " << v.real; break;
    case ValueType::kText: out << "text '" << v.bytes << "'"; break;
    case ValueType::kBlob: out << "blob of " << v.bytes.size(); break;
    case ValueType::kNull: out << "NULL"; break;
  }
  return out.str();
}

std::string write_rows(const std::vector<ColumnSpec>& columns, const std::vector<std::vector<Value>>& rows,
                       WriterOptions options = {}) {
  StringSink sink;
  Writer writer(columns, std::move(options), sink);
  EXPECT_TRUE(writer.start().is_ok());
  std::vector<ValueView> views;
  for (const auto& row : rows) {
    views.clear();
    for (const Value& v : row) views.push_back(v.view());
    Status status = writer.append_row(views);
    EXPECT_TRUE(status.is_ok()) << status.message();
  }
  Status status = writer.finish();
  EXPECT_TRUE(status.is_ok()) << status.message();
  return sink.data();
}

void expect_round_trip(const std::vector<ColumnSpec>& columns, const std::vector<std::vector<Value>>& rows,
                       WriterOptions options = {}) {
  const std::string file = write_rows(columns, rows, options);
  auto reader = open_bytes(file);
  ASSERT_TRUE(reader.is_ok()) << reader.status().message();
  EXPECT_TRUE(reader->written_by_strata());
  ASSERT_EQ(reader->columns().size(), columns.size());
  for (size_t c = 0; c < columns.size(); ++c) EXPECT_EQ(reader->columns()[c].name, columns[c].name);
  auto back = read_all(*reader, file);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  ASSERT_EQ(back->size(), rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < columns.size(); ++c) {
      ASSERT_TRUE(same_value((*back)[r][c], rows[r][c]))
          << "row " << r << " column " << c << ": wrote " << describe(rows[r][c]) << ", read " << describe((*back)[r][c]);
    }
  }
}

Value integer(int64_t v) { return Value(ValueView::of_integer(v)); }
Value real(double v) { return Value(ValueView::of_real(v)); }
Value text(std::string_view v) { return Value(ValueView::of_text(v)); }
Value blob(std::string_view v) { return Value(ValueView::of_blob(v)); }
Value null() { return Value(); }

// ---- Thrift ----------------------------------------------------------------------------------

TEST(ParquetThrift, FileMetaDataRoundTripsAndUnknownFieldsAreSkipped) {
  FileMetaData m;
  m.version = 1;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  SchemaElement leaf;
  leaf.name = "price";
  leaf.type = PhysicalType::kFixedLenByteArray;
  leaf.type_length = 16;
  leaf.repetition = Repetition::kOptional;
  leaf.logical_type.kind = LogicalType::Kind::kDecimal;
  leaf.logical_type.scale = 2;
  leaf.logical_type.precision = 30;
  m.schema = {root, leaf};
  m.num_rows = 1ll << 40;
  RowGroup group;
  group.num_rows = 1ll << 40;
  group.ordinal = 7;
  ColumnChunk chunk;
  chunk.meta_data.emplace();
  chunk.meta_data->type = PhysicalType::kFixedLenByteArray;
  chunk.meta_data->encodings = {0, 3, 8};
  chunk.meta_data->path_in_schema = {"price"};
  chunk.meta_data->num_values = 1ll << 40;
  chunk.meta_data->data_page_offset = 4;
  chunk.meta_data->bloom_filter_offset = 123456789012;
  chunk.meta_data->bloom_filter_length = 1040;
  chunk.meta_data->statistics.emplace();
  chunk.meta_data->statistics->min_value = std::string("\x00\x01", 2);
  chunk.meta_data->statistics->is_max_value_exact = false;
  chunk.meta_data->statistics->null_count = 0;
  group.columns = {chunk};
  m.row_groups = {group};
  m.key_value_metadata = {{"k", "v"}, {"only key", std::nullopt}};
  m.created_by = "test";
  m.column_orders = {kTypeDefinedOrder};
  std::string bytes;
  serialize(m, bytes);

  auto parsed = parse_file_metadata(bytes);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  EXPECT_EQ(parsed->schema[1].logical_type.kind, LogicalType::Kind::kDecimal);
  EXPECT_EQ(parsed->schema[1].logical_type.precision, 30);
  EXPECT_EQ(parsed->schema[1].type_length, 16);
  EXPECT_EQ(parsed->num_rows, 1ll << 40);
  EXPECT_EQ(parsed->row_groups[0].ordinal, 7);
  const ColumnMetaData& meta = *parsed->row_groups[0].columns[0].meta_data;
  EXPECT_EQ(meta.encodings, (std::vector<int32_t>{0, 3, 8}));
  EXPECT_EQ(meta.bloom_filter_offset, 123456789012);
  EXPECT_EQ(meta.bloom_filter_length, 1040);
  EXPECT_EQ(meta.statistics->min_value, std::string("\x00\x01", 2));
  EXPECT_EQ(meta.statistics->is_max_value_exact, false);
  EXPECT_EQ(parsed->key_value_metadata[1].value, std::nullopt);
  EXPECT_EQ(parsed->created_by, "test");
  EXPECT_EQ(parsed->column_orders, (std::vector<int16_t>{kTypeDefinedOrder}));

  // A field this reader does not know (id 40, a struct holding a list and a map) is skipped.
  std::string extended = bytes.substr(0, bytes.size() - 1);  // drop the STOP
  std::string extra;
  thrift::Writer w(extra);
  w.begin_struct_field(40);  // delta from field 7 is 33: the long form
  w.begin_list_field(1, thrift::Type::kI64, 20);
  for (int i = 0; i < 20; ++i) w.element_i64(i * 1000003);
  w.field_double(2, 3.5);
  w.field_bool(3, true);
  w.end_struct();
  extended += extra;
  // id 41: a map<binary, i32> of one entry ("k" -> 1), then the struct's STOP.
  extended += std::string("\x1b\x01\x85\x01k\x02\x00", 7);
  auto reparsed = parse_file_metadata(extended);
  ASSERT_TRUE(reparsed.is_ok()) << reparsed.status().message();
  EXPECT_EQ(reparsed->created_by, "test");
}

TEST(ParquetThrift, TruncatedOrGarbageInputIsAnErrorAtEveryLength) {
  FileMetaData m;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 0;
  m.schema = {root};
  m.key_value_metadata = {{"a", "b"}};
  std::string bytes;
  serialize(m, bytes);
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_FALSE(parse_file_metadata(bytes.substr(0, length)).is_ok()) << length;
  }
  // A list claiming more elements than there are bytes is refused before any allocation.
  std::string huge = "\x29\xfc\xff\xff\xff\xff\x0f";
  EXPECT_FALSE(parse_file_metadata(huge).is_ok());
  // Deep nesting is bounded.
  std::string deep = "\xfc";  // field 15, unknown: skipped, with structs nested in it
  for (int i = 0; i < 10000; ++i) deep += '\x1c';
  EXPECT_FALSE(parse_file_metadata(deep).is_ok());
}

// ---- RLE hybrid ------------------------------------------------------------------------------

// PARQUET-816: parquet-mr before 1.2.9 stated column chunk sizes without the dictionary page
// header; strata reads those chunks with some bytes more (nation.dict-malformed.parquet in the
// corpus test is such a file).
TEST(ParquetLeniency, OldParquetMrChunkSizesAreRecognised) {
  EXPECT_TRUE(written_by_parquet_mr_before_1_2_9("parquet-mr"));
  EXPECT_TRUE(written_by_parquet_mr_before_1_2_9("parquet-mr version 1.2.8"));
  EXPECT_TRUE(written_by_parquet_mr_before_1_2_9("parquet-mr version 1.2.8-SNAPSHOT (build abc)"));
  EXPECT_TRUE(written_by_parquet_mr_before_1_2_9("parquet-mr version 1.1"));
  EXPECT_FALSE(written_by_parquet_mr_before_1_2_9("parquet-mr version 1.2.9"));
  EXPECT_FALSE(written_by_parquet_mr_before_1_2_9("parquet-mr version 1.10.0 (build 031a6654009e3b82020012a18434c582bd74c73a)"));
  EXPECT_FALSE(written_by_parquet_mr_before_1_2_9("parquet-mr version 2"));
  EXPECT_FALSE(written_by_parquet_mr_before_1_2_9("parquet-cpp-arrow version 14.0.1"));
  EXPECT_FALSE(written_by_parquet_mr_before_1_2_9("DuckDB version v1.1.3 (build 19864453f7)"));
  EXPECT_FALSE(written_by_parquet_mr_before_1_2_9(""));
}

// Dates and times inside nested columns' JSON, as DuckDB's to_json writes the same values.
TEST(ParquetNestedJson, DatesAndTimesAreWrittenAsDuckDBWritesThem) {
  auto element = [](std::optional<ConvertedType> converted, LogicalType::Kind kind = LogicalType::Kind::kNone,
                    int16_t unit = 0, bool utc = false) {
    SchemaElement e;
    e.type = PhysicalType::kInt64;
    if (converted) e.converted_type = static_cast<int32_t>(*converted);
    e.logical_type.kind = kind;
    e.logical_type.time_unit = unit;
    e.logical_type.adjusted_to_utc = utc;
    return e;
  };
  const int64_t day_2021 = 18628;  // 2021-01-01
  const int64_t second = 1000000;
  EXPECT_EQ(time_json(element(ConvertedType::kDate), 18661), "\"2021-02-03\"");
  EXPECT_EQ(time_json(element(ConvertedType::kDate), -719163), "\"0001-12-31 (BC)\"");  // the day before 0001-01-01
  EXPECT_EQ(time_json(element(ConvertedType::kTimestampMicros), day_2021 * 86400 * second + second / 2),
            "\"2021-01-01 00:00:00.5\"");
  EXPECT_EQ(time_json(element(ConvertedType::kTimestampMicros), day_2021 * 86400 * second + 123456),
            "\"2021-01-01 00:00:00.123456\"");
  EXPECT_EQ(time_json(element(ConvertedType::kTimestampMillis), day_2021 * 86400 * 1000 + 120), "\"2021-01-01 00:00:00.12\"");
  EXPECT_EQ(time_json(element(std::nullopt, LogicalType::Kind::kTimestamp, 3), day_2021 * 86400 * 1000000000 + 123456789),
            "\"2021-01-01 00:00:00.123456789\"");
  EXPECT_EQ(time_json(element(std::nullopt, LogicalType::Kind::kTimestamp, 2, true), day_2021 * 86400 * second),
            "\"2021-01-01 00:00:00+00\"");
  // 1960-05-06 07:08:09.25: before 1970, so the division rounds toward the earlier day.
  EXPECT_EQ(time_json(element(ConvertedType::kTimestampMicros), (-3527 * 86400 + 7 * 3600 + 8 * 60 + 9) * second + 250000),
            "\"1960-05-06 07:08:09.25\"");
  EXPECT_EQ(time_json(element(ConvertedType::kTimeMicros), (3600 + 2 * 60 + 3) * second + 500000), "\"01:02:03.5\"");
  EXPECT_EQ(time_json(element(std::nullopt), 5), std::nullopt);
}

TEST(ParquetRleHybrid, RoundTripsRunsAndNoiseAtEveryWidth) {
  std::mt19937_64 random(7);
  for (int width = 0; width <= 32; ++width) {
    const uint64_t limit = width == 32 ? 0xffffffffull : (uint64_t{1} << width) - 1;
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<uint32_t> values;
      const size_t n = random() % 300;
      while (values.size() < n) {
        const auto v = static_cast<uint32_t>(limit == 0 ? 0 : random() % (limit + 1));
        const size_t repeat = random() % 3 == 0 ? 1 + random() % 40 : 1;
        for (size_t r = 0; r < repeat && values.size() < n; ++r) values.push_back(v);
      }
      std::string encoded;
      encode_rle_hybrid(values, width, encoded);
      std::vector<uint32_t> decoded(values.size());
      size_t consumed = 0;
      Status status = decode_rle_hybrid(encoded, width, decoded, &consumed);
      ASSERT_TRUE(status.is_ok()) << status.message();
      EXPECT_EQ(decoded, values) << "width " << width;
      EXPECT_EQ(consumed, encoded.size());
      // Cut short, it is an error, never a read past the end.
      if (!encoded.empty() && width > 0 && !values.empty()) {
        std::vector<uint32_t> more(values.size() + 64);
        EXPECT_FALSE(decode_rle_hybrid(encoded, width, more).is_ok());
      }
    }
  }
}

TEST(ParquetRleHybrid, LongRunsBecomeRleRuns) {
  std::vector<uint32_t> values(100000, 1);
  std::string encoded;
  encode_rle_hybrid(values, 1, encoded);
  EXPECT_LE(encoded.size(), 4u);
}

// ---- writer and reader -----------------------------------------------------------------------

TEST(ParquetRoundTrip, EveryStorageClassNullsAndExtremes) {
  const std::string long_text(100000, 'x');
  const std::string binary("\x00\x01\xff\x80", 4);
  std::vector<std::vector<Value>> rows = {
      {integer(std::numeric_limits<int64_t>::min()), real(-0.0), text(""), blob(""), null()},
      {integer(std::numeric_limits<int64_t>::max()), real(1e308), text(long_text), blob(binary), null()},
      {null(), null(), null(), null(), null()},
      {integer(0), real(std::numeric_limits<double>::denorm_min()), text("héllo ☃"), blob(std::string(1, '\0')), null()},
      {integer(-1), real(-INFINITY), text("a"), blob("b"), null()},
  };
  expect_round_trip({{"i"}, {"r"}, {"t"}, {"b"}, {"n"}}, rows);
  WriterOptions plain;
  plain.compress = false;
  plain.dictionary = false;
  expect_round_trip({{"i"}, {"r"}, {"t"}, {"b"}, {"n"}}, rows, plain);
}

TEST(ParquetRoundTrip, MixedClassColumnsKeepEveryValueAcrossRowGroups) {
  std::mt19937_64 random(11);
  std::vector<std::vector<Value>> rows;
  for (int r = 0; r < 5000; ++r) {
    Value a;  // integers first, then from row 2500 anything
    if (r < 2500 || random() % 2) a = integer(static_cast<int64_t>(random() % 50));
    else if (random() % 3 == 0) a = text(std::to_string(random() % 50));
    else if (random() % 2) a = real(static_cast<double>(random() % 100) / 8);
    else a = blob(std::string(random() % 5, 'z'));
    Value b = r < 3000 ? null() : text("late");  // NULL for the first row groups
    Value c = r % 7 == 0 ? null() : (r % 2 ? integer(r) : real(r + 0.5));
    rows.push_back({a, b, c, integer(r)});
  }
  WriterOptions options;
  options.row_group_rows = 1000;
  options.page_bytes = 512;  // many pages per chunk
  expect_round_trip({{"a"}, {"b"}, {"c"}, {"a__text"}}, rows, options);

  const std::string file = write_rows({{"a"}, {"b"}, {"c"}, {"a__text"}}, rows, options);
  auto reader = open_bytes(file);
  ASSERT_TRUE(reader.is_ok());
  EXPECT_EQ(reader->row_groups(), 5u);
  std::vector<std::string> leaf_names;
  for (const Leaf& leaf : reader->leaves()) leaf_names.push_back(leaf.name);
  // Siblings follow their column, in class order; the sibling of 'a' that holds text cannot be
  // called a__text (a column has that name).
  EXPECT_EQ(leaf_names, (std::vector<std::string>{"a", "a__real", "a__text_2", "a__blob", "b", "c", "c__real", "a__text"}));
}

TEST(ParquetRoundTrip, SomeRowsReadAsTheyDoAmongAll) {
  std::mt19937_64 random(5);
  std::vector<std::vector<Value>> rows;
  for (int r = 0; r < 6000; ++r) {
    Value a;  // a mixed-class column
    if (random() % 2) a = integer(static_cast<int64_t>(random() % 50));
    else if (random() % 3 == 0) a = text(std::to_string(random() % 50));
    else if (random() % 2) a = real(static_cast<double>(random() % 100) / 8);
    else a = r % 11 == 0 ? null() : blob(std::string(random() % 5, 'z'));
    Value b = r % 5 == 0 ? null() : text("kind" + std::to_string(random() % 7));   // a dictionary
    Value c = integer(static_cast<int64_t>(random()));                             // plain
    Value d = r % 3 == 0 ? null() : real(static_cast<double>(r) / 3);
    rows.push_back({a, b, c, d});
  }
  for (uint64_t page_bytes : {uint64_t{300}, uint64_t{4096}, uint64_t{1} << 20}) {
    WriterOptions options;
    options.row_group_rows = 2500;
    options.page_bytes = page_bytes;
    const std::string file = write_rows({{"a"}, {"b"}, {"c"}, {"d"}}, rows, options);
    auto reader = open_bytes(file);
    ASSERT_TRUE(reader.is_ok());
    EXPECT_GT(expect_some_rows_read_as_all(*reader, file, static_cast<uint32_t>(page_bytes)), 50);
  }
  // Pages without a row asked for are not even decompressed: with the last page of a chunk
  // damaged, reading all fails, reading rows of the first page does not.
  {
    std::vector<std::vector<Value>> numbers;
    for (int r = 0; r < 3000; ++r) numbers.push_back({integer(r * 7919)});
    WriterOptions options;
    options.page_bytes = 4096;
    std::string file = write_rows({{"n"}}, numbers, options);
    auto reader = open_bytes(file);
    ASSERT_TRUE(reader.is_ok());
    Result<ByteRange> range = reader->chunk_range(0, 0);
    ASSERT_TRUE(range.is_ok());
    size_t at = range->offset, last_page_data = 0;
    int pages = 0;
    while (at < range->offset + range->length) {
      size_t header_size = 0;
      Result<PageHeader> header = parse_page_header(std::string_view(file).substr(at), header_size);
      ASSERT_TRUE(header.is_ok());
      last_page_data = at + header_size;
      at += header_size + static_cast<size_t>(header->compressed_page_size);
      ++pages;
    }
    ASSERT_GT(pages, 3);
    file[last_page_data] = static_cast<char>(file[last_page_data] ^ 0xff);  // the zstd frame's magic number
    auto damaged = open_bytes(file);
    ASSERT_TRUE(damaged.is_ok());
    EXPECT_FALSE(damaged->read_column(reader_of(file), 0, 0).is_ok());
    Result<ColumnVector> first = damaged->read_column_rows(reader_of(file), 0, 0, std::vector<uint32_t>{0, 5, 100});
    ASSERT_TRUE(first.is_ok()) << first.status().message();
    EXPECT_EQ(first->get(2).integer, 100 * 7919);
    EXPECT_FALSE(damaged->read_column_rows(reader_of(file), 0, 0, std::vector<uint32_t>{2999}).is_ok());
  }
  // Rows must be ascending and inside the row group.
  const std::string file = write_rows({{"a"}}, {{integer(1)}, {integer(2)}});
  auto reader = open_bytes(file);
  ASSERT_TRUE(reader.is_ok());
  EXPECT_FALSE(reader->read_column_rows(reader_of(file), 0, 0, std::vector<uint32_t>{1, 0}).is_ok());
  EXPECT_FALSE(reader->read_column_rows(reader_of(file), 0, 0, std::vector<uint32_t>{2}).is_ok());
}

TEST(ParquetRoundTrip, EmptyFileAndAllNullColumnsHaveTypes) {
  const std::string empty = write_rows({{"x", ValueType::kText}, {"y"}}, {});
  auto reader = open_bytes(empty);
  ASSERT_TRUE(reader.is_ok()) << reader.status().message();
  EXPECT_EQ(reader->row_groups(), 0u);
  EXPECT_EQ(reader->leaves()[0].element.type, PhysicalType::kByteArray);
  EXPECT_EQ(reader->leaves()[1].element.logical_type.kind, LogicalType::Kind::kUnknown);
  expect_round_trip({{"x", ValueType::kReal}}, {{null()}, {null()}});
}

TEST(ParquetRoundTrip, StatisticsAndBloomFiltersDescribeTheChunks) {
  std::vector<std::vector<Value>> rows;
  for (int r = 0; r < 3000; ++r) {
    rows.push_back({integer(r % 10 - 5), text(str_cat("k", std::to_string(r % 20))), r % 3 ? real(r) : null(),
                    text(std::string(100, static_cast<char>('a' + r % 3)))});
  }
  WriterOptions options;
  options.row_group_rows = 1000;
  options.bloom_filter_columns = {"r"};
  const std::string file = write_rows({{"i"}, {"t"}, {"r"}, {"long"}}, rows, options);
  auto reader = open_bytes(file);
  ASSERT_TRUE(reader.is_ok());
  EXPECT_EQ(reader->metadata().created_by.value_or("").rfind("strata version ", 0), 0u);
  EXPECT_EQ(reader->metadata().column_orders.size(), 4u);
  ChunkStatistics i = reader->chunk_statistics(1, 0);
  ASSERT_TRUE(i.min && i.max);
  EXPECT_EQ(i.min->integer, -5);
  EXPECT_EQ(i.max->integer, 4);
  EXPECT_EQ(i.null_count, 0);
  ChunkStatistics r = reader->chunk_statistics(0, 2);
  EXPECT_EQ(r.null_count, 334);
  EXPECT_EQ(r.min->real, 1);
  EXPECT_EQ(r.max->real, 998);
  ChunkStatistics t = reader->chunk_statistics(2, 1);
  EXPECT_EQ(t.min->bytes, "k0");
  EXPECT_EQ(t.max->bytes, "k9");
  ChunkStatistics long_text = reader->chunk_statistics(0, 3);
  EXPECT_EQ(long_text.min->bytes, std::string(64, 'a'));
  EXPECT_EQ(long_text.max->bytes, std::string(63, 'c') + 'd');  // a bound, not the value
  EXPECT_EQ(reader->metadata().row_groups[0].columns[3].meta_data->statistics->is_max_value_exact, false);

  // Dictionary-encoded 't' and requested 'r' have filters; every written value is in them.
  for (size_t g = 0; g < reader->row_groups(); ++g) {
    auto t_filter = reader->read_bloom_filter(reader_of(file), g, 1);
    ASSERT_TRUE(t_filter.is_ok() && t_filter->has_value());
    for (int k = 0; k < 20; ++k) EXPECT_TRUE((*t_filter)->may_contain(ValueView::of_text(str_cat("k", std::to_string(k)))));
    int false_positives = 0;
    for (int k = 20; k < 2020; ++k) false_positives += (*t_filter)->may_contain(ValueView::of_text(str_cat("k", std::to_string(k))));
    EXPECT_LT(false_positives, 100);
    auto r_filter = reader->read_bloom_filter(reader_of(file), g, 2);
    ASSERT_TRUE(r_filter.is_ok() && r_filter->has_value());
    for (int row = static_cast<int>(g) * 1000; row < static_cast<int>(g + 1) * 1000; ++row) {
      if (row % 3) {
        EXPECT_TRUE((*r_filter)->may_contain(ValueView::of_real(row)));
      }
    }
  }
}

TEST(ParquetRoundTrip, ReadsOnlyTheFooterAndTheChunksAskedFor) {
  std::vector<std::vector<Value>> rows;
  for (int r = 0; r < 200000; ++r) rows.push_back({integer(r), text(std::to_string(r * 7))});
  const std::string file = write_rows({{"a"}, {"b"}}, rows);
  ASSERT_GT(file.size(), 64u * 1024);
  int reads = 0;
  auto reader = FileReader::open(reader_of(file, &reads), file.size());
  ASSERT_TRUE(reader.is_ok());
  EXPECT_EQ(reads, 1);  // one tail read holds the footer
  auto range = reader->chunk_range(1, 1);
  ASSERT_TRUE(range.is_ok());
  auto values = reader->decode_chunk(1, 1, file.substr(range->offset, range->length));
  ASSERT_TRUE(values.is_ok()) << values.status().message();
  EXPECT_EQ(values->get(0).bytes, std::to_string(122880 * 7));
}

TEST(ParquetWriter, RejectsBadOptionsAndNames) {
  StringSink sink;
  EXPECT_FALSE(Writer({{"a"}, {"a"}}, {}, sink).start().is_ok());
  EXPECT_FALSE(Writer({{""}}, {}, sink).start().is_ok());
  EXPECT_FALSE(Writer({}, {}, sink).start().is_ok());
  WriterOptions zero_rows;
  zero_rows.row_group_rows = 0;
  EXPECT_FALSE(Writer({{"a"}}, zero_rows, sink).start().is_ok());
  WriterOptions unknown_bloom;
  unknown_bloom.bloom_filter_columns = {"nope"};
  Status status = Writer({{"a"}}, unknown_bloom, sink).start();
  EXPECT_NE(status.message().find("'nope'"), std::string::npos) << status.message();
  for (int threads : {0, 3}) {
    WriterOptions bad_threads;
    bad_threads.threads = threads;
    status = Writer({{"a"}}, bad_threads, sink).start();
    EXPECT_NE(status.message().find("threads must be 1 or 2"), std::string::npos) << status.message();
  }
}

TEST(DistinctEstimate, CountsWithinAFewPercentAndIgnoresRepeats) {
  for (uint64_t seed : {1, 2, 3}) {
    for (size_t distinct : {size_t{0}, size_t{1}, size_t{10}, size_t{1000}, size_t{6000}, size_t{60000}, size_t{500000}}) {
      DistinctEstimate once, twice;
      for (size_t i = 0; i < distinct; ++i) {
        const uint64_t value = seed * 1000003 + i * 7919;
        const uint64_t hash = XXH3_64bits(&value, sizeof value);
        once.add_hash(hash);
        twice.add_hash(hash);
        twice.add_hash(hash);  // repeats leave the registers as they are
      }
      EXPECT_EQ(once.estimate(), twice.estimate());
      const double tolerance = std::max(1.0, 0.08 * static_cast<double>(distinct));  // over 3 standard errors
      EXPECT_NEAR(once.estimate(), static_cast<double>(distinct), tolerance) << distinct << " values, seed " << seed;
    }
  }
}

bool dictionary_encoded(const FileReader& reader, size_t group, size_t column) {
  const auto& encodings = reader.metadata().row_groups[group].columns[column].meta_data->encodings;
  return std::find(encodings.begin(), encodings.end(), static_cast<int32_t>(Encoding::kRleDictionary)) != encodings.end();
}

// The dictionary is tried unless far too many values are distinct; a column whose values repeat
// only late in the chunk still gets one, and the files are those an exhaustive attempt writes.
TEST(ParquetWriter, DictionaryWhereItPaysWhateverTheOrderOfRepeats) {
  constexpr int kRows = 120000;
  std::vector<std::vector<Value>> rows;
  std::mt19937_64 random(5);
  for (int r = 0; r < kRows; ++r) {
    rows.push_back({integer(r % 20000),                                      // repeats only after 20,000 rows
                    text(str_cat("s", std::to_string((r * 7) % 50000))),    // 50,000 distinct, late repeats
                    integer(static_cast<int64_t>(random() % 1000000)),       // nearly all distinct
                    text(str_cat("u", std::to_string(random()))),           // all distinct
                    integer(r < 1000 ? r : r % 10)});                       // distinct only at first
  }
  WriterOptions options;
  options.row_group_rows = kRows;
  const std::string file = write_rows({{"late"}, {"late_text"}, {"random"}, {"unique"}, {"early"}}, rows, options);
  auto reader = open_bytes(file);
  ASSERT_TRUE(reader.is_ok()) << reader.status().message();
  EXPECT_TRUE(dictionary_encoded(*reader, 0, 0));
  EXPECT_TRUE(dictionary_encoded(*reader, 0, 1));
  EXPECT_FALSE(dictionary_encoded(*reader, 0, 2));
  EXPECT_FALSE(dictionary_encoded(*reader, 0, 3));
  EXPECT_TRUE(dictionary_encoded(*reader, 0, 4));
  auto back = read_all(*reader, file);
  ASSERT_TRUE(back.is_ok());
  for (size_t r = 0; r < rows.size(); r += 997) {
    for (size_t c = 0; c < rows[r].size(); ++c) ASSERT_TRUE(same_value((*back)[r][c], rows[r][c])) << r << " " << c;
  }
}

// Encoding on a helper thread writes the same bytes as encoding on the caller's.
TEST(ParquetWriter, TheHelperThreadWritesTheSameFile) {
  std::vector<std::vector<Value>> rows;
  std::mt19937_64 random(9);
  for (int r = 0; r < 25000; ++r) {
    Value mixed = r % 5 == 0 ? text(std::to_string(r)) : (r % 7 == 0 ? null() : integer(static_cast<int64_t>(random() % 100)));
    rows.push_back({integer(r), mixed, real(static_cast<double>(random() % 1000) / 4), r > 20000 ? blob("late") : null()});
  }
  for (uint64_t group_rows : {uint64_t{1}, uint64_t{999}, uint64_t{4096}, uint64_t{100000}}) {
    WriterOptions one, two;
    one.row_group_rows = two.row_group_rows = group_rows;
    one.threads = 1;
    two.threads = 2;
    const std::vector<ColumnSpec> columns = {{"id"}, {"mixed"}, {"r"}, {"b"}};
    const std::vector<std::vector<Value>> some(rows.begin(), rows.begin() + (group_rows == 1 ? 3000 : 25000));
    EXPECT_EQ(write_rows(columns, some, one), write_rows(columns, some, two)) << group_rows;
  }
  expect_round_trip({{"id"}, {"mixed"}, {"r"}, {"b"}}, rows);
}

// A sink that fails once it has taken `limit` bytes, as a full disk does.
class FailingSink final : public OutputSink {
 public:
  explicit FailingSink(size_t limit) : limit_(limit) {}
  Status write(std::string_view bytes) override {
    if (taken_ + bytes.size() > limit_) return Status::io_error("parquet: writing the file failed: No space left on device");
    taken_ += bytes.size();
    return Status::ok();
  }

 private:
  size_t limit_;
  size_t taken_ = 0;
};

TEST(ParquetWriter, AWriteFailingOnTheHelperThreadIsReturnedAndSticks) {
  for (int threads : {1, 2}) {
    FailingSink sink(100000);
    WriterOptions options;
    options.row_group_rows = 1000;
    options.threads = threads;
    Writer writer({{"a"}, {"b"}}, options, sink);
    ASSERT_TRUE(writer.start().is_ok());
    Status failed;
    std::mt19937_64 random(3);
    for (int r = 0; r < 200000 && failed.is_ok(); ++r) {
      const std::string noise = std::to_string(random());
      const ValueView row[] = {ValueView::of_integer(static_cast<int64_t>(random())), ValueView::of_text(noise)};
      failed = writer.append_row(row);
    }
    ASSERT_FALSE(failed.is_ok()) << threads;
    EXPECT_NE(failed.message().find("No space left"), std::string::npos) << failed.message();
    const ValueView row[] = {ValueView::of_integer(1), ValueView::null()};
    EXPECT_FALSE(writer.append_row(row).is_ok());
    EXPECT_FALSE(writer.finish().is_ok());
  }
}

// ---- other writers' files --------------------------------------------------------------------

const std::filesystem::path kTestingData = std::filesystem::path(STRATA_PARQUET_TESTING) / "data";

TEST(ParquetOtherWriters, ReadsEveryFileInParquetTestingData) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kTestingData)) {
    if (entry.path().extension() != ".parquet") continue;
    ++files;
    const std::string file = read_file(entry.path());
    auto reader = open_bytes(file);
    ASSERT_TRUE(reader.is_ok()) << entry.path().filename() << ": " << reader.status().message();
    auto rows = read_all(*reader, file);
    EXPECT_TRUE(rows.is_ok()) << entry.path().filename() << ": " << rows.status().message();
    if (rows.is_ok()) {
      EXPECT_EQ(static_cast<int64_t>(rows->size()), reader->metadata().num_rows) << entry.path();
    }
    // Other writers' pages (V2, every encoding here): some rows read as among all.
    SCOPED_TRACE(entry.path().filename().string());
    expect_some_rows_read_as_all(*reader, file, static_cast<uint32_t>(files));
  }
  EXPECT_GE(files, 10);
}

// Every file of the whole corpus this reader opens: some rows of each column read as they do
// among all (V1 and V2 pages, every encoding and codec there, nested columns).
TEST(ParquetOtherWriters, SomeRowsReadAsAmongAllInTheWholeCorpus) {
  int files = 0, checked = 0;
  const std::filesystem::path corpus = std::filesystem::path(STRATA_PARQUET_TESTING) / "corpus" / "data";
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    if (entry.path().extension() != ".parquet") continue;
    const std::string file = read_file(entry.path());
    auto reader = open_bytes(file);
    if (!reader.is_ok()) continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    checked += expect_some_rows_read_as_all(*reader, file, static_cast<uint32_t>(files));
  }
  EXPECT_GE(files, 50);
  EXPECT_GT(checked, 1000);
}

TEST(ParquetOtherWriters, AlltypesPlainHasTheKnownValues) {
  for (const char* name : {"alltypes_plain.parquet", "alltypes_plain.snappy.parquet", "alltypes_dictionary.parquet"}) {
    const std::string file = read_file(kTestingData / name);
    auto reader = open_bytes(file);
    ASSERT_TRUE(reader.is_ok()) << name;
    auto rows = read_all(*reader, file);
    ASSERT_TRUE(rows.is_ok()) << name << ": " << rows.status().message();
    std::map<std::string, size_t> column;
    for (size_t c = 0; c < reader->columns().size(); ++c) column[reader->columns()[c].name] = c;
    const auto& first = (*rows)[0];
    const size_t id = column.at("id"), bool_col = column.at("bool_col"), double_col = column.at("double_col");
    const size_t string_col = column.at("string_col"), timestamp_col = column.at("timestamp_col");
    // The ids the files hold, in file order (parquet-testing's README and the files' statistics).
    const std::map<std::string, std::vector<int64_t>> ids = {
        {"alltypes_plain.parquet", {4, 5, 6, 7, 2, 3, 0, 1}},
        {"alltypes_plain.snappy.parquet", {6, 7}},
        {"alltypes_dictionary.parquet", {0, 1}},
    };
    std::vector<int64_t> read_ids;
    for (const auto& row : *rows) read_ids.push_back(row[id].integer);
    EXPECT_EQ(read_ids, ids.at(name));
    EXPECT_EQ(first[bool_col].type, ValueType::kInteger);
    EXPECT_EQ(first[bool_col].integer, first[id].integer % 2 == 0 ? 1 : 0) << name;
    EXPECT_EQ(first[double_col].type, ValueType::kReal);
    EXPECT_EQ(first[string_col].type, ValueType::kBlob);  // binary without a STRING annotation
    EXPECT_EQ(first[timestamp_col].type, ValueType::kInteger);
    // 2009-03-01 00:00:00 (id 4) … 2009-01-01 (ids 0, 1): within 2009.
    EXPECT_GE(first[timestamp_col].integer, 1230768000ll * 1000000);  // microseconds in 2009
    EXPECT_LT(first[timestamp_col].integer, 1262304000ll * 1000000);
  }
}

TEST(ParquetOtherWriters, ByteStreamSplitAndNullPagesAndBloomFilters) {
  {
    const std::string file = read_file(kTestingData / "byte_stream_split.zstd.parquet");
    auto reader = open_bytes(file);
    ASSERT_TRUE(reader.is_ok());
    auto rows = read_all(*reader, file);
    ASSERT_TRUE(rows.is_ok()) << rows.status().message();
    for (const auto& row : *rows) {
      for (const Value& v : row) {
        ASSERT_EQ(v.type, ValueType::kReal);
        EXPECT_LT(std::fabs(v.real), 10);  // standard normals
      }
    }
  }
  {
    const std::string file = read_file(kTestingData / "int32_with_null_pages.parquet");
    auto reader = open_bytes(file);
    ASSERT_TRUE(reader.is_ok());
    auto rows = read_all(*reader, file);
    ASSERT_TRUE(rows.is_ok()) << rows.status().message();
    size_t nulls = 0;
    for (const auto& row : *rows) nulls += row[0].type == ValueType::kNull;
    EXPECT_GT(nulls, 0u);
    EXPECT_LT(nulls, rows->size());
  }
  for (const char* name : {"data_index_bloom_encoding_stats.parquet", "data_index_bloom_encoding_with_length.parquet"}) {
    const std::string file = read_file(kTestingData / name);
    auto reader = open_bytes(file);
    ASSERT_TRUE(reader.is_ok());
    auto rows = read_all(*reader, file);
    ASSERT_TRUE(rows.is_ok()) << rows.status().message();
    auto filter = reader->read_bloom_filter(reader_of(file), 0, 0);
    ASSERT_TRUE(filter.is_ok()) << name << ": " << filter.status().message();
    ASSERT_TRUE(filter->has_value()) << name;
    for (const auto& row : *rows) {
      if (row[0].type != ValueType::kNull) {
        EXPECT_TRUE((*filter)->may_contain(row[0].view())) << row[0].bytes;
      }
    }
    EXPECT_FALSE((*filter)->may_contain(ValueView::of_text("not a value in the file, surely")));
  }
}

// ---- damaged files ---------------------------------------------------------------------------

// ARROW-GH-43605.parquet is in bad_data/ for a crash it caused in Arrow's Go reader, but it is
// a valid file: a dictionary of one value (0), and one V2 page whose indices have bit width 0,
// which is what a one-entry dictionary needs. strata reads it; every other file is refused.
TEST(ParquetBadData, EveryDamagedFileIsAnErrorNotACrash) {
  int files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(STRATA_PARQUET_TESTING) / "bad_data")) {
    if (entry.path().extension() != ".parquet") continue;
    ++files;
    const std::string file = read_file(entry.path());
    auto reader = open_bytes(file);
    if (entry.path().filename() == "ARROW-GH-43605.parquet") {
      ASSERT_TRUE(reader.is_ok()) << reader.status().message();
      auto rows = read_all(*reader, file);
      ASSERT_TRUE(rows.is_ok()) << rows.status().message();
      ASSERT_EQ(rows->size(), 21186u);
      for (const auto& row : *rows) {
        ASSERT_EQ(row[0].type, ValueType::kInteger);
        ASSERT_EQ(row[0].integer, 0);
      }
      continue;
    }
    if (!reader.is_ok()) continue;
    auto rows = read_all(*reader, file);
    EXPECT_FALSE(rows.is_ok()) << entry.path().filename() << " was read without an error";
  }
  EXPECT_GE(files, 8);
}

TEST(ParquetBadData, TruncatedAndNonParquetInputs) {
  EXPECT_FALSE(open_bytes("").is_ok());
  EXPECT_FALSE(open_bytes("PAR1PAR1").is_ok());
  EXPECT_FALSE(open_bytes(std::string(100, 'x')).is_ok());
  const std::string file = write_rows({{"a"}}, {{integer(1)}, {integer(2)}});
  for (size_t length = 0; length < file.size(); ++length) {
    auto reader = open_bytes(file.substr(0, length));
    if (reader.is_ok()) {
      EXPECT_FALSE(read_all(*reader, file.substr(0, length)).is_ok()) << length;
    }
  }
}

}  // namespace
}  // namespace strata::parquet
