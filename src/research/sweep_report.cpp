// Sweep outputs: the results table (CSV, JSON), the best trial's config, the command.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <cmath>
#include <set>
#include <sstream>

#include "comm/agreement.hpp"
#include "core/error.hpp"
#include "research/sweep.hpp"
#include "store/file_util.hpp"

namespace tickstream {
namespace {

nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); }
double number_of(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

std::string csv_cell(const nlohmann::json& v) {
  std::string text = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string q = "\"";
  for (char c : text) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Sets section.key = value in `root`: TOML text, or a bare word taken as a string (as --set does).
void set_key(toml::table& root, const std::string& key, const std::string& value) {
  const auto dot = key.find('.');
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", value}};
  }
  if (!root.contains(key.substr(0, dot))) root.insert(key.substr(0, dot), toml::table{});
  root[key.substr(0, dot)].as_table()->insert_or_assign(key.substr(dot + 1), *parsed.get("v"));
}

}  // namespace

nlohmann::json TrialResult::to_json() const {
  return {{"trial", id}, {"status", status}, {"keys", keys}, {"best_val_rank_ic", number(best_val_rank_ic)},
          {"val_rank_ic", number(val_rank_ic)}, {"val_ic", number(val_ic)}, {"val_loss", number(val_loss)},
          {"steps", steps}, {"seconds", seconds}, {"group", group}, {"stop_reason", stop_reason}, {"error", error}};
}

TrialResult TrialResult::from_json(const nlohmann::json& j) {
  TrialResult r;
  r.id = j.at("trial").get<int64_t>(), r.status = j.at("status").get<std::string>(), r.keys = j.at("keys");
  r.best_val_rank_ic = number_of(j, "best_val_rank_ic"), r.val_rank_ic = number_of(j, "val_rank_ic");
  r.val_ic = number_of(j, "val_ic"), r.val_loss = number_of(j, "val_loss");
  r.steps = j.value("steps", int64_t{0}), r.seconds = j.value("seconds", 0.0), r.group = j.value("group", 0);
  r.stop_reason = j.value("stop_reason", ""), r.error = j.value("error", "");
  return r;
}

std::string results_csv(const std::vector<TrialResult>& results) {
  std::set<std::string> keys;
  for (const TrialResult& r : results)
    for (const auto& [k, v] : r.keys.items()) keys.insert(k);
  std::string out = "trial,status";
  for (const auto& k : keys) out.append(",").append(csv_cell(k));
  out += ",best_val_rank_ic,val_rank_ic,val_ic,val_loss,steps,seconds,group,error\n";
  for (const TrialResult& r : results) {
    out += fmt::format("{},{}", r.id, r.status);
    for (const auto& k : keys) out.append(",").append(csv_cell(r.keys.contains(k) ? r.keys[k] : nlohmann::json()));
    const nlohmann::json j = r.to_json();
    for (const char* m : {"best_val_rank_ic", "val_rank_ic", "val_ic", "val_loss", "steps", "seconds", "group", "error"})
      out.append(",").append(csv_cell(j[m]));
    out += "\n";
  }
  return out;
}

int64_t best_trial(const std::vector<TrialResult>& results) {
  int64_t best = -1;
  double value = -std::numeric_limits<double>::infinity();
  for (const TrialResult& r : results)
    if (r.status == "ok" && std::isfinite(r.best_val_rank_ic) && r.best_val_rank_ic > value)
      best = r.id, value = r.best_val_rank_ic;
  return best;
}

std::string best_config_toml(const SweepOptions& o, const TrialSpec& trial) {
  toml::table root = toml::parse_file(o.config);
  for (const std::string& s : o.overrides) {
    const auto eq = s.find('=');
    set_key(root, s.substr(0, eq), s.substr(eq + 1));
  }
  for (const auto& [key, value] : trial.keys) set_key(root, key, value);
  // Its own outputs: training from best.toml must not meet the base run's checkpoints.
  for (const auto& [key, name] : {std::pair{"train.checkpoint_dir", "ckpt"}, {"train.metrics", "metrics.jsonl"},
                                  {"train.tensorboard_dir", "tb"}})
    set_key(root, key, nlohmann::json(o.out + "/best/" + name).dump());
  std::ostringstream out;
  out << "# The best trial (" << trial.id << ") of the sweep of " << o.grid << " over " << o.config << "\n" << root << "\n";
  return out.str();
}

int sweep_command(RankContext& ctx, const nlohmann::json& args) {
  SweepOptions o;
  o.config = args.at("config").get<std::string>(), o.grid = args.at("grid").get<std::string>();
  o.out = args.at("out").get<std::string>(), o.overrides = args.at("set").get<std::vector<std::string>>();
  o.group_size = args.at("group_size").get<int>();
  const std::vector<TrialResult> results = run_sweep(ctx, o);
  run_agreed(ctx.comm(), [&] {
    if (!ctx.is_root()) return;
    nlohmann::json rows = nlohmann::json::array();
    for (const TrialResult& r : results) rows.push_back(r.to_json());
    const int64_t best = best_trial(results);
    write_file_atomically(o.out + "/results.csv", results_csv(results));
    write_file_atomically(o.out + "/results.json",
                          nlohmann::json{{"trials", rows}, {"best_trial", best >= 0 ? nlohmann::json(best) : nlohmann::json()}}
                                  .dump(2) + "\n");
    const int64_t failed = std::count_if(results.begin(), results.end(), [](const TrialResult& r) { return r.status != "ok"; });
    fmt::print("sweep: {} trials recorded ({} failed) in {}/results.csv\n", results.size(), failed, o.out);
    if (best < 0) return;
    const SweepGrid grid = load_sweep_grid(o.grid);
    write_file_atomically(o.out + "/best.toml", best_config_toml(o, grid.trials[static_cast<size_t>(best)]));
    const TrialResult& b = *std::find_if(results.begin(), results.end(), [&](const TrialResult& r) { return r.id == best; });
    fmt::print("sweep: best trial {} ({}): best validation rank IC {:.4f}; config {}/best.toml\n", best,
               b.keys.dump(), b.best_val_rank_ic, o.out);
  });
  return 0;
}

}  // namespace tickstream
