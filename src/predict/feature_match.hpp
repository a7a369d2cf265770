// Refuses a checkpoint whose feature set does not match the store's, naming the difference.
#pragma once

#include <string>
#include <vector>

namespace tickstream {

// InputError "<checkpoint>: trained on N features, but <store> has M: missing from the store
// [...]; not in the checkpoint [...]; order differs at position i ('a' ... 'b')" when the names
// differ in any way. (The stores' config hashes are not compared: they include paths and dates,
// so a re-ingested store with the same definitions would be refused.)
void require_same_features(const std::string& checkpoint, const std::vector<std::string>& trained,
                           const std::string& store, const std::vector<std::string>& stored);

}  // namespace tickstream
