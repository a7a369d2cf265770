// Where chunk buffers live: pageable heap memory, or page-locked (pinned) memory that a GPU copy
// engine reads asynchronously. The choice is a pair of functions carried by the allocator, so data/
// stays free of CUDA: model/pinned_memory.hpp supplies the pinned one.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <vector>

namespace tickstream {

struct HostMemory {
  const char* name;                       // "pageable", "pinned"
  void* (*allocate)(size_t bytes);        // nullptr when out of memory
  void (*release)(void* p) noexcept;
};

// malloc / free.
const HostMemory& pageable_host_memory();

// A std allocator over a HostMemory (default: pageable). It travels with the container on copy,
// move and swap, so a chunk copied from a pinned one is pinned too.
template <class T>
class HostAllocator {
 public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;

  HostAllocator() noexcept : memory_(&pageable_host_memory()) {}
  explicit HostAllocator(const HostMemory& memory) noexcept : memory_(&memory) {}
  template <class U>
  HostAllocator(const HostAllocator<U>& other) noexcept : memory_(&other.memory()) {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    void* p = memory_->allocate(n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { memory_->release(p); }
  const HostMemory& memory() const noexcept { return *memory_; }

  template <class U>
  bool operator==(const HostAllocator<U>& o) const noexcept { return memory_ == &o.memory(); }
  template <class U>
  bool operator!=(const HostAllocator<U>& o) const noexcept { return memory_ != &o.memory(); }

 private:
  const HostMemory* memory_;
};

template <class T>
using HostVector = std::vector<T, HostAllocator<T>>;

}  // namespace tickstream
