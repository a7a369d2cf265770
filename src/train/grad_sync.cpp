// Gradient buckets: layout, hooks, in-order launch, wait, write-back; parameter broadcast/checks.
#include "train/grad_sync.hpp"

#include <chrono>

#include "train/tensor_buffer.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"

namespace tickstream {

struct GradSync::Bucket {
  // float32 on the parameters' device: the members' gradients, then one arrival flag per member
  // (1 when this rank's backward produced its gradient). Averaged over the ranks, a flag of 0
  // means no rank produced that gradient.
  torch::Tensor flat;
  torch::Tensor flags;                 // view of flat's tail
  int64_t flag_base = 0;               // index of its first flag among all buckets' flags
  std::vector<size_t> members;         // parameter indices
  int64_t ready = 0;                   // members whose gradient arrived this step
  std::vector<uint8_t> arrived;        // per member
  std::unique_ptr<comm::Work> work;
};

GradSync::GradSync(comm::Communicator& comm, std::vector<torch::Tensor> params, int64_t bucket_bytes)
    : comm_(comm), params_(std::move(params)), slot_(params_.size()), flag_(params_.size()) {
  if (comm_.size() == 1) return;
  std::vector<std::vector<size_t>> groups(1);
  int64_t filled = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    TS_CHECK(params_[k].scalar_type() == torch::kFloat32, "gradient sync supports float32 parameters");
    if (filled >= bucket_bytes) groups.emplace_back(), filled = 0;
    groups.back().push_back(k);
    filled += params_[k].numel() * 4;
  }
  int64_t flags_total = 0;  // flags of the buckets before this one
  for (const auto& g : groups) {
    auto b = std::make_unique<Bucket>();
    int64_t offset = 0;
    for (size_t k : g) {
      slot_[k] = {buckets_.size(), offset};
      offset += params_[k].numel();
    }
    b->flat = torch::zeros({offset + static_cast<int64_t>(g.size())}, params_[g.front()].options());
    b->flags = b->flat.narrow(0, offset, static_cast<int64_t>(g.size()));
    b->members = g;
    b->arrived.assign(params_.size(), 0);
    b->flag_base = flags_total;
    for (size_t m = 0; m < g.size(); ++m) flag_[g[m]] = flags_total + static_cast<int64_t>(m);
    flags_total += static_cast<int64_t>(g.size());
    stats_.bytes += b->flat.numel() * 4;
    buckets_.push_back(std::move(b));
  }
  stats_.buckets = static_cast<int64_t>(buckets_.size());
  for (size_t k = 0; k < params_.size(); ++k)
    hooks_.push_back(params_[k].register_hook([this, k](const torch::Tensor& g) { on_grad(k, g); }));
}

GradSync::~GradSync() {
  for (size_t k = 0; k < hooks_.size(); ++k) params_[k].remove_hook(hooks_[k]);
}

void GradSync::broadcast_parameters() {
  if (comm_.size() == 1) return;
  torch::NoGradGuard no_grad;
  for (auto& p : params_) comm_.broadcast(comm::tensor_buffer(p), 0);
}

void GradSync::begin_step() {
  for (auto& b : buckets_) {
    b->ready = 0;
    std::fill(b->arrived.begin(), b->arrived.end(), 0);
    b->flags.zero_();
  }
  next_launch_ = 0;
}

void GradSync::on_grad(size_t k, const torch::Tensor& grad) {
  const auto [bi, offset] = slot_[k];
  Bucket& b = *buckets_[bi];
  TS_CHECK(!b.arrived[k], "parameter {} received two gradients in one backward", k);
  b.arrived[k] = 1;
  b.flat.narrow(0, offset, params_[k].numel()).copy_(grad.reshape(-1));
  b.flags.narrow(0, flag_[k] - b.flag_base, 1).fill_(1.0f);
  if (++b.ready == static_cast<int64_t>(b.members.size())) launch_full_buckets();
  comm_.progress();
}

void GradSync::launch_full_buckets() {
  while (next_launch_ < buckets_.size() &&
         buckets_[next_launch_]->ready == static_cast<int64_t>(buckets_[next_launch_]->members.size())) {
    Bucket& b = *buckets_[next_launch_++];
    b.work = comm_.allreduce_async(comm::tensor_buffer(b.flat), comm::ReduceOp::avg);
  }
}

void GradSync::end_step() {
  if (comm_.size() == 1) return;
  for (auto& b : buckets_) {
    for (size_t k : b->members) {
      if (b->arrived[k]) continue;
      b->flat.narrow(0, slot_[k].second, params_[k].numel()).zero_();
      b->arrived[k] = 1;
      ++b->ready;
    }
  }
  launch_full_buckets();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& b : buckets_) b->work->wait();
  stats_.wait_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++stats_.steps;
  write_back();
}

// A parameter that got a gradient on some rank gets the average (ranks without one count as zero,
// as in one rank's backward over the combined batch). One that got none anywhere keeps an
// undefined .grad, as a single rank's backward leaves it, so the optimizer skips it (no moment
// update, no weight decay) at every rank count alike.
void GradSync::write_back() {
  torch::NoGradGuard no_grad;
  // Every bucket's flags in one device-to-host copy (one synchronization per step on a GPU).
  std::vector<torch::Tensor> views;
  for (auto& b : buckets_) views.push_back(b->flags);
  const torch::Tensor flags = torch::cat(views).to(torch::kCPU);
  const float* arrived = flags.data_ptr<float>();
  for (size_t k = 0; k < params_.size(); ++k) {
    const auto [bi, offset] = slot_[k];
    torch::Tensor& g = params_[k].mutable_grad();
    if (arrived[flag_[k]] == 0.0f) {
      g = torch::Tensor();
      continue;
    }
    torch::Tensor avg = buckets_[bi]->flat.narrow(0, offset, params_[k].numel()).view_as(params_[k]);
    if (g.defined()) g.copy_(avg);
    else g = avg.clone();
  }
}

uint64_t GradSync::parameter_checksum() const {
  uint64_t h = kFnvOffset;
  for (const auto& p : params_) {
    const torch::Tensor c = p.detach().to(torch::kCPU).contiguous();
    h = fnv1a(std::string_view(static_cast<const char*>(c.data_ptr()),
                               static_cast<size_t>(c.numel() * c.element_size())), h);
  }
  return h;
}

void GradSync::check_parameters(int64_t step, comm::Communicator& control) const {
  std::vector<int64_t> mine{static_cast<int64_t>(parameter_checksum())};
  std::vector<int64_t> sums(static_cast<size_t>(control.size()));
  control.allgather(comm::host_buffer(mine), comm::host_buffer(sums));
  for (size_t r = 1; r < sums.size(); ++r)
    TS_CHECK(sums[r] == sums[0], "parameters diverged at step {}: rank {} differs from rank 0 "
             "(checksum {:016x} != {:016x})", step, r, static_cast<uint64_t>(sums[r]),
             static_cast<uint64_t>(sums[0]));
}

}  // namespace tickstream
