// make_nccl_communicator for builds without CUDA: says the NCCL backend is not built.
#include "comm/communicator.hpp"
#include "core/error.hpp"

namespace tickstream::comm {

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& /*bootstrap*/, int device,
                                                     CommOptions /*options*/) {
  TS_INPUT_ERROR(
      "the NCCL backend was requested (CUDA device {}), but this build has no NCCL: rebuild with "
      "-DTICKSTREAM_CUDA=ON, or set [dist] backend = \"mpi\"",
      device);
}

}  // namespace tickstream::comm
