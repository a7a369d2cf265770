// libFuzzer target: the job configuration (src/core/config.cpp, config_schema.cpp, toml++) with
// `--set section.key=value` overrides. Input: a TOML document, then optionally a line `# --set`
// (a TOML comment, so seeds stay valid TOML) after which every line is one override, in order.
// Bad input must raise InputError; an accepted configuration must resolve (to_json, hash) and
// give the same resolution when its overrides are applied again.
#include <string>
#include <vector>

#include "core/config.hpp"
#include "fuzz_support.hpp"

namespace tickstream::fuzz {
namespace {

constexpr std::string_view kMarker = "# --set\n";

struct Job {
  std::string toml;
  std::vector<std::string> overrides;
};

Job split(std::string_view text) {
  Job job;
  size_t at = text.substr(0, kMarker.size()) == kMarker ? 0 : text.find(std::string("\n").append(kMarker));
  if (at == std::string_view::npos) {
    job.toml = text;
    return job;
  }
  if (at > 0) ++at;  // keep the document's last newline
  job.toml = text.substr(0, at);
  std::string_view rest = text.substr(at + kMarker.size());
  while (!rest.empty()) {
    const size_t eol = rest.find('\n');
    job.overrides.emplace_back(rest.substr(0, eol));
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
  }
  return job;
}

}  // namespace
}  // namespace tickstream::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickstream;
  using namespace tickstream::fuzz;
  const Job job = split(Input(data, size).rest());
  Config config;
  if (!accepted("parse_config", [&] { config = parse_config(job.toml, "fuzz.toml", job.overrides); })) return 0;
  std::string hash;
  FUZZ_REQUIRE(accepted("resolve", [&] { hash = config.hash(); }), "an accepted config resolves");
  FUZZ_REQUIRE(hash.size() == 16, "a 16-digit hash: '{}'", hash);
  // Overrides apply in order after the file: applying them twice resolves to the same config.
  std::vector<std::string> twice = job.overrides;
  twice.insert(twice.end(), job.overrides.begin(), job.overrides.end());
  Config again;
  FUZZ_REQUIRE(accepted("parse_config (overrides twice)", [&] { again = parse_config(job.toml, "fuzz.toml", twice); }),
               "overrides that applied once apply twice");
  FUZZ_REQUIRE(again.hash() == hash, "the same resolution: {} vs {}", again.to_json().dump(), config.to_json().dump());
  return 0;
}
