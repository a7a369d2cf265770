// libFuzzer target: opening a store, as `tickstream inspect S.h5 [--json]` and `inspect --verify`
// do (src/store/inspect.cpp, store_reader.cpp, h5.cpp over Debian's HDF5 1.10). Input: the bytes
// of the file. Bad input must raise InputError, and every HDF5 object the reader opened must be
// closed again (a leaked file would be reused by HDF5 for the next file at the same path).
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <hdf5.h>

#include "fuzz_support.hpp"
#include "store/inspect.hpp"

namespace tickstream::fuzz {
namespace {

std::string write_store(std::string_view bytes) {
  const auto path = std::filesystem::temp_directory_path() / fmt::format("fuzz_store.{}.h5", ::getpid());
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path.string();
}

void require_all_closed(const char* after) {
  const ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  FUZZ_REQUIRE(open == 0, "{} left {} HDF5 object(s) open", after, open);
}

}  // namespace
}  // namespace tickstream::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickstream;
  using namespace tickstream::fuzz;
  const std::string path = write_store(Input(data, size).rest());
  accepted("inspect", [&] { (void)format_inspect(inspect_store(path)); });
  require_all_closed("inspect");
  accepted("inspect --verify", [&] { (void)verify_store(path); });
  require_all_closed("inspect --verify");
  return 0;
}
