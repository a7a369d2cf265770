// MpiTest fixture: a test fails on every rank when it fails on any; shared temp dirs. The job's
// communicators for tests: world() over every rank, self() for this rank alone.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "comm/communicator.hpp"

namespace tickstream::testing {

// The MPI communicator over every rank of the test job (made collectively by mpi_main.cpp).
comm::Communicator& world();
// This rank on its own (serial references).
comm::Communicator& self();

class MpiTest : public ::testing::Test {
 protected:
  comm::Communicator& comm() const { return world(); }
  int rank() const;
  int size() const;
  // A fresh directory made by rank 0, the same path on every rank; removed in TearDown.
  const std::string& temp_dir();
  void TearDown() override;

 private:
  std::string dir_;
};

}  // namespace tickstream::testing
