#include "tiering/file_store.h"

#include <dirent.h>
#include <signal.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "ext/str_cat.h"

namespace strata::tiering {

namespace {

constexpr std::string_view kTemporaryPrefix = ".strata-tmp-";
constexpr size_t kCopyBytes = 1 << 20;

// Temporary files are named ".strata-tmp-<pid>-XXXXXX": one whose process has ended belongs to
// a put that was killed, and is removed by the next put into its directory or by tidy().
void remove_abandoned_temporaries(const std::string& directory) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return;
  const long self = static_cast<long>(::getpid());
  while (struct dirent* item = ::readdir(dir)) {
    std::string_view name(item->d_name);
    if (!name.starts_with(kTemporaryPrefix)) continue;
    std::string_view rest = name.substr(kTemporaryPrefix.size());
    const size_t dash = rest.find('-');
    if (dash == std::string_view::npos || dash == 0) continue;
    long pid = 0;
    for (char c : rest.substr(0, dash)) {
      if (c < '0' || c > '9' || pid > 100000000) {
        pid = -1;
        break;
      }
      pid = pid * 10 + (c - '0');
    }
    if (pid <= 0 || pid == self) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlinkat(::dirfd(dir), item->d_name, 0);
  }
  ::closedir(dir);
}

// Closes a descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string version_tag(const struct stat& info) {
  char tag[64];
  std::snprintf(tag, sizeof tag, "%llx-%llx", static_cast<unsigned long long>(info.st_mtim.tv_sec) * 1000000000ULL + info.st_mtim.tv_nsec,
                static_cast<unsigned long long>(info.st_size));
  return tag;
}

ObjectInfo info_of(std::string key, const struct stat& info) {
  return ObjectInfo{std::move(key), static_cast<uint64_t>(info.st_size), version_tag(info),
                    static_cast<int64_t>(info.st_mtim.tv_sec) * 1000 + info.st_mtim.tv_nsec / 1000000};
}

Status sync_directory(const std::string& directory) {
  FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || fsync(fd.get()) != 0) return Status::io_error(str_cat("file store: syncing directory '", directory, "' failed: ", std::strerror(errno)));
  return Status::ok();
}

// 0, or the errno of the read that failed.
int read_fully(int fd, uint64_t offset, uint64_t length, std::string* out) {
  out->resize(length);
  uint64_t done = 0;
  while (done < length) {
    ssize_t got = pread(fd, out->data() + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errno;
    if (got == 0) break;  // shorter than its size said: replaced meanwhile
    done += static_cast<uint64_t>(got);
  }
  out->resize(done);
  return 0;
}

}  // namespace

Result<std::unique_ptr<FileStore>> FileStore::open(const std::string& directory, bool create_directory) {
  if (directory.empty()) return Status::error("file store: the location 'file:' needs a directory, as in 'file:lake' or 'file:/var/lake'");
  std::error_code error;
  if (!create_directory) {
    if (!std::filesystem::exists(directory, error)) {
      return Status::not_found(str_cat("file store: no directory '", directory, "'"));
    }
  } else {
    std::filesystem::create_directories(directory, error);
  }
  if (error) return Status::io_error(str_cat("file store: cannot create directory '", directory, "': ", error.message()));
  std::filesystem::path absolute = std::filesystem::absolute(directory, error);
  if (error) return Status::io_error(str_cat("file store: cannot resolve directory '", directory, "': ", error.message()));
  std::string root = absolute.lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (!std::filesystem::is_directory(root, error)) return Status::io_error(str_cat("file store: '", root, "' is not a directory"));
  return std::unique_ptr<FileStore>(new FileStore(std::move(root)));
}

Status FileStore::check_key(std::string_view key) const {
  STRATA_RETURN_IF_ERROR(check_object_key(location(), key));
  size_t start = 0;
  while (start < key.size()) {
    size_t end = std::min(key.find('/', start), key.size());
    if (key.substr(start, end - start).starts_with(kTemporaryPrefix)) {
      return Status::error(str_cat("object store ", location(), ": invalid key '", printable_key(key), "': parts starting with '",
                                   kTemporaryPrefix, "' are the file store's temporary files"));
    }
    start = end + 1;
  }
  return Status::ok();
}

Status FileStore::failure(std::string_view doing, std::string_view key, int error) const {
  return Status::io_error(str_cat("object store ", location(), ": ", doing, " '", printable_key(key), "' failed: ", std::strerror(error)));
}

