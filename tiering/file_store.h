// FileStore: `file:DIR`, the embedded default object store — a directory of plain files.
//
// A key maps to DIR/key. A put writes a temporary file beside the target (named
// ".strata-tmp-…", which no key may use and list() never shows), fsyncs it, then renames it over
// the target (kOverwrite) or links it to the target, which fails if the target exists
// (kCreateOnly), and fsyncs the directory: after a crash the key holds the old object or the new
// one, never a part. list() does not follow symbolic links and reads refuse a key that is one.
#pragma once

#include <memory>
#include <string>

#include "tiering/object_store.h"

namespace strata::tiering {

class FileStore : public ObjectStore {
 public:
  // `directory` is created if missing (with its parents), unless `create_directory` is false:
  // then a missing directory is kNotFound (a reader should not make directories).
  static Result<std::unique_ptr<FileStore>> open(const std::string& directory, bool create_directory = true);

  std::string location() const override { return "file:" + root_; }
  Result<ObjectInfo> put(std::string_view key, const ByteSource& body, WriteMode mode = WriteMode::kOverwrite) override;
  Result<std::string> get(std::string_view key) override;
  Result<std::string> get_range(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<ObjectInfo> head(std::string_view key) override;
  Result<std::vector<ObjectInfo>> list(std::string_view prefix) override;
  Status remove(std::string_view key) override;
  Status tidy(std::string_view prefix) override;

 private:
  explicit FileStore(std::string root) : root_(std::move(root)) {}
  Status check_key(std::string_view key) const;
  std::string path_of(std::string_view key) const { return root_ + "/" + std::string(key); }
  Status make_parents(std::string_view key) const;
  Status failure(std::string_view doing, std::string_view key, int error) const;
  // Opens the object for reading: a regular file (not a link) below the root.
  Result<int> open_object(std::string_view key) const;

  std::string root_;  // absolute, without a trailing '/'
};

}  // namespace strata::tiering
