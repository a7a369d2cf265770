// TensorBoard event files: CRC-32C, TFRecord framing, Event encoding (decoded back here by a small
// decoder), the writer's file, skipped values, and errors. tests/e2e/tensorboard_readback.sh reads
// a training run's files with the tensorboard package itself.
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "train/tensorboard.hpp"

namespace tickstream {
namespace {

namespace fs = std::filesystem;

std::string bytes(std::initializer_list<unsigned> values) {
  std::string s;
  for (unsigned v : values) s.push_back(static_cast<char>(v));
  return s;
}

uint64_t little_endian(const std::string& s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(s.at(at + i))) << (8 * i);
  return v;
}

// Splits a TFRecord stream into its records' data, checking lengths and both masked CRCs.
std::vector<std::string> decode_records(const std::string& stream) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < stream.size()) {
    EXPECT_GE(stream.size() - at, 12u) << "torn header at " << at;
    if (stream.size() - at < 12) break;
    const uint64_t length = little_endian(stream, at, 8);
    EXPECT_EQ(little_endian(stream, at + 8, 4), masked_crc32c(crc32c(stream.data() + at, 8))) << "at " << at;
    EXPECT_GE(stream.size() - at - 12, length + 4) << "torn record at " << at;
    if (stream.size() - at - 12 < length + 4) break;
    const std::string data = stream.substr(at + 12, length);
    EXPECT_EQ(little_endian(stream, at + 12 + length, 4), masked_crc32c(crc32c(data.data(), data.size())));
    out.push_back(data);
    at += 12 + length + 4;
  }
  return out;
}

// The fields of an Event this project writes, decoded with protobuf's wire rules.
struct DecodedEvent {
  double wall_time = 0;
  int64_t step = -1;
  std::string file_version;
  int64_t session_status = -1;  // session_log.status (1 = START); -1 = none
  std::vector<std::pair<std::string, float>> values;  // summary.value: (tag, simple_value)
};

struct Reader {
  const std::string& s;
  size_t at = 0;
  bool done() const { return at >= s.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      const auto b = static_cast<unsigned char>(s.at(at++));
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  }
  std::string field_bytes() {
    const auto n = static_cast<size_t>(varint());
    std::string out = s.substr(at, n);
    at += n;
    return out;
  }
  uint64_t fixed(int n) {
    const uint64_t v = little_endian(s, at, n);
    at += static_cast<size_t>(n);
    return v;
  }
};

std::pair<std::string, float> decode_value(const std::string& v) {
  Reader r{v};
  std::pair<std::string, float> out{"", std::nanf("")};
  while (!r.done()) {
    const uint64_t key = r.varint();
    if (key == (1 << 3 | 2)) out.first = r.field_bytes();
    else if (key == (2 << 3 | 5)) {
      const auto bits = static_cast<uint32_t>(r.fixed(4));
      std::memcpy(&out.second, &bits, 4);
    } else ADD_FAILURE() << "unexpected Value key " << key;
  }
  return out;
}

DecodedEvent decode_event(const std::string& e) {
  Reader r{e};
  DecodedEvent out;
  while (!r.done()) {
    const uint64_t key = r.varint();
    if (key == (1 << 3 | 1)) {
      const uint64_t bits = r.fixed(8);
      std::memcpy(&out.wall_time, &bits, 8);
    } else if (key == (2 << 3 | 0)) {
      out.step = static_cast<int64_t>(r.varint());
    } else if (key == (3 << 3 | 2)) {
      out.file_version = r.field_bytes();
    } else if (key == (5 << 3 | 2)) {
      const std::string summary = r.field_bytes();
      Reader sr{summary};
      while (!sr.done()) {
        EXPECT_EQ(sr.varint(), 1u << 3 | 2) << "Summary.value";
        out.values.push_back(decode_value(sr.field_bytes()));
      }
    } else if (key == (7 << 3 | 2)) {
      const std::string log = r.field_bytes();
      Reader lr{log};
      EXPECT_EQ(lr.varint(), 1u << 3 | 0) << "SessionLog.status";
      out.session_status = static_cast<int64_t>(lr.varint());
      EXPECT_TRUE(lr.done());
    } else {
      ADD_FAILURE() << "unexpected Event key " << key;
      break;
    }
  }
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<DecodedEvent> read_events(const std::string& path) {
  std::vector<DecodedEvent> out;
  for (const std::string& data : decode_records(read_all(path))) out.push_back(decode_event(data));
  return out;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("tickstream_tb_{}_{}", name, getpid());
  fs::remove_all(dir);
  return dir;
}

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  const std::string ones(32, '\xff');
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);  // RFC 3720, B.4
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(Crc32c, Masked) {
  // ((crc >> 15) | (crc << 17)) + 0xa282ead8, modulo 2^32.
  EXPECT_EQ(masked_crc32c(0xE3069283u), 0xC78AB0E5u);
  EXPECT_EQ(masked_crc32c(0), 0xA282EAD8u);
  EXPECT_EQ(masked_crc32c(0xffffffffu), 0xA282EAD7u);
}

