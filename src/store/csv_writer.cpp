// yfinance-style CSV writer: std::to_chars shortest form so parsing gives the same doubles.
#include "store/csv_writer.hpp"

#include <charconv>

#include "core/time.hpp"
#include "store/file_util.hpp"

namespace tickstream {
namespace {

void append_number(std::string& out, double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

}  // namespace

void write_ticker_csv(const std::string& path, const RawBlock& b, int64_t row,
                      const std::vector<int64_t>& time) {
  std::string text = b.has_adj_close ? "Date,Open,High,Low,Close,Adj Close,Volume\n"
                                     : "Date,Open,High,Low,Close,Volume\n";
  text.reserve(static_cast<size_t>(b.bars) * 64);
  for (int64_t t = 0; t < b.bars; ++t) {
    const size_t i = b.index(row, t);
    if (!b.valid[i]) continue;
    text += format_timestamp(time[static_cast<size_t>(t)]);
    for (double v : {b.open[i], b.high[i], b.low[i], b.close[i]}) text += ',', append_number(text, v);
    if (b.has_adj_close) text += ',', append_number(text, b.adj_close[i]);
    text += ',';
    append_number(text, b.volume[i]);
    text += '\n';
  }
  write_file_atomically(path, text);
}

}  // namespace tickstream
