// What every reader (CSV, Parquet) promises of a file it accepts (docs/ingest.md "Validation"),
// checked by the fuzz targets.
#pragma once

#include <cmath>

#include "fuzz_support.hpp"
#include "store/csv_reader.hpp"

namespace tickstream::fuzz {

// `piece`: a part of a file (a row-group range), which may hold no rows and report nothing.
inline void check_parsed(const ParsedFile& f, bool piece = false) {
  int64_t bars = 0;
  for (size_t i = 0; i < f.tickers.size(); ++i) {
    const TickerBars& t = f.tickers[i];
    FUZZ_REQUIRE(i == 0 || f.tickers[i - 1].ticker < t.ticker, "tickers sorted and unique: '{}'", t.ticker);
    FUZZ_REQUIRE(!t.ticker.empty() || f.layout == CsvLayout::PerTicker, "an empty ticker in a long file");
    FUZZ_REQUIRE(!t.bars.empty(), "ticker '{}' without bars", t.ticker);
    for (size_t k = 0; k < t.bars.size(); ++k) {
      const Bar& b = t.bars[k];
      FUZZ_REQUIRE(k == 0 || t.bars[k - 1].time < b.time, "bars of '{}' in strict time order", t.ticker);
      FUZZ_REQUIRE(b.open > 0 && b.high > 0 && b.low > 0 && b.close > 0, "positive prices, line {}", b.line);
      FUZZ_REQUIRE(std::isfinite(b.open) && std::isfinite(b.high) && std::isfinite(b.low) &&
                       std::isfinite(b.close) && std::isfinite(b.volume),
                   "finite values, line {}", b.line);
      FUZZ_REQUIRE(b.high >= b.low && b.volume >= 0, "high >= low and volume >= 0, line {}", b.line);
      FUZZ_REQUIRE(f.has_adj_close ? b.adj_close > 0 && std::isfinite(b.adj_close) : std::isnan(b.adj_close),
                   "adj close, line {}", b.line);
    }
    bars += static_cast<int64_t>(t.bars.size());
  }
  const bool dropped = !f.rejections.empty() && f.rejections.front().reason == RejectReason::CorruptFile;
  if (f.rows_read == 0 || dropped) {  // a file-level problem (no header, a bad header, no rows): one rejection
    FUZZ_REQUIRE(bars == 0 && (f.rejections.size() == 1 || (piece && f.rejections.empty())),
                 "{} rejections of a file without rows", f.rejections.size());
    return;
  }
  const auto rejected = static_cast<int64_t>(f.rejections.size());
  FUZZ_REQUIRE(f.rows_read == bars + rejected, "every row stored or rejected once: {} rows, {} bars, {} rejected",
               f.rows_read, bars, rejected);
}

}  // namespace tickstream::fuzz
