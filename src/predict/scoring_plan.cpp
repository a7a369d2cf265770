// As-of bars, ticker shards, read tiles and skip reasons of a prediction run.
#include "predict/scoring_plan.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/partition.hpp"
#include "core/time.hpp"
#include "store/h5.hpp"
#include "store/store_format.hpp"

namespace tickstream {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kPresenceRows = 256;  // rows of /raw/valid per read

int64_t day_of(int64_t t) { return t >= 0 ? t / kSecondsPerDay : (t - kSecondsPerDay + 1) / kSecondsPerDay; }

}  // namespace

std::vector<int64_t> asof_bars(const std::vector<int64_t>& time, int64_t from, int64_t to, const std::string& flag) {
  TS_REQUIRE_INPUT(!time.empty(), "{}: the store has no bars", flag);
  TS_REQUIRE_INPUT(from <= to, "{}: the range starts ({}) after it ends ({})", flag, format_timestamp(from),
                   format_timestamp(to));
  if (from == to) {
    const BarRange upto = period_bars(time, 0, to);
    TS_REQUIRE_INPUT(!upto.empty(), "{} {}: the store's first bar is {}", flag, format_timestamp(to),
                     format_timestamp(time.front()));
    return {upto.last};
  }
  const BarRange r = period_bars(time, from, to);
  TS_REQUIRE_INPUT(!r.empty(), "{} {} .. {}: no bars in that range (the store has {} .. {})", flag,
                   format_timestamp(from), format_timestamp(to), format_timestamp(time.front()),
                   format_timestamp(time.back()));
  std::vector<int64_t> out;
  for (int64_t b = r.first; b <= r.last; ++b) {
    const bool last_of_day = b == r.last || day_of(time[static_cast<size_t>(b + 1)]) != day_of(time[static_cast<size_t>(b)]);
    if (last_of_day) out.push_back(b);
  }
  return out;
}

std::pair<int64_t, int64_t> ticker_shard(int64_t tickers, int ranks, int rank, int64_t group) {
  const std::vector<int> owners =
      balanced_owners_grouped(std::vector<int64_t>(static_cast<size_t>(tickers), 1), ranks, std::max<int64_t>(group, 1));
  return owned_range(owners, rank);
}

std::vector<Tile> score_tiles(std::pair<int64_t, int64_t> rows, const std::vector<int64_t>& asof,
                                   int64_t seq_len, int64_t features, int64_t max_rows, size_t budget_bytes) {
  std::vector<Tile> out;
  if (asof.empty() || rows.second <= rows.first) return out;
  const int64_t row_block = std::max<int64_t>(1, max_rows);
  const auto bytes_per_bar = static_cast<size_t>(row_block * features) * sizeof(float) + static_cast<size_t>(row_block);
  const int64_t read_bars = std::max<int64_t>(static_cast<int64_t>(budget_bytes / std::max<size_t>(bytes_per_bar, 1)), seq_len);
  const int64_t span = std::max<int64_t>(1, read_bars - seq_len + 1);  // as-of bars per block
  for (int64_t r = rows.first; r < rows.second; r += row_block)
    for (size_t i = 0; i < asof.size();) {
      Tile t{r, std::min(row_block, rows.second - r), asof[i], 0};
      while (i < asof.size() && asof[i] < t.bar_begin + span) ++i;
      t.bars = asof[i - 1] - t.bar_begin + 1;
      out.push_back(t);
    }
  return out;
}

std::string skip_reason(const ListingSpan& span, bool bar_at_asof, int64_t run, int64_t seq_len, int64_t asof,
                        const std::vector<int64_t>& time, int64_t window_span) {
  const auto date = [&](int64_t bar) { return format_timestamp(time[static_cast<size_t>(bar)]); };
  if (span.first < 0) return "no bars in the store";
  if (span.first > asof) return fmt::format("not listed yet (first bar {})", date(span.first));
  if (span.last < asof && (window_span <= seq_len || span.last <= asof - window_span))
    return fmt::format("delisted (last bar {})", date(span.last));
  if (window_span > seq_len)  // a skip store: missing bars are skipped, only the count matters
    return fmt::format("not enough history ({} of {} bars with features within the last {} bars)", run, seq_len,
                       window_span);
  if (!bar_at_asof) return "no bar at the as-of date";
  if (run == 0) return "missing features at the as-of bar";
  return fmt::format("not enough history ({} of {} bars with features)", run, seq_len);
}

RawPresence read_raw_presence(const StoreReader& store, int64_t begin, int64_t end, const std::vector<int64_t>& bars) {
  RawPresence out;
  const auto total = static_cast<int64_t>(store.time().size());
  const h5::Handle ds = h5::open_dataset(store.root(), store::path::kRawValid);
  std::vector<uint8_t> block;
  for (int64_t r0 = begin; r0 < end; r0 += kPresenceRows) {
    const int64_t rows = std::min(kPresenceRows, end - r0);
    block.resize(static_cast<size_t>(rows * total));
    h5::read_slab(store.file(), ds.id(), H5T_NATIVE_UINT8, {static_cast<hsize_t>(r0), 0},
                  {static_cast<hsize_t>(rows), static_cast<hsize_t>(total)}, block.data());
    for (int64_t i = 0; i < rows; ++i) {
      const uint8_t* v = block.data() + i * total;
      ListingSpan s;
      for (int64_t t = 0; t < total; ++t)
        if (v[t]) s.last = t, s.first = s.first < 0 ? t : s.first;
      out.spans.push_back(s);
      for (int64_t b : bars) out.at.push_back(v[b]);
    }
  }
  return out;
}

}  // namespace tickstream
