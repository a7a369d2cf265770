// Job configuration (docs/configuration.md): a TOML file plus --set overrides, checked by a schema.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tickstream {

struct Config {
  struct Data {
    std::string store;
    std::string shard = "tickers";  // "tickers" | "time"
    int64_t train_start = 0, train_end = 0;  // seconds since epoch UTC; 0 = not set
    int64_t valid_start = 0, valid_end = 0, test_start = 0;
  } data;
  // A coarser timeframe's features ([features.timeframes] "1w" = ["rsi_14", ...]).
  struct Timeframe {
    std::string name;                   // "<N>min", "<N>h", "1d" or "1w"
    std::vector<std::string> features;  // names of the default set, computed on the coarse bars
  };
  struct Features {
    int64_t horizon = 1;
    std::vector<Timeframe> timeframes;  // in name order; none by default
    std::string gaps = "skip";      // "skip" | "strict" (docs/features.md, "Missing bars")
    int64_t max_missing_bars = 16;  // a window's seq_len valid bars lie within seq_len + this many bars
  } features;
  struct Model {
    std::string kind = "gpt";  // "gpt" | "lstm" | "mlp"
    int64_t d_model = 64, n_layers = 2, n_heads = 4, seq_len = 64;
    double dropout = 0.1;
  } model;
  struct Train {
    int64_t batch_size = 256, epochs = 10, max_steps = 0;  // batch_size 0 = "auto" (train/train_command.cpp)
    double lr = 3e-4;
    int64_t warmup_steps = 100;
    double weight_decay = 0.01, clip = 1.0;
    int64_t seed = 1234, eval_every = 200;
    std::string checkpoint_dir = "runs/ckpt", metrics = "runs/metrics.jsonl";
    std::string tensorboard_dir = "runs/tb";  // TensorBoard event files (rank 0); "" = none
    int64_t checkpoint_every = 0;  // steps between checkpoints; 0 = at each evaluation
    int64_t keep_checkpoints = 3;  // newest K complete checkpoints kept
    int64_t patience = 10;         // evaluations without a better val_loss before stopping; 0 = off
    double label_weight = 0.5;     // loss = (1-w) * MSE(return, z-scored) + w * BCE(direction)
    std::string precision = "fp32";  // "fp32" | "bf16" (autocast; gradients and their allreduce stay fp32)
  } train;
  struct Loader {
    int64_t chunk_bars = 1024, chunk_tickers = 256, prefetch = 2, cache_mb = 0;
    std::string resident = "auto";  // "auto" | "on" | "off"
    int64_t memory_mb = 4096;  // resident = auto: keep the rank's shard in memory when it fits this
  } loader;
  struct Dist {
    std::string backend = "auto";  // "auto" | "nccl" | "mpi"
    double bucket_mb = 25;
    int64_t timeout_s = 300;
    int64_t check_every = 500;  // steps between cross-rank parameter checksum checks; 0 = off
  } dist;
  struct Predict {
    int64_t batch_size = 0;  // 0 = "auto"
    double min_confidence = 0.0;
  } predict;
  struct Backtest {  // `tickstream backtest --walk-forward` (docs/research.md)
    int64_t train_bars = 756, valid_bars = 0, gap_bars = 0, test_bars = 63, step_bars = 0;
    std::string window = "expanding";  // "expanding" | "rolling"
    int64_t first_test = 0;            // seconds; 0 = train_bars after the first bar
    std::string init = "scratch";      // "scratch" | "warm" (from the previous fold's model)
    double quantile = 0.2, cost_bps = 5.0;
    std::string out_dir = "runs/backtest";
  } backtest;

  std::string source;  // the file it came from ("" when built from defaults)

  // The resolved configuration: every key with its value (dates as YYYY-MM-DD).
  nlohmann::json to_json() const;
  // FNV-1a 64 of to_json().dump(): stored with features, statistics and checkpoints.
  std::string hash() const;
};

// Reads `path`, applies `overrides` ("section.key=value", in order), validates. InputError naming
// the file, line, section and key on unknown keys, wrong types, out-of-range values, or
// inconsistent settings (e.g. train_end after valid_start).
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The same from TOML text; `source` names it in messages.
Config parse_config(const std::string& text, const std::string& source,
                    const std::vector<std::string>& overrides = {});

}  // namespace tickstream
