// StoreWriter: creates a v1 store (collectively under MPI-IO) and writes /meta and /raw.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.hpp"
#include "store/h5.hpp"
#include "store/raw_block.hpp"
#include "store/raw_chunks.hpp"
#include "store/store_format.hpp"

namespace tickstream {

struct StoreLayout {
  std::string frequency = "1d";
  std::vector<std::string> tickers;  // sorted, unique
  std::vector<int64_t> time;         // strictly increasing
  bool has_adj_close = false;
  int64_t chunk_tickers = store::kDefaultChunkTickers;
  int64_t chunk_bars = store::kDefaultChunkBars;
};

// The /raw price fields in dataset order (AdjClose only in stores that have it).
enum class RawField { Open, High, Low, Close, Volume, AdjClose };

// Fills `values` (rows x bars, preset to NaN) with one field of the caller's rows.
using RawFieldFiller = std::function<void(RawField field, std::vector<double>& values)>;

class StoreWriter {
 public:
  // Collective over `comm` (nullptr: serial). Every rank passes the same layout.
  StoreWriter(const std::string& path, comm::Communicator* comm, const StoreLayout& layout);
  // Collective: each rank writes its block (rows may be 0).
  void write_raw(const RawBlock& block);
  // Collective: the same rows field by field through one reused buffer, so peak memory is one
  // field (the caller need not hold all six [rows, T] arrays).
  void write_raw_fields(int64_t row_begin, int64_t rows, const RawFieldFiller& fill,
                        const std::vector<uint8_t>& valid);
  // A serial writer's direct write of sealed chunks (H5Dwrite_chunk, no filter pipeline) into
  // /raw field `field` (price fields in dataset order, then valid: field_count() - 1).
  void write_chunks(size_t field, const ChunkBlock& chunks);
  size_t field_count() const { return fields_.size(); }
  hid_t root() const { return file_.id(); }
  hid_t raw_group() const { return raw_.id(); }
  const StoreLayout& layout() const { return layout_; }
  void close();

 private:
  void write_meta(bool writer);
  void create_raw();
  int price_fields() const;  // open, high, low, close, volume[, adj_close]
  // Collective write of rows into fields_[index].
  void write_dataset(size_t index, hid_t mem_type, int64_t row_begin, int64_t rows, const void* data);
  StoreLayout layout_;
  h5::File file_;
  h5::Handle raw_;
  std::vector<h5::Handle> fields_;  // open, high, low, close, volume[, adj_close], valid
};

}  // namespace tickstream
