// `tickstream predict --config C.toml --checkpoint CK --asof DATE --out TARGET`: runs in the ML library.
#include <memory>

#include "app/commands.hpp"
#include "app/ml_plugin.hpp"

namespace tickstream {
namespace {

struct PredictArgs {
  std::string config, checkpoint, out, asof, from, to;
  std::vector<std::string> overrides;
  double min_confidence = -1;  // < 0: [predict] min_confidence
  DeviceFlags device;
};

nlohmann::json to_json(const PredictArgs& a) {
  nlohmann::json j{{"config", a.config}, {"set", a.overrides}, {"checkpoint", a.checkpoint}, {"out", a.out}};
  if (!a.asof.empty()) j["asof"] = a.asof;
  if (!a.from.empty()) j["from"] = a.from, j["to"] = a.to;
  if (a.min_confidence >= 0) j["min_confidence"] = a.min_confidence;
  return j;
}

}  // namespace

void add_predict(CLI::App& app, CommandRunner& runner) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand("predict", "Score every ticker with a checkpoint (ticker shards over all ranks)");
  cmd->add_option("--config", a->config, "Job config (TOML): [data] store, [predict], [loader]")->required();
  cmd->add_option("--set", a->overrides, "Override a config key: section.key=value")->expected(1)->take_all();
  cmd->add_option("--checkpoint", a->checkpoint, "A ckpt-*.pt file, or a directory: its newest complete checkpoint")
      ->required();
  auto* asof = cmd->add_option("--asof", a->asof, "Score at this date's last bar (or the last bar before it)");
  auto* from = cmd->add_option("--from", a->from, "Score every date from this one (backtests; needs --to)");
  auto* to = cmd->add_option("--to", a->to, "... to this one, inclusive");
  from->needs(to), to->needs(from), asof->excludes(from), asof->excludes(to);
  cmd->add_option("--out", a->out, "preds.h5 | preds.csv | postgresql://user@host:port/db[?table=NAME]")->required();
  cmd->add_option("--min-confidence", a->min_confidence, "Drop rows below this confidence (default [predict] min_confidence)")
      ->check(CLI::Range(0.0, 1.0));
  add_device_flags(*cmd, a->device);
  cmd->callback([&runner, a] {
    if (a->asof.empty() && a->from.empty()) throw CLI::RequiredError("--asof or --from/--to");
    runner = [a](RankContext& ctx) {
      apply_device_flags(ctx, a->device);
      return run_ml_command(ctx, "predict", to_json(*a));
    };
  });
}

}  // namespace tickstream
