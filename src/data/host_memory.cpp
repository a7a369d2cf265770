// Pageable host memory: the default of every chunk buffer.
#include "data/host_memory.hpp"

#include <cstdlib>

namespace tickstream {
namespace {

void* pageable_allocate(size_t bytes) { return std::malloc(bytes == 0 ? 1 : bytes); }
void pageable_release(void* p) noexcept { std::free(p); }

}  // namespace

const HostMemory& pageable_host_memory() {
  static const HostMemory memory{"pageable", pageable_allocate, pageable_release};
  return memory;
}

}  // namespace tickstream
