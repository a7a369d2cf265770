// Checkpoint files: torch archive + JSON manifest, atomic durable writes, pruning, verified loads.
#include "model/checkpoint.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "store/file_util.hpp"

namespace fs = std::filesystem;

namespace tickstream {
namespace {

constexpr const char* kFormat = "tickstream.checkpoint";
constexpr int64_t kVersion = 1;

std::string manifest_path(const std::string& pt) {
  return fs::path(pt).replace_extension(".json").string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TS_REQUIRE_INPUT(in.good(), "{}: cannot read the checkpoint", path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

nlohmann::json read_manifest(const std::string& pt) {
  const std::string path = manifest_path(pt);
  TS_REQUIRE_INPUT(fs::exists(path), "{}: no manifest {} (an incomplete checkpoint)", pt, path);
  nlohmann::json j = nlohmann::json::parse(read_bytes(path), nullptr, false);
  TS_REQUIRE_INPUT(!j.is_discarded() && j.value("format", "") == kFormat,
                   "{}: not a tickstream checkpoint manifest", path);
  TS_REQUIRE_INPUT(j.value("version", int64_t{0}) == kVersion, "{}: checkpoint version {} (expected {})",
                   path, j.value("version", int64_t{0}), kVersion);
  return j;
}

// The .pt bytes after checking them against the manifest.
std::string verified_bytes(const std::string& pt, const nlohmann::json& manifest) {
  const std::string bytes = read_bytes(pt);
  TS_REQUIRE_INPUT(static_cast<int64_t>(bytes.size()) == manifest.at("bytes").get<int64_t>(),
                   "{}: {} bytes, the manifest says {} (truncated or corrupt checkpoint)", pt,
                   bytes.size(), manifest.at("bytes").get<int64_t>());
  TS_REQUIRE_INPUT(hex64(fnv1a(bytes)) == manifest.at("fnv1a").get<std::string>(),
                   "{}: content hash differs from its manifest (corrupt checkpoint)", pt);
  return bytes;
}

// The step in a "ckpt-<step>.pt" name, or -1.
int64_t step_of(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.rfind("ckpt-", 0) != 0 || p.extension() != ".pt") return -1;
  const std::string digits = p.stem().string().substr(5);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(digits);
}

// A manifest that exists and whose byte count matches the .pt (the hash is checked on load).
bool looks_complete(const fs::path& pt) {
  const std::string manifest = manifest_path(pt.string());
  if (!fs::exists(manifest)) return false;
  const nlohmann::json j = nlohmann::json::parse(read_bytes(manifest), nullptr, false);
  std::error_code ec;
  const auto size = fs::file_size(pt, ec);
  return !ec && j.is_object() && j.contains("bytes") && j["bytes"].is_number_integer() &&
         j["bytes"].get<int64_t>() == static_cast<int64_t>(size);
}

// Complete checkpoints in `dir`, oldest (lowest step) first.
std::vector<std::string> complete_checkpoints(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  if (!fs::is_directory(dir)) return {};
  for (const auto& e : fs::directory_iterator(dir))
    if (const int64_t step = step_of(e.path()); step >= 0) {
      if (looks_complete(e.path())) found.emplace_back(step, e.path().string());
      else spdlog::warn("{}: skipped: no manifest or its byte count differs (incomplete checkpoint)", e.path().string());
    }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

void prune(const std::string& dir, int64_t keep) {
  const std::vector<std::string> all = complete_checkpoints(dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) {
    std::error_code ec;
    fs::remove(manifest_path(all[i]), ec);  // manifest first: the checkpoint stops being complete
    fs::remove(all[i], ec);
  }
}

}  // namespace

nlohmann::json CheckpointState::to_json() const {
  return {{"step", step}, {"epoch", epoch}, {"step_in_epoch", step_in_epoch},
          {"steps_per_epoch", steps_per_epoch}, {"world_size", world_size},
          {"best_val_loss", best_val_loss}, {"bad_evals", bad_evals}, {"wall_s", wall_s},
          {"label_scale", label_scale}, {"n_features", n_features}, {"feature_names", feature_names},
          {"feature_mean", feature_mean}, {"feature_std", feature_std}, {"features_hash", features_hash},
          {"config", config}, {"model_id", model_id}};
}

CheckpointState CheckpointState::from_json(const nlohmann::json& j, const std::string& path) {
  CheckpointState s;
  try {
    j.at("step").get_to(s.step), j.at("epoch").get_to(s.epoch), j.at("step_in_epoch").get_to(s.step_in_epoch);
    j.at("steps_per_epoch").get_to(s.steps_per_epoch), j.at("world_size").get_to(s.world_size);
    // JSON has no infinity: a checkpoint written before the first evaluation stores null.
    s.best_val_loss = j.at("best_val_loss").is_null() ? std::numeric_limits<double>::infinity()
                                                      : j.at("best_val_loss").get<double>();
    j.at("bad_evals").get_to(s.bad_evals);
    j.at("wall_s").get_to(s.wall_s), j.at("label_scale").get_to(s.label_scale);
    j.at("n_features").get_to(s.n_features), j.at("feature_names").get_to(s.feature_names);
    j.at("feature_mean").get_to(s.feature_mean), j.at("feature_std").get_to(s.feature_std);
    j.at("features_hash").get_to(s.features_hash), s.config = j.at("config");
    j.at("model_id").get_to(s.model_id);
  } catch (const nlohmann::json::exception& e) {
    TS_INPUT_ERROR("{}: bad checkpoint manifest: {}", path, e.what());
  }
  return s;
}

std::string save_checkpoint(const std::string& dir, SequenceModelImpl& model,
                            torch::optim::Optimizer& optimizer, const CheckpointState& state, int64_t keep) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  TS_REQUIRE_INPUT(fs::is_directory(dir), "[train] checkpoint_dir: cannot create {}", dir);
  torch::serialize::OutputArchive archive, opt_archive;
  model.save(archive);
  optimizer.save(opt_archive);
  archive.write("optimizer", opt_archive);
  archive.write("rng_cpu", at::detail::getDefaultCPUGenerator().get_state());
  std::ostringstream out;
  archive.save_to(out);
  const std::string bytes = out.str();
  const std::string pt = (fs::path(dir) / fmt::format("ckpt-{:08d}.pt", state.step)).string();
  // Re-saving a step: its old manifest goes first, so the pair is never a new .pt with an old manifest.
  fs::remove(manifest_path(pt), ec);
  write_file_atomically(pt, bytes, /*durable=*/true);
  nlohmann::json manifest{{"format", kFormat}, {"version", kVersion}, {"bytes", bytes.size()},
                          {"fnv1a", hex64(fnv1a(bytes))}, {"state", state.to_json()}};
  write_file_atomically(manifest_path(pt), manifest.dump(1) + "\n", /*durable=*/true);
  prune(dir, keep);
  return pt;
}

std::optional<std::string> resolve_checkpoint(const std::string& file_or_dir) {
  if (fs::is_directory(file_or_dir)) {
    const auto all = complete_checkpoints(file_or_dir);
    if (all.empty()) return std::nullopt;
    return all.back();
  }
  TS_REQUIRE_INPUT(fs::exists(file_or_dir), "{}: no such checkpoint file or directory", file_or_dir);
  return file_or_dir;
}

CheckpointState read_checkpoint_state(const std::string& pt) {
  const nlohmann::json manifest = read_manifest(pt);
  verified_bytes(pt, manifest);
  return CheckpointState::from_json(manifest.at("state"), manifest_path(pt));
}

CheckpointState load_checkpoint(const std::string& pt, SequenceModelImpl& model,
                                torch::optim::Optimizer* optimizer, bool restore_rng, torch::Device device) {
  const nlohmann::json manifest = read_manifest(pt);
  const std::string bytes = verified_bytes(pt, manifest);
  CheckpointState state = CheckpointState::from_json(manifest.at("state"), manifest_path(pt));
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size(), device);  // map every tensor onto `device`
    model.to(device);
    model.load(archive);
    if (optimizer != nullptr) {
      torch::serialize::InputArchive opt_archive;
      archive.read("optimizer", opt_archive);
      optimizer->load(opt_archive);
    }
    if (restore_rng) {
      torch::Tensor rng;
      archive.read("rng_cpu", rng);
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(rng.to(torch::kCPU));
    }
  } catch (const c10::Error& e) {
    TS_INPUT_ERROR("{}: libtorch {} cannot load this checkpoint onto {}: {}", pt, TORCH_VERSION, device.str(),
                   e.what_without_backtrace());
  }
  return state;
}

}  // namespace tickstream
