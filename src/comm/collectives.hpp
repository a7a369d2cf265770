// Typed collectives over a comm::Communicator: counts and dtypes derive from the arguments, and
// every call runs under the communicator's timeout and arrival board (a dead or stuck rank is
// named and the job ends instead of hanging).
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "comm/communicator.hpp"
#include "core/error.hpp"

namespace tickstream::comm {

template <typename T>
T allreduce(Communicator& comm, T value, ReduceOp op) {
  comm.allreduce(host_buffer(&value, 1), op);
  return value;
}

template <typename T>
void allreduce_inplace(Communicator& comm, std::vector<T>& values, ReduceOp op) {
  comm.allreduce(host_buffer(values), op);
}

// One value from each rank, in rank order.
template <typename T>
std::vector<T> allgather(Communicator& comm, T value) {
  std::vector<T> out(static_cast<size_t>(comm.size()));
  comm.allgather(host_buffer(&value, 1), host_buffer(out));
  return out;
}

// Rank `root`'s value on every rank.
template <typename T>
T broadcast(Communicator& comm, T value, int root) {
  comm.broadcast(host_buffer(&value, 1), root);
  return value;
}

// Concatenation of every rank's trivially-copyable elements, in rank order (moved as bytes).
template <typename T>
std::vector<T> allgatherv(Communicator& comm, const std::vector<T>& mine) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::vector<int64_t> bytes = allgather<int64_t>(comm, static_cast<int64_t>(mine.size() * sizeof(T)));
  int64_t total = 0;
  for (const int64_t b : bytes) total += b;
  std::vector<T> out(static_cast<size_t>(total) / sizeof(T));
  const auto* send = reinterpret_cast<const uint8_t*>(mine.data());
  comm.allgatherv_async(host_buffer(send, mine.size() * sizeof(T)),
                        host_buffer(reinterpret_cast<uint8_t*>(out.data()), static_cast<size_t>(total)),
                        bytes)
      ->wait();
  return out;
}

// Strings from every rank, flattened in rank order.
std::vector<std::string> allgather_strings(Communicator& comm, const std::vector<std::string>& mine);

// Rank `root`'s string on every rank.
std::string broadcast_string(Communicator& comm, const std::string& value, int root);

// Personalized exchange of one flat buffer: the send_counts[r] consecutive elements of `send` (in
// rank order) go to rank r. Returns what every rank sent here, concatenated in rank order, with
// each rank's count: no per-rank staging copies (large exchanges, e.g. ingest's bars).
template <typename T>
std::pair<std::vector<T>, std::vector<int64_t>> alltoallv_flat(Communicator& comm, const std::vector<T>& send,
                                                               const std::vector<int64_t>& send_counts) {
  static_assert(std::is_trivially_copyable_v<T>);
  const size_t n = static_cast<size_t>(comm.size());
  TS_CHECK(send_counts.size() == n, "alltoallv: {} send counts for {} ranks", send_counts.size(), n);
  std::vector<int64_t> send_bytes(n);
  for (size_t r = 0; r < n; ++r) send_bytes[r] = send_counts[r] * static_cast<int64_t>(sizeof(T));
  // Rank r's send_bytes[s] is what s receives from r: an all-to-all of the counts is the
  // allgather's column s.
  const std::vector<int64_t> matrix = allgatherv(comm, send_bytes);
  std::vector<int64_t> recv_bytes(n), recv_counts(n);
  int64_t total = 0;
  for (size_t r = 0; r < n; ++r) {
    recv_bytes[r] = matrix[r * n + static_cast<size_t>(comm.rank())];
    recv_counts[r] = recv_bytes[r] / static_cast<int64_t>(sizeof(T));
    total += recv_bytes[r];
  }
  std::vector<T> recv(static_cast<size_t>(total) / sizeof(T));
  comm.alltoallv_async(host_buffer(reinterpret_cast<const uint8_t*>(send.data()), send.size() * sizeof(T)),
                       send_bytes, host_buffer(reinterpret_cast<uint8_t*>(recv.data()), static_cast<size_t>(total)),
                       recv_bytes)
      ->wait();
  return {std::move(recv), std::move(recv_counts)};
}

// Personalized exchange: send[r] goes to rank r; returns what each rank sent here, by source.
template <typename T>
std::vector<std::vector<T>> alltoallv(Communicator& comm, const std::vector<std::vector<T>>& send) {
  const size_t n = static_cast<size_t>(comm.size());
  TS_CHECK(send.size() == n, "alltoallv: {} send lists for {} ranks", send.size(), n);
  std::vector<int64_t> counts(n);
  std::vector<T> flat;
  for (size_t r = 0; r < n; ++r) {
    counts[r] = static_cast<int64_t>(send[r].size());
    flat.insert(flat.end(), send[r].begin(), send[r].end());
  }
  const auto [recv, recv_counts] = alltoallv_flat(comm, flat, counts);
  std::vector<std::vector<T>> out(n);
  size_t at = 0;
  for (size_t r = 0; r < n; ++r) {
    const auto k = static_cast<size_t>(recv_counts[r]);
    out[r].assign(recv.begin() + static_cast<ptrdiff_t>(at), recv.begin() + static_cast<ptrdiff_t>(at + k));
    at += k;
  }
  return out;
}

// Every rank's elements at `root`, in rank order (an empty vector elsewhere): an alltoallv in which
// only `root` receives.
template <typename T>
std::vector<T> gatherv(Communicator& comm, const std::vector<T>& mine, int root) {
  std::vector<std::vector<T>> send(static_cast<size_t>(comm.size()));
  send[static_cast<size_t>(root)] = mine;
  std::vector<T> out;
  for (const auto& from : alltoallv(comm, send)) out.insert(out.end(), from.begin(), from.end());
  return out;
}

}  // namespace tickstream::comm
