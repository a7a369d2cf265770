// Driver for tests/e2e/comm_timeout.sh: a training-like loop of allreduces in which one rank
// skips a collective, calls the wrong one, or aborts; the job must end with a diagnosis.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "comm/communicator.hpp"
#include "comm/mpi_native.hpp"
#include "core/error.hpp"

namespace {

using tickstream::comm::Communicator;
using tickstream::comm::ReduceOp;

constexpr int kSteps = 6;
constexpr int kFaultStep = 3;

void sleep_seconds(int s) { std::this_thread::sleep_for(std::chrono::seconds(s)); }

// One step: an async gradient-like allreduce, progress, wait; then a small loss allreduce.
void step(Communicator& comm, std::vector<float>& grads, ReduceOp op) {
  auto work = comm.allreduce_async(tickstream::comm::host_buffer(grads), op);
  comm.progress();
  work->wait();
  std::vector<double> loss{1.0};
  comm.allreduce(tickstream::comm::host_buffer(loss), ReduceOp::sum);
}

// Returns normally only if the scenario did not end the job (a test failure).
void run(const std::string& scenario, int rank) {
  tickstream::comm::CommOptions options;
  if (scenario != "throw") options.timeout = std::chrono::milliseconds(1000);
  auto comm = tickstream::comm::make_mpi_communicator(MPI_COMM_WORLD, options);
  std::vector<float> grads(4096, 1.0f);
  try {
    for (int s = 0; s < kSteps; ++s) {
      if (s == kFaultStep) {
        if (scenario == "missing-rank" && rank == 1) sleep_seconds(60);  // skips the step
        if (scenario == "missing-root" && rank == 0) sleep_seconds(60);
        if (scenario == "throw" && rank == 2) TS_INTERNAL_ERROR("boom on rank {}", rank);
      }
      const bool wrong = scenario == "mismatch" && s == kFaultStep && rank == 1;
      step(*comm, grads, wrong ? ReduceOp::max : ReduceOp::avg);
    }
  } catch (const std::exception& e) {
    comm->abort(e.what(), 1);  // as the trainer does: abort the communicator and the job
  }
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const std::string scenario = argc > 1 ? argv[1] : "";
  if (scenario != "missing-rank" && scenario != "missing-root" && scenario != "throw" &&
      scenario != "mismatch") {
    std::fprintf(stderr, "usage: comm_timeout_main missing-rank|missing-root|throw|mismatch\n");
    MPI_Finalize();
    return 2;
  }
  run(scenario, rank);
  std::printf("rank %d: scenario %s completed without ending the job\n", rank, scenario.c_str());
  MPI_Finalize();
  return 0;
}
