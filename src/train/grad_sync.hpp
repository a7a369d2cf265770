// Data-parallel gradient synchronization: fixed-order buckets allreduced from gradient hooks.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "comm/communicator.hpp"

namespace tickstream {

struct GradSyncStats {
  int64_t buckets = 0;
  int64_t bytes = 0;        // gradient bytes allreduced per step
  double wait_s = 0.0;      // total time end_step() spent blocked on communication
  int64_t steps = 0;
};

// Parameters are assigned to buckets of about `bucket_bytes` in reverse registration order (the
// order backward produces gradients), the same on every rank. During backward, a hook copies each
// gradient into its bucket; when a bucket is full it is launched (allreduce avg, asynchronous),
// always in bucket order, so communication overlaps the rest of backward. end_step() launches any
// bucket still waiting (parameters without a gradient contribute zeros), waits, and writes the
// averaged gradients into .grad; a parameter that got no gradient on any rank keeps an undefined
// .grad (libtorch 2.x's zero_grad() sets them undefined), so 1, 2 and 3 ranks step alike. With
// one rank there are no hooks and no copies.
class GradSync {
 public:
  GradSync(comm::Communicator& comm, std::vector<torch::Tensor> params, int64_t bucket_bytes);
  ~GradSync();
  GradSync(const GradSync&) = delete;
  GradSync& operator=(const GradSync&) = delete;

  // Every rank's parameters become rank 0's.
  void broadcast_parameters();
  // Call before backward / after backward (before clipping and the optimizer step).
  void begin_step();
  void end_step();
  // FNV-1a of every parameter's bytes; check_parameters() compares it across ranks over
  // `control` (a host-memory communicator) and throws InternalError naming the first rank that
  // differs from rank 0.
  uint64_t parameter_checksum() const;
  void check_parameters(int64_t step, comm::Communicator& control) const;

  const GradSyncStats& stats() const { return stats_; }

 private:
  struct Bucket;
  void on_grad(size_t param, const torch::Tensor& grad);
  void launch_full_buckets();
  void write_back();

  comm::Communicator& comm_;
  std::vector<torch::Tensor> params_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
  std::vector<std::pair<size_t, int64_t>> slot_;  // param -> (bucket, offset)
  std::vector<int64_t> flag_;                      // param -> index of its arrival flag among all buckets' flags
  std::vector<unsigned> hooks_;
  size_t next_launch_ = 0;
  GradSyncStats stats_;
};

}  // namespace tickstream
