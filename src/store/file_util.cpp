// Atomic whole-file writes: unique temp name, checked write and close, optional fsync, rename.
#include "store/file_util.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.hpp"
#include "runtime/temp_files.hpp"
#include "store/atomic_output.hpp"

namespace tickstream {
namespace {

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void sync_directory(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  return fmt::format("{:.{}f} {}", bytes, u == 0 ? 0 : 1, units[u]);
}

std::string directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return (parent.empty() ? std::filesystem::path(".") : parent).string();
}

}  // namespace

bool is_out_of_space(int err) { return err == ENOSPC || err == EDQUOT; }

int64_t free_bytes(const std::string& path) {
  struct statvfs fs {};
  if (::statvfs(directory_of(path).c_str(), &fs) != 0) return INT64_MAX;
  return static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
}

std::string out_of_space_reason(const std::string& path) {
  const std::string dir = directory_of(path);
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return fmt::format("no space left on device (in {})", dir);
  return fmt::format("no space left on device ({} free of {} on the filesystem holding {})",
                     human_bytes(static_cast<double>(fs.f_bavail) * fs.f_frsize),
                     human_bytes(static_cast<double>(fs.f_blocks) * fs.f_frsize), dir);
}

void write_file_atomically(const std::string& path, const std::string& text, bool durable) {
  require_output_path(path);
  const std::string tmp = fmt::format("{}.tmp-{}", path, getpid());
  const TempFileGuard guard(tmp);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && write_all(fd, text) && (!durable || ::fsync(fd) == 0);
  const int err = ok ? 0 : errno;
  if (fd >= 0) ok = (::close(fd) == 0) && ok;
  std::error_code ec;
  if (!ok || (std::filesystem::rename(tmp, path, ec), ec)) {
    std::remove(tmp.c_str());
    if (is_out_of_space(err)) TS_INPUT_ERROR("{}: cannot write: {}", path, out_of_space_reason(path));
    TS_INPUT_ERROR("{}: cannot write ({})", path, std::strerror(err ? err : EIO));
  }
  if (durable) sync_directory(path);
}

}  // namespace tickstream
