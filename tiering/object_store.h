// ObjectStore: where cold data lives, behind one small interface.
//
// In the spirit of LevelDB's Env: everything that reads or writes objects (the Parquet tier,
// parquet_export, the parquet virtual table) talks to this interface only, so a test can wrap
// any store with faults (tiering/fault_injecting_store.h) and the code above cannot tell.
//
//   Result<std::unique_ptr<ObjectStore>> store = open_object_store("file:/var/lake", settings);
//   STRATA_RETURN_IF_ERROR((*store)->put("events/dt=2024-01/a.parquet", FileSource(...)).status());
//   Result<std::string> footer = (*store)->get_range("events/dt=2024-01/a.parquet", size - 8, 8);
//
// Implementations: `file:DIR` (tiering/file_store.cpp, the embedded default) and
// `s3://bucket/prefix` (tiering/s3_store.cpp). Both keep the same contract:
//   - Keys are '/'-separated relative names: no empty segments, no "." or "..", no control
//     characters; anything else is refused with an error naming the key.
//   - put() makes the whole object visible at once or not at all; a failed put leaves no object
//     that could be taken for a whole one. WriteMode::kCreateOnly fails with kConstraint when
//     the key exists (atomically, where the backend can: link() for files, If-None-Match for S3).
//   - get()/get_range()/head() of a missing key fail with kNotFound; remove() of one succeeds.
//   - list() returns every key starting with the prefix, in byte order, however many there are.
//   - Errors say which store and key, and never contain credentials.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ext/status.h"

namespace strata::tiering {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // Changes whenever the object's content may have: S3's ETag (without quotes); for files, the
  // modification time and size (a version tag, not a hash).
  std::string etag;
  int64_t modified_unix_ms = 0;
};

// What put() writes: a size and random access to the bytes, so that a retry or one part of a
// multipart upload can read its part again.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Exactly into.size() bytes from `offset` (which with into.size() lies within size()).
  virtual Status read(uint64_t offset, std::span<char> into) const = 0;
};

// Bytes in memory (not owned: they must outlive the source).
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  Status read(uint64_t offset, std::span<char> into) const override;

 private:
  std::string_view bytes_;
};

// A local file, read with pread (so parts may be read in any order, from several threads).
class FileSource : public ByteSource {
 public:
  static Result<std::unique_ptr<FileSource>> open(const std::string& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, std::span<char> into) const override;

 private:
  FileSource(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  std::string path_;
  int fd_;
  uint64_t size_;
};

enum class WriteMode {
  kOverwrite,   // replace whatever is there
  kCreateOnly,  // fail (kConstraint) when the key exists
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Asked while a call waits on the network (and between retries): when it answers true, the
  // call ends promptly with kInterrupted, leaving nothing half written (puts are atomic). The
  // caller that knows why to stop sets it (a statement's sqlite3_interrupt); unset: never.
  void set_cancellation(std::function<bool()> cancelled) { cancelled_ = std::move(cancelled); }
  bool cancelled() const { return cancelled_ && cancelled_(); }

  // "file:/abs/dir" or "s3://bucket/prefix": for messages and for tier_partitions; no secrets.
  virtual std::string location() const = 0;

  virtual Result<ObjectInfo> put(std::string_view key, const ByteSource& body, WriteMode mode = WriteMode::kOverwrite) = 0;
  virtual Result<std::string> get(std::string_view key) = 0;
  // Bytes [offset, offset + length) of the object, cut short at its end; an offset past the end
  // is an error.
  virtual Result<std::string> get_range(std::string_view key, uint64_t offset, uint64_t length) = 0;
  // The object's size and version; kNotFound when there is none.
  virtual Result<ObjectInfo> head(std::string_view key) = 0;
  virtual Result<std::vector<ObjectInfo>> list(std::string_view prefix) = 0;
  virtual Status remove(std::string_view key) = 0;
  // Removes what writes that can no longer finish left below `prefix` and that no key names:
  // the file store's temporary files of processes that have ended. Elsewhere nothing (S3 puts
  // leave nothing behind).
  virtual Status tidy(std::string_view prefix) {
    (void)prefix;
    return Status::ok();
  }

 private:
  std::function<bool()> cancelled_;
};

// Checks a key against the rules above; the error names `location` and the key.
Status check_object_key(std::string_view location, std::string_view key);

// A key shown in a message: control characters escaped, so a hostile key cannot forge lines.
std::string printable_key(std::string_view key);

}  // namespace strata::tiering
