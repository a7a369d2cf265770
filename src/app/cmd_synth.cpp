// `tickstream synth`: synthetic universe to a store or a directory of per-ticker CSV files.
#include <spdlog/spdlog.h>

#include <memory>

#include "app/commands.hpp"
#include "store/synth_run.hpp"

namespace tickstream {

void add_synth(CLI::App& app, CommandRunner& runner) {
  auto spec = std::make_shared<SynthSpec>();
  auto out = std::make_shared<SynthOutput>();
  CLI::App* cmd = app.add_subcommand("synth", "Generate a synthetic universe (deterministic for seed, tickers, days)");
  cmd->add_option("--tickers", spec->tickers, "Number of tickers")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--days", spec->days, "Trading sessions")->required()->check(CLI::Range(2, 100000));
  cmd->add_option("--freq", spec->freq, "Bar frequency")->check(CLI::IsMember({"1d", "1min"}))->capture_default_str();
  cmd->add_option("--seed", spec->seed, "Random seed")->capture_default_str();
  cmd->add_option("--signal", spec->signal, "Strength of the planted signal (about its IC)")
      ->check(CLI::Range(0.0, 0.5))->capture_default_str();
  cmd->add_option("--signal-from", spec->signal_from,
                  "Plant the signal only from this session on (a signal the past does not have: leak tests)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--halt-prob", spec->halt_prob,
                  "Chance of a single-bar halt per bar (default 0.002 for daily bars, 0.0005 for 1-minute)")
      ->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--exchanges", spec->exchanges,
                  "Exchanges, each with its own holidays (ticker i on exchange i mod N); the store's axis is their union")
      ->check(CLI::Range(1, 64))->capture_default_str();
  auto* dest = cmd->add_option_group("output", "Where to write");
  dest->add_option("--csv-dir", out->csv_dir, "Write one yfinance-style CSV per ticker here");
  dest->add_option("--store", out->store, "Write a store straight away");
  dest->require_option(1);
  cmd->add_option("--chunk-tickers", out->chunk_tickers, "Store chunk shape: tickers")->check(CLI::PositiveNumber);
  cmd->add_option("--chunk-bars", out->chunk_bars, "Store chunk shape: bars")->check(CLI::PositiveNumber);
  cmd->callback([&runner, spec, out] {
    runner = [spec, out](RankContext& ctx) {
      const SynthReport rep = run_synth(ctx.comm(), *spec, *out);
      print_root(ctx, fmt::format("synth: {} tickers x {} bars ({} valid) -> {} in {:.2f} s; oracle IC {:.4f}\n",
                                  spec->tickers, rep.bars, rep.valid_bars,
                                  out->store.empty() ? out->csv_dir : out->store, rep.seconds, rep.info.oracle_ic));
      return 0;
    };
  });
}

}  // namespace tickstream
