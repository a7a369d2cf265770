// The trials of a sweep (docs/research.md): a grid (every combination of the listed values) or a
// random search (values drawn per trial from a seed), over config keys.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tickstream {

struct TrialSpec {
  int64_t id = 0;
  std::vector<std::pair<std::string, std::string>> keys;  // "section.key" -> its value as TOML text
  // The --set overrides of this trial ("train.lr=0.001").
  std::vector<std::string> overrides() const;
  nlohmann::json to_json() const;  // {"train.lr": 0.001, ...}
};

struct SweepGrid {
  std::string mode;  // "grid" | "random"
  std::vector<TrialSpec> trials;
  std::string fingerprint;  // of the trials (mode, keys, values): a resumed sweep must match
};

// Parses a grid file:
//   [grid]                                  every combination, the last key varying fastest
//   "train.lr" = [1e-3, 3e-4]
//   "model.d_model" = [32, 64]
// or
//   [random]
//   trials = 8
//   seed = 1
//   "train.lr" = { log_uniform = [1e-4, 1e-2] }     also uniform = [a, b], int_uniform = [a, b],
//   "model.kind" = { choice = ["gpt", "lstm"] }      choice = [...]
// InputError naming the file (and line) on a parse error, a key that is not a config key, an
// empty list, a bad distribution, or a grid of more than 100,000 trials.
SweepGrid load_sweep_grid(const std::string& path);
SweepGrid parse_sweep_grid(const std::string& text, const std::string& source);

}  // namespace tickstream
