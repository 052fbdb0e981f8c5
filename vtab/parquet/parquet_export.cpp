// parquet_export(url, select_sql [, json_options]) — any query's rows into one Parquet file.
//
//   SELECT parquet_export('file:out/events.parquet', 'SELECT * FROM events WHERE ts < 1700000000000');
//   SELECT parquet_export('s3://bucket/x/events.parquet', 'SELECT …', '{"row_group_rows": 131072}');
//
// Returns the number of rows written. The file is written to a temporary local file first and
// then put into the store in one piece (file: rename, S3 single or multipart upload), so the
// object appears whole or not at all; a failing query, option or upload leaves nothing behind.
// Column names are the query's result names (they must be distinct); each value keeps its
// storage class (docs/format-parquet.md has the mapping). Options (all optional):
//   row_group_rows (122880)   row_group_bytes (134217728)   page_bytes (1048576)
//   compression "zstd"|"none" ("zstd")   compression_level 1..22 (3)   dictionary true|false (true)
//   bloom_filters "dictionary"|"all"|"none" ("dictionary")   bloom_filter_columns ["col", …]
//   bloom_filter_fpp (0.01)   key_value_metadata {"key": "value", …}
//   threads 1|2 (2: a helper thread encodes each row group while the query produces the next)
// The function writes files, so SQLite only lets top-level SQL call it (SQLITE_DIRECTONLY): not
// triggers, views or schema expressions.
#include <fcntl.h>
#include <rapidjson/document.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "codecs/parquet/parquet_writer.h"
#include "ext/interrupt.h"
#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "ext/str_cat.h"
#include "tiering/store_url.h"
#include "vtab/columnar/schema.h"
#include "vtab/parquet/parquet_sql.h"

