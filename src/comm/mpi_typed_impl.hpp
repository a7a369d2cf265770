// Template bodies of the typed MPI collectives that are too long for the interface header.
#pragma once

namespace tickstream::mpi {

template <typename T>
std::vector<std::vector<T>> alltoallv(MPI_Comm comm, const std::vector<std::vector<T>>& send) {
  static_assert(std::is_trivially_copyable_v<T>);
  const int n = size(comm);
  TS_CHECK(static_cast<int>(send.size()) == n, "alltoallv: {} send lists for {} ranks",
           send.size(), n);
  std::vector<int> send_counts(n), recv_counts(n), send_displs(n), recv_displs(n);
  std::vector<T> flat;
  for (int r = 0; r < n; ++r) {
    send_displs[r] = static_cast<int>(flat.size() * sizeof(T));
    send_counts[r] = static_cast<int>(send[r].size() * sizeof(T));
    flat.insert(flat.end(), send[r].begin(), send[r].end());
  }
  TS_CHECK(flat.size() * sizeof(T) < (size_t{1} << 31), "alltoallv over 2 GiB");
  TS_CHECK_MPI(MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, comm));
  int64_t total = 0;
  for (int r = 0; r < n; ++r) {
    recv_displs[r] = static_cast<int>(total);
    total += recv_counts[r];
  }
  TS_CHECK(total < (int64_t{1} << 31), "alltoallv receives over 2 GiB");
  std::vector<T> recv(static_cast<size_t>(total) / sizeof(T));
  TS_CHECK_MPI(MPI_Alltoallv(flat.data(), send_counts.data(), send_displs.data(), MPI_BYTE,
                             recv.data(), recv_counts.data(), recv_displs.data(), MPI_BYTE, comm));
  std::vector<std::vector<T>> out(n);
  for (int r = 0; r < n; ++r) {
    const T* first = recv.data() + recv_displs[r] / sizeof(T);
    out[r].assign(first, first + recv_counts[r] / sizeof(T));
  }
  return out;
}

}  // namespace tickstream::mpi
