// Non-template typed collectives: string gather and broadcast.
#include "comm/collectives.hpp"

namespace tickstream::comm {

std::vector<std::string> allgather_strings(Communicator& comm, const std::vector<std::string>& mine) {
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

std::string broadcast_string(Communicator& comm, const std::string& value, int root) {
  const int64_t n = broadcast<int64_t>(comm, static_cast<int64_t>(value.size()), root);
  std::string out = comm.rank() == root ? value : std::string(static_cast<size_t>(n), '\0');
  if (n > 0) comm.broadcast(host_buffer(reinterpret_cast<uint8_t*>(out.data()), out.size()), root);
  return out;
}

}  // namespace tickstream::comm
