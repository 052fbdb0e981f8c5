#include "tiering/object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ext/str_cat.h"

namespace strata::tiering {

Status MemorySource::read(uint64_t offset, std::span<char> into) const {
  if (offset > bytes_.size() || into.size() > bytes_.size() - offset) {
    return Status::internal("object store: read past the end of an in-memory body");
  }
  std::copy_n(bytes_.data() + offset, into.size(), into.data());
  return Status::ok();
}

Result<std::unique_ptr<FileSource>> FileSource::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(str_cat("object store: cannot open '", path, "' to upload it: ", std::strerror(errno)));
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return Status::io_error(str_cat("object store: '", path, "' is not a regular file"));
  }
  return std::unique_ptr<FileSource>(new FileSource(path, fd, static_cast<uint64_t>(info.st_size)));
}

FileSource::~FileSource() { ::close(fd_); }

Status FileSource::read(uint64_t offset, std::span<char> into) const {
  size_t done = 0;
  while (done < into.size()) {
    ssize_t got = pread(fd_, into.data() + done, into.size() - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::io_error(str_cat("object store: reading '", path_, "' failed: ", std::strerror(errno)));
    if (got == 0) return Status::io_error(str_cat("object store: '", path_, "' became shorter while it was being uploaded"));
    done += static_cast<size_t>(got);
  }
  return Status::ok();
}

std::string printable_key(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Status check_object_key(std::string_view location, std::string_view key) {
  auto refuse = [&](std::string_view why) {
    return Status::error(str_cat("object store ", location, ": invalid key '", printable_key(key), "': ", why,
                                 " (keys are relative names of '/'-separated parts without '.', '..', empty parts or control characters)"));
  };
  if (key.empty()) return refuse("it is empty");
  if (key.size() > 1024) return refuse("it is longer than 1024 bytes");
  if (key.front() == '/') return refuse("it is absolute");
  for (char c : key) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return refuse("it holds a control character");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view part = key.substr(start, end - start);
    if (part.empty()) return refuse("it has an empty part");
    if (part == "." || part == "..") return refuse("it has a '.' or '..' part");
    start = end + 1;
  }
  return Status::ok();
}

}  // namespace strata::tiering
