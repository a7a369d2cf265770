// AtomicOutput: temp name agreed across ranks, rename by rank 0 after a barrier.
#include "store/atomic_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "comm/agreement.hpp"
#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "store/file_util.hpp"

namespace tickstream {

void require_output_path(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::absolute(path).parent_path();
  TS_REQUIRE_INPUT(fs::is_directory(parent), "{}: output directory {} does not exist", path,
                   parent.string());
  TS_REQUIRE_INPUT(!fs::is_directory(path), "{}: is a directory, expected a file path", path);
}

namespace {

// Below this much free space a failed driver write is taken for a full filesystem (a store chunk is
// at most a few MiB).
constexpr int64_t kNearlyFull = int64_t{64} << 20;

// Temporary files of this output left by processes of this host that no longer run (SIGKILL, a
// crash: nothing could remove them): "<final>.tmp-<host>-<pid>". Another host's are left alone
// (its pids mean nothing here).
void remove_stale_temps(const std::string& final_path) {
  namespace fs = std::filesystem;
  const fs::path final_abs = fs::absolute(final_path);
  const std::string prefix = final_abs.filename().string() + ".tmp-" + host_name() + "-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(final_abs.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH) fs::remove(entry.path(), ec);
  }
}

// Copies `from` to `to` (created or truncated) in pieces of 8 MiB (copy_file_range, in the
// kernel; read/write where the filesystem has none) until done or `cancel` is set. Returns 0 or
// the errno of the failure (a short write: ENOSPC).
int copy_file_cancellable(const std::string& from, const std::string& to, const std::atomic<bool>& cancel) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno;
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return err;
  }
  constexpr size_t kPiece = size_t{8} << 20;
  std::vector<char> buffer;
  int err = 0;
  for (bool in_kernel = true; !cancel;) {
    ssize_t n = in_kernel ? ::copy_file_range(in, nullptr, out, nullptr, kPiece, 0) : -1;
    if (n < 0 && in_kernel && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
      in_kernel = false, buffer.resize(kPiece);
      continue;
    }
    if (!in_kernel) {
      n = ::read(in, buffer.data(), buffer.size());
      const ssize_t written = n > 0 ? ::write(out, buffer.data(), static_cast<size_t>(n)) : n;
      if (written != n) {
        err = written < 0 ? errno : ENOSPC;  // a short write: the filesystem is full
        break;
      }
    }
    if (n < 0) err = errno;
    if (n <= 0) break;
  }
  struct stat st {};
  if (err == 0 && ::fstat(in, &st) == 0 && ::fchmod(out, st.st_mode & 07777) != 0) err = errno;  // the source's mode
  if (::close(out) != 0 && err == 0) err = errno;
  ::close(in);
  return err;
}

}  // namespace

AtomicOutput::AtomicOutput(std::string final_path, comm::Communicator& comm)
    : final_(std::move(final_path)), comm_(comm) {
  require_output_path(final_);
  if (comm_.rank() == 0) remove_stale_temps(final_);
  const std::string mine = fmt::format("{}.tmp-{}-{}", final_, host_name(), getpid());
  temp_ = comm::broadcast_string(comm_, mine, 0);
  guard_ = std::make_unique<TempFileGuard>(temp_);
}

AtomicOutput::~AtomicOutput() {
  // Normally rank 0 cleans up. A rank unwinding from an exception removes the file too, since it
  // may be the only one left: main() then aborts the job and the other ranks die mid-write.
  cancel_copy_ = true;  // a copy in flight stops within one piece
  if (copy_.valid()) copy_.wait();  // (it would otherwise write the file again)
  if (committed_) return;
  if (comm_.rank() == 0 || std::uncaught_exceptions() > 0) std::remove(temp_.c_str());
}

void AtomicOutput::copy_from(const std::string& source) {
  if (!copy_.valid()) start_copy_from(source);
  finish_copy();
}

void AtomicOutput::start_copy_from(const std::string& source) {
  if (comm_.rank() != 0) return;
  copy_ = std::async(std::launch::async, [this, source] {
    const int err = copy_file_cancellable(source, temp_, cancel_copy_);
    if (err == 0) return;
    if (is_out_of_space(err) || free_bytes(temp_) < kNearlyFull) throw_out_of_space("copying " + source);
    TS_INPUT_ERROR("{}: cannot copy it to {}: {}", source, temp_, std::strerror(err));
  });
}

void AtomicOutput::finish_copy() {
  run_agreed(comm_, [&] {
    if (copy_.valid()) copy_.get();
  });
}

void AtomicOutput::write(const std::function<void()>& body) {
  try {
    body();
  } catch (const OutOfSpaceError& e) {
    throw_out_of_space(e.what());
  } catch (const InternalError& e) {
    // MPI-IO reports a failed write without errno: a driver write that failed on a nearly full
    // filesystem (less than kNearlyFull left) is taken for what it almost surely is.
    if (std::string_view(e.what()).find("H5FD_write()") == std::string_view::npos || free_bytes(temp_) >= kNearlyFull)
      throw;
    throw_out_of_space(e.what());
  }
}

void AtomicOutput::throw_out_of_space(const std::string& detail) const {
  throw OutOfSpaceError(fmt::format("{}: cannot write: {}: {}", final_, out_of_space_reason(temp_), detail), __FILE__,
                        __LINE__);
}

void AtomicOutput::commit() {
  comm_.barrier();  // every rank has closed the file
  run_agreed(comm_, [&] {
    if (comm_.rank() != 0) return;
    std::error_code ec;
    std::filesystem::rename(temp_, final_, ec);
    TS_CHECK(!ec, "cannot rename {} to {}: {}", temp_, final_, ec.message());
  });
  committed_ = true;
}

}  // namespace tickstream
