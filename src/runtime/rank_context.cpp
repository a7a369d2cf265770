// RankContext: MPI_Init_thread/Finalize, shared-memory split for the local rank, logging, Kokkos.
#include "runtime/rank_context.hpp"

#include <mpi.h>
#include <unistd.h>

#include <Kokkos_Core.hpp>
#include <spdlog/spdlog.h>

#include "comm/mpi_native.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "runtime/temp_files.hpp"

namespace tickstream {

struct RankContext::Frame {
  MPI_Comm mpi = MPI_COMM_NULL;  // the group's communicator
  std::unique_ptr<comm::Communicator> outer_comm;
  int outer_rank = 0, outer_size = 1;
};

namespace {

MPI_Comm current_mpi(const std::vector<std::unique_ptr<RankContext::Frame>>& groups) {
  return groups.empty() ? MPI_COMM_WORLD : groups.back()->mpi;
}

}  // namespace

RankContext::RankContext(int& argc, char**& argv, const RankContextOptions& options) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized && options.mpi_only_if_launched && !launcher_rank().has_value()) {
    mpi_ = false;  // one rank, the host communicator without MPI
    set_process_rank(0);
    host_ = host_name();
    setup_logging(options);
    install_temp_file_cleanup();
    comm_ = make_communicator({});
    spdlog::debug("one process without a launcher: MPI not initialized");
    return;
  }
  if (!initialized) {
    int provided = 0;
    TS_CHECK_MPI(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided));
    owns_mpi_ = true;
    TS_CHECK(provided >= MPI_THREAD_FUNNELED, "MPI provides thread level {} < FUNNELED", provided);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  TS_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  TS_CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  set_process_rank(rank_);
  MPI_Comm local = MPI_COMM_NULL;
  TS_CHECK_MPI(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local));
  TS_CHECK_MPI(MPI_Comm_rank(local, &local_rank_));
  TS_CHECK_MPI(MPI_Comm_size(local, &local_size_));
  MPI_Comm_free(&local);
  host_ = host_name();
  setup_logging(options);
  install_temp_file_cleanup();
  comm_ = make_communicator({});
}

std::unique_ptr<comm::Communicator> RankContext::make_communicator(comm::CommOptions options) const {
  if (!mpi_) return comm::make_self_communicator(std::move(options));
  return comm::make_mpi_communicator(current_mpi(groups_), std::move(options));
}

std::unique_ptr<RankContext::Group> RankContext::enter_group(int color) {
  auto frame = std::make_unique<Frame>();
  frame->outer_rank = rank_, frame->outer_size = size_;
  if (mpi_) {
    TS_CHECK_MPI(MPI_Comm_split(current_mpi(groups_), color, rank_, &frame->mpi));
    MPI_Comm_set_errhandler(frame->mpi, MPI_ERRORS_RETURN);
    TS_CHECK_MPI(MPI_Comm_rank(frame->mpi, &rank_));
    TS_CHECK_MPI(MPI_Comm_size(frame->mpi, &size_));
  }
  frame->outer_comm = std::move(comm_);
  groups_.push_back(std::move(frame));
  comm_ = make_communicator({});
  set_console_info(rank_ == 0);  // a group's first rank reports its work
  return std::make_unique<Group>(*this);
}

void RankContext::leave_group() {
  TS_CHECK(!groups_.empty(), "leave_group without a group");
  Frame& f = *groups_.back();
  comm_ = std::move(f.outer_comm);
  rank_ = f.outer_rank, size_ = f.outer_size;
  if (f.mpi != MPI_COMM_NULL) MPI_Comm_free(&f.mpi);
  groups_.pop_back();
  set_console_info(rank_ == 0);
}


RankContext::~RankContext() {
  while (!groups_.empty()) leave_group();
  comm_.reset();  // frees its MPI communicators before MPI_Finalize
  if (owns_kokkos_) Kokkos::finalize();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_mpi_ && !finalized) MPI_Finalize();
}

void RankContext::ensure_kokkos() {
  if (Kokkos::is_initialized()) return;
  Kokkos::initialize();
  owns_kokkos_ = true;
}

const Placement& RankContext::placement() {
  if (!placement_) {
    PlacementInput in = placement_input(local_rank_, local_size_);
    in.request = device_request_;
    in.oversubscribe_gpus = oversubscribe_gpus_;
    placement_ = choose_placement(in);
  }
  return *placement_;
}

void RankContext::request_device(DeviceRequest request, bool oversubscribe_gpus) {
  TS_CHECK(!placement_, "the device was requested after the placement was chosen");
  device_request_ = request;
  oversubscribe_gpus_ = oversubscribe_gpus;
}

void RankContext::setup_logging(const RankContextOptions& options) {
  configure_logging({rank_, size_, options.log_dir, options.verbose});
}

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(text, &len);
  const std::string full(text, static_cast<size_t>(len));
  return full.substr(0, full.find_first_of("\n,"));
}

}  // namespace tickstream
