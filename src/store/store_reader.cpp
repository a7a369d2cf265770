// StoreReader: format checks and hyperslab reads of /raw.
#include "store/store_reader.hpp"

#include <fmt/ranges.h>

#include "core/error.hpp"
#include "store/store_format.hpp"

namespace tickstream {

StoreReader::StoreReader(const std::string& path, comm::Communicator* comm)
    : path_(path), file_(h5::File::open(path, false, comm)) {
  TS_REQUIRE_INPUT(h5::has_attr(file_.id(), "format") &&
                       h5::get_attr_string(file_.id(), "format") == store::kFormatName,
                   "{}: not a tickstream store (attribute format != '{}')", path, store::kFormatName);
  const int64_t version = h5::get_attr_int(file_.id(), "version");
  TS_REQUIRE_INPUT(version == store::kFormatVersion, "{}: store format version {} (expected {})",
                   path, version, store::kFormatVersion);
  frequency_ = h5::get_attr_string(file_.id(), "frequency");
  tickers_ = h5::read_strings(file_.id(), store::path::kTickers);
  h5::Handle time = h5::open_dataset(file_.id(), store::path::kTime);
  const std::vector<hsize_t> t_dims = h5::dataset_dims(time.id());
  TS_REQUIRE_INPUT(t_dims.size() == 1, "{}: /{}: {} dimensions, expected 1", path, store::path::kTime, t_dims.size());
  h5::require_stored(time.id(), t_dims[0], sizeof(int64_t));
  time_.resize(t_dims[0]);
  h5::read_rows(file_, time.id(), H5T_NATIVE_INT64, 0, time_.size(), time_.data());
  has_adj_close_ = h5::exists(file_.id(), store::path::kRawAdjClose);
  check_raw_shapes();
}

// Every /raw dataset is [tickers, times]: rows are read into buffers of that shape.
void StoreReader::check_raw_shapes() const {
  std::vector<std::string> names{store::path::kRawValid};
  for (const char* field : store::kPriceFields) names.push_back(store::raw_dataset(field));
  if (has_adj_close_) names.emplace_back(store::path::kRawAdjClose);
  const std::vector<hsize_t> want{tickers_.size(), time_.size()};
  for (const std::string& name : names) {
    const h5::Handle ds = h5::open_dataset(file_.id(), name);
    const std::vector<hsize_t> dims = h5::dataset_dims(ds.id());
    TS_REQUIRE_INPUT(dims == want, "{}: /{}: shape [{}], expected [{}] ({} tickers x {} times)", path_, name,
                     fmt::join(dims, ", "), fmt::join(want, ", "), want[0], want[1]);
  }
}

RawBlock StoreReader::read_raw(int64_t row_begin, int64_t rows) const {
  TS_CHECK(row_begin >= 0 && row_begin + rows <= static_cast<int64_t>(tickers_.size()),
           "rows [{}, {}) outside the store's {} tickers", row_begin, row_begin + rows, tickers_.size());
  RawBlock b;
  b.resize(row_begin, rows, static_cast<int64_t>(time_.size()), has_adj_close_);
  const auto begin = static_cast<hsize_t>(row_begin);
  const auto n = static_cast<hsize_t>(rows);
  // In kPriceFields order: open, high, low, close, volume.
  std::vector<std::pair<std::string, std::vector<double>*>> fields;
  std::vector<double>* outs[] = {&b.open, &b.high, &b.low, &b.close, &b.volume};
  for (size_t k = 0; k < store::kPriceFields.size(); ++k) fields.emplace_back(store::raw_dataset(store::kPriceFields[k]), outs[k]);
  if (has_adj_close_) fields.emplace_back(store::path::kRawAdjClose, &b.adj_close);
  for (auto& [name, out] : fields) {
    h5::Handle ds = h5::open_dataset(file_.id(), name.c_str());
    h5::read_rows(file_, ds.id(), H5T_NATIVE_DOUBLE, begin, n, out->data());
  }
  h5::Handle valid = h5::open_dataset(file_.id(), store::path::kRawValid);
  h5::read_rows(file_, valid.id(), H5T_NATIVE_UINT8, begin, n, b.valid.data());
  return b;
}

}  // namespace tickstream
