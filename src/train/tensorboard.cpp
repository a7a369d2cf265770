// TensorBoard event files written by hand. No well-kept C++ library writes them (TensorFlow's
// EventsWriter needs all of TensorFlow, libtorch's C++ API has none, the small loggers on GitHub
// are unmaintained and need protoc code generation), and the format is small: TFRecord framing
// around protobuf Event messages (tensorboard/compat/proto/event.proto, summary.proto), encoded
// here field by field.
#include "train/tensorboard.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"

namespace tickstream {
namespace {

// CRC-32C by hand, one table lookup per byte: Debian 12 packages no CRC-32C library (Google's
// crc32c is not in bookworm), and event files are a few kilobytes, so speed does not matter.
constexpr std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrc32cTable = make_crc32c_table();

// Protobuf wire types.
constexpr uint32_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_key(std::string& out, uint32_t field, uint32_t wire_type) { put_varint(out, field << 3 | wire_type); }

// `bytes` bytes of `v`, least significant first (protobuf's fixed fields, TFRecord's integers).
void put_little_endian(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i) & 0xff));
}

void put_double(std::string& out, uint32_t field, double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  put_key(out, field, kFixed64);
  put_little_endian(out, bits, 8);
}

void put_float(std::string& out, uint32_t field, float v) {
  uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  put_key(out, field, kFixed32);
  put_little_endian(out, bits, 4);
}

void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

// Event fields 1 (wall_time) and 2 (step), common to every event.
std::string event_header(double wall_time, int64_t step) {
  std::string event;
  put_double(event, 1, wall_time);
  put_key(event, 2, kVarint);
  put_varint(event, static_cast<uint64_t>(step));  // int64: two's complement, as protobuf does
  return event;
}

// InputError "PATH: WHAT: strerror(errno)".
[[noreturn]] void throw_io(const std::string& path, const char* what, int err) {
  TS_INPUT_ERROR("{}: {}: {}", path, what, std::strerror(err));
}

bool is_our_event_file(const std::filesystem::path& p) {
  const std::string name = p.filename().string();
  return name.starts_with("events.out.tfevents.") && name.ends_with(".tickstream");
}

// Removes the event files an earlier run of tickstream left in `dir` (a fresh start).
void remove_earlier_runs(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || !is_our_event_file(entry.path())) continue;
    std::filesystem::remove(entry.path(), ec);
    if (ec) TS_INPUT_ERROR("{}: cannot remove an earlier run's event file: {}", entry.path().string(), ec.message());
  }
  if (ec) TS_INPUT_ERROR("{}: cannot list the TensorBoard directory: {}", dir.string(), ec.message());
}

// The JSON number at `key`, NaN when null or missing.
double number_at(const nlohmann::json& record, const char* key) {
  const auto it = record.find(key);
  return it != record.end() && it->is_number() ? it->get<double>() : std::nan("");
}

// The largest "reserved" over the ranks of device_memory_mb ([{rank, allocated, reserved, peak}]
// or null); NaN when no rank trains on a GPU.
double max_reserved_mb(const nlohmann::json& record) {
  double most = std::nan("");
  const auto it = record.find("device_memory_mb");
  if (it == record.end() || !it->is_array()) return most;
  for (const nlohmann::json& rank : *it)
    if (const double mb = number_at(rank, "reserved"); std::isfinite(mb) && !(mb <= most)) most = mb;
  return most;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < size; ++i) c = kCrc32cTable[(c ^ p[i]) & 0xffu] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

uint32_t masked_crc32c(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

std::string tfrecord(std::string_view data) {
  std::string length;
  put_little_endian(length, data.size(), 8);
  std::string record = length;
  put_little_endian(record, masked_crc32c(crc32c(length.data(), length.size())), 4);
  record.append(data);
  put_little_endian(record, masked_crc32c(crc32c(data.data(), data.size())), 4);
  return record;
}

std::string file_version_event(double wall_time) {
  std::string event = event_header(wall_time, 0);
  put_bytes(event, 3, "brain.Event:2");
  return event;
}

std::string scalar_event(std::string_view tag, int64_t step, float value, double wall_time) {
  std::string v;
  put_bytes(v, 1, tag);
  put_float(v, 2, value);
  std::string summary;
  put_bytes(summary, 1, v);
  std::string event = event_header(wall_time, step);
  put_bytes(event, 5, summary);
  return event;
}

std::string session_start_event(int64_t step, double wall_time) {
  std::string log;
  put_key(log, 1, kVarint);
  put_varint(log, 1);  // SessionLog.status = START
  std::string event = event_header(wall_time, step);
  put_bytes(event, 7, log);
  return event;
}

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir, bool append) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) TS_INPUT_ERROR("{}: cannot create the TensorBoard directory: {}", dir, ec.message());
  if (!append) remove_earlier_runs(dir);
  const double now = unix_seconds();
  const std::string name = fmt::format("events.out.tfevents.{}.{}.{}.tickstream", static_cast<int64_t>(now),
                                       host_name(), static_cast<long>(getpid()));
  path_ = (std::filesystem::path(dir) / name).string();
  file_.reset(std::fopen(path_.c_str(), "wb"));
  if (!file_) throw_io(path_, "cannot create the event file", errno);
  append_record(file_version_event(now));
  flush();
}

void TensorBoardWriter::append_record(const std::string& event) {
  const std::string record = tfrecord(event);
  if (std::fwrite(record.data(), 1, record.size(), file_.get()) != record.size())
    throw_io(path_, "cannot write", errno);
}

void TensorBoardWriter::scalar(const std::string& tag, int64_t step, double value, double wall_time) {
  if (!std::isfinite(value)) return;
  const auto [it, fresh] = last_step_.try_emplace(tag, step);
  if (!fresh && it->second == step) return;
  it->second = step;
  append_record(scalar_event(tag, step, static_cast<float>(value), wall_time));
}

void TensorBoardWriter::resumed_after(int64_t step) { append_record(session_start_event(step + 1, unix_seconds())); }

void TensorBoardWriter::flush() {
  if (std::fflush(file_.get()) != 0) throw_io(path_, "cannot flush", errno);
}

void write_progress_scalars(TensorBoardWriter& writer, const ProgressRecord& progress) {
  writer.scalar("train/loss", progress.step, progress.loss);
  writer.scalar("train/lr", progress.step, progress.lr);
  writer.scalar("train/samples_per_s", progress.step, progress.samples_per_s);
}

void write_evaluation_scalars(TensorBoardWriter& writer, const nlohmann::json& record) {
  static constexpr std::array<std::pair<const char*, const char*>, 9> kTags{{
      {"train/loss", "loss"}, {"train/lr", "lr"}, {"train/samples_per_s", "samples_per_s"},
      {"val/loss", "val_loss"}, {"val/ic", "val_ic"}, {"val/rank_ic", "val_rank_ic"}, {"val/icir", "val_icir"},
      {"val/dir_acc", "val_dir_acc"}, {"loader/stall_fraction", "stall_fraction"}}};
  const int64_t step = record.at("step").get<int64_t>();
  const double now = unix_seconds();
  for (const auto& [tag, key] : kTags) writer.scalar(tag, step, number_at(record, key), now);
  writer.scalar("device/memory_mb", step, max_reserved_mb(record), now);
}

}  // namespace tickstream
