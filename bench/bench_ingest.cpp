// Ingest benchmark: one synth universe written as every input format, then per format interleaved
// runs of tickstream ingest (each rank count) and the Python peers, every store verified.
#include "bench/bench_ingest.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/ranges.h>

#include "app/subprocess.hpp"
#include "core/error.hpp"
#include "store/h5.hpp"
#include "store/store_compare.hpp"
#include "store/store_reader.hpp"
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

constexpr uint64_t kSeed = 7;
constexpr double kIngestTimeout = 1800, kPythonTimeout = 3600;
constexpr const char* kNoParquet = "built without Parquet support";

// ------------------------------------------------------------------------------------- processes

std::string source_dir() {
  const char* env = std::getenv("TICKSTREAM_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? env : TICKSTREAM_SOURCE_DIR;
}

// run_process with stderr folded into the captured output (for messages and probes).
ProcessResult run_capturing_all(const std::vector<std::string>& argv, double timeout_s) {
  std::vector<std::string> sh{"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1"};
  sh.insert(sh.end(), argv.begin(), argv.end());
  return run_process(sh, timeout_s);
}

// What a failed ingest said: its "error:" lines (mpirun adds a screenful of its own), else the tail.
std::string error_lines(const std::string& text) {
  std::string out, line;
  std::istringstream in(text);
  while (std::getline(in, line))
    if (line.rfind("error:", 0) == 0 || line.rfind("warning:", 0) == 0) out += (out.empty() ? "" : "\n") + line;
  return out;
}

// The last `lines` lines of a process's output, for messages.
std::string tail_lines(const std::string& text, int lines = 6) {
  size_t end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return "(no output)";
  size_t pos = end + 1;
  for (int i = 0; i < lines && pos > 0; ++i) {
    const size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text.substr(0, end + 1);
    pos = nl;
  }
  return text.substr(pos + 1, end - pos);
}

// The last line of stdout parsed as JSON (python scripts print one object last).
nlohmann::json last_json_line(const ProcessResult& p, const std::string& who) {
  const std::string line = tail_lines(p.out, 1);
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception&) {
    TS_INTERNAL_ERROR("{}: expected a JSON line, got: {}", who, tail_lines(p.out));
  }
}

// -------------------------------------------------------------------------------------- pythons

std::string venv_python() {
  const fs::path p = fs::path(source_dir()) / ".venv" / "bin" / "python";
  std::error_code ec;
  return fs::exists(p, ec) ? p.string() : "";
}

// {module: version or null} as `python` imports them (null: not importable, or python missing).
nlohmann::json module_versions(const std::string& python, const std::vector<std::string>& modules) {
  static const char* kCode =
      "import importlib, json, sys\n"
      "r = {}\n"
      "for m in sys.argv[1:]:\n"
      "    try: r[m] = str(getattr(importlib.import_module(m), '__version__', 'present'))\n"
      "    except Exception: r[m] = None\n"
      "print(json.dumps(r))\n";
  nlohmann::json none = nlohmann::json::object();
  for (const auto& m : modules) none[m] = nullptr;
  std::vector<std::string> argv{python, "-c", kCode};
  argv.insert(argv.end(), modules.begin(), modules.end());
  try {
    const ProcessResult p = run_capturing_all(argv, 300);
    if (p.exit_code != 0) return none;
    return last_json_line(p, python);
  } catch (const std::exception&) {
    return none;
  }
}

std::vector<std::string> missing_modules(const nlohmann::json& versions) {
  std::vector<std::string> out;
  for (const auto& [m, v] : versions.items())
    if (v.is_null()) out.push_back(m);
  return out;
}

// One peer's interpreter and what it lacks.
struct PeerPython {
  std::string python;
  nlohmann::json modules;
  std::string skipped;  // non-empty: why the peer does not run
};

