// Features export: one hyperslab read per dataset for the ticker's row, CSV with shortest floats.
#include "features/export.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/error.hpp"
#include "core/time.hpp"
#include "store/atomic_output.hpp"
#include "store/file_util.hpp"
#include "store/store_reader.hpp"
#include "store/store_format.hpp"

namespace tickstream {
namespace {

struct Columns {
  std::vector<std::string> names;
  std::vector<float> values;  // [bars, names.size()]
};

Columns read_row(const StoreReader& r, const char* path, int64_t row) {
  TS_REQUIRE_INPUT(h5::exists(r.root(), path), "{}: no {} (run `tickstream features` first)", r.path(), path);
  h5::Handle ds = h5::open_dataset(r.root(), path);
  Columns c;
  c.names = h5::get_attr_strings(ds.id(), "names");
  const auto dims = h5::dataset_dims(ds.id());
  TS_REQUIRE_INPUT(dims.size() == 3 && dims[2] == c.names.size() && dims[1] == r.time().size(),
                   "{}: {} has shape inconsistent with its names or the calendar", r.path(), path);
  c.values.resize(dims.at(1) * dims.at(2));
  h5::read_slab(r.file(), ds.id(), H5T_NATIVE_FLOAT, {static_cast<hsize_t>(row), 0, 0}, {1, dims[1], dims[2]},
                c.values.data());
  return c;
}

void append_cell(std::string& line, float v) {
  line += ',';
  if (!std::isfinite(v)) return;
  char buf[32];
  line.append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}

}  // namespace

void export_ticker_csv(const std::string& store, const std::string& ticker, const std::string& out) {
  require_output_path(out);
  const StoreReader r(store);
  const auto& tickers = r.tickers();
  const auto it = std::lower_bound(tickers.begin(), tickers.end(), ticker);
  TS_REQUIRE_INPUT(it != tickers.end() && *it == ticker, "{}: ticker '{}' not in the store", store, ticker);
  const int64_t row = it - tickers.begin();
  const Columns f = read_row(r, store::path::kFeatureValues, row), l = read_row(r, store::path::kLabelValues, row);
  std::string text = "date";
  for (const auto& n : f.names) text += "," + n;
  for (const auto& n : l.names) text += "," + n;
  text += '\n';
  for (size_t t = 0; t < r.time().size(); ++t) {
    text += format_timestamp(r.time()[t]);
    for (size_t j = 0; j < f.names.size(); ++j) append_cell(text, f.values[t * f.names.size() + j]);
    for (size_t j = 0; j < l.names.size(); ++j) append_cell(text, l.values[t * l.names.size() + j]);
    text += '\n';
  }
  write_file_atomically(out, text);
}

}  // namespace tickstream
