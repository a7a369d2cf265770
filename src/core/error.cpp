// Error construction: origin strings with rank and host, MPI and HDF5 error-text capture.
#include "core/error.hpp"

#include <mpi.h>
#include <unistd.h>

#include <hdf5.h>

namespace tickstream {

std::string rank_and_host() {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  int rank = -1;
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return fmt::format("rank {} on {}", rank, host);
}

Error::Error(const std::string& message, const char* file, int line)
    : std::runtime_error(message), origin_(fmt::format("{}:{} ({})", file, line, rank_and_host())) {}

namespace detail {

void throw_mpi(int code, const char* expr, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING] = {0};
  int len = 0;
  MPI_Error_string(code, text, &len);
  throw InternalError(fmt::format("MPI call failed: {}: {}", expr, std::string(text, len)), file,
                      line);
}

namespace {
herr_t collect_h5_frame(unsigned n, const H5E_error2_t* err, void* out) {
  auto* text = static_cast<std::string*>(out);
  *text += fmt::format("\n  #{} {}(): {}", n, err->func_name ? err->func_name : "?",
                       err->desc ? err->desc : "");
  return 0;
}
}  // namespace

void throw_h5(const char* expr, const char* file, int line) {
  std::string stack;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_h5_frame, &stack);
  H5Eclear2(H5E_DEFAULT);
  throw InternalError(fmt::format("HDF5 call failed: {}{}", expr, stack), file, line);
}

}  // namespace detail
}  // namespace tickstream