PeerPython resolve_peer(const std::string& peer, const BenchIngestOptions& o) {
  const std::vector<std::string> needs{peer, "numpy", "h5py"};
  PeerPython r;
  if (peer == "pandas") {
    r.python = o.python;
    if (r.python.empty()) {  // the venv's when it has pandas + h5py, else the system python (as before)
      const std::string venv = venv_python();
      r.python = !venv.empty() && missing_modules(module_versions(venv, needs)).empty() ? venv : "/usr/bin/python3";
    }
  } else {
    r.python = !o.peer_python.empty() ? o.peer_python : !venv_python().empty() ? venv_python() : "/usr/bin/python3";
  }
  r.modules = module_versions(r.python, needs);
  const auto missing = missing_modules(r.modules);
  if (!missing.empty())
    r.skipped = fmt::format("{} cannot import {} (the {} peer needs {}, numpy and h5py; {})", r.python,
                            fmt::join(missing, ", "), peer, peer, peer == "pandas" ? "--python" : "--peer-python");
  return r;
}

// ---------------------------------------------------------------------------------------- inputs

struct Format {
  std::string name;
  fs::path input;       // what ingest and the peers get: a directory or (long formats) one file
  std::string skipped;  // non-empty: why it is not measured
  double bytes = 0;
  int64_t files = 0;
  nlohmann::json probe;  // ingest's untimed first run: its report
};

fs::path format_input(const fs::path& dir, const std::string& name) {
  if (name == "csv") return dir / "csv";
  if (name == "parquet") return dir / "parquet";
  if (name == "csv.gz") return dir / "gz";
  if (name == "long-csv") return dir / "long" / "all.csv";
  return dir / "long" / "all.parquet";
}

