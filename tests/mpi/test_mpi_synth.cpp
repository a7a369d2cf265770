// synth over N ranks is bit-identical to synth on one rank (datasets) and its oracle IC agrees.
#include <cmath>

#include "mpi/mpi_test.hpp"
#include "store/h5.hpp"
#include "store/store_compare.hpp"
#include "store/store_reader.hpp"
#include "store/synth_run.hpp"

namespace tickstream {
namespace {

using MpiSynth = testing::MpiTest;

void expect_same_as_serial(comm::Communicator& comm, int rank, const std::string& dir, const SynthSpec& spec) {
  const std::string par = dir + "/par_" + spec.freq + ".h5", ser = dir + "/ser_" + spec.freq + ".h5";
  const SynthReport p = run_synth(comm, spec, {"", par, 16, 512});
  if (rank != 0) return;
  const SynthReport s = run_synth(tickstream::testing::self(), spec, {"", ser, 16, 512});
  const auto diff = compare_stores(par, ser);
  EXPECT_FALSE(diff.has_value()) << *diff;
  EXPECT_NEAR(p.info.oracle_ic, s.info.oracle_ic, 1e-12);
  EXPECT_EQ(p.valid_bars, s.valid_bars);
  StoreReader r(par);
  EXPECT_NEAR(h5::get_attr_double(r.root(), "oracle_ic"), s.info.oracle_ic, 1e-12);
  EXPECT_EQ(h5::get_attr_int(r.root(), "synth_seed"), static_cast<int64_t>(spec.seed));
  EXPECT_EQ(r.frequency(), spec.freq);
}

TEST_F(MpiSynth, DailyIdenticalAcrossRankCounts) {
  SynthSpec spec;
  spec.tickers = 37, spec.days = 300, spec.seed = 11, spec.signal = 0.1;
  expect_same_as_serial(comm(), rank(), temp_dir(), spec);
}

TEST_F(MpiSynth, IntradayIdenticalAcrossRankCounts) {
  SynthSpec spec;
  spec.tickers = 7, spec.days = 3, spec.freq = "1min", spec.seed = 5;
  expect_same_as_serial(comm(), rank(), temp_dir(), spec);
}

}  // namespace
}  // namespace tickstream