Status FileStore::make_parents(std::string_view key) const {
  size_t slash = key.find('/');
  while (slash != std::string_view::npos) {
    std::string directory = path_of(key.substr(0, slash));
    if (::mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) return failure("creating the directory for", key, errno);
    struct stat info {};
    if (::lstat(directory.c_str(), &info) != 0) return failure("creating the directory for", key, errno);
    if (!S_ISDIR(info.st_mode)) {
      return Status::io_error(str_cat("object store ", location(), ": cannot write '", printable_key(key), "': '",
                                      printable_key(key.substr(0, slash)), "' is an object, not a prefix of one"));
    }
    slash = key.find('/', slash + 1);
  }
  return Status::ok();
}

Result<ObjectInfo> FileStore::put(std::string_view key, const ByteSource& body, WriteMode mode) {
  STRATA_RETURN_IF_ERROR(check_key(key));
  STRATA_RETURN_IF_ERROR(make_parents(key));
  const std::string target = path_of(key);
  const std::string directory = target.substr(0, target.rfind('/'));
  remove_abandoned_temporaries(directory);
  std::string temporary = str_cat(directory, "/", kTemporaryPrefix, std::to_string(::getpid()), "-XXXXXX");
  FileDescriptor fd(mkostemp(temporary.data(), O_CLOEXEC));
  if (fd.get() < 0) return failure("creating a temporary file for", key, errno);
  bool keep_temporary = false;
  struct RemoveTemporary {
    const std::string& path;
    const bool& keep;
    ~RemoveTemporary() {
      if (!keep) ::unlink(path.c_str());
    }
  } remove_temporary{temporary, keep_temporary};

  std::vector<char> buffer(static_cast<size_t>(std::min<uint64_t>(kCopyBytes, std::max<uint64_t>(body.size(), 1))));
  for (uint64_t offset = 0; offset < body.size();) {
    size_t piece = static_cast<size_t>(std::min<uint64_t>(buffer.size(), body.size() - offset));
    STRATA_RETURN_IF_ERROR(body.read(offset, std::span<char>(buffer.data(), piece)));
    size_t written = 0;
    while (written < piece) {
      ssize_t wrote = ::write(fd.get(), buffer.data() + written, piece - written);
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote < 0) return failure("writing", key, errno);
      written += static_cast<size_t>(wrote);
    }
    offset += piece;
  }
  if (fchmod(fd.get(), 0644) != 0) return failure("writing", key, errno);
  if (fsync(fd.get()) != 0) return failure("syncing", key, errno);
  struct stat info {};
  if (fstat(fd.get(), &info) != 0) return failure("writing", key, errno);
  if (static_cast<uint64_t>(info.st_size) != body.size()) {
    return Status::io_error(str_cat("object store ", location(), ": writing '", printable_key(key), "' stored ",
                                    std::to_string(info.st_size), " bytes instead of ", std::to_string(body.size())));
  }
  if (::close(fd.release()) != 0) return failure("writing", key, errno);

  if (mode == WriteMode::kCreateOnly) {
    // link() fails when the target exists: an atomic create-if-absent.
    if (::link(temporary.c_str(), target.c_str()) != 0) {
      if (errno == EEXIST) {
        return Status::constraint(str_cat("object store ", location(), ": '", printable_key(key), "' already exists"));
      }
      return failure("creating", key, errno);
    }
  } else {
    if (::rename(temporary.c_str(), target.c_str()) != 0) return failure("renaming into place", key, errno);
    keep_temporary = true;  // it is the target now
  }
  STRATA_RETURN_IF_ERROR(sync_directory(directory));
  return info_of(std::string(key), info);
}

Result<int> FileStore::open_object(std::string_view key) const {
  STRATA_RETURN_IF_ERROR(check_key(key));
  int fd = ::open(path_of(key).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return Status::not_found(str_cat("object store ", location(), ": no object '", printable_key(key), "'"));
    }
    if (errno == ELOOP) return Status::io_error(str_cat("object store ", location(), ": '", printable_key(key), "' is a symbolic link"));
    return failure("opening", key, errno);
  }
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return Status::not_found(str_cat("object store ", location(), ": no object '", printable_key(key), "' (it is a prefix)"));
  }
  return fd;
}

Result<std::string> FileStore::get(std::string_view key) {
  STRATA_ASSIGN_OR_RETURN(int raw_fd, open_object(key));
  FileDescriptor fd(raw_fd);
  struct stat info {};
  if (fstat(fd.get(), &info) != 0) return failure("reading", key, errno);
  std::string bytes;
  if (int error = read_fully(fd.get(), 0, static_cast<uint64_t>(info.st_size), &bytes)) return failure("reading", key, error);
  return bytes;
}

