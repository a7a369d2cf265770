// Accepted bars of one input file grouped by ticker, in any row order, then finished: each ticker's
// bars sorted by time with repeated times dropped (the first row wins). Used by every reader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/bars.hpp"

namespace tickstream {

class TickerAssembly {
 public:
  // `fixed_ticker`: a per-ticker file's ticker (every bar goes to it); "" for a long table.
  explicit TickerAssembly(std::string fixed_ticker = "");

  // The group of a ticker named in a row of a long table (created on first sight).
  size_t group_for(std::string_view ticker);

  // Room for about `rows` more bars (first-touch page faults cost as much as parsing otherwise).
  void reserve(size_t rows);
  bool reserved() const { return flat_.capacity() > 0; }

  // Adds an accepted bar; `group` from group_for (0 for a per-ticker file).
  void add(const Bar& bar, size_t group) {
    flat_.push_back(bar);
    if (!fixed_) flat_group_.push_back(static_cast<uint32_t>(group));
  }

  // Sorts every ticker's bars by time and drops repeated times. Returns one rejection per dropped
  // bar (file `path`, its line or row, the date column `date_column`), in line order. Idempotent.
  std::vector<Rejection> remove_duplicates(const std::string& path, const std::string& date_column, bool rows);

  // The non-empty tickers sorted by name (call remove_duplicates first).
  std::vector<TickerBars> take();

 private:
  void distribute();

  bool fixed_;
  std::vector<TickerBars> groups_;
  std::vector<Bar> flat_;             // accepted bars in row order (per-ticker: the group's bars)
  std::vector<uint32_t> flat_group_;  // long table: the group of each
  std::unordered_map<std::string, size_t> group_index_;
  std::string key_;
  size_t last_group_ = 0;
};

}  // namespace tickstream
