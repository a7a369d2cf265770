// Store inspection: coverage per ticker, missing fractions, chunk shapes, provenance attributes.
#include "store/inspect.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "core/time.hpp"
#include "store/h5.hpp"
#include "store/store_reader.hpp"
#include "store/store_format.hpp"

namespace tickstream {
namespace {

constexpr int64_t kRowsPerRead = 256;

struct Coverage {
  int64_t valid = 0, in_span = 0;
  int64_t tickers_with_gaps = 0, largest_gap = 0;
  nlohmann::json per_ticker = nlohmann::json::array();
};

// One ticker's row: its listing span, bars, and the missing bars inside the span (count, longest run).
struct RowCoverage {
  int64_t first = -1, last = -1, count = 0, missing = 0, largest_gap = 0;
};

RowCoverage row_coverage(const uint8_t* valid, int64_t bars) {
  RowCoverage r;
  int64_t run = 0;
  for (int64_t t = 0; t < bars; ++t) {
    if (!valid[t]) {
      ++run;
      continue;
    }
    if (r.first < 0) r.first = t;
    else r.missing += run, r.largest_gap = std::max(r.largest_gap, run);  // a gap inside the span
    run = 0, r.last = t, ++r.count;
  }
  return r;
}

Coverage scan_coverage(const StoreReader& r) {
  Coverage c;
  const auto& time = r.time();
  const int64_t n = static_cast<int64_t>(r.tickers().size());
  const int64_t t_len = static_cast<int64_t>(time.size());
  h5::Handle ds = h5::open_dataset(r.root(), store::path::kRawValid);
  std::vector<uint8_t> valid;
  for (int64_t begin = 0; begin < n; begin += kRowsPerRead) {
    const int64_t rows = std::min(kRowsPerRead, n - begin);
    valid.resize(static_cast<size_t>(rows * t_len));
    h5::read_rows(r.file(), ds.id(), H5T_NATIVE_UINT8, begin, rows, valid.data());
    for (int64_t row = 0; row < rows; ++row) {
      const RowCoverage rc = row_coverage(valid.data() + row * t_len, t_len);
      c.valid += rc.count;
      c.in_span += rc.first < 0 ? 0 : rc.last - rc.first + 1;
      c.tickers_with_gaps += rc.missing > 0, c.largest_gap = std::max(c.largest_gap, rc.largest_gap);
      nlohmann::json e{{"ticker", r.tickers()[static_cast<size_t>(begin + row)]}, {"bars", rc.count},
                       {"missing_bars", rc.missing}, {"largest_gap", rc.largest_gap}};
      e["first_time"] = rc.first < 0 ? nlohmann::json() : nlohmann::json(format_timestamp(time[rc.first]));
      e["last_time"] = rc.last < 0 ? nlohmann::json() : nlohmann::json(format_timestamp(time[rc.last]));
      c.per_ticker.push_back(std::move(e));
    }
  }
  return c;
}

nlohmann::json dataset_layouts(const StoreReader& r, bool& all_fletcher) {
  nlohmann::json chunks = nlohmann::json::object();
  all_fletcher = true;
  std::vector<std::string> names;
  for (const char* field : store::kPriceFields) names.push_back(store::raw_dataset(field));
  for (const char* name : {store::path::kRawAdjClose, store::path::kRawValid, store::path::kFeatureValues,
                           store::path::kLabelValues})
    names.emplace_back(name);
  for (const std::string& name : names) {
    if (!h5::exists(r.root(), name)) continue;
    h5::Handle ds = h5::open_dataset(r.root(), name);
    chunks[name] = h5::dataset_chunk(ds.id());
    all_fletcher = all_fletcher && h5::dataset_has_fletcher32(ds.id());
  }
  return chunks;
}

nlohmann::json rejected_counts(const StoreReader& r) {
  nlohmann::json out = nlohmann::json::object();
  h5::Handle raw = h5::open_group(r.root(), store::path::kRaw);
  for (const auto& name : h5::attr_names(raw.id()))
    if (name.rfind("rejected_", 0) == 0) out[name.substr(9)] = h5::get_attr_int(raw.id(), name);
  return out;
}

}  // namespace

nlohmann::json inspect_store(const std::string& path) {
  const StoreReader r(path);
  const Coverage c = scan_coverage(r);
  const auto& time = r.time();
  const double cells = static_cast<double>(r.tickers().size() * time.size());
  bool fletcher = false;
  nlohmann::json j{{"path", path},
                   {"tickers", r.tickers().size()},
                   {"bars", time.size()},
                   {"frequency", r.frequency()},
                   {"first_time", time.empty() ? nlohmann::json() : nlohmann::json(format_timestamp(time.front()))},
                   {"last_time", time.empty() ? nlohmann::json() : nlohmann::json(format_timestamp(time.back()))},
                   {"missing_fraction", cells > 0 ? 1.0 - c.valid / cells : 0.0},
                   {"missing_in_span_fraction", c.in_span > 0 ? 1.0 - static_cast<double>(c.valid) / c.in_span : 0.0},
                   {"valid_bars", c.valid},
                   {"has_adj_close", r.has_adj_close()},
                   {"file_bytes", std::filesystem::file_size(path)},
                   {"chunks", dataset_layouts(r, fletcher)},
                   {"rejected", rejected_counts(r)}};
  j["fletcher32"] = fletcher;
  j["oracle_ic"] = h5::has_attr(r.root(), "oracle_ic") ? nlohmann::json(h5::get_attr_double(r.root(), "oracle_ic"))
                                                       : nlohmann::json();
  j["tickers_with_gaps"] = c.tickers_with_gaps;
  j["largest_gap"] = c.largest_gap;
  j["per_ticker"] = c.per_ticker;
  return j;
}

nlohmann::json verify_store(const std::string& path) {
  const StoreReader r(path);
  nlohmann::json corrupt = nlohmann::json::array(), unchecked = nlohmann::json::array();
  int64_t checked = 0;
  for (const std::string& name : h5::dataset_paths(r.root())) {
    h5::Handle ds = h5::open_dataset(r.root(), name);
    if (!h5::dataset_has_fletcher32(ds.id())) {
      unchecked.push_back(name);
      continue;
    }
    ++checked;
    for (const auto& origin : h5::corrupt_chunks(ds.id())) corrupt.push_back({{"dataset", name}, {"chunk", origin}});
  }
  return {{"path", path}, {"checksummed_datasets", checked}, {"unchecksummed_datasets", unchecked},
          {"corrupt_chunks", corrupt}};
}

namespace {
// A JSON scalar as plain text: strings without quotes, null as "-".
std::string plain(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}
}  // namespace

std::string format_inspect(const nlohmann::json& j) {
  std::string s = fmt::format("store      {}\n", j["path"].get<std::string>());
  s += fmt::format("tickers    {}\nbars       {} ({})\n", j["tickers"].dump(), j["bars"].dump(),
                   j["frequency"].get<std::string>());
  s += fmt::format("time       {} .. {}\n", plain(j["first_time"]), plain(j["last_time"]));
  s += fmt::format("missing    {:.4f} of all cells, {:.4f} inside listing spans\n",
                   j["missing_fraction"].get<double>(), j["missing_in_span_fraction"].get<double>());
  s += fmt::format("gaps       {} tickers miss bars inside their listing span; the longest gap {} bars\n",
                   j["tickers_with_gaps"].dump(), j["largest_gap"].dump());
  s += fmt::format("file       {:.1f} MB, fletcher32 {}\n", j["file_bytes"].get<double>() / 1e6,
                   j["fletcher32"].get<bool>() ? "on" : "off");
  for (const auto& [name, shape] : j["chunks"].items()) s += fmt::format("chunks     {} {}\n", name, shape.dump());
  if (!j["oracle_ic"].is_null()) s += fmt::format("oracle IC  {:.4f} (synthetic)\n", j["oracle_ic"].get<double>());
  const auto& per = j["per_ticker"];
  const size_t shown = std::min<size_t>(per.size(), 5);
  for (size_t i = 0; i < shown; ++i)
    s += fmt::format("  {:<8} {} .. {} {} bars, {} missing (longest gap {})\n", plain(per[i]["ticker"]),
                     plain(per[i]["first_time"]), plain(per[i]["last_time"]), plain(per[i]["bars"]),
                     plain(per[i]["missing_bars"]), plain(per[i]["largest_gap"]));
  if (per.size() > shown) s += fmt::format("  ... {} more tickers (--json lists all)\n", per.size() - shown);
  return s;
}

}  // namespace tickstream
