// Preemption signals: SIGTERM / SIGUSR1 request a checkpoint and a clean exit (Slurm preemption).
#pragma once

#include <signal.h>

namespace tickstream {

// Installs handlers for SIGTERM and SIGUSR1 for the lifetime of the guard (the previous handlers
// come back in the destructor). The handlers only record the signal; the trainer polls it once per
// step and every rank agrees on it, so all ranks stop at the same step. A guard made while another
// is installed keeps the signal already recorded: `train` installs one before start-up (loading
// libtorch, the data), so a preemption signal then stops training before its first step.
class StopSignalGuard {
 public:
  StopSignalGuard();
  ~StopSignalGuard();
  StopSignalGuard(const StopSignalGuard&) = delete;
  StopSignalGuard& operator=(const StopSignalGuard&) = delete;

  // The signal received since the guard was installed (0 = none).
  int received() const;

 private:
  struct sigaction old_term_ {}, old_usr1_ {};
};

}  // namespace tickstream
