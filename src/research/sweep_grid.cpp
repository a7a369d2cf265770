// Grid and random-search trial lists from a TOML grid file.
#include "research/sweep_grid.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "core/config_schema.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"

namespace tickstream {
namespace {

constexpr size_t kMaxTrials = 100'000;

std::string where(const std::string& source, const toml::node& n) {
  return fmt::format("{}:{}", source, n.source().begin.line);
}

// A TOML value as the text an override takes (strings quoted, numbers round-trip).
std::string value_text(const toml::node& v, const std::string& at) {
  if (auto s = v.as_string()) return nlohmann::json(s->get()).dump();
  if (auto i = v.as_integer()) return fmt::format("{}", i->get());
  if (auto f = v.as_floating_point()) return fmt::format("{}", f->get());
  if (auto b = v.as_boolean()) return b->get() ? "true" : "false";
  if (auto d = v.as_date()) {
    std::ostringstream out;
    out << d->get();
    return out.str();
  }
  std::ostringstream type;
  type << v.type();
  TS_INPUT_ERROR("{}: expected a string, number, boolean or date, got {}", at, type.str());
}

void require_config_key(const std::string& key, const std::string& at) {
  const auto dot = key.find('.');
  TS_REQUIRE_INPUT(dot != std::string::npos, "{}: \"{}\": expected \"section.key\" (e.g. \"train.lr\")", at, key);
  for (const auto& spec : config::make_schema())
    if (spec.section == key.substr(0, dot) && spec.key == key.substr(dot + 1)) return;
  TS_INPUT_ERROR("{}: \"{}\" is not a config key (docs/configuration.md)", at, key);
}

std::vector<TrialSpec> grid_trials(const toml::table& grid, const std::string& source) {
  std::vector<std::pair<std::string, std::vector<std::string>>> axes;
  size_t total = 1;
  for (const auto& [key, node] : grid) {
    const std::string at = where(source, node), name(key.str());
    require_config_key(name, at);
    const toml::array* values = node.as_array();
    TS_REQUIRE_INPUT(values && !values->empty(), "{}: [grid] \"{}\": expected a non-empty list of values", at, name);
    std::vector<std::string> texts;
    for (const auto& v : *values) texts.push_back(value_text(v, at));
    total *= texts.size();
    TS_REQUIRE_INPUT(total <= kMaxTrials, "{}: [grid]: more than {} trials", source, kMaxTrials);
    axes.emplace_back(name, std::move(texts));
  }
  TS_REQUIRE_INPUT(!axes.empty(), "{}: [grid] lists no keys", source);
  std::vector<TrialSpec> trials(total);
  for (size_t t = 0; t < total; ++t) {
    trials[t].id = static_cast<int64_t>(t);
    size_t rest = t;
    std::vector<std::pair<std::string, std::string>> keys(axes.size());
    for (size_t a = axes.size(); a-- > 0;) {  // the last key varies fastest
      keys[a] = {axes[a].first, axes[a].second[rest % axes[a].second.size()]};
      rest /= axes[a].second.size();
    }
    trials[t].keys = std::move(keys);
  }
  return trials;
}

// One draw of a distribution table ({uniform = [a, b]}, ...).
std::string draw(const toml::table& dist, std::mt19937_64& rng, const std::string& at) {
  TS_REQUIRE_INPUT(dist.size() == 1, "{}: expected one of uniform, log_uniform, int_uniform, choice", at);
  const std::string kind(dist.begin()->first.str());
  const toml::array* a = dist.begin()->second.as_array();
  TS_REQUIRE_INPUT(a && !a->empty(), "{}: {}: expected a list", at, kind);
  if (kind == "choice") return value_text(*a->get(std::uniform_int_distribution<size_t>(0, a->size() - 1)(rng)), at);
  TS_REQUIRE_INPUT(a->size() == 2 && (*a)[0].is_number() && (*a)[1].is_number(), "{}: {}: expected [low, high]", at,
                   kind);
  const double lo = (*a)[0].value<double>().value(), hi = (*a)[1].value<double>().value();
  TS_REQUIRE_INPUT(lo <= hi, "{}: {}: low {} > high {}", at, kind, lo, hi);
  if (kind == "uniform") return fmt::format("{}", std::uniform_real_distribution<double>(lo, hi)(rng));
  if (kind == "int_uniform")
    return fmt::format("{}", std::uniform_int_distribution<int64_t>(static_cast<int64_t>(std::ceil(lo)),
                                                                   static_cast<int64_t>(std::floor(hi)))(rng));
  TS_REQUIRE_INPUT(kind == "log_uniform", "{}: unknown distribution \"{}\" (uniform, log_uniform, int_uniform, choice)",
                   at, kind);
  TS_REQUIRE_INPUT(lo > 0, "{}: log_uniform: low must be > 0", at);
  return fmt::format("{}", std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(rng)));
}

std::vector<TrialSpec> random_trials(const toml::table& random, const std::string& source) {
  const int64_t count = random["trials"].value_or<int64_t>(0);
  TS_REQUIRE_INPUT(count >= 1 && static_cast<size_t>(count) <= kMaxTrials, "{}: [random] trials: expected 1 to {}",
                   source, kMaxTrials);
  std::mt19937_64 rng(static_cast<uint64_t>(random["seed"].value_or<int64_t>(1)));
  std::vector<TrialSpec> trials(static_cast<size_t>(count));
  for (size_t t = 0; t < trials.size(); ++t) {
    trials[t].id = static_cast<int64_t>(t);
    for (const auto& [key, node] : random) {
      const std::string name(key.str()), at = where(source, node);
      if (name == "trials" || name == "seed") continue;
      require_config_key(name, at);
      const toml::table* dist = node.as_table();
      TS_REQUIRE_INPUT(dist, "{}: [random] \"{}\": expected {{ uniform = [a, b] }} or the like", at, name);
      trials[t].keys.emplace_back(name, draw(*dist, rng, at));
    }
    TS_REQUIRE_INPUT(!trials[t].keys.empty(), "{}: [random] lists no keys", source);
  }
  return trials;
}

}  // namespace

std::vector<std::string> TrialSpec::overrides() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : keys) out.push_back(key + "=" + value);
  return out;
}

nlohmann::json TrialSpec::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, value] : keys) {
    const nlohmann::json parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
    j[key] = parsed.is_discarded() ? nlohmann::json(value) : parsed;
  }
  return j;
}

SweepGrid parse_sweep_grid(const std::string& text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    TS_INPUT_ERROR("{}:{}: {}", source, e.source().begin.line, e.description());
  }
  const toml::table* grid = root["grid"].as_table();
  const toml::table* random = root["random"].as_table();
  TS_REQUIRE_INPUT((grid != nullptr) != (random != nullptr), "{}: expected exactly one of [grid] and [random]", source);
  SweepGrid g;
  g.mode = grid ? "grid" : "random";
  g.trials = grid ? grid_trials(*grid, source) : random_trials(*random, source);
  std::string all = g.mode;
  for (const TrialSpec& t : g.trials)
    for (const auto& o : t.overrides()) all += "|" + o;
  g.fingerprint = hex64(fnv1a(all));
  return g;
}

SweepGrid load_sweep_grid(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TS_REQUIRE_INPUT(in.good(), "{}: cannot read the grid file", path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_sweep_grid(text.str(), path);
}

}  // namespace tickstream
