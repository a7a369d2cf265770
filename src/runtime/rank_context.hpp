// RankContext: MPI and Kokkos lifetime (RAII), rank/size/local rank, hostname, logging setup.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "comm/communicator.hpp"
#include "runtime/placement.hpp"

namespace tickstream {

struct RankContextOptions {
  std::string log_dir;     // per-rank log files when non-empty
  bool verbose = false;    // debug level on every rank
  // A process started without a launcher (no mpirun/srun rank in its environment) runs as one
  // rank without initializing MPI: no orted, no singleton start-up (~0.3 s). For commands whose
  // only multi-rank machinery is the host communicator (synth, ingest, inspect, features).
  bool mpi_only_if_launched = false;
};

class RankContext {
 public:
  RankContext(int& argc, char**& argv, const RankContextOptions& options);
  ~RankContext();
  RankContext(const RankContext&) = delete;
  RankContext& operator=(const RankContext&) = delete;

  // The job's host communicator (MPI over every rank of the current group, CommOptions' default
  // timeout): every collective of a command goes through it or one made by make_communicator.
  comm::Communicator& comm() { return *comm_; }
  // A further host communicator over every rank of the current group (its own sequence and
  // arrival board). Collective.
  std::unique_ptr<comm::Communicator> make_communicator(comm::CommOptions options) const;

  // Until the returned guard ends, comm(), make_communicator(), rank(), size() and is_root() cover
  // only the ranks that passed the same `color` (MPI_Comm_split of the current group, in rank
  // order): a sweep runs one training per group with the commands' code unchanged. Devices,
  // local rank and log prefixes stay the job's. Collective over the current group.
  class Group {
   public:
    explicit Group(RankContext& ctx) : ctx_(ctx) {}
    ~Group() { ctx_.leave_group(); }
    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;

   private:
    RankContext& ctx_;
  };
  [[nodiscard]] std::unique_ptr<Group> enter_group(int color);
  struct Frame;  // a group entered: its MPI communicator and what it replaced (rank_context.cpp)
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
  // What `--device` / `--oversubscribe-gpus` ask of the placement; before placement() is first
  // called.
  void request_device(DeviceRequest request, bool oversubscribe_gpus);

 private:
  void setup_logging(const RankContextOptions& options);
  void leave_group();
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::string host_;
  bool owns_mpi_ = false;
  bool mpi_ = true;  // false: one rank without MPI (RankContextOptions::mpi_only_if_launched)
  bool owns_kokkos_ = false;
  std::optional<Placement> placement_;
  DeviceRequest device_request_ = DeviceRequest::automatic;
  bool oversubscribe_gpus_ = false;
  std::unique_ptr<comm::Communicator> comm_;
  std::vector<std::unique_ptr<Frame>> groups_;  // innermost last
};

// "Open MPI v4.1.4, ..." (the first line of MPI_Get_library_version).
std::string mpi_library_version();

}  // namespace tickstream
