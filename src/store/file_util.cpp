// Atomic whole-file writes: unique temp name, checked write and close, optional fsync, rename.
#include "store/file_util.hpp"

#include <fcntl.h>
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

}  // namespace

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
    TS_INPUT_ERROR("{}: cannot write ({})", path, std::strerror(err ? err : EIO));
  }
  if (durable) sync_directory(path);
}

}  // namespace tickstream
