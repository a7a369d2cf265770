// Child process runner: posix_spawnp, stdout through a pipe, poll-based timeout.
#include "app/subprocess.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string_view>
#include <filesystem>

#include "core/error.hpp"
#include "core/stopwatch.hpp"

extern char** environ;

namespace tickstream {
namespace {

// Reads the pipe until EOF or the deadline; returns false on timeout.
bool drain(int fd, std::string& out, std::chrono::steady_clock::time_point t0, double timeout_s) {
  char buf[65536];
  while (true) {
    const double left = timeout_s - seconds_since(t0);
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int rc = poll(&p, 1, static_cast<int>(left * 1000) + 1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return true;
    out.append(buf, static_cast<size_t>(n));
  }
}

// The user's Open MPI settings a child mpirun keeps (singleton init sets no such variable).
bool user_setting(std::string_view kv) {
  for (const std::string_view keep : {"OMPI_ALLOW_RUN_AS_ROOT", "OMPI_MCA_rmaps_base_oversubscribe", "OMPI_MCA_plm_rsh_agent"})
    if (kv.rfind(keep, 0) == 0) return true;
  return false;
}

// The parent's environment minus the variables that make a child mpirun believe it runs inside
// this process's MPI job (singleton init sets them).
std::vector<char*> child_environment() {
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) {
    const std::string_view kv(*e);
    const bool job_var = kv.rfind("PMIX_", 0) == 0 || kv.rfind("PMI_", 0) == 0 ||
                         (kv.rfind("OMPI_", 0) == 0 && !user_setting(kv));
    if (!job_var) env.push_back(*e);
  }
  env.push_back(nullptr);
  return env;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, double timeout_s) {
  int fds[2];
  TS_CHECK(pipe(fds) == 0, "pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), child_environment().data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) close(fds[0]);
  TS_REQUIRE_INPUT(rc == 0, "cannot start {}: {}", argv[0], std::strerror(rc));
  ProcessResult res;
  res.timed_out = !drain(fds[0], res.out, t0, timeout_s);
  close(fds[0]);
  if (res.timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  res.seconds = seconds_since(t0);
  res.exit_code = !res.timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return res;
}

std::string self_executable() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

std::vector<std::string> mpirun_self(int ranks, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"mpirun", "--oversubscribe", "--bind-to", "none", "-np", std::to_string(ranks),
                                self_executable()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void settle_page_cache() { ::sync(); }

}  // namespace tickstream
