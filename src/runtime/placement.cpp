// Rank placement: local rank -> device, cores / ranks-per-node -> threads (docs/architecture.md, Runtime).
#include "runtime/placement.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "core/error.hpp"
#include "runtime/device_info.hpp"

namespace tickstream {
namespace {

int parse_count(const std::string& text, const char* name, int min_value) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  TS_REQUIRE_INPUT(!text.empty() && end != nullptr && *end == '\0' && v >= min_value && v <= 1 << 20,
                   "{}: expected an integer >= {} (got '{}')", name, min_value, text);
  return static_cast<int>(v);
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

int affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int cpu_share(int local_size) { return std::max(1, affinity_cores() / std::max(1, local_size)); }

DeviceRequest parse_device_request(const std::string& text, const char* what) {
  if (text == "auto") return DeviceRequest::automatic;
  if (text == "cuda") return DeviceRequest::cuda;
  if (text == "cpu") return DeviceRequest::cpu;
  TS_INPUT_ERROR("{} {}: expected auto, cuda or cpu", what, text);
}

namespace {

// The device of a rank that may use the node's GPUs (InputError when the node has too few).
int gpu_for(const PlacementInput& in, int local_rank) {
  TS_REQUIRE_INPUT(in.local_size <= in.visible_gpus || in.oversubscribe_gpus,
                   "{} ranks on this node but {} GPU(s) visible: run at most {} rank(s) per node (mpirun "
                   "--map-by ppr:{}:node, Slurm --ntasks-per-node={}), or pass --oversubscribe-gpus to share "
                   "the GPUs (prediction; NCCL refuses two training ranks on one GPU)",
                   in.local_size, in.visible_gpus, in.visible_gpus, in.visible_gpus, in.visible_gpus);
  return local_rank % in.visible_gpus;
}

}  // namespace

Placement choose_placement(const PlacementInput& in) {
  Placement p;
  p.local_rank = in.slurm_localid.empty() ? in.local_rank
                                          : parse_count(in.slurm_localid, "SLURM_LOCALID", 0);
  p.gpu_required = in.request == DeviceRequest::cuda;
  const std::string no_gpu = in.gpu_note.empty() ? "no CUDA device visible" : in.gpu_note;
  if (in.request == DeviceRequest::cpu) {
    p.gpu_note = "--device cpu";
  } else if (in.visible_gpus > 0) {
    p.device = gpu_for(in, p.local_rank);
  } else {
    TS_REQUIRE_INPUT(in.request != DeviceRequest::cuda, "--device cuda: no usable GPU on this node ({})", no_gpu);
    p.gpu_note = no_gpu;
  }
  const int share = std::max(1, in.cores / std::max(1, in.local_size));
  p.cpu_threads = in.threads_env.empty() ? share : parse_count(in.threads_env, "TICKSTREAM_THREADS", 1);
  p.summary = p.device >= 0
                  ? fmt::format("local rank {}: cuda:{} ({} visible), {} CPU threads", p.local_rank,
                                p.device, in.visible_gpus, p.cpu_threads)
                  : fmt::format("local rank {}: CPU, {} threads ({} cores / {} ranks on this node)",
                                p.local_rank, p.cpu_threads, in.cores, in.local_size);
  return p;
}

PlacementInput placement_input(int local_rank, int local_size) {
  PlacementInput in;
  in.local_rank = local_rank;
  in.local_size = local_size;
  in.cores = affinity_cores();
  const std::string gpus = env_or_empty("TICKSTREAM_GPUS");
  if (gpus.empty()) {
    const DeviceInfo dev = query_device_info();
    in.visible_gpus = dev.cuda_devices;
    in.gpu_note = dev.reason;
  } else {
    in.visible_gpus = parse_count(gpus, "TICKSTREAM_GPUS", 0);
    in.gpu_note = "TICKSTREAM_GPUS=" + gpus;
  }
  in.slurm_localid = env_or_empty("SLURM_LOCALID");
  in.threads_env = env_or_empty("TICKSTREAM_THREADS");
  return in;
}

}  // namespace tickstream
