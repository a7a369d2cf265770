// Synth orchestration: contiguous ticker blocks per rank, oracle IC from reduced moments, output.
#include "store/synth_run.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "core/partition.hpp"
#include "comm/agreement.hpp"
#include "store/atomic_output.hpp"
#include "store/csv_writer.hpp"
#include "store/h5.hpp"
#include "store/store_writer.hpp"

namespace tickstream {
namespace fs = std::filesystem;

nlohmann::json SynthInfo::to_json() const {
  return {{"oracle_ic", oracle_ic}, {"seed", spec.seed}, {"signal", spec.signal},
          {"tickers", spec.tickers}, {"days", spec.days}, {"freq", spec.freq}};
}

SynthInfo SynthInfo::from_json(const nlohmann::json& j, const std::string& origin) {
  try {
    SynthInfo info;
    info.oracle_ic = j.at("oracle_ic").get<double>();
    info.spec.seed = j.at("seed").get<uint64_t>();
    info.spec.signal = j.at("signal").get<double>();
    info.spec.tickers = j.at("tickers").get<int64_t>();
    info.spec.days = j.at("days").get<int64_t>();
    info.spec.freq = j.at("freq").get<std::string>();
    return info;
  } catch (const nlohmann::json::exception& e) {
    TS_INPUT_ERROR("{}: malformed synth sidecar: {}", origin, e.what());
  }
}

std::optional<SynthInfo> find_synth_sidecar(const std::vector<std::string>& input_files) {
  for (const auto& f : input_files) {
    const fs::path side = fs::path(f).parent_path() / kSynthSidecar;
    if (!fs::exists(side)) continue;
    std::ifstream in(side);
    nlohmann::json j;
    try {
      in >> j;
    } catch (const nlohmann::json::exception& e) {
      TS_INPUT_ERROR("{}: not valid JSON: {}", side.string(), e.what());
    }
    return SynthInfo::from_json(j, side.string());
  }
  return std::nullopt;
}

void write_synth_attrs(hid_t root, const SynthInfo& info) {
  h5::set_attr(root, "synthetic", int64_t{1});
  h5::set_attr(root, "oracle_ic", info.oracle_ic);
  h5::set_attr(root, "synth_seed", static_cast<int64_t>(info.spec.seed));
  h5::set_attr(root, "synth_signal", info.spec.signal);
  h5::set_attr(root, "synth_signal_from", info.spec.signal_from);
  h5::set_attr(root, "synth_exchanges", info.spec.exchanges);
  h5::set_attr(root, "synth_tickers", info.spec.tickers);
  h5::set_attr(root, "synth_days", info.spec.days);
}

namespace {

constexpr int kMoments = 6;  // n, sx, sy, sxx, syy, sxy
constexpr double kMinCrossSection = 10;

// Per-date moments of (signal at t, adjusted log return t -> t+1) over this rank's tickers.
void accumulate_moments(const RawBlock& b, const std::vector<double>& signal, std::vector<double>& m) {
  for (int64_t r = 0; r < b.rows; ++r)
    for (int64_t t = 0; t + 1 < b.bars; ++t) {
      const size_t i = b.index(r, t);
      const double x = signal[i];
      if (!b.valid[i] || !b.valid[i + 1] || !std::isfinite(x)) continue;
      const double y = std::log(b.adj_close[i + 1] / b.adj_close[i]);
      double* d = &m[static_cast<size_t>(t) * kMoments];
      d[0] += 1, d[1] += x, d[2] += y, d[3] += x * x, d[4] += y * y, d[5] += x * y;
    }
}

double oracle_ic_from_moments(const std::vector<double>& m) {
  double sum = 0;
  int64_t dates = 0;
  for (size_t t = 0; t < m.size() / kMoments; ++t) {
    const double* d = &m[t * kMoments];
    if (d[0] < kMinCrossSection) continue;
    const double cov = d[5] - d[1] * d[2] / d[0];
    const double vx = d[3] - d[1] * d[1] / d[0];
    const double vy = d[4] - d[2] * d[2] / d[0];
    if (vx <= 0 || vy <= 0) continue;
    sum += cov / std::sqrt(vx * vy);
    ++dates;
  }
  return dates ? sum / static_cast<double>(dates) : 0.0;
}

void write_csv_dir(comm::Communicator& comm, const SynthOutput& out, const RawBlock& b,
                   const std::vector<std::string>& tickers, const std::vector<int64_t>& time) {
  run_agreed(comm, [&] {
    if (comm.rank() == 0) fs::create_directories(out.csv_dir);
  });
  run_agreed(comm, [&] {
    for (int64_t r = 0; r < b.rows; ++r)
      write_ticker_csv((fs::path(out.csv_dir) / (tickers[static_cast<size_t>(b.row_begin + r)] + ".csv")).string(),
                       b, r, time);
  });
}

void write_store(comm::Communicator& comm, const SynthOutput& out, const StoreLayout& layout, const RawBlock& b,
                 const SynthInfo& info) {
  AtomicOutput file(out.store, comm);
  file.write([&] {
    StoreWriter writer(file.temp_path(), &comm, layout);
    writer.write_raw(b);
    write_synth_attrs(writer.root(), info);
    writer.close();
  });
  file.commit();
}

}  // namespace

SynthReport run_synth(comm::Communicator& comm, const SynthSpec& spec, const SynthOutput& out) {
  const double t0 = monotonic_seconds();
  TS_REQUIRE_INPUT(out.csv_dir.empty() != out.store.empty(), "synth: give exactly one of --csv-dir and --store");
  TS_REQUIRE_INPUT(spec.tickers > 0 && spec.days > 1, "synth: --tickers must be > 0 and --days > 1");
  if (!out.store.empty()) require_output_path(out.store);
  StoreLayout layout;
  layout.frequency = spec.freq;
  layout.time = synth_calendar(spec);
  layout.tickers = synth_tickers(spec.tickers);
  layout.has_adj_close = true;
  layout.chunk_tickers = out.chunk_tickers;
  layout.chunk_bars = out.chunk_bars;
  const auto owners = balanced_owners_grouped(std::vector<int64_t>(static_cast<size_t>(spec.tickers), 1),
                                              comm.size(), out.chunk_tickers);
  const auto [begin, end] = owned_range(owners, comm.rank());
  const SynthFactors factors = synth_factors(spec, static_cast<int64_t>(layout.time.size()));
  RawBlock block;
  std::vector<double> signal;
  synth_generate(spec, factors, begin, end - begin, block, &signal);

  std::vector<double> moments(layout.time.size() * kMoments, 0.0);
  accumulate_moments(block, signal, moments);
  comm::allreduce_inplace(comm, moments, comm::ReduceOp::sum);
  SynthReport rep;
  rep.info = {spec, oracle_ic_from_moments(moments)};
  rep.bars = static_cast<int64_t>(layout.time.size());
  int64_t valid = 0;
  for (uint8_t v : block.valid) valid += v;
  rep.valid_bars = comm::allreduce(comm, valid, comm::ReduceOp::sum);

  if (!out.store.empty()) {
    write_store(comm, out, layout, block, rep.info);
  } else {
    write_csv_dir(comm, out, block, layout.tickers, layout.time);
    if (comm.rank() == 0) {
      std::ofstream side(fs::path(out.csv_dir) / kSynthSidecar);
      side << rep.info.to_json().dump(2) << "\n";
    }
  }
  rep.seconds = comm::allreduce(comm, monotonic_seconds() - t0, comm::ReduceOp::max);
  return rep;
}

}  // namespace tickstream
