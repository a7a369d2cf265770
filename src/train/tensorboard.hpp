// TensorBoard event files (docs/outputs.md), written by hand: TFRecord framing around protobuf
// Event messages; rank 0 writes them next to the metrics log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "train/metrics_log.hpp"

namespace tickstream {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `size` bytes.
uint32_t crc32c(const void* data, size_t size);

// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t masked_crc32c(uint32_t crc);

// One TFRecord: uint64 length (little endian), masked CRC-32C of those 8 bytes, the data, masked
// CRC-32C of the data.
std::string tfrecord(std::string_view data);

// A serialized Event {wall_time = 1, step = 2, file_version = 3: "brain.Event:2"}: the first
// record of every event file.
std::string file_version_event(double wall_time);

// A serialized Event {wall_time = 1, step = 2, summary = 5: Summary {value = 1: Value {tag = 1,
// simple_value = 2}}}.
std::string scalar_event(std::string_view tag, int64_t step, float value, double wall_time);

// A serialized Event {wall_time = 1, step = 2, session_log = 7: SessionLog {status = 1: START}}:
// TensorBoard's restart mark, after which it drops earlier points at steps >= `step`.
std::string session_start_event(int64_t step, double wall_time);

// Seconds since the Unix epoch (the events' wall_time).
double unix_seconds();

// One event file events.out.tfevents.<unix secs>.<host>.<pid>.tickstream in `dir`. Used by rank 0
// only (it does no MPI). Every error is an InputError naming the path.
class TensorBoardWriter {
 public:
  // Creates `dir` (and its parents) and the file, and writes the file_version event. Unless
  // `append` (resuming), earlier *.tickstream event files in `dir` are removed first, as the
  // metrics log is truncated: TensorBoard would otherwise draw two runs' steps as one.
  TensorBoardWriter(const std::string& dir, bool append = false);
  const std::string& path() const { return path_; }
  // Appends one scalar. Skipped: a non-finite value (TensorBoard draws NaN and inf as gaps or
  // spikes; the metrics log has null there), and a second value for a tag at the step it was
  // last written at (TensorBoard would keep both points).
  void scalar(const std::string& tag, int64_t step, double value, double wall_time = unix_seconds());
  // A resumed run (`append`) restarting after checkpoint step `step`: a session start at step + 1,
  // so that TensorBoard drops the points an interrupted run wrote after its checkpoint (the resumed
  // run writes them again) and keeps those up to it.
  void resumed_after(int64_t step);
  // fflush: what was written is readable by TensorBoard.
  void flush();

 private:
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  void append_record(const std::string& event);
  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::map<std::string, int64_t, std::less<>> last_step_;  // tag -> step of its last value
};

// train/loss, train/lr, train/samples_per_s at the progress record's step.
void write_progress_scalars(TensorBoardWriter& writer, const ProgressRecord& progress);

// From one metrics record (metrics_record() plus stall_fraction and device_memory_mb), at its
// "step": train/loss, train/lr, train/samples_per_s, val/loss, val/ic, val/rank_ic, val/icir,
// val/dir_acc, loader/stall_fraction and device/memory_mb (the largest "reserved" over the ranks'
// device memory; none without a GPU rank). Null values are skipped.
void write_evaluation_scalars(TensorBoardWriter& writer, const nlohmann::json& record);

}  // namespace tickstream
