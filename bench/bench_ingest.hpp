// `tickstream bench ingest`: tickstream ingest of several input formats at several rank counts vs
// Python peers (pandas, pyarrow, polars; each + h5py), every store verified.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tickstream {

// Input formats, all made from one synth universe (bench/make_ingest_inputs.py):
//   csv           per-ticker CSV directory (synth --csv-dir)
//   parquet       per-ticker Parquet directory
//   csv.gz        per-ticker gzip'd CSV directory
//   long-csv      one long CSV (date,ticker,...), given to ingest as one file
//   long-parquet  the same as one Parquet file
inline const std::vector<std::string> kIngestFormats{"csv", "parquet", "csv.gz", "long-csv", "long-parquet"};
// Peers: pandas (bench/pandas_ingest.py; per-ticker CSV only), pyarrow and polars (bench/peers_ingest.py).
inline const std::vector<std::string> kIngestPeers{"pandas", "pyarrow", "polars"};

struct BenchIngestOptions {
  int64_t tickers = 2000;
  int64_t days = 2520;
  std::vector<int> ranks{1, 2};
  int repeat = 3;
  std::string workdir;  // default: a fresh directory under /tmp, removed afterwards
  std::vector<std::string> formats = kIngestFormats;
  std::vector<std::string> peers = kIngestPeers;
  // Python of the pandas peer. Empty: the source tree's .venv/bin/python when it imports pandas and
  // h5py, else /usr/bin/python3.
  std::string python;
  // Python of the pyarrow and polars peers and of make_ingest_inputs.py. Empty: the source tree's
  // .venv/bin/python when it exists, else /usr/bin/python3.
  std::string peer_python;
  std::string script;  // pandas peer; default: bench/pandas_ingest.py of the source tree
};

// Runs the benchmark (single process; launches mpirun and python). Throws InternalError when a
// result fails verification, InputError when an input cannot be made or ingest fails on one
// (the message names the format and carries ingest's output).
nlohmann::json bench_ingest(const BenchIngestOptions& options);

// CPU model and core count of this machine, for bench/results.
nlohmann::json machine_json();

// A JSON file's contents (reports written by subcommands).
nlohmann::json read_json_file(const std::string& path);

}  // namespace tickstream
