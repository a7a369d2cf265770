// Atomic whole-file writes: unique temp name, checked close, rename, cleanup on failure.
#include "store/file_util.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "store/atomic_output.hpp"

namespace tickstream {

void write_file_atomically(const std::string& path, const std::string& text) {
  require_output_path(path);
  const std::string tmp = fmt::format("{}.tmp-{}", path, getpid());
  std::ofstream file(tmp, std::ios::binary);
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  std::error_code ec;
  if (file.fail() || (std::filesystem::rename(tmp, path, ec), ec)) {
    std::remove(tmp.c_str());
    TS_INPUT_ERROR("{}: cannot write (disk full or not writable?)", path);
  }
}

}  // namespace tickstream
