// RankContext: MPI and Kokkos lifetime (RAII), rank/size/local rank, hostname, logging setup.
#pragma once

#include <mpi.h>

#include <memory>
#include <optional>
#include <string>

#include "runtime/placement.hpp"

namespace tickstream {

struct RankContextOptions {
  std::string log_dir;     // per-rank log files when non-empty
  bool verbose = false;    // debug level on every rank
};

class RankContext {
 public:
  RankContext(int& argc, char**& argv, const RankContextOptions& options);
  ~RankContext();
  RankContext(const RankContext&) = delete;
  RankContext& operator=(const RankContext&) = delete;

  MPI_Comm world() const { return MPI_COMM_WORLD; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  const std::string& host() const { return host_; }
  bool is_root() const { return rank_ == 0; }
  // Initializes Kokkos for this rank if it is not yet (finalized in the destructor).
  void ensure_kokkos();
  // Device and thread count of this rank (runtime/placement.hpp), decided on first use (querying
  // CUDA costs start-up time that subcommands without a device should not pay).
  const Placement& placement();

 private:
  void setup_logging(const RankContextOptions& options);
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::string host_;
  bool owns_mpi_ = false;
  bool owns_kokkos_ = false;
  std::optional<Placement> placement_;
};

}  // namespace tickstream
