// `tickstream version`: library versions and visible accelerators (used by launch/run.sh).
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <hdf5.h>

#include <memory>
#include <thread>

#include "app/commands.hpp"
#include "device_info.hpp"

namespace tickstream {
namespace {

nlohmann::json version_json(const RankContext& ctx) {
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(mpi, &len);
  const DeviceInfo dev = query_device_info();
  std::string mpi_line(mpi, static_cast<size_t>(len));
  mpi_line = mpi_line.substr(0, mpi_line.find_first_of(",\n"));
  return {{"tickstream", TICKSTREAM_VERSION},
          {"mpi", mpi_line},
          {"hdf5", fmt::format("{}.{}.{}", H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE)},
          {"kokkos", fmt::format("{}.{}.{}", KOKKOS_VERSION / 10000, KOKKOS_VERSION / 100 % 100, KOKKOS_VERSION % 100)},
          {"cuda_runtime", dev.cuda_runtime},
          {"nccl", dev.nccl},
          {"gpus", dev.cuda_devices},
          {"gpu_note", dev.reason},
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
      for (const auto& [k, v] : j.items()) s += fmt::format("{:<13} {}\n", k, v.is_string() ? v.get<std::string>() : v.dump());
      print_root(ctx, s);
      return 0;
    };
  });
}

}  // namespace tickstream
