#include "tiering/partition_object.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <charconv>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "ext/str_cat.h"

namespace strata::tiering {

namespace {

bool unreserved(unsigned char byte) {
  return (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') ||
         byte == '.' || byte == '_' || byte == '-';
}

Status read_exactly(int fd, uint64_t offset, char* into, size_t length, const std::string& path) {
  size_t done = 0;
  while (done < length) {
    const ssize_t got = ::pread(fd, into + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return Status::io_error(str_cat("tiering: reading back '", path, "' failed"));
    done += static_cast<size_t>(got);
  }
  return Status::ok();
}

}  // namespace

std::string escape_path_segment(std::string_view text) {
  std::string out;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char byte : text) {
    if (unreserved(byte)) {
      out += static_cast<char>(byte);
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string hive_directory(std::string_view name, const ValueView& value) {
  std::string text;
  switch (value.type) {
    case ValueType::kNull: return str_cat(escape_path_segment(name), "=__HIVE_DEFAULT_PARTITION__");
    case ValueType::kInteger: text = std::to_string(value.integer); break;
    case ValueType::kReal: {
      char buffer[32];
      auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value.real);
      text.assign(buffer, error == std::errc() ? end : buffer);
      break;
    }
    default: text.assign(value.bytes); break;
  }
  return str_cat(escape_path_segment(name), "=", escape_path_segment(text));
}

Result<std::string> fresh_object_name() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::io_error("tiering: no random bytes for an object name");
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) name += '-';
    name += kHex[bytes[i] >> 4];
    name += kHex[bytes[i] & 15];
  }
  return name + ".parquet";
}

Result<PartitionObject> PartitionObject::create(std::vector<parquet::ColumnSpec> columns,
                                                parquet::WriterOptions options) {
  std::error_code error;
  std::filesystem::path directory = std::filesystem::temp_directory_path(error);
  if (error) directory = "/tmp";
  std::string pattern = (directory / "strata-flush-XXXXXX").string();
  PartitionObject object;
  object.fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (object.fd_ < 0) {
    return Status::io_error(str_cat("tiering: cannot create a temporary file in ", directory.string(), ": ",
                                    std::strerror(errno)));
  }
  object.path_ = pattern;
  object.sink_ = std::make_unique<parquet::FileDescriptorSink>(object.fd_);
  object.writer_ = std::make_unique<parquet::Writer>(std::move(columns), std::move(options), *object.sink_);
  STRATA_RETURN_IF_ERROR(object.writer_->start());
  return object;
}

PartitionObject::PartitionObject(PartitionObject&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), sink_(std::move(other.sink_)),
      writer_(std::move(other.writer_)), size_(other.size_), footer_(std::move(other.footer_)) {
  other.fd_ = -1;
  other.path_.clear();
}

PartitionObject::~PartitionObject() {
  writer_.reset();  // waits for its helper thread, which may still write to the file
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

Status PartitionObject::append_chunk(std::vector<ColumnVector> columns, std::vector<std::string> blooms) {
  return writer_->append_row_group(std::move(columns), std::move(blooms));
}

Status PartitionObject::finish() {
  STRATA_RETURN_IF_ERROR(writer_->finish());
  if (::fsync(fd_) != 0) return Status::io_error(str_cat("tiering: syncing '", path_, "' failed: ", std::strerror(errno)));
  const off_t end = ::lseek(fd_, 0, SEEK_END);
  if (end < 12) return Status::internal("tiering: the Parquet file is too short");
  size_ = static_cast<uint64_t>(end);
  char tail[8];
  STRATA_RETURN_IF_ERROR(read_exactly(fd_, size_ - 8, tail, sizeof tail, path_));
  uint32_t length = 0;
  for (int i = 3; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(tail[i]);
  if (uint64_t{length} + 12 > size_) return Status::internal("tiering: the Parquet footer length is wrong");
  footer_.resize(length);
  return read_exactly(fd_, size_ - 8 - length, footer_.data(), length, path_);
}

Result<ObjectInfo> upload_verified(ObjectStore& store, std::string_view key, const PartitionObject& object) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> body, FileSource::open(object.path()));
  if (body->size() != object.size()) return Status::internal("tiering: the local object changed size");
  STRATA_ASSIGN_OR_RETURN(ObjectInfo written, store.put(key, *body, WriteMode::kCreateOnly));
  auto damaged = [&](std::string_view what) {
    return Status::io_error(str_cat(store.location(), ": object ", printable_key(key), " was uploaded but ", what));
  };
  STRATA_ASSIGN_OR_RETURN(ObjectInfo stored, store.head(key));
  if (stored.size != object.size()) {
    return damaged(str_cat("holds ", std::to_string(stored.size), " bytes, not ", std::to_string(object.size())));
  }
  if (!written.etag.empty() && stored.etag != written.etag) {
    return damaged(str_cat("its version tag is ", stored.etag, ", not the ", written.etag, " the upload returned"));
  }
  const uint64_t footer_at = object.size() - 8 - object.footer().size();
  STRATA_ASSIGN_OR_RETURN(std::string footer, store.get_range(key, footer_at, object.footer().size()));
  if (footer != object.footer()) return damaged("its footer differs from the one written");
  return stored;
}

}  // namespace strata::tiering
