// Checkpoint vs store feature sets: identical passes; missing, extra, reordered refused by name.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "predict/feature_match.hpp"

namespace tickstream {
namespace {

std::string refusal(const std::vector<std::string>& trained, const std::vector<std::string>& stored) {
  try {
    require_same_features("ck.pt", trained, "s.h5", stored);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(FeatureMatch, IdenticalSetsPass) {
  EXPECT_EQ(refusal({"a", "b", "c"}, {"a", "b", "c"}), "");
}

TEST(FeatureMatch, DifferencesAreNamed) {
  EXPECT_EQ(refusal({"a", "b", "c"}, {"a", "c"}),
            "ck.pt: trained on 3 features, but s.h5 has 2: missing from the store: [b];");
  EXPECT_EQ(refusal({"a"}, {"a", "z"}), "ck.pt: trained on 1 features, but s.h5 has 2: not in the checkpoint: [z];");
  EXPECT_EQ(refusal({"a", "b"}, {"b", "a"}),
            "ck.pt: trained on 2 features, but s.h5 has 2: order differs at position 0 ('a' in the checkpoint, "
            "'b' in the store);");
}

}  // namespace
}  // namespace tickstream
