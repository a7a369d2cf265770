// Feature-set comparison between a checkpoint and a store: missing, extra, reordered names.
#include "predict/feature_match.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"

namespace tickstream {
namespace {

std::vector<std::string> minus(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& x : a)
    if (std::find(b.begin(), b.end(), x) == b.end()) out.push_back(x);
  return out;
}

std::string describe_difference(const std::vector<std::string>& trained, const std::vector<std::string>& stored) {
  const auto missing = minus(trained, stored), extra = minus(stored, trained);
  std::string d;
  if (!missing.empty()) d += fmt::format(" missing from the store: [{}];", fmt::join(missing, ", "));
  if (!extra.empty()) d += fmt::format(" not in the checkpoint: [{}];", fmt::join(extra, ", "));
  if (missing.empty() && extra.empty())
    for (size_t i = 0; i < trained.size(); ++i)
      if (trained[i] != stored[i]) {
        d += fmt::format(" order differs at position {} ('{}' in the checkpoint, '{}' in the store);", i, trained[i],
                         stored[i]);
        break;
      }
  return d;
}

}  // namespace

void require_same_features(const std::string& checkpoint, const std::vector<std::string>& trained,
                           const std::string& store, const std::vector<std::string>& stored) {
  if (trained != stored)
    TS_INPUT_ERROR("{}: trained on {} features, but {} has {}:{}", checkpoint, trained.size(), store, stored.size(),
                   describe_difference(trained, stored));
}

}  // namespace tickstream
