// `tickstream version`: what the binary was built with, library versions, visible accelerators.
#include <Kokkos_Core.hpp>
#include <hdf5.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "app/commands.hpp"
#include "core/build_info.hpp"
#include "runtime/device_info.hpp"
#include "runtime/rank_context.hpp"

namespace tickstream {
namespace {

std::vector<int> cuda_architectures() {
  std::vector<int> out;
  std::string list = build_info::kCudaArchitectures;
  for (size_t at = 0; at < list.size();) {
    const size_t end = std::min(list.find(';', at), list.size());
    out.push_back(std::atoi(list.substr(at, end - at).c_str()));
    at = end + 1;
  }
  return out;
}

// What this binary is: the libtorch it links, whether CUDA and NCCL are built in (with the
// versions built against and found at run time), the CUDA architectures, the Kokkos backend.
nlohmann::json version_json(const RankContext& ctx) {
  const DeviceInfo dev = query_device_info();
  return {{"tickstream", TICKSTREAM_VERSION},
          {"libtorch", {{"version", build_info::kLibtorch}, {"cuda", build_info::kLibtorchCuda},
                        {"cxx_standard", build_info::kCxxStandard}}},
          {"cuda", {{"built", build_info::kCuda}, {"toolkit", build_info::kCudaToolkit},
                    {"runtime", dev.cuda_runtime}, {"architectures", cuda_architectures()},
                    {"build_note", build_info::kCudaNote}}},
          {"nccl", {{"built", build_info::kCuda}, {"headers", build_info::kNccl}, {"library", dev.nccl}}},
          {"gpus", dev.cuda_devices},
          {"gpu_note", dev.reason},
          {"kokkos", {{"version", fmt::format("{}.{}.{}", KOKKOS_VERSION / 10000, KOKKOS_VERSION / 100 % 100,
                                              KOKKOS_VERSION % 100)},
                      {"backend", Kokkos::DefaultExecutionSpace::name()}}},
          {"mpi", mpi_library_version()},
          {"hdf5", fmt::format("{}.{}.{}", H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE)},
          {"cpu_cores", std::thread::hardware_concurrency()},
          {"ranks", ctx.size()}};
}

}  // namespace

void add_version(CLI::App& app, CommandRunner& runner) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("version", "Print library versions and visible GPUs");
  cmd->add_flag("--json", *json, "Print JSON");
  cmd->callback([&runner, json] {
    runner = [json](RankContext& ctx) {
      const nlohmann::json j = version_json(ctx);
      if (*json) {
        print_root(ctx, j.dump(2) + "\n");
        return 0;
      }
      std::string s;
      for (const auto& [k, v] : j.items())
        s += fmt::format("{:<11} {}\n", k, v.is_string() ? v.get<std::string>() : v.dump());
      print_root(ctx, s);
      return 0;
    };
  });
}

}  // namespace tickstream
