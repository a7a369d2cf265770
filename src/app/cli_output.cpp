// Output helpers shared by the subcommands and the benchmarks: rank-0 printing, benchmark reports.
#include <cstdio>

#include "app/commands.hpp"
#include "store/file_util.hpp"

namespace tickstream {

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
