// Non-template typed MPI helpers: rank/size, string gather and broadcast.
#include "comm/mpi_typed.hpp"

namespace tickstream::mpi {

int rank(MPI_Comm comm) {
  int r = 0;
  TS_CHECK_MPI(MPI_Comm_rank(comm, &r));
  return r;
}

int size(MPI_Comm comm) {
  int s = 0;
  TS_CHECK_MPI(MPI_Comm_size(comm, &s));
  return s;
}

std::vector<std::string> allgather_strings(MPI_Comm comm, const std::vector<std::string>& mine) {
  std::vector<char> packed;
  for (const auto& s : mine) {
    packed.insert(packed.end(), s.begin(), s.end());
    packed.push_back('\0');
  }
  const std::vector<char> all = allgatherv(comm, packed);
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] != '\0') continue;
    out.emplace_back(all.data() + start, i - start);
    start = i + 1;
  }
  return out;
}

std::string broadcast_string(MPI_Comm comm, const std::string& value, int root) {
  int64_t n = static_cast<int64_t>(value.size());
  TS_CHECK_MPI(MPI_Bcast(&n, 1, MPI_INT64_T, root, comm));
  std::string out = rank(comm) == root ? value : std::string(static_cast<size_t>(n), '\0');
  if (n > 0) TS_CHECK_MPI(MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, root, comm));
  return out;
}

}  // namespace tickstream::mpi
