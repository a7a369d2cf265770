// Parallel HDF5 over a communicator: MPI-IO file access for the communicator's ranks.
#pragma once

#include <H5Ipublic.h>

#include "comm/communicator.hpp"

namespace tickstream::runtime {

// Sets the MPI-IO driver on the file-access property list `fapl` over `comm`'s ranks (an MPI
// communicator; InternalError for another backend).
void set_mpio_file_access(hid_t fapl, const comm::Communicator& comm);

}  // namespace tickstream::runtime
