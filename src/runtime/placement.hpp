// Rank placement: which GPU a rank drives (local rank mod visible GPUs) and how many CPU threads.
#pragma once

#include <string>

namespace tickstream {

// `--device`: auto = this rank's GPU when the node has one, else the CPU (said once); cuda = a GPU
// or exit 2 with the reason; cpu = the CPU even where GPUs are visible.
enum class DeviceRequest { automatic, cuda, cpu };

// "auto" | "cuda" | "cpu"; InputError naming `what` otherwise.
DeviceRequest parse_device_request(const std::string& text, const char* what = "--device");

struct Placement {
  int device = -1;       // CUDA ordinal among the visible devices; -1 = this rank runs on CPU
  bool gpu_required = false;  // --device cuda: no CPU fallback
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
  DeviceRequest request = DeviceRequest::automatic;
  bool oversubscribe_gpus = false;  // allow more ranks than GPUs on a node (GPUs shared)
};

// device = local rank mod visible GPUs (none, or --device cpu: -1). More ranks on a node than
// visible GPUs is an InputError unless oversubscribe_gpus; so is --device cuda without a GPU. CPU
// ranks get max(1, cores / local_size) threads so ranks x threads <= cores; GPU ranks get the same
// share (data loading, host work). TICKSTREAM_THREADS overrides the thread count; a bad value is
// an InputError naming it.
Placement choose_placement(const PlacementInput& in);

// Cores this process may run on (sched_getaffinity), and its share of them when `local_size`
// ranks run on the node (at least 1): the threads of host work that does not need the placement
// (no device query), e.g. ingest's parsing.
int affinity_cores();
int cpu_share(int local_size);

// The input for the calling process: the environment, sched_getaffinity, the CUDA device count
// (TICKSTREAM_GPUS overrides it, for tests and for forcing CPU ranks with TICKSTREAM_GPUS=0).
PlacementInput placement_input(int local_rank, int local_size);

}  // namespace tickstream
