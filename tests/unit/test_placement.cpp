// Rank placement: local rank -> GPU (mod visible), SLURM_LOCALID, thread shares, TICKSTREAM_THREADS.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "runtime/placement.hpp"

namespace tickstream {
namespace {

PlacementInput input(int local_rank, int local_size, int gpus, int cores, std::string slurm = "",
                     std::string threads = "") {
  PlacementInput in;
  in.local_rank = local_rank;
  in.local_size = local_size;
  in.visible_gpus = gpus;
  in.cores = cores;
  in.slurm_localid = std::move(slurm);
  in.threads_env = std::move(threads);
  return in;
}

// The same input with --oversubscribe-gpus (more ranks than GPUs on the node, sharing them).
PlacementInput shared(PlacementInput in) {
  in.oversubscribe_gpus = true;
  return in;
}

struct Case {
  const char* what;
  PlacementInput in;
  int device, threads, local_rank;
};

TEST(Placement, TableOfCases) {
  const std::vector<Case> cases = {
      {"single rank, no GPU, 8 cores", input(0, 1, 0, 8), -1, 8, 0},
      {"single rank, one GPU", input(0, 1, 1, 8), 0, 8, 0},
      {"4 ranks/node, 2 GPUs: rank 0", shared(input(0, 4, 2, 16)), 0, 4, 0},
      {"4 ranks/node, 2 GPUs: rank 1", shared(input(1, 4, 2, 16)), 1, 4, 1},
      {"4 ranks/node, 2 GPUs: rank 2", shared(input(2, 4, 2, 16)), 0, 4, 2},
      {"4 ranks/node, 2 GPUs: rank 3", shared(input(3, 4, 2, 16)), 1, 4, 3},
      {"8 GPUs, local rank 5", input(5, 8, 8, 64), 5, 8, 5},
      {"SLURM_LOCALID 3 overrides local rank 0", shared(input(0, 4, 2, 16, "3")), 1, 4, 3},
      {"SLURM_LOCALID 2 overrides local rank 1", input(1, 4, 4, 16, "2"), 2, 4, 2},
      {"SLURM_LOCALID 0 on a CPU rank", input(3, 4, 0, 16, "0"), -1, 4, 0},
      {"no GPUs, 3 ranks on 8 cores", input(2, 3, 0, 8), -1, 2, 2},
      {"no GPUs, more ranks than cores", input(5, 6, 0, 4), -1, 1, 5},
      {"no GPUs, zero cores reported", input(0, 1, 0, 0), -1, 1, 0},
      {"TICKSTREAM_THREADS=3 on a CPU rank", input(0, 4, 0, 16, "", "3"), -1, 3, 0},
      {"TICKSTREAM_THREADS=3 on a GPU rank", input(1, 2, 2, 16, "", "3"), 1, 3, 1},
      {"TICKSTREAM_THREADS above the share", input(0, 4, 0, 16, "", "32"), -1, 32, 0},
  };
  for (const Case& c : cases) {
    const Placement p = choose_placement(c.in);
    EXPECT_EQ(p.device, c.device) << c.what;
    EXPECT_EQ(p.cpu_threads, c.threads) << c.what;
    EXPECT_EQ(p.local_rank, c.local_rank) << c.what;
    EXPECT_FALSE(p.summary.empty()) << c.what;
  }
}

TEST(Placement, MoreRanksThanGpusIsAnInputErrorNamingTheFix) {
  try {
    choose_placement(input(2, 4, 2, 16));
    FAIL() << "4 ranks on 2 GPUs without --oversubscribe-gpus";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("4 ranks on this node but 2 GPU(s)"), std::string::npos) << m;
    EXPECT_NE(m.find("--oversubscribe-gpus"), std::string::npos) << m;
  }
  EXPECT_EQ(choose_placement(input(1, 2, 2, 16)).device, 1);  // as many ranks as GPUs: fine
}

TEST(Placement, DeviceRequests) {
  PlacementInput cuda = input(0, 1, 0, 8);
  cuda.request = DeviceRequest::cuda;
  cuda.gpu_note = "CUDA driver: no device";
  try {
    choose_placement(cuda);
    FAIL() << "--device cuda without a GPU";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--device cuda: no usable GPU on this node (CUDA driver: no device)"),
              std::string::npos) << e.what();
  }
  cuda.visible_gpus = 1;
  const Placement on_gpu = choose_placement(cuda);
  EXPECT_EQ(on_gpu.device, 0);
  EXPECT_TRUE(on_gpu.gpu_required);
  PlacementInput cpu = input(0, 1, 2, 8);
  cpu.request = DeviceRequest::cpu;
  const Placement on_cpu = choose_placement(cpu);
  EXPECT_EQ(on_cpu.device, -1);
  EXPECT_FALSE(on_cpu.gpu_required);
  EXPECT_EQ(on_cpu.gpu_note, "--device cpu");
  const Placement fallback = choose_placement(input(0, 1, 0, 8));  // auto: the CPU, not an error
  EXPECT_EQ(fallback.device, -1);
  EXPECT_FALSE(fallback.gpu_required);
  EXPECT_EQ(parse_device_request("cuda"), DeviceRequest::cuda);
  EXPECT_THROW(parse_device_request("gpu"), InputError);
}

