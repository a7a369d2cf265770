// MpiTest fixture: collective failure check in TearDown and a shared temp directory.
#include "mpi/mpi_test.hpp"

#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "comm/collectives.hpp"
#include "comm/mpi_native.hpp"

namespace tickstream::testing {

comm::Communicator& world() {
  static const std::unique_ptr<comm::Communicator> c =
      comm::make_mpi_communicator(MPI_COMM_WORLD, comm::CommOptions{});
  return *c;
}

comm::Communicator& self() {
  static const std::unique_ptr<comm::Communicator> c = comm::make_self_communicator();
  return *c;
}

int MpiTest::rank() const { return comm().rank(); }
int MpiTest::size() const { return comm().size(); }

const std::string& MpiTest::temp_dir() {
  if (dir_.empty()) {
    std::string mine;
    if (rank() == 0) {
      std::string pattern = (std::filesystem::temp_directory_path() / "tickstream-mpi-XXXXXX").string();
      mine = mkdtemp(pattern.data()) ? pattern : "";
    }
    dir_ = comm::broadcast_string(comm(), mine, 0);
  }
  return dir_;
}

void MpiTest::TearDown() {
  const int32_t mine = HasFailure() ? 1 : 0;
  const int32_t any = comm::allreduce<int32_t>(comm(), mine, comm::ReduceOp::max);
  if (any && !mine) ADD_FAILURE() << "the test failed on another rank";
  comm().barrier();
  if (rank() == 0 && !dir_.empty()) std::filesystem::remove_all(dir_);
}

}  // namespace tickstream::testing
