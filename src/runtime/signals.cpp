// Preemption signals: an async-signal-safe flag set by SIGTERM/SIGUSR1, polled by the trainer.
#include "runtime/signals.hpp"

#include <csignal>

namespace tickstream {
namespace {

// The one piece of process-wide mutable state in tickstream: a signal handler can reach nothing
// else. Written only by the handler, read by StopSignalGuard::received().
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void record_stop_signal(int sig) { g_stop_signal = sig; }

}  // namespace

StopSignalGuard::StopSignalGuard() {
  // Nested in another guard (the CLI's, installed before start-up): keep what it recorded.
  struct sigaction current {};
  sigaction(SIGTERM, nullptr, &current);
  if (current.sa_handler != record_stop_signal) g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = record_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, &old_term_);
  sigaction(SIGUSR1, &sa, &old_usr1_);
}

StopSignalGuard::~StopSignalGuard() {
  sigaction(SIGTERM, &old_term_, nullptr);
  sigaction(SIGUSR1, &old_usr1_, nullptr);
}

int StopSignalGuard::received() const { return static_cast<int>(g_stop_signal); }

}  // namespace tickstream
