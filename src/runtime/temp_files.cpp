// The registry of temporary files and the termination handler that removes them.
#include "runtime/temp_files.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <climits>
#include <csignal>
#include <cstring>

#include "core/error.hpp"

namespace tickstream {
namespace {

enum SlotState : int { kFree = 0, kWriting = 1, kReady = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  char path[PATH_MAX] = {0};
};

// Process-wide by nature: a signal handler can reach nothing else. A slot is claimed (free ->
// writing), its path copied, then published (ready); the handler reads only ready slots and calls
// only unlink (async-signal-safe).
std::array<Slot, 64> g_temp_files;

extern "C" void remove_temp_files_and_die(int sig) {
  for (Slot& s : g_temp_files)
    if (s.state.load() == kReady) ::unlink(s.path);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

TempFileGuard::TempFileGuard(const std::string& path) {
  TS_CHECK(path.size() < PATH_MAX, "temporary file path too long: {}", path);
  for (size_t i = 0; i < g_temp_files.size(); ++i) {
    Slot& s = g_temp_files[i];
    int expected = kFree;
    if (!s.state.compare_exchange_strong(expected, kWriting)) continue;
    std::memcpy(s.path, path.c_str(), path.size() + 1);
    s.state.store(kReady);
    slot_ = static_cast<int>(i);
    return;
  }
  TS_INTERNAL_ERROR("more than {} temporary files open at once ({})", g_temp_files.size(), path);
}

TempFileGuard::~TempFileGuard() {
  if (slot_ >= 0) g_temp_files[static_cast<size_t>(slot_)].state.store(kFree);
}

void install_temp_file_cleanup() {
  struct sigaction sa {};
  sa.sa_handler = remove_temp_files_and_die;
  sigemptyset(&sa.sa_mask);
  for (const int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &sa, nullptr);
}

}  // namespace tickstream
