// The config schema table (docs/configuration.md); docs/configuration.md documents each key.
#include "core/config_schema.hpp"

#include <tuple>

#include <fmt/format.h>

#include "core/time.hpp"

namespace tickstream::config {
namespace {

constexpr double kMaxInt = 9.2e18;

template <typename S, typename T>
KeySpec bind(const char* section, const char* key, KeyType type, S Config::*group, T S::*field) {
  KeySpec k;
  k.section = section, k.key = key, k.type = type;
  k.set = [group, field](Config& c, const Value& v) {
    if constexpr (std::is_same_v<T, std::string>) (c.*group).*field = v.s;
    else if constexpr (std::is_same_v<T, double>) (c.*group).*field = v.f;
    else (c.*group).*field = v.i;
  };
  k.get = [group, field, type](const Config& c) -> nlohmann::json {
    (void)type;  // read for integers only
    const T& value = (c.*group).*field;
    if constexpr (std::is_same_v<T, int64_t>) {
      if (type == KeyType::Date) return value ? nlohmann::json(format_timestamp(value)) : nlohmann::json();
      if (type == KeyType::IntOrAuto && value == 0) return "auto";
    }
    return value;
  };
  return k;
}

template <typename S, typename T>
KeySpec ranged(const char* section, const char* key, KeyType type, S Config::*group, T S::*field, double lo,
               double hi) {
  KeySpec k = bind(section, key, type, group, field);
  k.min = lo, k.max = hi;
  return k;
}

template <typename S>
KeySpec choice(const char* section, const char* key, S Config::*group, std::string S::*field,
               std::vector<std::string> choices) {
  KeySpec k = bind(section, key, KeyType::Choice, group, field);
  k.choices = std::move(choices);
  return k;
}

using C = Config;
using K = KeyType;

void add_data_and_model(std::vector<KeySpec>& s) {
  s.push_back(bind("data", "store", K::String, &C::data, &C::Data::store));
  s.push_back(choice("data", "shard", &C::data, &C::Data::shard, {"tickers", "time"}));
  for (auto [key, field] : {std::pair{"train_start", &C::Data::train_start}, {"train_end", &C::Data::train_end},
                            {"valid_start", &C::Data::valid_start}, {"valid_end", &C::Data::valid_end},
                            {"test_start", &C::Data::test_start}})
    s.push_back(bind("data", key, K::Date, &C::data, field));
  s.push_back(ranged("features", "horizon", K::Int, &C::features, &C::Features::horizon, 1, 1000));
  s.push_back(choice("features", "gaps", &C::features, &C::Features::gaps, {"skip", "strict"}));
  s.push_back(ranged("features", "max_missing_bars", K::Int, &C::features, &C::Features::max_missing_bars, 0, 100000));
  s.push_back(choice("model", "kind", &C::model, &C::Model::kind, {"gpt", "lstm", "mlp"}));
  s.push_back(ranged("model", "d_model", K::Int, &C::model, &C::Model::d_model, 1, 65536));
  s.push_back(ranged("model", "n_layers", K::Int, &C::model, &C::Model::n_layers, 1, 1024));
  s.push_back(ranged("model", "n_heads", K::Int, &C::model, &C::Model::n_heads, 1, 1024));
  s.push_back(ranged("model", "seq_len", K::Int, &C::model, &C::Model::seq_len, 1, 1 << 20));
  s.push_back(ranged("model", "dropout", K::Float, &C::model, &C::Model::dropout, 0, 0.99));
}

void add_train(std::vector<KeySpec>& s) {
  s.push_back(ranged("train", "batch_size", K::IntOrAuto, &C::train, &C::Train::batch_size, 1, 1 << 24));
  s.push_back(ranged("train", "epochs", K::Int, &C::train, &C::Train::epochs, 1, 1e6));
  s.push_back(ranged("train", "max_steps", K::Int, &C::train, &C::Train::max_steps, 0, kMaxInt));
  s.push_back(ranged("train", "lr", K::Float, &C::train, &C::Train::lr, 1e-12, 10));
  s.push_back(ranged("train", "warmup_steps", K::Int, &C::train, &C::Train::warmup_steps, 0, kMaxInt));
  s.push_back(ranged("train", "weight_decay", K::Float, &C::train, &C::Train::weight_decay, 0, 10));
  s.push_back(ranged("train", "clip", K::Float, &C::train, &C::Train::clip, 0, 1e6));
  s.push_back(ranged("train", "seed", K::Int, &C::train, &C::Train::seed, 0, kMaxInt));
  s.push_back(ranged("train", "eval_every", K::Int, &C::train, &C::Train::eval_every, 1, kMaxInt));
  s.push_back(bind("train", "checkpoint_dir", K::String, &C::train, &C::Train::checkpoint_dir));
  s.push_back(bind("train", "metrics", K::String, &C::train, &C::Train::metrics));
  s.push_back(bind("train", "tensorboard_dir", K::String, &C::train, &C::Train::tensorboard_dir));
  s.push_back(ranged("train", "checkpoint_every", K::Int, &C::train, &C::Train::checkpoint_every, 0, kMaxInt));
  s.push_back(ranged("train", "keep_checkpoints", K::Int, &C::train, &C::Train::keep_checkpoints, 1, 1000));
  s.push_back(ranged("train", "patience", K::Int, &C::train, &C::Train::patience, 0, kMaxInt));
  s.push_back(ranged("train", "label_weight", K::Float, &C::train, &C::Train::label_weight, 0, 1));
  s.push_back(choice("train", "precision", &C::train, &C::Train::precision, {"fp32", "bf16"}));
}

void add_runtime(std::vector<KeySpec>& s) {
  s.push_back(ranged("loader", "chunk_bars", K::Int, &C::loader, &C::Loader::chunk_bars, 1, 1 << 24));
  s.push_back(ranged("loader", "chunk_tickers", K::Int, &C::loader, &C::Loader::chunk_tickers, 1, 1 << 24));
  s.push_back(ranged("loader", "prefetch", K::Int, &C::loader, &C::Loader::prefetch, 0, 64));
  s.push_back(ranged("loader", "cache_mb", K::Int, &C::loader, &C::Loader::cache_mb, 0, 1 << 24));
  s.push_back(choice("loader", "resident", &C::loader, &C::Loader::resident, {"auto", "on", "off"}));
  s.push_back(ranged("loader", "memory_mb", K::Int, &C::loader, &C::Loader::memory_mb, 1, 1 << 24));
  s.push_back(choice("dist", "backend", &C::dist, &C::Dist::backend, {"auto", "nccl", "mpi"}));
  s.push_back(ranged("dist", "bucket_mb", K::Float, &C::dist, &C::Dist::bucket_mb, 0.001, 4096));
  s.push_back(ranged("dist", "timeout_s", K::Int, &C::dist, &C::Dist::timeout_s, 1, 86400 * 7));
  s.push_back(ranged("dist", "check_every", K::Int, &C::dist, &C::Dist::check_every, 0, kMaxInt));
  s.push_back(ranged("predict", "batch_size", K::IntOrAuto, &C::predict, &C::Predict::batch_size, 1, 1 << 24));
  s.push_back(ranged("predict", "min_confidence", K::Float, &C::predict, &C::Predict::min_confidence, 0, 1));
}

void add_backtest(std::vector<KeySpec>& s) {
  for (auto [key, field, min] : {std::tuple{"train_bars", &C::Backtest::train_bars, 2}, {"valid_bars", &C::Backtest::valid_bars, 0},
                                 {"gap_bars", &C::Backtest::gap_bars, 0}, {"test_bars", &C::Backtest::test_bars, 1},
                                 {"step_bars", &C::Backtest::step_bars, 0}})
    s.push_back(ranged("backtest", key, K::Int, &C::backtest, field, min, kMaxInt));
  s.push_back(choice("backtest", "window", &C::backtest, &C::Backtest::window, {"expanding", "rolling"}));
  s.push_back(bind("backtest", "first_test", K::Date, &C::backtest, &C::Backtest::first_test));
  s.push_back(choice("backtest", "init", &C::backtest, &C::Backtest::init, {"scratch", "warm"}));
  s.push_back(ranged("backtest", "quantile", K::Float, &C::backtest, &C::Backtest::quantile, 0.001, 0.5));
  s.push_back(ranged("backtest", "cost_bps", K::Float, &C::backtest, &C::Backtest::cost_bps, 0, 10000));
  s.push_back(bind("backtest", "out_dir", K::String, &C::backtest, &C::Backtest::out_dir));
}

}  // namespace

std::vector<KeySpec> make_schema() {
  std::vector<KeySpec> s;
  add_data_and_model(s);
  add_train(s);
  add_runtime(s);
  add_backtest(s);
  return s;
}

std::string describe(const KeySpec& k) {
  switch (k.type) {
    case KeyType::Int: return fmt::format("an integer in [{}, {}]", k.min, k.max);
    case KeyType::Float: return fmt::format("a number in [{}, {}]", k.min, k.max);
    case KeyType::String: return "a string";
    case KeyType::Choice: return fmt::format("one of \"{}\"", fmt::join(k.choices, "\", \""));
    case KeyType::Date: return "a date (2010-01-04 or \"2010-01-04\")";
    case KeyType::IntOrAuto: return fmt::format("\"auto\" or an integer in [{}, {}]", k.min, k.max);
  }
  return "?";
}

}  // namespace tickstream::config
