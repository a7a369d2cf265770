// AtomicOutput: temp name agreed across ranks, rename by rank 0 after a barrier.
#include "store/atomic_output.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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
  if (copy_.valid()) copy_.wait();  // a copy in flight would create the file again
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
    std::error_code ec;
    std::filesystem::copy_file(source, temp_, std::filesystem::copy_options::overwrite_existing, ec);
    if (!ec) return;
    // (libstdc++ reports a short copy as EIO: a nearly full filesystem tells what it was)
    if (is_out_of_space(ec.value()) || free_bytes(temp_) < kNearlyFull) throw_out_of_space("copying " + source);
    TS_INPUT_ERROR("{}: cannot copy it to {}: {}", source, temp_, ec.message());
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
