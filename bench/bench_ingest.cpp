// Ingest benchmark: synth CSV once, then interleaved runs of tickstream ingest and the pandas peer.
#include "bench/bench_ingest.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/subprocess.hpp"
#include "core/error.hpp"
#include "store/store_compare.hpp"
#include "store/synth_run.hpp"

namespace tickstream {
namespace fs = std::filesystem;

nlohmann::json machine_json() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown";
  bool vm = false;
  while (std::getline(in, line)) {
    if (model == "unknown" && line.rfind("model name", 0) == 0) model = line.substr(line.find(':') + 2);
    if (line.rfind("flags", 0) == 0 && line.find(" hypervisor") != std::string::npos) vm = true;
  }
  const std::string host = host_name();
  const unsigned cores = std::thread::hardware_concurrency();
  return {{"cpu", model}, {"cores", cores}, {"host", host}, {"gpu", nullptr},
          {"tag", fmt::format("{}{}core", vm ? "vm" : "", cores)}};  // e.g. "vm2core", in result file names
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  TS_CHECK(in.good(), "cannot read {}", path);
  return nlohmann::json::parse(in);
}

namespace {

struct Run {
  int ranks = 0;  // 0 = pandas
  double internal_s = 0, wall_s = 0;
  int64_t rows = 0;
};

Run run_ours(const fs::path& dir, int ranks) {
  settle_page_cache();
  const std::string store = (dir / fmt::format("ingest_np{}.h5", ranks)).string();
  const std::string report = (dir / fmt::format("report_np{}.json", ranks)).string();
  const ProcessResult p = run_process(
      mpirun_self(ranks, {"ingest", "--input", (dir / "csv").string(), "--store", store, "--report", report}), 1800);
  TS_CHECK(p.exit_code == 0, "ingest at {} ranks failed (exit {})", ranks, p.exit_code);
  if (auto diff = compare_stores((dir / "direct.h5").string(), store))
    TS_INTERNAL_ERROR("ingest at {} ranks differs from the synth store: {}", ranks, *diff);
  const nlohmann::json r = read_json_file(report);
  fs::remove(store);
  return {ranks, r.at("total_s").get<double>(), p.seconds, r.at("rows_read").get<int64_t>()};
}

Run run_pandas(const fs::path& dir, const BenchIngestOptions& o) {
  settle_page_cache();
  const ProcessResult p = run_process({o.python, o.script, (dir / "csv").string(), (dir / "pandas.h5").string()}, 3600);
  TS_CHECK(p.exit_code == 0, "pandas peer failed (exit {}); needs python3-pandas and python3-h5py", p.exit_code);
  const nlohmann::json r = nlohmann::json::parse(p.out);
  fs::remove(dir / "pandas.h5");
  return {0, r.at("seconds").get<double>(), p.seconds, r.at("rows").get<int64_t>()};
}

double csv_bytes(const fs::path& dir) {
  double total = 0;
  for (const auto& e : fs::directory_iterator(dir / "csv"))
    if (e.path().extension() == ".csv") total += static_cast<double>(e.file_size());
  return total;
}

nlohmann::json summarize(const std::vector<Run>& runs, int ranks, double bytes) {
  std::vector<double> times;
  int64_t rows = 0;
  double wall = 1e300;
  for (const Run& r : runs)
    if (r.ranks == ranks) times.push_back(r.internal_s), rows = r.rows, wall = std::min(wall, r.wall_s);
  std::sort(times.begin(), times.end());
  const double best = times.front();
  return {{"ranks", ranks}, {"best_s", best}, {"median_s", times[times.size() / 2]}, {"samples_s", times},
          {"wall_with_launch_s", wall}, {"rows", rows}, {"rows_per_s", rows / best}, {"mb_per_s", bytes / 1e6 / best}};
}

void prepare(const fs::path& dir, const BenchIngestOptions& o) {
  fs::create_directories(dir);
  SynthSpec spec;
  spec.tickers = o.tickers, spec.days = o.days, spec.seed = 7;
  run_synth(*comm::make_self_communicator(), spec, {(dir / "csv").string(), "", 16, 4096});
  run_synth(*comm::make_self_communicator(), spec, {"", (dir / "direct.h5").string(), 16, 4096});
  for (const auto& e : fs::directory_iterator(dir / "csv")) {  // warm the page cache for everyone
    std::ifstream in(e.path(), std::ios::binary);
    std::string sink((std::istreambuf_iterator<char>(in)), {});
  }
}

}  // namespace

nlohmann::json bench_ingest(const BenchIngestOptions& o) {
  const bool temp = o.workdir.empty();
  const fs::path dir = temp ? fs::temp_directory_path() / fmt::format("tickstream-bench-ingest-{}", getpid())
                            : fs::path(o.workdir);
  prepare(dir, o);
  const double bytes = csv_bytes(dir);
  std::vector<Run> runs;
  for (int rep = 0; rep < o.repeat; ++rep) {  // interleaved so drift hits every configuration alike
    for (int k : o.ranks) runs.push_back(run_ours(dir, k));
    if (o.pandas) runs.push_back(run_pandas(dir, o));
  }
  nlohmann::json j{{"benchmark", "ingest"}, {"machine", machine_json()}, {"tickers", o.tickers}, {"days", o.days},
                   {"csv_bytes", bytes}, {"repeat", o.repeat}, {"verified", true}};
  for (int k : o.ranks) j["tickstream"].push_back(summarize(runs, k, bytes));
  const double one = j["tickstream"][0]["mb_per_s"].get<double>();
  if (o.pandas) {
    j["pandas_h5py"] = summarize(runs, 0, bytes);
    TS_CHECK(j["pandas_h5py"]["rows"] == j["tickstream"][0]["rows"], "pandas read a different number of rows");
    j["ratios"]["first_ranks_vs_pandas"] = one / j["pandas_h5py"]["mb_per_s"].get<double>();
  }
  for (size_t i = 1; i < o.ranks.size(); ++i)
    j["ratios"][fmt::format("np{}_vs_np{}", o.ranks[i], o.ranks[0])] = j["tickstream"][i]["mb_per_s"].get<double>() / one;
  j["targets"] = {{"first_ranks_vs_pandas", 8.0}, {"np2_vs_np1", 1.7}};
  if (temp) fs::remove_all(dir);
  return j;
}

}  // namespace tickstream
