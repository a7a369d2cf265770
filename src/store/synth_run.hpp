// `tickstream synth`: generates the universe over ranks and writes a store or per-ticker CSVs.
#pragma once

#include <hdf5.h>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "comm/communicator.hpp"
#include "store/store_format.hpp"
#include "store/synth.hpp"

namespace tickstream {

// What a synthetic store records about its origin (store attributes and CSV-dir sidecar).
struct SynthInfo {
  SynthSpec spec;
  double oracle_ic = 0;  // mean over dates of corr(signal_t, log return t -> t+1)
  nlohmann::json to_json() const;
  static SynthInfo from_json(const nlohmann::json& j, const std::string& origin);
};

inline constexpr const char* kSynthSidecar = "synth.json";

// The sidecar beside the first input file whose directory holds one, if any.
std::optional<SynthInfo> find_synth_sidecar(const std::vector<std::string>& input_files);

// Root attributes: synthetic=1, oracle_ic, synth_seed, synth_signal, synth_tickers, synth_days.
void write_synth_attrs(hid_t root, const SynthInfo& info);

struct SynthOutput {
  std::string csv_dir;  // exactly one of csv_dir and store
  std::string store;
  int64_t chunk_tickers = store::kDefaultChunkTickers;
  int64_t chunk_bars = store::kDefaultChunkBars;
};

struct SynthReport {
  SynthInfo info;
  int64_t bars = 0, valid_bars = 0;
  double seconds = 0;
};

// Collective over `comm`; output identical for any number of ranks.
SynthReport run_synth(comm::Communicator& comm, const SynthSpec& spec, const SynthOutput& out);

}  // namespace tickstream
