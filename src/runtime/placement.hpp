// Rank placement: which GPU a rank drives (local rank mod visible GPUs) and how many CPU threads.
#pragma once

#include <string>

namespace tickstream {

struct Placement {
  int device = -1;       // CUDA ordinal among the visible devices; -1 = this rank runs on CPU
  int cpu_threads = 1;   // intra-op threads (libtorch, Kokkos host) for this rank
  int local_rank = 0;    // the local rank the choice used (SLURM_LOCALID when set)
  std::string summary;   // one line for the log: "rank 1: cuda:1 (2 visible), 8 threads"
  std::string gpu_note;  // why no GPU is visible ("" when one is)
};

// Everything the choice depends on, so it can be tested without GPUs or launchers.
struct PlacementInput {
  int local_rank = 0;      // from MPI_Comm_split_type(SHARED)
  int local_size = 1;      // ranks on this node
  int visible_gpus = 0;    // CUDA devices visible (CUDA_VISIBLE_DEVICES already applied)
  int cores = 1;           // CPU cores this process may run on
  std::string slurm_localid;   // SLURM_LOCALID, "" when unset
  std::string threads_env;     // TICKSTREAM_THREADS, "" when unset
  std::string gpu_note;        // why visible_gpus is 0 (the CUDA runtime's answer or the build)
};

// device = local rank mod visible GPUs (none: -1). CPU ranks get max(1, cores / local_size)
// threads so ranks x threads <= cores; GPU ranks get the same share (data loading, host work).
// TICKSTREAM_THREADS overrides the thread count; a bad value is an InputError naming it.
Placement choose_placement(const PlacementInput& in);

// The input for the calling process: the environment, sched_getaffinity, the CUDA device count
// (TICKSTREAM_GPUS overrides it, for tests and for forcing CPU ranks with TICKSTREAM_GPUS=0).
PlacementInput placement_input(int local_rank, int local_size);

}  // namespace tickstream
