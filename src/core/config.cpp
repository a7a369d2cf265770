// Config loading: TOML parse (toml++), schema checks with file:line, --set overrides, consistency.
#include "core/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/config_schema.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/time.hpp"

namespace tickstream {
namespace {

using config::KeySpec;
using config::KeyType;
using config::Value;

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::vector<KeySpec>& schema, const std::string& section, const std::string& key) {
  for (const auto& k : schema)
    if (k.section == section && edit_distance(k.key, key) <= 2) return fmt::format(" (did you mean '{}'?)", k.key);
  return "";
}

// Converts a TOML node to the key's type; returns an error text, empty on success.
std::string convert(const KeySpec& k, const toml::node& n, Value& v) {
  if (k.type == KeyType::Date) {
    if (auto d = n.as_date()) {
      const toml::date& dt = d->get();
      v.i = days_from_civil(dt.year, dt.month, dt.day) * 86400;
      return "";
    }
    if (auto s = n.as_string()) {
      const auto t = parse_timestamp(s->get());
      if (t) return v.i = *t, "";
    }
    return "expected " + describe(k);
  }
  if (k.type == KeyType::IntOrAuto && n.is_string() && n.as_string()->get() == "auto") return v.i = 0, "";
  if (k.type == KeyType::Int || k.type == KeyType::IntOrAuto) {
    if (!n.is_integer()) return "expected " + describe(k);
    v.i = n.as_integer()->get();
    return !(v.i >= k.min && v.i <= k.max) ? fmt::format("{} is out of range: expected {}", v.i, describe(k)) : "";
  }
  if (k.type == KeyType::Float) {
    if (!n.is_number()) return "expected " + describe(k);
    v.f = n.is_integer() ? static_cast<double>(n.as_integer()->get()) : n.as_floating_point()->get();
    return !(v.f >= k.min && v.f <= k.max) ? fmt::format("{} is out of range: expected {}", v.f, describe(k)) : "";
  }
  if (!n.is_string()) return "expected " + describe(k);
  v.s = n.as_string()->get();
  if (k.type == KeyType::Choice && std::find(k.choices.begin(), k.choices.end(), v.s) == k.choices.end())
    return fmt::format("'{}' is not allowed: expected {}", v.s, describe(k));
  return "";
}

const KeySpec* find_key(const std::vector<KeySpec>& schema, const std::string& section, const std::string& key) {
  for (const auto& k : schema)
    if (k.section == section && k.key == key) return &k;
  return nullptr;
}

bool known_section(const std::vector<KeySpec>& schema, const std::string& section) {
  return std::any_of(schema.begin(), schema.end(), [&](const KeySpec& k) { return k.section == section; });
}

// [features.timeframes]: name = [feature names]; the names are checked by the features stage.
void apply_timeframes(Config& c, const toml::node& node, const std::string& src) {
  const toml::table* tbl = node.as_table();
  TS_REQUIRE_INPUT(tbl, "{}:{}: [features.timeframes] must be a table of name = [feature names]", src,
                   node.source().begin.line);
  c.features.timeframes.clear();
  for (auto&& [key, value] : *tbl) {
    const std::string name(key.str());
    const auto at = value.source().begin.line;
    const toml::array* list = value.as_array();
    TS_REQUIRE_INPUT(list && !list->empty(), "{}:{}: [features.timeframes] {}: expected a non-empty list of feature names",
                     src, at, name);
    Config::Timeframe tf{name, {}};
    for (const auto& f : *list) {
      TS_REQUIRE_INPUT(f.is_string(), "{}:{}: [features.timeframes] {}: expected feature names (strings)", src, at, name);
      tf.features.push_back(f.as_string()->get());
    }
    c.features.timeframes.push_back(std::move(tf));
  }
}

void apply_table(Config& c, const std::vector<KeySpec>& schema, const toml::table& root, const std::string& src) {
  for (auto&& [sec_key, sec_node] : root) {
    const std::string section(sec_key.str());
    const auto line = sec_node.source().begin.line;
    TS_REQUIRE_INPUT(known_section(schema, section), "{}:{}: unknown section [{}]", src, line, section);
    const toml::table* tbl = sec_node.as_table();
    TS_REQUIRE_INPUT(tbl, "{}:{}: [{}] must be a table", src, line, section);
    for (auto&& [key_node, value] : *tbl) {
      const std::string key(key_node.str());
      const auto at = value.source().begin.line;
      if (section == "features" && key == "timeframes") {
        apply_timeframes(c, value, src);
        continue;
      }
      const KeySpec* spec = find_key(schema, section, key);
      TS_REQUIRE_INPUT(spec, "{}:{}: [{}] {}: unknown key{}", src, at, section, key, suggestion(schema, section, key));
      Value v;
      const std::string err = convert(*spec, value, v);
      TS_REQUIRE_INPUT(err.empty(), "{}:{}: [{}] {}: {}", src, at, section, key, err);
      spec->set(c, v);
    }
  }
}

// The resolved configuration is JSON (to_json, hash, checkpoints): its strings must be UTF-8.
bool is_utf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

void apply_override(Config& c, const std::vector<KeySpec>& schema, const std::string& text) {
  // A TOML file is checked for UTF-8 by toml++; a --set value taken as a bare word is not.
  TS_REQUIRE_INPUT(is_utf8(text), "--set {}: not valid UTF-8 (configuration values are UTF-8 text)", text);
  const auto eq = text.find('=');
  const auto dot = text.find('.');
  TS_REQUIRE_INPUT(eq != std::string::npos && dot != std::string::npos && dot < eq,
                   "--set {}: expected section.key=value", text);
  const std::string section = text.substr(0, dot), key = text.substr(dot + 1, eq - dot - 1);
  const std::string raw = text.substr(eq + 1);
  const KeySpec* spec = find_key(schema, section, key);
  TS_REQUIRE_INPUT(spec, "--set {}: unknown key [{}] {}{}", text, section, key, suggestion(schema, section, key));
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + raw);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", raw}};  // a bare word: take it as a string
  }
  if (!parsed["v"].is_string() && (spec->type == KeyType::String || spec->type == KeyType::Choice))
    parsed = toml::table{{"v", raw}};
  Value v;
  const std::string err = convert(*spec, *parsed.get("v"), v);
  TS_REQUIRE_INPUT(err.empty(), "--set {}: [{}] {}: {}", text, section, key, err);
  spec->set(c, v);
}