Result<std::string> FileStore::get_range(std::string_view key, uint64_t offset, uint64_t length) {
  STRATA_ASSIGN_OR_RETURN(int raw_fd, open_object(key));
  FileDescriptor fd(raw_fd);
  struct stat info {};
  if (fstat(fd.get(), &info) != 0) return failure("reading", key, errno);
  const auto size = static_cast<uint64_t>(info.st_size);
  if (offset > size) {
    return Status::error(str_cat("object store ", location(), ": range starting at byte ", std::to_string(offset), " is past the end of '",
                                 printable_key(key), "' (", std::to_string(size), " bytes)"));
  }
  std::string bytes;
  if (int error = read_fully(fd.get(), offset, std::min(length, size - offset), &bytes)) return failure("reading", key, error);
  return bytes;
}

Result<ObjectInfo> FileStore::head(std::string_view key) {
  STRATA_RETURN_IF_ERROR(check_key(key));
  struct stat info {};
  if (::lstat(path_of(key).c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return Status::not_found(str_cat("object store ", location(), ": no object '", printable_key(key), "'"));
    }
    return failure("looking up", key, errno);
  }
  if (!S_ISREG(info.st_mode)) return Status::not_found(str_cat("object store ", location(), ": no object '", printable_key(key), "'"));
  return info_of(std::string(key), info);
}

Result<std::vector<ObjectInfo>> FileStore::list(std::string_view prefix) {
  for (char c : prefix) {
    if (static_cast<unsigned char>(c) < 0x20) return Status::error(str_cat("object store ", location(), ": a list prefix cannot hold control characters"));
  }
  // Walk only the deepest directory the prefix names whole.
  size_t slash = prefix.rfind('/');
  std::string start = slash == std::string_view::npos ? root_ : path_of(prefix.substr(0, slash));
  std::vector<ObjectInfo> objects;
  std::error_code error;
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(start, error))) return objects;
  std::filesystem::recursive_directory_iterator walk(start, std::filesystem::directory_options::none, error);
  if (error) return Status::io_error(str_cat("object store ", location(), ": listing '", printable_key(prefix), "' failed: ", error.message()));
  for (auto end = std::filesystem::recursive_directory_iterator(); walk != end; walk.increment(error)) {
    if (error) return Status::io_error(str_cat("object store ", location(), ": listing '", printable_key(prefix), "' failed: ", error.message()));
    const std::filesystem::directory_entry& entry = *walk;
    std::string name = entry.path().filename().string();
    if (std::string_view(name).starts_with(kTemporaryPrefix)) continue;
    if (!entry.is_regular_file(error) || entry.is_symlink(error)) continue;
    std::string key = entry.path().string().substr(root_.size() + 1);
    if (!std::string_view(key).starts_with(prefix)) continue;
    struct stat info {};
    if (::lstat(entry.path().c_str(), &info) != 0) continue;  // removed while listing
    objects.push_back(info_of(std::move(key), info));
  }
  std::sort(objects.begin(), objects.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return objects;
}

Status FileStore::tidy(std::string_view prefix) {
  // The directories at and below the prefix's last '/'.
  const std::string start = prefix.rfind('/') == std::string_view::npos
                                ? root_
                                : str_cat(root_, "/", prefix.substr(0, prefix.rfind('/')));
  std::error_code error;
  if (!std::filesystem::is_directory(start, error)) return Status::ok();
  remove_abandoned_temporaries(start);
  for (auto walk = std::filesystem::recursive_directory_iterator(start, error);
       !error && walk != std::filesystem::recursive_directory_iterator(); walk.increment(error)) {
    if (walk->is_directory(error) && !walk->is_symlink(error)) remove_abandoned_temporaries(walk->path().string());
  }
  return Status::ok();
}

Status FileStore::remove(std::string_view key) {
  STRATA_RETURN_IF_ERROR(check_key(key));
  const std::string path = path_of(key);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::ok();
    if (errno == EISDIR) return Status::ok();  // a prefix, not an object
    return failure("removing", key, errno);
  }
  // Tidy away directories the key's parts made and that are now empty (rmdir fails on others);
  // then make the removal durable in the deepest directory left.
  std::string directory = path.substr(0, path.rfind('/'));
  while (directory.size() > root_.size() && ::rmdir(directory.c_str()) == 0) directory.resize(directory.rfind('/'));
  return sync_directory(directory);
}

}  // namespace strata::tiering
