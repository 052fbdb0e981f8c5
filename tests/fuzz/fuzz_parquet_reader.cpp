// Fuzz target for the Parquet reader: a file's bytes in, every column of every row group read
// (whole, and some rows only), statistics and bloom filters looked at. Garbage must give an error or values — never a crash,
// a hang, an out-of-bounds read or a huge allocation (run it under AddressSanitizer).
//
// With libFuzzer (clang -fsanitize=fuzzer,address), LLVMFuzzerTestOneInput is the target.
// Built with STRATA_FUZZ_DRIVER, main() runs a bounded mutation fuzzer of its own over seeds:
// files strata writes from random columns (dictionary and plain, compressed or not) and the
// files of parquet-testing/data (other writers: snappy, V2 pages, BYTE_STREAM_SPLIT, …) and
// corpus files with nested columns.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "codecs/parquet/parquet_reader.h"
#include "codecs/parquet/parquet_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  using namespace strata::parquet;
  const std::string file(reinterpret_cast<const char*>(data), size);
  const RangeReader read = memory_range_reader(file);
  Result<FileReader> reader = FileReader::open(read, file.size());
  if (!reader.is_ok()) return 0;
  for (size_t g = 0; g < reader->row_groups(); ++g) {
    for (size_t c = 0; c < reader->columns().size(); ++c) {
      Result<ColumnVector> values = reader->read_column(read, g, c);
      if (values.is_ok() && values->size() > 0) (void)values->get(values->size() - 1);
      // A few rows only (page skipping): every third row, and the last one.
      const int64_t rows = reader->row_group_rows(g);
      if (rows > 0 && rows < (int64_t{1} << 24)) {
        std::vector<uint32_t> some;
        for (int64_t r = 0; r < rows; r += 3) some.push_back(static_cast<uint32_t>(r));
        if (some.back() != static_cast<uint32_t>(rows - 1)) some.push_back(static_cast<uint32_t>(rows - 1));
        Result<ColumnVector> picked = reader->read_column_rows(read, g, c, some);
        if (picked.is_ok() && picked->size() > 0) (void)picked->get(picked->size() - 1);
      }
    }
    for (size_t leaf = 0; leaf < reader->leaves().size(); ++leaf) {
      (void)reader->chunk_statistics(g, leaf);
      auto filter = reader->read_bloom_filter(read, g, leaf);
      if (filter.is_ok() && filter->has_value()) (void)(*filter)->may_contain(ValueView::of_integer(1));
    }
  }
  return 0;
}

#ifdef STRATA_FUZZ_DRIVER
namespace {

std::string random_file(std::mt19937_64& random) {
  using namespace strata;
  using namespace strata::parquet;
  WriterOptions options;
  options.row_group_rows = 1 + random() % 64;
  options.page_bytes = 16 + random() % 512;
  options.compress = random() % 2 == 0;
  options.dictionary = random() % 4 != 0;
  options.bloom_filters = random() % 2 ? BloomFilterColumns::kAll : BloomFilterColumns::kDictionary;
  const size_t columns = 1 + random() % 3;
  std::vector<ColumnSpec> specs;
  for (size_t c = 0; c < columns; ++c) {
    std::string name = "c";
    name += std::to_string(c);
    specs.push_back({name});
  }
  StringSink sink;
  Writer writer(specs, options, sink);
  const size_t rows = random() % 150;
  std::vector<Value> row(columns);
  std::vector<ValueView> views(columns);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < columns; ++c) {
      switch (random() % (c == 0 ? 2 : 5)) {
        case 0: row[c] = Value(ValueView::of_integer(static_cast<int64_t>(random() % 20))); break;
        case 1: row[c] = Value(ValueView::null()); break;
        case 2: row[c] = Value(ValueView::of_real(static_cast<double>(random() % 9) / 2)); break;
        case 3: row[c] = Value(ValueView::of_text(std::string(random() % 4, 'a' + random() % 3))); break;
        default: row[c] = Value(ValueView::of_blob(std::string(random() % 3, '\0'))); break;
      }
      views[c] = row[c].view();
    }
    if (!writer.append_row(views).is_ok()) return {};
  }
  if (!writer.finish().is_ok()) return {};
  return sink.data();
}

// Mutations that keep the footer findable more often than plain noise would: flip bits, set
// bytes to boundary values, cut, duplicate a stretch; mostly in the footer (the file's end).
std::string mutate(std::string input, std::mt19937_64& random) {
  if (input.empty()) return input;
  const int steps = 1 + static_cast<int>(random() % 3);
  for (int s = 0; s < steps; ++s) {
    const size_t at = random() % 2 ? input.size() - 1 - random() % std::min<size_t>(input.size(), 200)
                                    : random() % input.size();
    switch (random() % 5) {
      case 0: input[at] ^= static_cast<char>(1 << (random() % 8)); break;
      case 1: input[at] = static_cast<char>(random() % 2 ? 0xff : (random() % 2 ? 0x80 : 0x00)); break;
      case 2: input[at] = static_cast<char>(random()); break;
      case 3: input.erase(at, 1 + random() % 8); break;
      default: input.insert(at, input.substr(at, random() % 16)); break;
    }
    if (input.empty()) break;
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = argc > 1 ? std::atol(argv[1]) : 20000;
  uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20261121;
  std::mt19937_64 random(seed);
  std::vector<std::string> others;
#ifdef STRATA_PARQUET_TESTING
  auto add_seed = [&](const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    others.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  for (const auto& entry : std::filesystem::directory_iterator(STRATA_PARQUET_TESTING "/data")) {
    if (entry.path().extension() == ".parquet") add_seed(entry.path());
  }
  // Nested columns (LIST, MAP, STRUCT, bare repeated fields): levels and record assembly.
  for (const char* name : {"nested_lists.snappy.parquet", "nested_maps.snappy.parquet", "nullable.impala.parquet",
                           "nonnullable.impala.parquet", "repeated_no_annotation.parquet", "old_list_structure.parquet",
                           "repeated_primitive_no_list.parquet", "list_columns.parquet", "null_list.parquet"}) {
    const std::filesystem::path path = std::filesystem::path(STRATA_PARQUET_TESTING "/corpus/data") / name;
    if (std::filesystem::exists(path)) add_seed(path);
  }
#endif
  for (long i = 0; i < iterations; ++i) {
    std::string input = (i % 3 == 2 && !others.empty()) ? others[random() % others.size()] : random_file(random);
    if (i % 8 != 0) input = mutate(std::move(input), random);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("fuzz_parquet_reader: %ld inputs (%zu other writers' files as seeds), no crash\n", iterations,
              others.size());
  return 0;
}
#endif
