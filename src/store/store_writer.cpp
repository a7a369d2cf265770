// StoreWriter: store v1 creation, /meta, chunked Fletcher32 /raw datasets, collective row writes.
#include "store/store_writer.hpp"

#include <limits>

#include "core/error.hpp"
#include "store/store_format.hpp"

namespace tickstream {

StoreWriter::StoreWriter(const std::string& path, comm::Communicator* comm, const StoreLayout& layout)
    : layout_(layout), file_(h5::File::create(path, comm)) {
  const int rank = comm != nullptr ? comm->rank() : 0;
  h5::set_attr(file_.id(), "format", std::string(store::kFormatName));
  h5::set_attr(file_.id(), "version", store::kFormatVersion);
  h5::set_attr(file_.id(), "frequency", layout_.frequency);
  write_meta(rank == 0);
  create_raw();
}

void StoreWriter::write_meta(bool writer) {
  h5::Handle meta = h5::create_group(file_.id(), store::path::kMeta);
  h5::write_strings(file_, meta.id(), "tickers", layout_.tickers, writer);
  h5::write_vector(file_, meta.id(), "time", H5T_NATIVE_INT64, layout_.time.data(),
                   layout_.time.size(), writer);
}

void StoreWriter::create_raw() {
  raw_ = h5::create_group(file_.id(), store::path::kRaw);
  const std::vector<hsize_t> dims{layout_.tickers.size(), layout_.time.size()};
  const std::vector<hsize_t> chunk{static_cast<hsize_t>(layout_.chunk_tickers),
                                   static_cast<hsize_t>(layout_.chunk_bars)};
  const bool empty = dims[0] == 0 || dims[1] == 0;
  for (const char* name : store::kPriceFields)
    fields_.push_back(h5::create_dataset(raw_.id(), name,
                                         {H5T_IEEE_F64LE, dims, empty ? std::vector<hsize_t>{} : chunk, !empty}));
  if (layout_.has_adj_close)
    fields_.push_back(h5::create_dataset(raw_.id(), "adj_close",
                                         {H5T_IEEE_F64LE, dims, empty ? std::vector<hsize_t>{} : chunk, !empty}));
  fields_.push_back(h5::create_dataset(raw_.id(), "valid",
                                       {H5T_STD_U8LE, dims, empty ? std::vector<hsize_t>{} : chunk, !empty}));
}

void StoreWriter::write_raw(const RawBlock& b) {
  TS_CHECK(b.rows == 0 || b.bars == static_cast<int64_t>(layout_.time.size()),
           "raw block has {} bars, store has {}", b.bars, layout_.time.size());
  TS_CHECK(b.has_adj_close == layout_.has_adj_close || b.rows == 0,
           "raw block adj_close presence differs from the store layout");
  const std::vector<const std::vector<double>*> prices{&b.open, &b.high, &b.low, &b.close, &b.volume,
                                                       &b.adj_close};
  for (int f = 0; f < price_fields(); ++f)
    write_dataset(static_cast<size_t>(f), H5T_NATIVE_DOUBLE, b.row_begin, b.rows, prices[static_cast<size_t>(f)]->data());
  write_dataset(fields_.size() - 1, H5T_NATIVE_UINT8, b.row_begin, b.rows, b.valid.data());
}

int StoreWriter::price_fields() const { return layout_.has_adj_close ? 6 : 5; }

void StoreWriter::write_dataset(size_t index, hid_t mem_type, int64_t row_begin, int64_t rows, const void* data) {
  h5::write_rows(file_, fields_[index].id(), mem_type, static_cast<hsize_t>(row_begin), static_cast<hsize_t>(rows),
                 data);
}

void StoreWriter::write_raw_fields(int64_t row_begin, int64_t rows, const RawFieldFiller& fill,
                                   const std::vector<uint8_t>& valid) {
  const auto bars = static_cast<int64_t>(layout_.time.size());
  TS_CHECK(static_cast<int64_t>(valid.size()) == rows * bars, "valid has {} values, expected {}", valid.size(),
           rows * bars);
  std::vector<double> buffer;
  for (int f = 0; f < price_fields(); ++f) {
    buffer.assign(static_cast<size_t>(rows * bars), std::numeric_limits<double>::quiet_NaN());
    fill(static_cast<RawField>(f), buffer);
    write_dataset(static_cast<size_t>(f), H5T_NATIVE_DOUBLE, row_begin, rows, buffer.data());
  }
  write_dataset(fields_.size() - 1, H5T_NATIVE_UINT8, row_begin, rows, valid.data());
}

void StoreWriter::write_chunks(size_t field, const ChunkBlock& chunks) {
  TS_CHECK(field < fields_.size(), "raw field {} of {}", field, fields_.size());
  write_sealed_chunks(fields_[field].id(), chunks);
}

void StoreWriter::close() {
  fields_.clear();
  raw_.reset();
  file_.close();
}

}  // namespace tickstream
