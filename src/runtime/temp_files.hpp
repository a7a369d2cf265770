// Temporary output files that must not outlive a terminated job. When one rank dies, the launcher
// ends the others with SIGTERM (then SIGKILL: Open MPI after 1 s, Slurm after KillWait); the
// handler installed here removes every temporary file this process registered, then dies of that
// signal. So a killed job leaves neither a final nor a temporary output file.
#pragma once

#include <string>

namespace tickstream {

// Registers `path` for removal on termination for the guard's lifetime (the file itself is the
// caller's: the guard never removes it on a normal exit). At most 64 at once per process.
class TempFileGuard {
 public:
  explicit TempFileGuard(const std::string& path);
  ~TempFileGuard();
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;

 private:
  int slot_ = -1;
};

// Installs the SIGTERM, SIGINT and SIGHUP handler that removes the registered files and re-raises
// the signal with its default action. The RankContext installs it once per process; a training
// run's StopSignalGuard takes SIGTERM over for its lifetime (a preemption checkpoints instead).
void install_temp_file_cleanup();

}  // namespace tickstream