std::string file_suffix(const std::string& name) {
  if (name == "csv") return ".csv";
  if (name == "csv.gz") return ".csv.gz";
  return ".parquet";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Bytes and file count of a format's input (the files ingest reads; not the synth.json sidecar).
void measure(Format& f) {
  if (fs::is_regular_file(f.input)) {
    f.bytes = static_cast<double>(fs::file_size(f.input)), f.files = 1;
    return;
  }
  for (const auto& e : fs::directory_iterator(f.input))
    if (ends_with(e.path().filename().string(), file_suffix(f.name)))
      f.bytes += static_cast<double>(e.file_size()), ++f.files;
}

void warm_page_cache(const fs::path& p) {
  const auto read_all = [](const fs::path& f) {
    std::ifstream in(f, std::ios::binary);
    std::string sink((std::istreambuf_iterator<char>(in)), {});
  };
  if (fs::is_regular_file(p)) return read_all(p);
  for (const auto& e : fs::directory_iterator(p)) read_all(e.path());
}

bool wants(const BenchIngestOptions& o, const std::string& f) {
  return std::find(o.formats.begin(), o.formats.end(), f) != o.formats.end();
}

// Synth CSV and the reference store, then the other formats that were asked for. Returns
// make_ingest_inputs.py's JSON (null when it did not run) and marks formats that cannot run.
nlohmann::json prepare(const fs::path& dir, const BenchIngestOptions& o, const std::string& python,
                       std::vector<Format>& formats) {
  for (const char* sub : {"csv", "parquet", "gz", "long", "probe", "direct.h5"})  // no stale files of an earlier run
    fs::remove_all(dir / sub);
  fs::create_directories(dir);
  SynthSpec spec;
  spec.tickers = o.tickers, spec.days = o.days, spec.seed = kSeed;
  run_synth(*comm::make_self_communicator(), spec, {(dir / "csv").string(), "", 16, 4096});
  run_synth(*comm::make_self_communicator(), spec, {"", (dir / "direct.h5").string(), 16, 4096});

  const std::string script = source_dir() + "/bench/make_ingest_inputs.py";
  const bool pyarrow = !module_versions(python, {"pyarrow"})["pyarrow"].is_null();
  const std::string no_pyarrow =
      fmt::format("{} cannot import pyarrow, which bench/make_ingest_inputs.py needs for this input (--peer-python)",
                  python);
  bool parquet_probed = false;
  std::string no_parquet;
  std::vector<std::string> only;
  for (Format& f : formats) {
    if (f.name == "csv") continue;
    if (f.name != "csv.gz" && !pyarrow) {
      f.skipped = no_pyarrow;
      continue;
    }
    if ((f.name == "parquet" || f.name == "long-parquet") && !parquet_probed) {
      // Does this tickstream read Parquet at all? Ingest a 3-row file and look for the message of a
      // build without Arrow; any other failure is left to the format's own first run to report.
      parquet_probed = true;
      const fs::path probe = dir / "probe" / "PRB.parquet";
      const ProcessResult w = run_capturing_all({python, script, "--probe", probe.string()}, 600);
      TS_REQUIRE_INPUT(w.exit_code == 0, "bench ingest: make_ingest_inputs.py --probe failed (exit {}): {}",
                       w.exit_code, tail_lines(w.out));
      const ProcessResult p = run_capturing_all(
          mpirun_self(1, {"ingest", "--input", probe.string(), "--store", (dir / "probe" / "probe.h5").string()}),
          600);
      if (p.exit_code != 0 && p.out.find(kNoParquet) != std::string::npos)
        no_parquet = fmt::format("this tickstream was {} (Apache Arrow not found at configure time)", kNoParquet);
      fs::remove_all(dir / "probe");
    }
    if ((f.name == "parquet" || f.name == "long-parquet") && !no_parquet.empty()) {
      f.skipped = no_parquet;
      continue;
    }
    const std::string part = f.name == "csv.gz" ? "gz" : f.name == "parquet" ? "parquet" : "long";
    if (std::find(only.begin(), only.end(), part) == only.end()) only.push_back(part);
  }
  nlohmann::json made = nullptr;
  if (!only.empty()) {
    const ProcessResult p = run_capturing_all(
        {python, script, (dir / "csv").string(), dir.string(), "--only", fmt::format("{}", fmt::join(only, ","))},
        kPythonTimeout);
    TS_REQUIRE_INPUT(p.exit_code == 0, "bench ingest: bench/make_ingest_inputs.py failed (exit {}): {}", p.exit_code,
                     tail_lines(p.out));
    made = last_json_line(p, "make_ingest_inputs.py");
  }
  for (Format& f : formats)
    if (f.skipped.empty()) measure(f), warm_page_cache(f.input);  // warm the page cache for everyone
  return made;
}

// ------------------------------------------------------------------------------------------ runs

struct Run {
  std::string who;  // "tickstream" or a peer's name
  int ranks = 0;
  double internal_s = 0, wall_s = 0;
  int64_t rows = 0, tickers = 0, bars = 0;
  nlohmann::json phases;  // where the time went (ingest's parse/exchange/write, a peer's own split)
};

std::vector<std::string> ingest_args(const fs::path& input, const std::string& store, const std::string& report,
                                     int threads = 0) {
  return {"ingest", "--input", input.string(), "--store", store, "--report", report, "--threads", std::to_string(threads)};
}

// The first, untimed run of a format at one rank: fails with ingest's own output when the format
// cannot be read (e.g. its reader is not built yet), verifies the store, warms the cache.
nlohmann::json probe_format(const fs::path& dir, const Format& f) {
  const std::string store = (dir / "probe_ingest.h5").string(), report = (dir / "probe_report.json").string();
  const ProcessResult p = run_capturing_all(mpirun_self(1, ingest_args(f.input, store, report)), kIngestTimeout);
  if (p.exit_code != 0) {
    const std::string said = error_lines(p.out);
    TS_INPUT_ERROR("bench ingest: `tickstream ingest --input {}` failed on the {} input (exit {}); if this "
                   "build's reader for {} is not ready yet, leave it out of --formats (e.g. --formats "
                   "csv,long-csv). ingest said:\n{}",
                   f.input.string(), f.name, p.exit_code, f.name, said.empty() ? tail_lines(p.out, 12) : said);
  }
  if (auto diff = compare_stores((dir / "direct.h5").string(), store))
    TS_INTERNAL_ERROR("ingest of the {} input differs from the synth store: {}", f.name, *diff);
  nlohmann::json r = read_json_file(report);
  fs::remove(store), fs::remove(report);
  return r;
}

// `threads`: parse threads per rank; 1 for the rank-scaling rows (a rank is a core), 0 for ingest's
// default (this rank's share of the cores: on one rank, all of them), reported as "tickstream+threads".
Run run_ours(const fs::path& dir, const Format& f, int ranks, int threads) {
  settle_page_cache();
  const std::string store = (dir / fmt::format("ingest_np{}.h5", ranks)).string();
  const std::string report = (dir / fmt::format("report_np{}.json", ranks)).string();
  const ProcessResult p =
      run_process(mpirun_self(ranks, ingest_args(f.input, store, report, threads)), kIngestTimeout);
  TS_CHECK(p.exit_code == 0, "ingest of the {} input at {} ranks failed (exit {})", f.name, ranks, p.exit_code);
  if (auto diff = compare_stores((dir / "direct.h5").string(), store))
    TS_INTERNAL_ERROR("ingest of the {} input at {} ranks differs from the synth store: {}", f.name, ranks, *diff);
  const nlohmann::json r = read_json_file(report);
  fs::remove(store), fs::remove(report);
  return {threads == 1 ? "tickstream" : "tickstream+threads", ranks, r.at("total_s").get<double>(), p.seconds,
          r.at("rows_read").get<int64_t>(),
          r.at("tickers").get<int64_t>(), r.at("bars").get<int64_t>(),
          {{"parse_s", r.at("parse_s")}, {"exchange_s", r.at("exchange_s")}, {"write_s", r.at("write_s")}}};
}

// A peer's store against the synth reference without StoreReader (pandas_ingest.py writes neither
// the root attributes nor a checksummed superblock): /meta/tickers, /meta/time and every /raw
// dataset equal (doubles bit for bit, or within `relative_tolerance`: pandas' default read_csv float
// parser is not correctly rounded, a few ulps off at times; NaN == NaN), /raw chunked as the store's defaults with
// Fletcher32, so every peer did the same write work. nullopt when equal.
std::optional<std::string> compare_peer_content(const std::string& ref_path, const std::string& path,
                                                double relative_tolerance) {
  try {
    const StoreReader ref(ref_path);
    h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) return "cannot open it as HDF5";
    if (h5::read_strings(file.id(), "meta/tickers") != ref.tickers()) return std::string("meta/tickers differ");
    const auto n = static_cast<hsize_t>(ref.tickers().size()), bars = static_cast<hsize_t>(ref.time().size());
    {
      h5::Handle ds = h5::open_dataset(file.id(), "meta/time");
      if (h5::dataset_dims(ds.id()) != std::vector<hsize_t>{bars}) return std::string("meta/time: shape differs");
      std::vector<int64_t> time(bars);
      if (H5Dread(ds.id(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, time.data()) < 0)
        return std::string("meta/time: read failed");
      if (time != ref.time()) return std::string("meta/time differs");
    }
    const std::vector<hsize_t> chunk{std::min<hsize_t>(16, n), std::min<hsize_t>(4096, bars)};
    std::vector<std::string> names{"open", "high", "low", "close", "volume", "valid"};
    if (ref.has_adj_close()) names.push_back("adj_close");
    constexpr hsize_t kRows = 128;
    for (const std::string& name : names) {
      const std::string dpath = "raw/" + name;
      if (!h5::exists(file.id(), dpath)) return dpath + ": missing";
      h5::Handle ds = h5::open_dataset(file.id(), dpath);
      if (h5::dataset_dims(ds.id()) != std::vector<hsize_t>{n, bars}) return dpath + ": shape differs";
      if (h5::dataset_chunk(ds.id()) != chunk || !h5::dataset_has_fletcher32(ds.id()))
        return fmt::format("{}: not chunked {}x{} with Fletcher32", dpath, chunk[0], chunk[1]);
      h5::Handle space(H5Dget_space(ds.id()), H5Sclose);
      for (hsize_t begin = 0; begin < n; begin += kRows) {
        const hsize_t rows = std::min(kRows, n - begin);
        const RawBlock blk = ref.read_raw(static_cast<int64_t>(begin), static_cast<int64_t>(rows));
        const hsize_t start[2] = {begin, 0}, count[2] = {rows, bars};
        H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr);
        h5::Handle mem(H5Screate_simple(2, count, nullptr), H5Sclose);
        if (name == "valid") {
          std::vector<uint8_t> v(rows * bars);
          if (H5Dread(ds.id(), H5T_NATIVE_UINT8, mem.id(), space.id(), H5P_DEFAULT, v.data()) < 0)
            return dpath + ": read failed";
          if (v != blk.valid) return fmt::format("{} differs in rows {}..{}", dpath, begin, begin + rows);
          continue;
        }
        const std::map<std::string, const std::vector<double>*> field{
            {"open", &blk.open},   {"high", &blk.high},     {"low", &blk.low},
            {"close", &blk.close}, {"volume", &blk.volume}, {"adj_close", &blk.adj_close}};
        const std::vector<double>& want = *field.at(name);
        std::vector<double> v(rows * bars);
        if (H5Dread(ds.id(), H5T_NATIVE_DOUBLE, mem.id(), space.id(), H5P_DEFAULT, v.data()) < 0)
          return dpath + ": read failed";
        for (size_t i = 0; i < v.size(); ++i)
          if (std::memcmp(&v[i], &want[i], sizeof(double)) != 0 && !(std::isnan(v[i]) && std::isnan(want[i])) &&
              !(std::abs(v[i] - want[i]) <= relative_tolerance * std::abs(want[i])))
            return fmt::format("{}[{}, {}]: {} vs {} (synth)", dpath, begin + i / bars, i % bars, v[i], want[i]);
      }
    }
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

struct Peer {
  std::string name;
  PeerPython python;
  std::string script;
};

// Whether `peer` measures format `f`: pandas_ingest.py reads a per-ticker CSV directory only.
std::string peer_skip_reason(const Peer& peer, const std::string& format) {
  if (!peer.python.skipped.empty()) return peer.python.skipped;
  if (peer.name == "pandas" && format != "csv") return "bench/pandas_ingest.py reads per-ticker CSV only";
  return "";
}

Run run_peer(const fs::path& dir, const Format& f, const Peer& peer, const nlohmann::json& ours) {
  settle_page_cache();
  const std::string out = (dir / (peer.name + ".h5")).string();
  std::vector<std::string> argv{peer.python.python, peer.script};
  if (peer.name != "pandas") argv.insert(argv.end(), {"--engine", peer.name, "--format", f.name});
  argv.insert(argv.end(), {f.input.string(), out});
  const ProcessResult p = run_process(argv, kPythonTimeout);
  TS_CHECK(p.exit_code == 0, "{} peer failed on the {} input (exit {}): {}", peer.name, f.name, p.exit_code,
           fmt::join(argv, " "));
  const nlohmann::json r = last_json_line(p, peer.name);
  Run run{peer.name, 0, r.at("seconds").get<double>(), p.seconds, r.at("rows").get<int64_t>(),
          r.at("tickers").get<int64_t>(), r.at("bars").get<int64_t>(), nlohmann::json::object()};
  for (const char* k : {"read_index_s", "scatter_write_s"})  // peers_ingest.py's split (pandas has none)
    if (r.contains(k)) run.phases[k] = r[k];
  TS_CHECK(run.rows == ours.at("rows_read").get<int64_t>() && run.tickers == ours.at("tickers").get<int64_t>() &&
               run.bars == ours.at("bars").get<int64_t>(),
           "{} peer on the {} input: {} rows, {} tickers x {} bars; tickstream: {} rows, {} x {}", peer.name, f.name,
           run.rows, run.tickers, run.bars, ours.at("rows_read"), ours.at("tickers"), ours.at("bars"));
  const std::string ref = (dir / "direct.h5").string();
  const double tolerance = peer.name == "pandas" ? 1e-13 : 0;  // pyarrow and polars: bit for bit
  if (auto diff = compare_peer_content(ref, out, tolerance))
    TS_INTERNAL_ERROR("the {} peer's store of the {} input differs from the synth store: {}", peer.name, f.name, *diff);
  if (peer.name != "pandas")  // peers_ingest.py writes a complete store v1: StoreReader's own comparison too
    if (auto diff = compare_stores(ref, out))
      TS_INTERNAL_ERROR("the {} peer's store of the {} input: {}", peer.name, f.name, *diff);
  fs::remove(out);
  return run;
}

nlohmann::json summarize(const std::vector<Run>& runs, const std::string& who, int ranks, double bytes) {
  std::vector<double> times;
  const Run* last = nullptr;
  const Run* fastest = nullptr;
  double wall = 1e300;
  for (const Run& r : runs)
    if (r.who == who && r.ranks == ranks) {
      times.push_back(r.internal_s), last = &r, wall = std::min(wall, r.wall_s);
      if (fastest == nullptr || r.internal_s < fastest->internal_s) fastest = &r;
    }
  std::sort(times.begin(), times.end());
  const double best = times.front();
  nlohmann::json j{{"best_s", best},  {"median_s", times[times.size() / 2]}, {"samples_s", times},
                   {"wall_with_launch_s", wall}, {"rows", last->rows}, {"tickers", last->tickers},
                   {"bars", last->bars}, {"rows_per_s", static_cast<double>(last->rows) / best},
                   {"mb_per_s", bytes / 1e6 / best}};
  if (who == "tickstream") j["ranks"] = ranks;
  if (!fastest->phases.empty()) j["best_phases_s"] = fastest->phases;
  return j;
}

}  // namespace

nlohmann::json bench_ingest(const BenchIngestOptions& o) {
  TS_REQUIRE_INPUT(!o.ranks.empty() && !o.formats.empty(), "bench ingest: no rank counts or no formats");
  const bool temp = o.workdir.empty();
  const fs::path dir = temp ? fs::temp_directory_path() / fmt::format("tickstream-bench-ingest-{}", getpid())
                            : fs::path(o.workdir);
  struct RemoveTemp {  // the temp directory goes on failure too (--workdir stays for inspection)
    fs::path dir;
    ~RemoveTemp() {
      std::error_code ec;
      if (!dir.empty()) fs::remove_all(dir, ec);
    }
  } remove_temp{temp ? dir : fs::path()};
  std::vector<Peer> peers;
  nlohmann::json python = nlohmann::json::object();
  for (const std::string& name : kIngestPeers) {  // in a fixed order, whatever --peers' order
    if (std::find(o.peers.begin(), o.peers.end(), name) == o.peers.end()) continue;
    Peer p{name, resolve_peer(name, o),
           name == "pandas" ? (o.script.empty() ? source_dir() + "/bench/pandas_ingest.py" : o.script)
                            : source_dir() + "/bench/peers_ingest.py"};
    python[name] = {{"python", p.python.python}, {"modules", p.python.modules}};
    peers.push_back(std::move(p));
  }
  const std::string input_python =
      !o.peer_python.empty() ? o.peer_python : !venv_python().empty() ? venv_python() : "/usr/bin/python3";
  std::vector<Format> formats;
  for (const std::string& name : kIngestFormats)
    if (wants(o, name)) {
      Format f;
      f.name = name, f.input = format_input(dir, name);
      formats.push_back(std::move(f));
    }

  const nlohmann::json made = prepare(dir, o, input_python, formats);
  for (Format& f : formats)  // every format once, untimed, before any timing: fail early
    if (f.skipped.empty()) f.probe = probe_format(dir, f);

  nlohmann::json by_format = nlohmann::json::object();
  for (const Format& f : formats) {
    nlohmann::json& jf = by_format[f.name];
    jf["input"] = fs::relative(f.input, dir).string();
    if (!f.skipped.empty()) {
      jf["skipped"] = f.skipped;
      continue;
    }
    std::vector<Run> runs;
    for (int rep = 0; rep < o.repeat; ++rep) {  // interleaved so drift hits every configuration alike
      for (int k : o.ranks) runs.push_back(run_ours(dir, f, k, 1));
      runs.push_back(run_ours(dir, f, 1, 0));
      for (const Peer& p : peers)
        if (peer_skip_reason(p, f.name).empty()) runs.push_back(run_peer(dir, f, p, f.probe));
    }
    jf["bytes"] = f.bytes;
    jf["files"] = f.files;
    for (int k : o.ranks) jf["tickstream"].push_back(summarize(runs, "tickstream", k, f.bytes));
    jf["tickstream_threads"] = summarize(runs, "tickstream+threads", 1, f.bytes);
    const double threaded = jf["tickstream_threads"]["best_s"].get<double>();
    const double first = jf["tickstream"][0]["best_s"].get<double>();
    const std::string np0 = fmt::format("np{}", o.ranks[0]);
    jf["peers"] = nlohmann::json::object();
    jf["ratios"] = nlohmann::json::object();
    std::string best_peer;
    for (const Peer& p : peers) {
      const std::string why = peer_skip_reason(p, f.name);
      if (!why.empty()) {
        jf["peers"][p.name] = {{"skipped", why}};
        continue;
      }
      jf["peers"][p.name] = summarize(runs, p.name, 0, f.bytes);
      jf["peers"][p.name]["verified"] =
          p.name == "pandas" ? "content: tickers, time, /raw bit for bit, chunks and Fletcher32 (no store attributes)"
                             : "store v1 bit for bit (compare_stores), chunks and Fletcher32";
      const double s = jf["peers"][p.name]["best_s"].get<double>();
      jf["ratios"][fmt::format("{}_vs_{}", np0, p.name)] = s / first;
      jf["ratios"][fmt::format("np1_threads_vs_{}", p.name)] = s / threaded;
      if (best_peer.empty() || s < jf["peers"][best_peer]["best_s"].get<double>()) best_peer = p.name;
    }
    if (!best_peer.empty()) {
      jf["ratios"]["best_peer"] = best_peer;
      jf["ratios"][np0 + "_vs_best_peer"] = jf["peers"][best_peer]["best_s"].get<double>() / first;
      jf["ratios"]["np1_threads_vs_best_peer"] = jf["peers"][best_peer]["best_s"].get<double>() / threaded;
    }
    for (size_t i = 1; i < o.ranks.size(); ++i)
      jf["ratios"][fmt::format("np{}_vs_{}", o.ranks[i], np0)] = first / jf["tickstream"][i]["best_s"].get<double>();
  }

  const nlohmann::json targets{{"csv_np1_vs_best_peer", 1.5}, {"parquet_np1_vs_best_peer", 1.0}, {"np2_vs_np1", 1.6}};
  nlohmann::json met{{"csv_np1_vs_best_peer", nullptr}, {"parquet_np1_vs_best_peer", nullptr},
                     {"np2_vs_np1", nlohmann::json::object()}};
  for (const char* fmt_name : {"csv", "parquet"}) {
    const auto it = by_format.find(fmt_name);
    if (it != by_format.end() && it->contains("ratios") && (*it)["ratios"].contains("np1_threads_vs_best_peer"))
      met[fmt::format("{}_np1_vs_best_peer", fmt_name)] =
          (*it)["ratios"]["np1_threads_vs_best_peer"].get<double>() >=
          targets[fmt::format("{}_np1_vs_best_peer", fmt_name)];
  }
  for (const auto& [name, jf] : by_format.items())
    if (jf.contains("ratios") && jf["ratios"].contains("np2_vs_np1"))
      met["np2_vs_np1"][name] = jf["ratios"]["np2_vs_np1"].get<double>() >= targets["np2_vs_np1"].get<double>();

  nlohmann::json j{{"benchmark", "ingest"}, {"machine", machine_json()}, {"tickers", o.tickers}, {"days", o.days},
                   {"seed", kSeed},         {"repeat", o.repeat},       {"ranks", o.ranks},     {"verified", true},
                   {"python", python},      {"inputs", made},           {"formats", by_format},
                   {"targets", targets},    {"met", met}};
  j["ratio_note"] =
      "ratios are speed-ups from best times: npK_vs_<peer> = peer best_s / tickstream best_s at K ranks of one "
      "thread each (--threads 1), npK_vs_np1 = best_s at 1 rank / best_s at K ranks (both one thread per rank); "
      "np1_threads_vs_<peer>: one rank with ingest's default threads (all the cores it may use, as the peers "
      "use them), which the one-rank targets are checked on; tickstream's time is ingest's total_s, a peer's "
      "its own read + reshape + write (no interpreter start-up); wall_with_launch_s includes mpirun / python "
      "start-up";
  return j;
}

}  // namespace tickstream