void check_dates(const Config::Data& d, const std::string& src) {
  const std::vector<std::pair<const char*, int64_t>> order{{"train_start", d.train_start}, {"train_end", d.train_end},
                                                           {"valid_start", d.valid_start}, {"valid_end", d.valid_end},
                                                           {"test_start", d.test_start}};
  for (size_t i = 0; i < order.size(); ++i)
    for (size_t j = i + 1; j < order.size(); ++j) {
      if (!order[i].second || !order[j].second) continue;
      const bool same_period = j == i + 1 && (i == 0 || i == 2);  // start <= end within a period
      const bool ok = same_period ? order[i].second <= order[j].second : order[i].second < order[j].second;
      TS_REQUIRE_INPUT(ok, "{}: [data] {} ({}) must come before {} ({})", src, order[i].first,
                       format_timestamp(order[i].second), order[j].first, format_timestamp(order[j].second));
    }
}

void check_consistency(const Config& c, const std::string& src) {
  TS_REQUIRE_INPUT(!c.data.store.empty(), "{}: [data] store: required (path of the store .h5)", src);
  check_dates(c.data, src);
  TS_REQUIRE_INPUT(c.model.kind != "gpt" || c.model.d_model % c.model.n_heads == 0,
                   "{}: [model] d_model ({}) must be a multiple of n_heads ({})", src, c.model.d_model, c.model.n_heads);
}

}  // namespace

Config parse_config(const std::string& text, const std::string& source, const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    TS_INPUT_ERROR("{}:{}: {}", source, e.source().begin.line, e.description());
  }
  const auto schema = config::make_schema();
  Config c;
  c.source = source;
  apply_table(c, schema, root, source);
  for (const auto& o : overrides) apply_override(c, schema, o);
  check_consistency(c, source);
  return c;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  TS_REQUIRE_INPUT(in.good(), "{}: cannot read the config file", path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, overrides);
}

nlohmann::json Config::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& k : config::make_schema()) j[k.section][k.key] = k.get(*this);
  if (!features.timeframes.empty()) {  // absent when none: the hash of configs without them is unchanged
    nlohmann::json tf = nlohmann::json::array();
    for (const auto& t : features.timeframes) tf.push_back({{"name", t.name}, {"features", t.features}});
    j["features"]["timeframes"] = tf;
  }
  return j;
}

std::string Config::hash() const { return hex64(fnv1a(to_json().dump())); }

std::string hex64(uint64_t value) { return fmt::format("{:016x}", value); }

}  // namespace tickstream
