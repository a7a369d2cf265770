// Collective store writes (uneven blocks, empty ranks), failure agreement, atomic output.
#include <cerrno>
#include <cmath>
#include <filesystem>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/partition.hpp"
#include "mpi/mpi_test.hpp"
#include "comm/agreement.hpp"
#include "store/atomic_output.hpp"
#include "store/file_util.hpp"
#include "store/store_reader.hpp"
#include "store/store_writer.hpp"

namespace tickstream {
namespace {

using MpiStore = testing::MpiTest;

double value(int64_t row, int64_t t, int field) { return 1000.0 * row + t + 0.25 * field; }

RawBlock make_block(int64_t begin, int64_t rows, int64_t bars) {
  RawBlock b;
  b.resize(begin, rows, bars, true);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < bars; ++t) {
      if ((begin + r + t) % 7 == 0) continue;  // a missing bar
      const size_t i = b.index(r, t);
      b.open[i] = value(begin + r, t, 0), b.high[i] = value(begin + r, t, 1);
      b.low[i] = value(begin + r, t, 2), b.close[i] = value(begin + r, t, 3);
      b.volume[i] = value(begin + r, t, 4), b.adj_close[i] = value(begin + r, t, 5), b.valid[i] = 1;
    }
  return b;
}

void write_store(comm::Communicator& comm, const std::string& path, int64_t n, int64_t bars) {
  StoreLayout layout;
  for (int64_t i = 0; i < n; ++i) layout.tickers.push_back(fmt::format("T{:03}", i));
  for (int64_t t = 0; t < bars; ++t) layout.time.push_back(86400 * t);
  layout.has_adj_close = true;
  layout.chunk_tickers = 2, layout.chunk_bars = 8;
  std::vector<int64_t> weights(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) weights[i] = i + 1;  // uneven blocks
  const auto [begin, end] = owned_range(balanced_owners(weights, comm.size()), comm.rank());
  StoreWriter w(path, &comm, layout);
  w.write_raw(make_block(begin, end - begin, bars));
  w.close();
}

void check_block(const RawBlock& b) {
  for (int64_t r = 0; r < b.rows; ++r)
    for (int64_t t = 0; t < b.bars; ++t) {
      const size_t i = b.index(r, t);
      const bool expect_valid = (b.row_begin + r + t) % 7 != 0;
      ASSERT_EQ(b.valid[i], expect_valid ? 1 : 0);
      if (!expect_valid) {
        ASSERT_TRUE(std::isnan(b.close[i]));
        continue;
      }
      ASSERT_EQ(b.open[i], value(b.row_begin + r, t, 0));
      ASSERT_EQ(b.close[i], value(b.row_begin + r, t, 3));
      ASSERT_EQ(b.adj_close[i], value(b.row_begin + r, t, 5));
    }
}

TEST_F(MpiStore, CollectiveRoundTripWithUnevenAndEmptyRanks) {
  for (int64_t n : {int64_t{2}, int64_t{11}}) {  // n = 2 leaves a rank empty at 3 ranks
    const std::string path = temp_dir() + fmt::format("/s{}.h5", n);
    write_store(comm(), path, n, 21);
    StoreReader par(path, &comm());  // parallel read of everything on every rank
    check_block(par.read_raw(0, n));
    if (rank() == 0) {
      StoreReader r(path);
      EXPECT_EQ(r.tickers().size(), static_cast<size_t>(n));
      EXPECT_EQ(r.time().back(), 20 * 86400);
      check_block(r.read_raw(0, n));
      h5::Handle ds = h5::open_dataset(r.root(), "raw/close");
      EXPECT_EQ(h5::dataset_chunk(ds.id()), (std::vector<hsize_t>{2, 8}));
      EXPECT_TRUE(h5::dataset_has_fletcher32(ds.id()));
    }
  }
}

TEST_F(MpiStore, LowestFailingRankWinsTheAgreement) {
  const int last = size() - 1;
  try {
    run_agreed(comm(), [&] {
      if (rank() == last) TS_INPUT_ERROR("bad thing on rank {}", rank());
      if (size() > 2 && rank() == 1) TS_INTERNAL_ERROR("internal on rank 1");
    });
    FAIL() << "expected AgreedFailure";
  } catch (const AgreedFailure& e) {
    const int winner = size() > 2 ? 1 : last;
    EXPECT_EQ(e.exit_code(), winner == 1 && size() > 2 ? kExitInternal : kExitInput);
    EXPECT_NE(std::string(e.what()).find(fmt::format("on rank {}", winner)), std::string::npos) << e.what();
    EXPECT_EQ(e.own_message().empty(), rank() != last && !(size() > 2 && rank() == 1));
  }
  EXPECT_NO_THROW(run_agreed(comm(), [] {}));
}

TEST_F(MpiStore, AtomicOutputLeavesNothingWithoutCommit) {
  const std::string final_path = temp_dir() + "/atomic.h5";
  std::string temp;
  {
    AtomicOutput out(final_path, comm());
    temp = out.temp_path();
    write_store(comm(), temp, 5, 10);
    EXPECT_TRUE(std::filesystem::exists(temp));
    comm().barrier();  // every rank has looked before rank 0's destructor removes the temp file
  }
  comm().barrier();
  EXPECT_FALSE(std::filesystem::exists(temp));
  EXPECT_FALSE(std::filesystem::exists(final_path));
  {
    AtomicOutput out(final_path, comm());
    write_store(comm(), out.temp_path(), 5, 10);
    out.commit();
  }
  EXPECT_TRUE(std::filesystem::exists(final_path));
  EXPECT_THROW(AtomicOutput(temp_dir() + "/no/such/dir/x.h5", comm()), InputError);
}

// AtomicOutput::write names the output and the space left for a write that failed for want of
// space, and leaves other failures as they were: a failed driver write (MPI-IO reports no errno)
// with plenty of space left stays an internal error.
TEST_F(MpiStore, AtomicOutputNamesAFullDiskAndOnlyThat) {
  const std::string final_path = temp_dir() + "/full.h5";
  AtomicOutput out(final_path, comm());
  try {
    out.write([] { throw OutOfSpaceError("HDF5 H5Dwrite failed for want of space", __FILE__, __LINE__); });
    FAIL() << "no exception";
  } catch (const OutOfSpaceError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(final_path + ": cannot write: no space left on device (", 0), 0u) << what;
    EXPECT_NE(what.find(" free of "), std::string::npos) << what;
    EXPECT_NE(what.find("on the filesystem holding " + temp_dir()), std::string::npos) << what;
    EXPECT_NE(what.find("H5Dwrite failed for want of space"), std::string::npos) << what;
    EXPECT_EQ(e.exit_code(), kExitInput);
  }
  ASSERT_GT(free_bytes(out.temp_path()), int64_t{64} << 20) << "the test needs 64 MiB free in " << temp_dir();
  EXPECT_THROW(out.write([] { throw InternalError("HDF5 call failed\n  #3 H5FD_write(): driver write request failed",
                                                  __FILE__, __LINE__); }),
               InternalError);
  EXPECT_THROW(out.write([] { throw InputError("a bad row", __FILE__, __LINE__); }), InputError);
  EXPECT_NO_THROW(out.write([] {}));
  EXPECT_TRUE(is_out_of_space(ENOSPC) && is_out_of_space(EDQUOT) && !is_out_of_space(EIO));
}

}  // namespace
}  // namespace tickstream
