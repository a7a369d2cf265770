// dlopen of the ML library and the call of its one entry point.
#include "app/ml_plugin.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "app/subprocess.hpp"
#include "core/error.hpp"
#include "app/ml_entry.hpp"

namespace tickstream {

int run_ml_command(RankContext& ctx, const std::string& command, const nlohmann::json& args) {
  const char* env = std::getenv("TICKSTREAM_ML_LIBRARY");
  const std::string path = env != nullptr && *env != '\0'
                               ? std::string(env)
                               : (std::filesystem::path(self_executable()).parent_path() / "libtickstream_ml.so").string();
  // Thread pools sized to this rank's share before libtorch loads (a user's setting wins): the
  // wheel's libtorch runs MKL under OpenMP (libgomp), an OpenBLAS-based libtorch starts one
  // busy-waiting OpenBLAS thread per core when it loads, whatever libtorch's thread count.
  const std::string threads = std::to_string(ctx.placement().cpu_threads);
  setenv("OMP_NUM_THREADS", threads.c_str(), /*overwrite=*/0);
  setenv("OPENBLAS_NUM_THREADS", threads.c_str(), /*overwrite=*/0);
  // Kept loaded until exit: libtorch does not support being unloaded.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) TS_INTERNAL_ERROR("cannot load the ML library {}: {}", path, dlerror());
  auto* entry = reinterpret_cast<MlEntryFn>(dlsym(handle, kMlEntrySymbol));
  if (entry == nullptr) TS_INTERNAL_ERROR("{}: no symbol {}: {}", path, kMlEntrySymbol, dlerror());
  return entry(ctx, command, args);
}

}  // namespace tickstream
