// The config schema: every key of docs/configuration.md with its type, range and binding.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.hpp"

namespace tickstream::config {

enum class KeyType { Int, Float, String, Choice, Date, IntOrAuto };

// A parsed value; which member is meaningful depends on the key's type.
struct Value {
  int64_t i = 0;
  double f = 0;
  std::string s;
};

struct KeySpec {
  std::string section, key;
  KeyType type = KeyType::String;
  double min = 0, max = 0;           // inclusive, for Int, Float and IntOrAuto
  std::vector<std::string> choices;  // for Choice
  std::function<void(Config&, const Value&)> set;
  std::function<nlohmann::json(const Config&)> get;
};

// All keys, in documentation order.
std::vector<KeySpec> make_schema();

// "an integer in [1, 4096]", "one of gpt, lstm, mlp", ...: what a key accepts.
std::string describe(const KeySpec& spec);

}  // namespace tickstream::config
