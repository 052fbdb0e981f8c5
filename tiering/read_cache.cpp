#include "tiering/read_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <map>
#include <memory>
#include <vector>

#include "codecs/checksum.h"
#include "ext/str_cat.h"
#include "tiering/digest.h"

namespace strata::tiering {

namespace {

constexpr std::string_view kEntrySuffix = ".range";

bool read_file(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  struct stat info {};
  bool ok = fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  if (ok) {
    out.resize(static_cast<size_t>(info.st_size));
    size_t done = 0;
    while (ok && done < out.size()) {
      ssize_t got = ::read(fd, out.data() + done, out.size() - done);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) ok = false; else done += static_cast<size_t>(got);
    }
  }
  ::close(fd);
  return ok;
}

bool write_file(const std::string& path, std::string_view body) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = true;
  while (ok && !body.empty()) {
    ssize_t written = ::write(fd, body.data(), body.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) ok = false; else body.remove_prefix(static_cast<size_t>(written));
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) ::unlink(path.c_str());
  return ok;
}

struct EntryFile {
  std::string path;
  uint64_t bytes;
  struct timespec modified;
};

std::vector<EntryFile> scan(const std::string& directory) {
  std::vector<EntryFile> entries;
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return entries;
  while (struct dirent* item = ::readdir(dir)) {
    std::string_view name(item->d_name);
    if (!name.ends_with(kEntrySuffix)) continue;
    std::string path = str_cat(directory, "/", name);
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    entries.push_back({std::move(path), static_cast<uint64_t>(info.st_size), info.st_mtim});
  }
  ::closedir(dir);
  return entries;
}

}  // namespace

ReadCache& ReadCache::at(const std::string& directory) {
  static std::mutex registry_mutex;
  static auto* registry = new std::map<std::string, std::unique_ptr<ReadCache>>();  // lives as long as the process
  std::lock_guard lock(registry_mutex);
  std::unique_ptr<ReadCache>& cache = (*registry)[directory];
  if (!cache) cache.reset(new ReadCache(directory));
  return *cache;
}

namespace {
std::mutex configured_mutex;
std::optional<std::string>& configured() {
  static auto* directory = new std::optional<std::string>();
  return *directory;
}
}  // namespace

void ReadCache::configure(const std::string& directory, uint64_t capacity_bytes) {
  at(directory).set_capacity(capacity_bytes);
  std::lock_guard lock(configured_mutex);
  configured() = directory;
}

std::optional<std::string> ReadCache::configured_directory() {
  std::lock_guard lock(configured_mutex);
  return configured();
}

std::string ReadCache::entry_name(std::string_view location, std::string_view key, std::string_view etag,
                                  uint64_t offset, uint64_t length) {
  std::string identity = str_cat(location, std::string_view("\0", 1), key, std::string_view("\0", 1), etag,
                                 std::string_view("\0", 1), std::to_string(offset), ":", std::to_string(length));
  return hex(sha256(identity)) + std::string(kEntrySuffix);
}

std::optional<std::string> ReadCache::get(const std::string& name) {
  const std::string path = str_cat(directory_, "/", name);
  std::string stored;
  if (!read_file(path, stored)) return std::nullopt;
  std::optional<std::string_view> bytes = without_checksum(stored);
  if (!bytes) {
    ::unlink(path.c_str());  // truncated or damaged: fetched again
    return std::nullopt;
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // most recently used
  return std::string(*bytes);
}

void ReadCache::put(const std::string& name, std::string_view bytes) {
  std::lock_guard lock(mutex_);
  if (bytes.size() + kChecksumBytes > capacity_) return;
  ::mkdir(directory_.c_str(), 0700);
  const std::string path = str_cat(directory_, "/", name);
  const std::string temporary = str_cat(path, ".tmp-", std::to_string(::getpid()));
  if (!write_file(temporary, with_checksum(bytes))) return;
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return;
  }
  if (stored_) *stored_ += bytes.size() + kChecksumBytes;
  if (!stored_ || *stored_ > capacity_) evict_locked();
}

void ReadCache::evict_locked() {
  std::vector<EntryFile> entries = scan(directory_);
  uint64_t total = 0;
  for (const EntryFile& entry : entries) total += entry.bytes;
  if (total > capacity_) {
    std::sort(entries.begin(), entries.end(), [](const EntryFile& a, const EntryFile& b) {
      return a.modified.tv_sec != b.modified.tv_sec ? a.modified.tv_sec < b.modified.tv_sec
                                                    : a.modified.tv_nsec < b.modified.tv_nsec;
    });
    for (const EntryFile& entry : entries) {
      if (total <= capacity_) break;
      if (::unlink(entry.path.c_str()) == 0 || errno == ENOENT) total -= entry.bytes;
    }
  }
  stored_ = total;
}

void ReadCache::set_capacity(uint64_t bytes) {
  std::lock_guard lock(mutex_);
  capacity_ = bytes;
  evict_locked();
}

uint64_t ReadCache::capacity() const {
  std::lock_guard lock(mutex_);
  return capacity_;
}

uint64_t ReadCache::stored_bytes() {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const EntryFile& entry : scan(directory_)) total += entry.bytes;
  stored_ = total;
  return total;
}

std::optional<uint64_t> parse_byte_size(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  size_t digits = 0;
  uint64_t number = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    if (number > (UINT64_MAX - 9) / 10) return std::nullopt;
    number = number * 10 + static_cast<uint64_t>(text[digits] - '0');
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  std::string unit;
  for (char c : text.substr(digits)) {
    if (!std::isspace(static_cast<unsigned char>(c))) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  static const std::map<std::string, uint64_t> kUnits = {
      {"", 1}, {"b", 1}, {"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
      {"tb", uint64_t{1000} * 1000 * 1000 * 1000}, {"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", uint64_t{1} << 30},
      {"tib", uint64_t{1} << 40}};
  auto found = kUnits.find(unit);
  if (found == kUnits.end()) return std::nullopt;
  if (number > UINT64_MAX / found->second) return std::nullopt;
  return number * found->second;
}

parquet::RangeReader cached_range_reader(ObjectStore& store, ReadCache* cache, std::string key, std::string etag,
                                         ReadCounters& counters) {
  return [&store, cache, key = std::move(key), etag = std::move(etag), &counters](uint64_t offset,
                                                                               uint64_t length) -> Result<std::string> {
    std::string name;
    if (cache != nullptr) {
      name = ReadCache::entry_name(store.location(), key, etag, offset, length);
      if (std::optional<std::string> hit = cache->get(name); hit && hit->size() == length) {
        ++counters.cache_hits;
        return std::move(*hit);
      }
    }
    ++counters.requests;
    STRATA_ASSIGN_OR_RETURN(std::string bytes, store.get_range(key, offset, length));
    counters.bytes_fetched += bytes.size();
    if (bytes.size() != length) {
      return Status::corruption("it ends before byte " + std::to_string(offset + length) +
                                ", which its recorded footer names (replaced or truncated?)");
    }
    if (cache != nullptr) cache->put(name, bytes);
    return bytes;
  };
}

}  // namespace strata::tiering
