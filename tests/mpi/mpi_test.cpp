// MpiTest fixture: collective failure check in TearDown and a shared temp directory.
#include "mpi/mpi_test.hpp"

#include <stdlib.h>

#include <filesystem>

#include "comm/mpi_typed.hpp"

namespace tickstream::testing {

int MpiTest::rank() const { return mpi::rank(comm()); }
int MpiTest::size() const { return mpi::size(comm()); }

const std::string& MpiTest::temp_dir() {
  if (dir_.empty()) {
    std::string mine;
    if (rank() == 0) {
      std::string pattern = (std::filesystem::temp_directory_path() / "tickstream-mpi-XXXXXX").string();
      mine = mkdtemp(pattern.data()) ? pattern : "";
    }
    dir_ = mpi::broadcast_string(comm(), mine, 0);
  }
  return dir_;
}

void MpiTest::TearDown() {
  const int mine = HasFailure() ? 1 : 0;
  int any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm());
  if (any && !mine) ADD_FAILURE() << "the test failed on another rank";
  MPI_Barrier(comm());
  if (rank() == 0 && !dir_.empty()) std::filesystem::remove_all(dir_);
}

}  // namespace tickstream::testing
