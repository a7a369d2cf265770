// `tickstream inspect`: store summary as text or JSON (rank 0 reads; other ranks idle).
#include <memory>

#include "app/commands.hpp"
#include "comm/collectives.hpp"
#include "comm/agreement.hpp"
#include "store/inspect.hpp"

namespace tickstream {
namespace {

// Exit 2 naming every damaged chunk.
void require_intact(const nlohmann::json& v) {
  std::string list;
  for (const auto& c : v["corrupt_chunks"])
    list += fmt::format("\n  {} chunk at {}", c["dataset"].get<std::string>(), c["chunk"].dump());
  TS_REQUIRE_INPUT(list.empty(), "{}: {} damaged chunk(s) fail their Fletcher32 checksum:{}", v["path"].get<std::string>(),
                   v["corrupt_chunks"].size(), list);
}

std::string format_verify(const nlohmann::json& v) {
  return fmt::format("verify: {} intact: {} checksummed datasets read in full; not checksummed: {}\n",
                     v["path"].get<std::string>(), v["checksummed_datasets"].get<int64_t>(),
                     v["unchecksummed_datasets"].empty() ? std::string("none") : v["unchecksummed_datasets"].dump());
}

}  // namespace

void add_inspect(CLI::App& app, CommandRunner& runner) {
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("inspect", "Summarize a store");
  cmd->add_option("store", *path, "Store (.h5)")->required();
  auto verify = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON (docs/outputs.md)");
  cmd->add_flag("--verify", *verify, "Read every chunk and check its checksum; exit 2 naming each damaged one");
  cmd->callback([&runner, path, json, verify] {
    runner = [path, json, verify](RankContext& ctx) {
      std::string text;
      run_agreed(ctx.comm(), [&] {
        if (!ctx.is_root()) return;
        const nlohmann::json j = *verify ? verify_store(*path) : inspect_store(*path);
        if (*verify) require_intact(j);
        text = *json ? j.dump(2) + "\n" : *verify ? format_verify(j) : format_inspect(j);
      });
      print_root(ctx, text);
      return 0;
    };
  });
}

}  // namespace tickstream
