// Training progress line and the metrics .jsonl log (docs/outputs.md), written by rank 0.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "train/metrics.hpp"

namespace tickstream {

struct ProgressRecord {
  int64_t step = 0;         // optimizer steps done (global, counted from the start of training)
  int64_t total_steps = 0;  // steps the whole run will take
  int64_t epoch = 0;
  double loss = 0.0;           // training loss (recent average)
  double lr = 0.0;             // current learning rate
  double samples_per_s = 0.0;  // training throughput over all ranks
  double wall_s = 0.0;         // wall seconds since this process started training
  int64_t first_step = 0;      // step this process started at (> 0 after a resume): the ETA
                               // extrapolates (step - first_step) steps per wall_s
};

// One human line: "step 120/1500  epoch 1  loss 0.0123  lr 3.0e-04  1234 samples/s  ETA 2m05s".
// The ETA is "?" until a step has been taken in wall time > 0.
std::string format_progress(const ProgressRecord& record);

// "45s", "2m05s", "1h02m05s" for a non-negative number of seconds (rounded to the nearest).
std::string format_duration(double seconds);

// One metrics .jsonl record with exactly the docs/outputs.md keys: step, epoch, loss, lr,
// samples_per_s, val_loss, val_dir_acc, val_ic, val_rank_ic, val_icir, wall_s. Undefined
// (NaN, infinite) values are written as null. Callers may add keys (e.g. stall_fraction).
nlohmann::json metrics_record(const ProgressRecord& progress, const EvalMetrics& metrics,
                              double val_loss);

// An append-only .jsonl file, one JSON object per line, each line flushed and fsync'ed as it is
// written. Used by rank 0 only (it does no MPI).
class MetricsLog {
 public:
  // Creates the parent directories. `append` (resuming) keeps the existing records, minus a torn
  // last line left by a crash mid-write; otherwise the file is truncated. InputError on failure.
  MetricsLog(std::string path, bool append);
  const std::string& path() const { return path_; }
  // Appends `record.dump()` and a newline, then fflush + fsync. InputError on failure.
  void write(const nlohmann::json& record);
  // Closes the file (also done by the destructor, which cannot report errors). InputError.
  void close();

 private:
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
};

}  // namespace tickstream
