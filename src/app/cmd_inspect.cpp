// `tickstream inspect`: store summary as text or JSON (rank 0 reads; other ranks idle).
#include <memory>

#include "app/commands.hpp"
#include "comm/collectives.hpp"
#include "comm/agreement.hpp"
#include "store/inspect.hpp"

namespace tickstream {

void add_inspect(CLI::App& app, CommandRunner& runner) {
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("inspect", "Summarize a store");
  cmd->add_option("store", *path, "Store (.h5)")->required();
  cmd->add_flag("--json", *json, "Print JSON (docs/outputs.md)");
  cmd->callback([&runner, path, json] {
    runner = [path, json](RankContext& ctx) {
      std::string text;
      run_agreed(ctx.comm(), [&] {
        if (!ctx.is_root()) return;
        const nlohmann::json j = inspect_store(*path);
        text = *json ? j.dump(2) + "\n" : format_inspect(j);
      });
      print_root(ctx, text);
      return 0;
    };
  });
}

}  // namespace tickstream
