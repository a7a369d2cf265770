// Bitwise comparison of two stores' /meta and /raw (NaN == NaN), for tests and benchmarks.
#pragma once

#include <optional>
#include <string>

namespace tickstream {

// nullopt when equal; otherwise the first difference ("raw/close[3, 17]: 1.5 vs 1.25").
std::optional<std::string> compare_stores(const std::string& a, const std::string& b);

}  // namespace tickstream
