// Writes one ticker's bars as a yfinance-style CSV file (shortest round-trip number format).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/raw_block.hpp"

namespace tickstream {

// Date,Open,High,Low,Close[,Adj Close],Volume; valid bars only; written atomically.
void write_ticker_csv(const std::string& path, const RawBlock& block, int64_t row,
                      const std::vector<int64_t>& time);

}  // namespace tickstream
