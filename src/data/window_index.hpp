// Sample windows (ticker row, end bar) with a full valid history and a realized label in a period.
#pragma once

#include <cstdint>
#include <vector>

#include "store/store_format.hpp"

namespace tickstream {

// Appends the windows of one ticker under the valid-window rule (store/store_format.hpp). Masks
// are the ticker's [bars] rows.
void append_windows(const uint8_t* feature_valid, const uint8_t* label_valid, int64_t bars, int32_t row,
                    const WindowRule& rule, std::vector<Window>& out);

// Number of such windows for each of `tickers` rows of [tickers, bars] masks (shard balancing).
std::vector<int64_t> count_windows(const std::vector<uint8_t>& feature_valid,
                                   const std::vector<uint8_t>& label_valid, int64_t tickers,
                                   int64_t bars, const WindowRule& rule);

}  // namespace tickstream
