// `tickstream bench ingest`: tickstream ingest at several rank counts vs pandas + h5py, verified.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tickstream {

struct BenchIngestOptions {
  int64_t tickers = 2000;
  int64_t days = 2520;
  std::vector<int> ranks{1, 2};
  int repeat = 3;
  std::string workdir;  // default: a fresh directory under /tmp, removed afterwards
  std::string python = "/usr/bin/python3";
  std::string script;   // default: bench/pandas_ingest.py of the source tree
  bool pandas = true;
};

// Runs the benchmark (single process; launches mpirun and python). Throws InternalError when a
// result fails verification.
nlohmann::json bench_ingest(const BenchIngestOptions& options);

// CPU model and core count of this machine, for bench/results.
nlohmann::json machine_json();

// A JSON file's contents (reports written by subcommands).
nlohmann::json read_json_file(const std::string& path);

}  // namespace tickstream
