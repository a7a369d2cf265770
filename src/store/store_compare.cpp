// Bitwise store comparison over /meta and /raw, reading both stores in row blocks.
#include "store/store_compare.hpp"

#include <cstring>

#include <fmt/format.h>

#include "store/store_reader.hpp"

namespace tickstream {
namespace {

constexpr int64_t kRowsPerBlock = 128;

std::optional<std::string> compare_field(const char* name, const std::vector<double>& a,
                                         const std::vector<double>& b, const RawBlock& blk) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0)
      return fmt::format("raw/{}[{}, {}]: {} vs {}", name, blk.row_begin + static_cast<int64_t>(i) / blk.bars,
                         static_cast<int64_t>(i) % blk.bars, a[i], b[i]);
  return std::nullopt;
}

std::optional<std::string> compare_block(const RawBlock& x, const RawBlock& y) {
  const std::vector<std::tuple<const char*, const std::vector<double>*, const std::vector<double>*>> fields{
      {"open", &x.open, &y.open},       {"high", &x.high, &y.high},   {"low", &x.low, &y.low},
      {"close", &x.close, &y.close},    {"volume", &x.volume, &y.volume},
      {"adj_close", &x.adj_close, &y.adj_close}};
  for (const auto& [name, a, b] : fields)
    if (auto d = compare_field(name, *a, *b, x)) return d;
  if (x.valid != y.valid) return std::string("raw/valid differs");
  return std::nullopt;
}

}  // namespace

std::optional<std::string> compare_stores(const std::string& a, const std::string& b) {
  const StoreReader x(a), y(b);
  if (x.tickers() != y.tickers()) return std::string("meta/tickers differ");
  if (x.time() != y.time()) return std::string("meta/time differs");
  if (x.frequency() != y.frequency()) return fmt::format("frequency {} vs {}", x.frequency(), y.frequency());
  if (x.has_adj_close() != y.has_adj_close()) return std::string("raw/adj_close present in one store only");
  const int64_t n = static_cast<int64_t>(x.tickers().size());
  for (int64_t begin = 0; begin < n; begin += kRowsPerBlock) {
    const int64_t rows = std::min(kRowsPerBlock, n - begin);
    if (auto d = compare_block(x.read_raw(begin, rows), y.read_raw(begin, rows))) return d;
  }
  return std::nullopt;
}

}  // namespace tickstream
