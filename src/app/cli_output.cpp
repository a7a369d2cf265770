// Helpers shared by the subcommands and the benchmarks: device flags, rank-0 printing, benchmark
// reports.
#include <cstdio>

#include "app/commands.hpp"
#include "comm/agreement.hpp"
#include "store/file_util.hpp"

namespace tickstream {

void add_device_flags(CLI::App& cmd, DeviceFlags& flags) {
  cmd.add_option("--device", flags.device,
                 "auto: the rank's GPU when there is one, else the CPU; cuda: a GPU or exit 2; cpu")
      ->check(CLI::IsMember({"auto", "cuda", "cpu"}))
      ->capture_default_str();
  cmd.add_flag("--oversubscribe-gpus", flags.oversubscribe_gpus,
               "Allow more ranks than GPUs on a node (they share the GPUs)");
}

void apply_device_flags(RankContext& ctx, const DeviceFlags& flags) {
  ctx.request_device(parse_device_request(flags.device), flags.oversubscribe_gpus);
  run_agreed(ctx.comm(), [&] { ctx.placement(); });
}

void print_root(const RankContext& ctx, const std::string& text) {
  if (!ctx.is_root()) return;
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int report_bench(const RankContext& ctx, const nlohmann::json& result, bool json_only, const std::string& out,
                 const std::string& title) {
  if (!json_only) print_root(ctx, title + "\n");
  print_root(ctx, result.dump(2) + "\n");
  if (!out.empty() && ctx.is_root()) write_file_atomically(out, result.dump(2) + "\n");
  return 0;
}

}  // namespace tickstream
