#include "store/detail/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace grove::store::detail {
namespace {

constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;

std::error_code os_failure(Failure& f, const std::string& what, int err) {
  return set_failure(f, errc::io_error, what + ": " + std::strerror(err));
}

// An empty file is a new store. Anything else must start with a whole SQLite header: SQLite
// itself takes a file shorter than that for an empty database (a 1-byte file opens as a new,
// writable database) and would overwrite it.
std::error_code check_header(int fd, const std::string& path, Failure& f) {
  static constexpr char kMagic[16] = "SQLite format 3";  // with its NUL, sqlite.org/fileformat
  constexpr std::size_t kHeaderSize = 100;
  char header[kHeaderSize];
  std::size_t got = 0;
  while (got < kHeaderSize) {
    const ssize_t n = ::pread(fd, header + got, kHeaderSize - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_failure(f, "read " + path, errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got == 0) return {};
  if (got < kHeaderSize || std::memcmp(header, kMagic, sizeof kMagic) != 0) {
    return set_failure(f, errc::corrupt, path + ": file is not a database (no SQLite header)");
  }
  return {};
}

}  // namespace

std::error_code prepare_files(const std::string& path, Failure& f) {
  namespace fs = std::filesystem;
  // Collect the missing ancestors, outermost first, then create each one ourselves: only the
  // folders this call creates get 0700.
  std::vector<fs::path> missing;
  for (fs::path p = fs::path(path).parent_path(); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) break;
    if (errno != ENOENT) return os_failure(f, "stat " + p.string(), errno);
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), kDirMode) != 0 && errno != EEXIST) {
      return os_failure(f, "mkdir " + it->string(), errno);
    }
    if (::chmod(it->c_str(), kDirMode) != 0) return os_failure(f, "chmod " + it->string(), errno);
  }

  // O_NOFOLLOW: a symlink planted in place of the store is refused, not followed.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, kFileMode);
  if (fd < 0) return os_failure(f, "open " + path, errno);
  std::error_code ec;
  if (::fchmod(fd, kFileMode) != 0) ec = os_failure(f, "chmod " + path, errno);
  if (!ec) ec = check_header(fd, path, f);
  ::close(fd);
  return ec;
}

std::error_code protect_wal_files(const std::string& path, Failure& f) {
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string p = path + suffix;
    if (::chmod(p.c_str(), kFileMode) != 0 && errno != ENOENT) {
      return os_failure(f, "chmod " + p, errno);
    }
  }
  return {};
}

}  // namespace grove::store::detail
