// AtomicOutput: temp name agreed across ranks, rename by rank 0 after a barrier.
#include "store/atomic_output.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "comm/agreement.hpp"
#include "comm/collectives.hpp"
#include "core/error.hpp"

namespace tickstream {

void require_output_path(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::absolute(path).parent_path();
  TS_REQUIRE_INPUT(fs::is_directory(parent), "{}: output directory {} does not exist", path,
                   parent.string());
  TS_REQUIRE_INPUT(!fs::is_directory(path), "{}: is a directory, expected a file path", path);
}

namespace {

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
  if (committed_) return;
  if (comm_.rank() == 0 || std::uncaught_exceptions() > 0) std::remove(temp_.c_str());
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
