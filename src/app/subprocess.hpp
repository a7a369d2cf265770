// Runs a child process with captured stdout and a timeout (benchmarks launch mpirun and python).
#pragma once

#include <string>
#include <vector>

namespace tickstream {

struct ProcessResult {
  int exit_code = -1;   // -1 when killed by a signal or the timeout
  bool timed_out = false;
  std::string out;      // captured stdout (stderr is inherited)
  double seconds = 0;   // wall time from spawn to exit
};

// Spawns argv[0] (PATH lookup) with `argv`; kills it after timeout_s.
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_s);

// Absolute path of the running executable.
std::string self_executable();

// `mpirun --oversubscribe --bind-to none -np RANKS <this executable> ARGS...` (benchmarks).
std::vector<std::string> mpirun_self(int ranks, const std::vector<std::string>& args);

// Flushes dirty pages of earlier runs (sync(2)) so their writeback does not steal a core from the
// next timed run: a 1-rank run has a spare core for it on a 2-core machine, a 2-rank run does not.
void settle_page_cache();

}  // namespace tickstream
