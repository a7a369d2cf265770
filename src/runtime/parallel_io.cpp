// MPI-IO file access for parallel HDF5: the one place HDF5 is handed an MPI communicator.
#include "runtime/parallel_io.hpp"

#include <hdf5.h>

#include "comm/mpi_native.hpp"
#include "core/error.hpp"

namespace tickstream::runtime {

void set_mpio_file_access(hid_t fapl, const comm::Communicator& comm) {
  TS_CHECK(H5Pset_fapl_mpio(fapl, comm::native_mpi_comm(comm), MPI_INFO_NULL) >= 0,
           "H5Pset_fapl_mpio failed");
}

}  // namespace tickstream::runtime
