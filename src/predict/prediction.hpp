// Prediction rows and the sinks they go to (HDF5, CSV, PostgreSQL): docs/outputs.md keys.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.hpp"

namespace tickstream {

// One scored ticker at one as-of bar.
struct Prediction {
  std::string ticker;
  int64_t asof = 0;          // bar time, seconds since epoch UTC (written as ISO 8601)
  float pred_return = 0;     // predicted forward log return
  float prob_up = 0;         // P(forward return > 0)
  float confidence = 0;      // |2 prob_up - 1|
  int64_t rank = 0;          // 1 = highest pred_return among the tickers scored at this as-of
  std::string model_id;
};

// A ticker that could not be scored, with the reason ("not enough history", "delisted", ...).
struct Skipped {
  std::string ticker;
  int64_t asof = 0;
  std::string reason;
};

// This rank's share, rows in (asof, ticker) order; ranks hold consecutive ticker ranges, so the
// concatenation over ranks in rank order is the global (asof, ticker) order for one as-of date.
struct PredictionSet {
  std::vector<Prediction> rows;
  std::vector<Skipped> skipped;
};

// Where predictions go. write() is collective over `comm`: every rank passes its share. Files
// are written to a temporary name and renamed when every rank succeeded; a failure leaves no
// partial file and ends the job with an error naming the target (InputError for a bad target:
// unwritable path, bad connection string, unreachable server).
class PredictionSink {
 public:
  virtual ~PredictionSink() = default;
  virtual void write(comm::Communicator& comm, const PredictionSet& mine) = 0;
  virtual std::string describe() const = 0;
};

// The sinks (each checks its target when made: a path whose directory is writable, a URI that
// parses; InputError naming it otherwise).
std::unique_ptr<PredictionSink> make_hdf5_sink(const std::string& path);
std::unique_ptr<PredictionSink> make_csv_sink(const std::string& path);
std::unique_ptr<PredictionSink> make_postgres_sink(const std::string& uri);

// By the target's form: postgresql:// or postgres:// -> PostgreSQL, *.h5 / *.hdf5 -> HDF5,
// *.csv -> CSV; InputError naming `--out` otherwise.
std::unique_ptr<PredictionSink> make_sink(const std::string& target);

}  // namespace tickstream