namespace strata::parquet_sql {

namespace {

constexpr std::string_view kFunction = "parquet_export";

Status option_error(std::string_view message) { return Status::error(str_cat(kFunction, ": option ", message)); }

Result<uint64_t> positive_integer(const rapidjson::Value& value, std::string_view name) {
  if (!value.IsUint64() || value.GetUint64() == 0) {
    return option_error(str_cat("'", name, "' must be a positive integer"));
  }
  return value.GetUint64();
}

Result<parquet::WriterOptions> parse_options(std::string_view json) {
  parquet::WriterOptions options;
  if (json.empty()) return options;
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) {
    return Status::error(str_cat(kFunction, ": the options must be a JSON object, as in '{\"row_group_rows\": 100000}'"));
  }
  for (auto& member : document.GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    const rapidjson::Value& value = member.value;
    if (name == "row_group_rows") {
      STRATA_ASSIGN_OR_RETURN(options.row_group_rows, positive_integer(value, name));
    } else if (name == "row_group_bytes") {
      STRATA_ASSIGN_OR_RETURN(options.row_group_bytes, positive_integer(value, name));
    } else if (name == "page_bytes") {
      STRATA_ASSIGN_OR_RETURN(options.page_bytes, positive_integer(value, name));
    } else if (name == "compression") {
      const std::string_view codec = value.IsString() ? value.GetString() : "";
      if (codec == "zstd") options.compress = true;
      else if (codec == "none" || codec == "uncompressed") options.compress = false;
      else return option_error("'compression' must be \"zstd\" or \"none\"");
    } else if (name == "compression_level") {
      if (!value.IsInt() || value.GetInt() < 1 || value.GetInt() > 22) {
        return option_error("'compression_level' must be an integer from 1 to 22");
      }
      options.zstd_level = value.GetInt();
    } else if (name == "dictionary") {
      if (!value.IsBool()) return option_error("'dictionary' must be true or false");
      options.dictionary = value.GetBool();
    } else if (name == "bloom_filters") {
      const std::string_view which = value.IsString() ? value.GetString() : "";
      if (which == "dictionary") options.bloom_filters = parquet::BloomFilterColumns::kDictionary;
      else if (which == "all") options.bloom_filters = parquet::BloomFilterColumns::kAll;
      else if (which == "none") options.bloom_filters = parquet::BloomFilterColumns::kNone;
      else return option_error("'bloom_filters' must be \"dictionary\", \"all\" or \"none\"");
    } else if (name == "bloom_filter_columns") {
      if (!value.IsArray()) return option_error("'bloom_filter_columns' must be an array of column names");
      for (const auto& column : value.GetArray()) {
        if (!column.IsString()) return option_error("'bloom_filter_columns' must be an array of column names");
        options.bloom_filter_columns.emplace_back(column.GetString(), column.GetStringLength());
      }
    } else if (name == "bloom_filter_fpp") {
      if (!value.IsNumber() || !(value.GetDouble() > 0 && value.GetDouble() < 1)) {
        return option_error("'bloom_filter_fpp' must be a number above 0 and below 1");
      }
      options.bloom_filter_fpp = value.GetDouble();
    } else if (name == "key_value_metadata") {
      if (!value.IsObject()) return option_error("'key_value_metadata' must be an object of strings");
      for (const auto& kv : value.GetObject()) {
        if (!kv.value.IsString()) return option_error("'key_value_metadata' must be an object of strings");
        options.key_value_metadata.push_back({std::string(kv.name.GetString(), kv.name.GetStringLength()),
                                              std::string(kv.value.GetString(), kv.value.GetStringLength())});
      }
    } else if (name == "threads") {
      if (!value.IsInt() || value.GetInt() < 1 || value.GetInt() > 2) return option_error("'threads' must be 1 or 2");
      options.threads = value.GetInt();
    } else {
      return option_error(str_cat("'", name, "' is unknown; the options are row_group_rows, row_group_bytes, ",
                                  "page_bytes, compression, compression_level, dictionary, bloom_filters, ",
                                  "bloom_filter_columns, bloom_filter_fpp, key_value_metadata, threads"));
    }
  }
  return options;
}

// A temporary local file, removed when this goes.
class TemporaryFile {
 public:
  static Result<TemporaryFile> create() {
    const char* directory = std::getenv("TMPDIR");
    std::string path = str_cat(directory && *directory ? directory : "/tmp", "/strata-export-XXXXXX");
    const int fd = ::mkstemp(path.data());
    if (fd < 0) {
      return Status::io_error(str_cat(kFunction, ": cannot create a temporary file in '", path, "': ", std::strerror(errno)));
    }
    return TemporaryFile(std::move(path), fd);
  }
  TemporaryFile(TemporaryFile&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) { other.fd_ = -1; }
  TemporaryFile& operator=(TemporaryFile&&) = delete;
  ~TemporaryFile() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(path_.c_str());
    }
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  TemporaryFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

Result<int64_t> export_query(sqlite3* db, std::string_view url, std::string_view sql, std::string_view json) {
  STRATA_ASSIGN_OR_RETURN(parquet::WriterOptions options, parse_options(json));
  STRATA_ASSIGN_OR_RETURN(tiering::ObjectUrl target, tiering::split_object_url(kFunction, url));
  if (target.key.empty()) {
    return Status::error(str_cat(kFunction, ": '", url, "' ends with '/'; name the file, as in 'file:out/events.parquet'"));
  }
  Result<Statement> prepared = Statement::prepare(db, sql);
  if (!prepared.is_ok()) {
    return Status::error(str_cat(kFunction, ": the query failed to prepare: ", prepared.status().message()));
  }
  Statement statement = std::move(prepared).value();
  sqlite3_stmt* stmt = statement.get();
  const int columns = sqlite3_column_count(stmt);
  if (columns == 0) return Status::error(str_cat(kFunction, ": the statement returns no columns; give it a SELECT"));
  if (!sqlite3_stmt_readonly(stmt)) {
    return Status::error(str_cat(kFunction, ": the statement must only read (a SELECT), not change the database"));
  }
  std::vector<parquet::ColumnSpec> specs;
  for (int c = 0; c < columns; ++c) {
    const char* name = sqlite3_column_name(stmt, c);
    specs.push_back({name ? name : "", columnar::storage_class_of_declared_type(sqlite3_column_decltype(stmt, c) ? sqlite3_column_decltype(stmt, c) : "")});
  }

  // A relative file: location is relative to the main database file's directory.
  target.location = tiering::resolve_file_location(target.location, database_directory(db, "main"));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<tiering::ObjectStore> store, tiering::open_object_store(target.location));
  store->set_cancellation(interrupt_check(db));  // Ctrl-C ends a wait on the network
  STRATA_ASSIGN_OR_RETURN(TemporaryFile temporary, TemporaryFile::create());
  parquet::FileDescriptorSink sink(temporary.fd());
  parquet::Writer writer(specs, options, sink);
  Status started = writer.start();
  if (!started.is_ok()) return Status::error(str_cat(kFunction, ": ", started.message()));
  std::vector<ValueView> row(static_cast<size_t>(columns));
  while (true) {
    Result<bool> has_row = statement.step();
    if (!has_row.is_ok()) return Status::error(str_cat(kFunction, ": the query failed: ", has_row.status().message()));
    if (!*has_row) break;
    for (int c = 0; c < columns; ++c) {
      // Through the column's sqlite3_value: the sqlite3_column_* calls take the connection's
      // mutex each, three times per text value. The value is unprotected, which is safe here:
      // this runs inside the calling statement's step, which holds the connection's mutex.
      sqlite3_value* column = sqlite3_column_value(stmt, c);
      ValueView& value = row[static_cast<size_t>(c)];
      switch (sqlite3_value_type(column)) {
        case SQLITE_INTEGER: value = ValueView::of_integer(sqlite3_value_int64(column)); break;
        case SQLITE_FLOAT: value = ValueView::of_real(sqlite3_value_double(column)); break;
        case SQLITE_TEXT: value = ValueView::of_text(value_text(column)); break;
        case SQLITE_BLOB: value = ValueView::of_blob(value_blob(column)); break;
        default: value = ValueView::null(); break;
      }
    }
    STRATA_RETURN_IF_ERROR(writer.append_row(row));
  }
  STRATA_RETURN_IF_ERROR(writer.finish());
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<tiering::FileSource> source, tiering::FileSource::open(temporary.path()));
  Result<tiering::ObjectInfo> stored = store->put(target.key, *source);
  if (!stored.is_ok()) return Status(stored.status().code(), str_cat(kFunction, ": ", stored.status().message()));
  return static_cast<int64_t>(writer.rows());
}