TEST(TfRecord, FramingOfAKnownRecord) {
  // What the tensorboard package's own RecordWriter writes for b"abc".
  const std::string want = bytes({0x03, 0, 0, 0, 0, 0, 0, 0, 0xb0, 0x99, 0x49, 0x0e, 'a', 'b', 'c', 0x6e, 0x57, 0xf1, 0x21});
  EXPECT_EQ(tfrecord("abc"), want);
}

TEST(TfRecord, DecodesBack) {
  const std::string big(300, 'x');  // a length over one byte
  const std::string stream = tfrecord("") + tfrecord("hello") + tfrecord(big);
  const std::vector<std::string> got = decode_records(stream);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "");
  EXPECT_EQ(got[1], "hello");
  EXPECT_EQ(got[2], big);
}

TEST(Event, ScalarBytesInClosedForm) {
  // Event {wall_time: 0.5, step: 5, summary {value {tag: "a", simple_value: 1.0}}}: the bytes the
  // protobuf library serializes it to.
  const std::string want = bytes({0x09, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f,  // 1: double 0.5
                                  0x10, 0x05,                          // 2: varint 5
                                  0x2a, 0x0a,                          // 5: Summary, 10 bytes
                                  0x0a, 0x08,                          //   1: Value, 8 bytes
                                  0x0a, 0x01, 'a',                     //     1: tag "a"
                                  0x15, 0, 0, 0x80, 0x3f});            //     2: float 1.0
  EXPECT_EQ(scalar_event("a", 5, 1.0f, 0.5), want);
}

TEST(Event, ScalarDecodesFieldByField) {
  const std::string tag(200, 't');  // a tag whose length takes two varint bytes
  const DecodedEvent e = decode_event(scalar_event(tag, 1234567890123, -2.25f, 1.7e9 + 0.125));
  EXPECT_EQ(e.wall_time, 1.7e9 + 0.125);
  EXPECT_EQ(e.step, 1234567890123);
  EXPECT_TRUE(e.file_version.empty());
  ASSERT_EQ(e.values.size(), 1u);
  EXPECT_EQ(e.values[0].first, tag);
  EXPECT_EQ(e.values[0].second, -2.25f);
}

TEST(Event, FileVersion) {
  const DecodedEvent e = decode_event(file_version_event(3.0));
  EXPECT_EQ(e.file_version, "brain.Event:2");
  EXPECT_EQ(e.wall_time, 3.0);
  EXPECT_EQ(e.step, 0);
  EXPECT_TRUE(e.values.empty());
}

TEST(Event, SessionStartBytesInClosedForm) {
  // Event {wall_time: 0.5, step: 7, session_log {status: START}}, as protobuf serializes it.
  const std::string want = bytes({0x09, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0x10, 0x07, 0x3a, 0x02, 0x08, 0x01});
  EXPECT_EQ(session_start_event(7, 0.5), want);
}

TEST(TensorBoardWriter, WritesFileVersionThenScalars) {
  const fs::path dir = fresh_dir("write") / "a" / "b";  // parents created
  std::string path;
  {
    TensorBoardWriter w(dir.string());
    path = w.path();
    w.scalar("train/loss", 50, 0.75, 10.0);
    w.scalar("train/loss", 100, 0.5, 11.0);
    w.scalar("val/ic", 100, 0.03, 11.0);
    w.flush();
    EXPECT_EQ(read_events(path).size(), 4u);  // readable after flush, before the file closes
  }
  const std::string name = fs::path(path).filename().string();
  EXPECT_EQ(fs::path(path).parent_path(), dir);
  EXPECT_TRUE(name.starts_with("events.out.tfevents.")) << name;
  EXPECT_TRUE(name.ends_with(fmt::format(".{}.{}.tickstream", host_name(), getpid()))) << name;
  const std::vector<DecodedEvent> events = read_events(path);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_GT(events[0].wall_time, 1.6e9);
  EXPECT_EQ(events[1].step, 50);
  EXPECT_EQ(events[1].wall_time, 10.0);
  EXPECT_EQ(events[1].values, (std::vector<std::pair<std::string, float>>{{"train/loss", 0.75f}}));
  EXPECT_EQ(events[2].step, 100);
  EXPECT_EQ(events[3].values, (std::vector<std::pair<std::string, float>>{{"val/ic", 0.03f}}));
  fs::remove_all(dir.parent_path().parent_path());
}

TEST(TensorBoardWriter, SkipsNonFiniteAndRepeatedSteps) {
  const fs::path dir = fresh_dir("skip");
  std::string path;
  {
    TensorBoardWriter w(dir.string());
    path = w.path();
    w.scalar("x", 1, std::numeric_limits<double>::quiet_NaN());
    w.scalar("x", 2, std::numeric_limits<double>::infinity());
    w.scalar("x", 3, -std::numeric_limits<double>::infinity());
    w.scalar("x", 4, 1.0);
    w.scalar("x", 4, 2.0);  // the same tag at the same step: dropped
    w.scalar("y", 4, 3.0);  // another tag at that step: written
    w.scalar("x", 3, 4.0);  // an earlier step (TensorBoard's restart): written
  }
  const std::vector<DecodedEvent> events = read_events(path);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].step, 4);
  EXPECT_EQ(events[1].values[0].second, 1.0f);
  EXPECT_EQ(events[2].values[0].first, "y");
  EXPECT_EQ(events[3].step, 3);
  fs::remove_all(dir);
}

