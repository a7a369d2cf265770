// StoreReader: opens a v1 store (serially or collectively) and reads /meta and /raw rows.
#pragma once

#include <string>
#include <vector>

#include "comm/communicator.hpp"
#include "store/h5.hpp"
#include "store/raw_block.hpp"

namespace tickstream {

class StoreReader {
 public:
  // Checks format and version; InputError naming the file otherwise.
  // Collective over `comm` when given (MPI-IO); serial without one.
  explicit StoreReader(const std::string& path, comm::Communicator* comm = nullptr);
  const std::string& path() const { return path_; }
  const std::string& frequency() const { return frequency_; }
  const std::vector<std::string>& tickers() const { return tickers_; }
  const std::vector<int64_t>& time() const { return time_; }
  bool has_adj_close() const { return has_adj_close_; }
  // Collective on parallel readers.
  RawBlock read_raw(int64_t row_begin, int64_t rows) const;
  hid_t root() const { return file_.id(); }
  const h5::File& file() const { return file_; }

 private:
  void check_raw_shapes() const;

  std::string path_;
  h5::File file_;
  std::string frequency_;
  std::vector<std::string> tickers_;
  std::vector<int64_t> time_;
  bool has_adj_close_ = false;
};

}  // namespace tickstream