TEST(Placement, FourRanksOnTwoGpusAlternate) {
  std::vector<int> devices;
  for (int r = 0; r < 4; ++r) devices.push_back(choose_placement(shared(input(r, 4, 2, 16))).device);
  EXPECT_EQ(devices, (std::vector<int>{0, 1, 0, 1}));
}

TEST(Placement, SummaryNamesDeviceOrCpu) {
  const Placement gpu = choose_placement(input(1, 2, 2, 16));
  EXPECT_NE(gpu.summary.find("cuda:1"), std::string::npos) << gpu.summary;
  const Placement cpu = choose_placement(input(1, 2, 0, 16));
  EXPECT_NE(cpu.summary.find("CPU"), std::string::npos) << cpu.summary;
  EXPECT_NE(cpu.summary.find("8 threads"), std::string::npos) << cpu.summary;
}

TEST(Placement, BadThreadCountsNameTheVariable) {
  for (const char* bad : {"abc", "0", "-1", "3x", "2.5"}) {
    try {
      choose_placement(input(0, 1, 0, 8, "", bad));
      ADD_FAILURE() << "TICKSTREAM_THREADS='" << bad << "' was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("TICKSTREAM_THREADS"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(Placement, BadSlurmLocalIdNamesTheVariable) {
  for (const char* bad : {"x", "-1"}) {
    try {
      choose_placement(input(0, 2, 2, 8, bad));
      ADD_FAILURE() << "SLURM_LOCALID='" << bad << "' was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("SLURM_LOCALID"), std::string::npos) << e.what();
    }
  }
}

TEST(Placement, RanksTimesThreadsFitTheCores) {
  constexpr int kCores = 16;
  for (int local_size = 1; local_size <= kCores; ++local_size) {
    for (int r = 0; r < local_size; ++r) {
      for (int gpus : {0, 1, 2}) {
        const Placement p = choose_placement(shared(input(r, local_size, gpus, kCores)));
        EXPECT_GE(p.cpu_threads, 1) << local_size;
        EXPECT_LE(local_size * p.cpu_threads, kCores) << "local_size " << local_size;
        // The share is the whole quotient: one more thread per rank would oversubscribe.
        EXPECT_GT(local_size * (p.cpu_threads + 1), kCores) << "local_size " << local_size;
      }
    }
  }
}

// Sets (or unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = std::string(old);
    if (value != nullptr) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Placement, InputFromTheEnvironment) {
  const ScopedEnv gpus("TICKSTREAM_GPUS", "3");
  const ScopedEnv threads("TICKSTREAM_THREADS", "5");
  const ScopedEnv slurm("SLURM_LOCALID", "4");
  const PlacementInput in = placement_input(1, 6);
  EXPECT_EQ(in.local_rank, 1);
  EXPECT_EQ(in.local_size, 6);
  EXPECT_EQ(in.visible_gpus, 3);
  EXPECT_GE(in.cores, 1);
  EXPECT_EQ(in.threads_env, "5");
  EXPECT_EQ(in.slurm_localid, "4");
  const Placement p = choose_placement(shared(in));  // 6 ranks on 3 GPUs: shared
  EXPECT_EQ(p.device, 1);  // 4 mod 3
  EXPECT_EQ(p.cpu_threads, 5);
}

TEST(Placement, GpusZeroForcesCpuRanks) {
  const ScopedEnv gpus("TICKSTREAM_GPUS", "0");
  const ScopedEnv threads("TICKSTREAM_THREADS", nullptr);
  const ScopedEnv slurm("SLURM_LOCALID", nullptr);
  const PlacementInput in = placement_input(0, 1);
  EXPECT_EQ(in.visible_gpus, 0);
  EXPECT_TRUE(in.threads_env.empty());
  EXPECT_TRUE(in.slurm_localid.empty());
  EXPECT_EQ(choose_placement(in).device, -1);
  EXPECT_EQ(choose_placement(in).cpu_threads, in.cores);
}

TEST(Placement, BadGpuCountIsAnInputError) {
  const ScopedEnv gpus("TICKSTREAM_GPUS", "many");
  try {
    placement_input(0, 1);
    ADD_FAILURE() << "TICKSTREAM_GPUS=many was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("TICKSTREAM_GPUS"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tickstream
