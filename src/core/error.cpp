// Error construction: origin strings with rank and host.
#include "core/error.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

namespace tickstream {
namespace {
std::atomic<int>& process_rank() {
  static std::atomic<int> rank{-1};
  return rank;
}
}  // namespace

void set_process_rank(int rank) { process_rank().store(rank); }

std::optional<int> launcher_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* v = std::getenv(var)) return std::atoi(v);
  return std::nullopt;
}

std::string host_name() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return host;
}

std::string rank_and_host() {
  const int set = process_rank().load();
  return fmt::format("rank {} on {}", set >= 0 ? set : launcher_rank().value_or(-1), host_name());
}

Error::Error(const std::string& message, const char* file, int line)
    : std::runtime_error(message), origin_(fmt::format("{}:{} ({})", file, line, rank_and_host())) {}

}  // namespace tickstream
