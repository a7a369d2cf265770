// MpiTest fixture: a test fails on every rank when it fails on any; shared temp dirs.
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>

#include <string>

namespace tickstream::testing {

class MpiTest : public ::testing::Test {
 protected:
  MPI_Comm comm() const { return MPI_COMM_WORLD; }
  int rank() const;
  int size() const;
  // A fresh directory made by rank 0, the same path on every rank; removed in TearDown.
  const std::string& temp_dir();
  void TearDown() override;

 private:
  std::string dir_;
};

}  // namespace tickstream::testing