void parquet_export_function(sqlite3_context* context, int argc, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    for (int i = 0; i < 2; ++i) {
      if (sqlite3_value_type(argv[i]) != SQLITE_TEXT) {
        return Status::error(str_cat(kFunction, ": argument ", std::to_string(i + 1), " must be text (",
                                     i == 0 ? "the target, as in 'file:out/events.parquet'" : "a SELECT statement", ")"));
      }
    }
    std::string_view json;
    if (argc == 3 && sqlite3_value_type(argv[2]) != SQLITE_NULL) {
      if (sqlite3_value_type(argv[2]) != SQLITE_TEXT) {
        return Status::error(str_cat(kFunction, ": argument 3 must be JSON options text"));
      }
      json = value_text(argv[2]);
    }
    STRATA_ASSIGN_OR_RETURN(int64_t rows, export_query(sqlite3_context_db_handle(context), value_text(argv[0]),
                                                       value_text(argv[1]), json));
    sqlite3_result_int64(context, rows);
    return Status::ok();
  });
}

}  // namespace

Status register_parquet_export(sqlite3* db) {
  for (int arity : {2, 3}) {
    const int rc = sqlite3_create_function_v2(db, "parquet_export", arity, SQLITE_UTF8 | SQLITE_DIRECTONLY, nullptr,
                                              parquet_export_function, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return status_from_sqlite(db, rc, "parquet: registering parquet_export()");
  }
  return Status::ok();
}

}  // namespace strata::parquet_sql
