// Plain, gzip and zstd byte sources over read(2).
#include "store/byte_source.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.hpp"

namespace tickstream {
namespace {

constexpr size_t kInputBlock = size_t{1} << 20;

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) TS_INPUT_ERROR("{}: cannot open: {}", path, std::strerror(errno));
  }
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  size_t read(char* out, size_t n) override {
    while (true) {
      const ssize_t got = ::read(fd_, out, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) TS_INPUT_ERROR("{}: cannot read: {}", path_, std::strerror(errno));
    }
  }

 private:
  std::string path_;
  int fd_;
};

// The compressed bytes of a file, a block at a time, for the decoders below.
class CompressedInput {
 public:
  explicit CompressedInput(const std::string& path) : file_(path), block_(kInputBlock) {}
  // Refills when everything was consumed; false at the end of the file.
  bool refill() {
    if (pos_ < size_) return true;
    size_ = file_.read(block_.data(), block_.size());
    pos_ = 0;
    return size_ > 0;
  }
  const char* data() const { return block_.data() + pos_; }
  size_t size() const { return size_ - pos_; }
  void consume(size_t n) { pos_ += n; }

 private:
  FileSource file_;
  std::vector<char> block_;
  size_t pos_ = 0, size_ = 0;
};

class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(const std::string& path) : in_(path) {
    if (inflateInit2(&z_, 15 + 32) != Z_OK) TS_INPUT_ERROR("{}: zlib could not start", path);  // +32: gzip or zlib header
  }
  ~GzipSource() override { inflateEnd(&z_); }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  size_t read(char* out, size_t n) override {
    size_t made = 0;
    while (made < n && !done_) {
      if (!in_.refill()) {
        if (!member_ended_) throw CorruptStream("gzip: unexpected end of file (truncated?)");
        done_ = true;
        break;
      }
      if (member_ended_) inflateReset(&z_), member_ended_ = false;  // another member follows
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_.data()));
      z_.avail_in = static_cast<uInt>(in_.size());
      z_.next_out = reinterpret_cast<Bytef*>(out + made);
      z_.avail_out = static_cast<uInt>(n - made);
      const int rc = inflate(&z_, Z_NO_FLUSH);
      in_.consume(in_.size() - z_.avail_in);
      made = n - z_.avail_out;
      if (rc == Z_STREAM_END) member_ended_ = true;
      else if (rc != Z_OK && rc != Z_BUF_ERROR) throw CorruptStream(std::string("gzip: ") + (z_.msg ? z_.msg : zError(rc)));
    }
    return made;
  }

 private:
  CompressedInput in_;
  z_stream z_{};
  bool member_ended_ = false, done_ = false;
};

class ZstdSource final : public ByteSource {
 public:
  explicit ZstdSource(const std::string& path) : in_(path), z_(ZSTD_createDCtx()) {
    if (z_ == nullptr) TS_INPUT_ERROR("{}: zstd could not start", path);
  }
  ~ZstdSource() override { ZSTD_freeDCtx(z_); }
  ZstdSource(const ZstdSource&) = delete;
  ZstdSource& operator=(const ZstdSource&) = delete;

  size_t read(char* out, size_t n) override {
    ZSTD_outBuffer o{out, n, 0};
    while (o.pos < n) {
      if (!in_.refill()) {
        if (frame_left_ != 0) throw CorruptStream("zstd: unexpected end of file (truncated?)");
        break;
      }
      ZSTD_inBuffer i{in_.data(), in_.size(), 0};
      frame_left_ = ZSTD_decompressStream(z_, &o, &i);
      in_.consume(i.pos);
      if (ZSTD_isError(frame_left_)) throw CorruptStream(std::string("zstd: ") + ZSTD_getErrorName(frame_left_));
    }
    return o.pos;
  }

 private:
  CompressedInput in_;
  ZSTD_DCtx* z_;
  size_t frame_left_ = 0;  // 0 between frames
};

}  // namespace

Compression compression_of(const std::string& path) {
  if (ends_with(path, ".gz")) return Compression::Gzip;
  if (ends_with(path, ".zst")) return Compression::Zstd;
  return Compression::None;
}

std::string without_compression_suffix(const std::string& path) {
  for (const char* ext : {".gz", ".zst"})
    if (ends_with(path, ext)) return path.substr(0, path.size() - std::strlen(ext));
  return path;
}

std::string ticker_of_file(const std::string& path) {
  return std::filesystem::path(without_compression_suffix(std::filesystem::path(path).filename().string()))
      .stem()
      .string();
}

std::unique_ptr<ByteSource> open_byte_source(const std::string& path) {
  switch (compression_of(path)) {
    case Compression::Gzip: return std::make_unique<GzipSource>(path);
    case Compression::Zstd: return std::make_unique<ZstdSource>(path);
    case Compression::None: break;
  }
  return std::make_unique<FileSource>(path);
}

std::string read_all(ByteSource& source) {
  std::string out;
  size_t have = 0;
  while (true) {
    out.resize(std::max<size_t>(have * 2, kInputBlock));
    const size_t got = source.read(out.data() + have, out.size() - have);
    if (got == 0) break;
    have += got;
  }
  out.resize(have);
  return out;
}

}  // namespace tickstream
