// Typed MPI collectives over std::vector / contiguous buffers: counts and datatypes are derived.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.hpp"

namespace tickstream::mpi {

template <typename T>
MPI_Datatype datatype() {
  if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, int64_t>) return MPI_INT64_T;
  else if constexpr (std::is_same_v<T, uint64_t>) return MPI_UINT64_T;
  else if constexpr (std::is_same_v<T, int32_t>) return MPI_INT32_T;
  else if constexpr (std::is_same_v<T, uint8_t>) return MPI_UINT8_T;
  else if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
  else static_assert(sizeof(T) == 0, "no MPI datatype for this type");
}

int rank(MPI_Comm comm);
int size(MPI_Comm comm);

template <typename T>
void allreduce_inplace(MPI_Comm comm, std::vector<T>& values, MPI_Op op) {
  TS_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()),
                             datatype<T>(), op, comm));
}

template <typename T>
T allreduce(MPI_Comm comm, T value, MPI_Op op) {
  TS_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &value, 1, datatype<T>(), op, comm));
  return value;
}

// One value from each rank, in rank order.
template <typename T>
std::vector<T> allgather(MPI_Comm comm, T value) {
  std::vector<T> out(static_cast<size_t>(size(comm)));
  TS_CHECK_MPI(MPI_Allgather(&value, 1, datatype<T>(), out.data(), 1, datatype<T>(), comm));
  return out;
}

// Concatenation of every rank's trivially-copyable elements, in rank order.
template <typename T>
std::vector<T> allgatherv(MPI_Comm comm, const std::vector<T>& mine) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto counts = allgather<int64_t>(comm, static_cast<int64_t>(mine.size() * sizeof(T)));
  std::vector<int> bytes(counts.size()), displs(counts.size());
  int64_t total = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    TS_CHECK(total + counts[r] < (int64_t{1} << 31), "allgatherv over 2 GiB");
    bytes[r] = static_cast<int>(counts[r]);
    displs[r] = static_cast<int>(total);
    total += counts[r];
  }
  std::vector<T> out(static_cast<size_t>(total) / sizeof(T));
  TS_CHECK_MPI(MPI_Allgatherv(mine.data(), bytes[static_cast<size_t>(rank(comm))], MPI_BYTE,
                              out.data(), bytes.data(), displs.data(), MPI_BYTE, comm));
  return out;
}

// Rank `root`'s value on every rank.
template <typename T>
T broadcast(MPI_Comm comm, T value, int root) {
  TS_CHECK_MPI(MPI_Bcast(&value, 1, datatype<T>(), root, comm));
  return value;
}

// Strings from every rank, flattened in rank order.
std::vector<std::string> allgather_strings(MPI_Comm comm, const std::vector<std::string>& mine);

// Rank `root`'s string on every rank.
std::string broadcast_string(MPI_Comm comm, const std::string& value, int root);

// Personalized exchange: send[r] goes to rank r; returns what each rank sent here, by source.
template <typename T>
std::vector<std::vector<T>> alltoallv(MPI_Comm comm, const std::vector<std::vector<T>>& send);

}  // namespace tickstream::mpi

#include "comm/mpi_typed_impl.hpp"
