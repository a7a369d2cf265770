// The bytes of an input file, read in blocks and decompressed on the fly when its name ends in
// .gz (zlib; concatenated members as bgzip/pigz write them) or .zst (libzstd; several frames): no
// temporary uncompressed copy, on disk or in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace tickstream {

enum class Compression { None, Gzip, Zstd };

// By the file name: *.gz -> Gzip, *.zst -> Zstd, anything else None.
Compression compression_of(const std::string& path);

// The name without its .gz / .zst suffix.
std::string without_compression_suffix(const std::string& path);

// The ticker a per-ticker file names: its file name without directory, compression suffix and
// extension (data/AAPL.csv, AAPL.csv.gz, AAPL.parquet -> AAPL; BRK.B.csv -> BRK.B).
std::string ticker_of_file(const std::string& path);

// A damaged compressed stream (bad data, truncated): the readers turn it into a corrupt_file
// rejection of the whole file. what() is the codec's reason, without the path.
class CorruptStream : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to `n` bytes of `out`; returns how many, 0 only at the end of the data. Throws
  // CorruptStream on a damaged stream, InputError when the file cannot be read.
  virtual size_t read(char* out, size_t n) = 0;
};

// Opens `path` (InputError naming it when it cannot be opened), decompressing by its name.
std::unique_ptr<ByteSource> open_byte_source(const std::string& path);

// Reads all of a byte source into memory (tests, and small files).
std::string read_all(ByteSource& source);

}  // namespace tickstream