TEST(TensorBoardWriter, FreshStartRemovesEarlierRunsResumeKeepsThem) {
  const fs::path dir = fresh_dir("runs");
  fs::create_directories(dir);
  const fs::path old_run = dir / "events.out.tfevents.1.otherhost.1.tickstream";
  const fs::path foreign = dir / "events.out.tfevents.1.otherhost.1";  // another program's
  std::ofstream(old_run) << "x";
  std::ofstream(foreign) << "x";
  std::string resumed_path;
  {
    TensorBoardWriter resumed(dir.string(), /*append=*/true);
    resumed_path = resumed.path();
    resumed.resumed_after(60);
    resumed.scalar("train/loss", 90, 0.5, 1.0);
    EXPECT_TRUE(fs::exists(old_run));
  }
  const std::vector<DecodedEvent> events = read_events(resumed_path);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].session_status, 1);  // START, after the file version, before any scalar
  EXPECT_EQ(events[1].step, 61);           // points after the checkpoint's step are dropped
  EXPECT_TRUE(events[1].values.empty());
  EXPECT_EQ(events[2].step, 90);
  {
    TensorBoardWriter fresh(dir.string());
    EXPECT_FALSE(fs::exists(old_run));
    EXPECT_TRUE(fs::exists(foreign));
    EXPECT_TRUE(fs::exists(fresh.path()));
  }
  fs::remove_all(dir);
}

TEST(TensorBoardWriter, UnwritableDirIsInputErrorNamingIt) {
  const fs::path dir = fresh_dir("bad");
  fs::create_directories(dir);
  std::ofstream(dir / "file") << "x";
  const std::string bad = (dir / "file" / "tb").string();  // a regular file as parent: even root fails
  try {
    TensorBoardWriter w(bad);
    FAIL() << "no error for " << bad;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(TensorBoardWriter, EvaluationAndProgressScalars) {
  const fs::path dir = fresh_dir("eval");
  std::string path;
  {
    TensorBoardWriter w(dir.string());
    path = w.path();
    write_progress_scalars(w, ProgressRecord{50, 100, 0, 0.9, 1e-4, 1000.0, 1.0, 0});
    nlohmann::json record = {{"step", 100}, {"epoch", 1}, {"loss", 0.8}, {"lr", 2e-4}, {"samples_per_s", 900.0},
                             {"val_loss", 0.7}, {"val_dir_acc", 0.55}, {"val_ic", 0.04}, {"val_rank_ic", 0.05},
                             {"val_icir", nullptr}, {"wall_s", 2.0}, {"stall_fraction", 0.01},
                             {"device_memory_mb", {{{"rank", 0}, {"allocated", 10.0}, {"reserved", 20.0}, {"peak", 15.0}},
                                                   {{"rank", 1}, {"allocated", 11.0}, {"reserved", 30.0}, {"peak", 12.0}}}}};
    write_evaluation_scalars(w, record);
    record["step"] = 200;
    record["device_memory_mb"] = nullptr;  // no GPU rank
    write_evaluation_scalars(w, record);
  }
  std::map<std::string, std::vector<std::pair<int64_t, float>>> by_tag;
  const std::vector<DecodedEvent> events = read_events(path);
  for (size_t i = 1; i < events.size(); ++i)
    for (const auto& [tag, value] : events[i].values) by_tag[tag].emplace_back(events[i].step, value);
  using Points = std::vector<std::pair<int64_t, float>>;
  EXPECT_EQ(by_tag["train/loss"], (Points{{50, 0.9f}, {100, 0.8f}, {200, 0.8f}}));
  EXPECT_EQ(by_tag["train/lr"], (Points{{50, 1e-4f}, {100, 2e-4f}, {200, 2e-4f}}));
  EXPECT_EQ(by_tag["train/samples_per_s"], (Points{{50, 1000.0f}, {100, 900.0f}, {200, 900.0f}}));
  EXPECT_EQ(by_tag["val/loss"], (Points{{100, 0.7f}, {200, 0.7f}}));
  EXPECT_EQ(by_tag["val/ic"], (Points{{100, 0.04f}, {200, 0.04f}}));
  EXPECT_EQ(by_tag["val/rank_ic"], (Points{{100, 0.05f}, {200, 0.05f}}));
  EXPECT_EQ(by_tag["val/dir_acc"], (Points{{100, 0.55f}, {200, 0.55f}}));
  EXPECT_EQ(by_tag["loader/stall_fraction"], (Points{{100, 0.01f}, {200, 0.01f}}));
  EXPECT_EQ(by_tag["device/memory_mb"], (Points{{100, 30.0f}}));  // the most reserved; none without a GPU
  EXPECT_EQ(by_tag.count("val/icir"), 0u);                         // null: skipped
  EXPECT_EQ(by_tag.size(), 9u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tickstream
