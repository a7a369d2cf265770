// Checkpoints across devices and libtorch versions: a checkpoint whose tensors are tagged with a
// CUDA device loads onto the CPU (model and optimizer state), and checkpoints written by libtorch
// 1.13 load with this libtorch and reproduce the outputs they had under 1.13.
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/parameter_snapshot.hpp"
#include "common/temp_dir_test.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "model/model.hpp"
#include "model/checkpoint.hpp"
#include "train/train_step.hpp"

namespace tickstream {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Config fixture_config(const std::string& kind) {
  return parse_config("[data]\nstore = \"x.h5\"\n[model]\nkind = \"" + kind +
                          "\"\nd_model = 16\nn_layers = 1\nn_heads = 2\nseq_len = 8\ndropout = 0.0\n",
                      "fixture.toml");
}

// The fixture's fixed input: [4, 8, 5].
torch::Tensor fixture_input() {
  return torch::sin(torch::arange(4 * 8 * 5, torch::kFloat32) * 0.37).reshape({4, 8, 5});
}

// Two AdamW steps on the fixture input (the optimizer then has moments to save).
void train_two_steps(SequenceModelImpl& model, torch::optim::Optimizer& opt) {
  for (int step = 0; step < 2; ++step) {
    opt.zero_grad();
    const ModelOutput out = model.forward(fixture_input());
    (out.pred_return.pow(2).sum() + out.dir_logit.sum()).backward();
    opt.step();
  }
}

using testing::bitwise_equal;
using testing::snapshot;

// A copy of checkpoint `pt` in `dir` whose every tensor storage is tagged "cuda:0", as a CUDA run
// writes it (the pickled location string "cpu" becomes "cuda:0"), with a manifest that matches.
std::string cuda_tagged_copy(const std::string& pt, const std::string& dir) {
  caffe2::serialize::PyTorchStreamReader reader(pt);
  std::ostringstream bytes;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t n) {
      bytes.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
      return n;
    });
    int retagged = 0;
    for (const std::string& name : reader.getAllRecords()) {
      if (name == ".data/serialization_id") continue;  // the writer makes its own
      auto [data, size] = reader.getRecord(name);
      std::string record(static_cast<const char*>(data.get()), size);
      if (name == "data.pkl") {
        const std::string cpu("X\x03\x00\x00\x00" "cpu", 8), cuda("X\x06\x00\x00\x00" "cuda:0", 11);
        for (size_t at = record.find(cpu); at != std::string::npos; at = record.find(cpu, at + cuda.size()), ++retagged)
          record.replace(at, cpu.size(), cuda);
      }
      writer.writeRecord(name, record.data(), record.size());
    }
    EXPECT_GT(retagged, 0) << "no storage location 'cpu' found in data.pkl: the archive layout changed";
    writer.writeEndOfFile();
  }
  const std::string out = (fs::path(dir) / fs::path(pt).filename()).string();
  std::ofstream(out, std::ios::binary) << bytes.str();
  nlohmann::json manifest = nlohmann::json::parse(slurp(fs::path(pt).replace_extension(".json").string()));
  manifest["bytes"] = bytes.str().size();
  manifest["fnv1a"] = hex64(fnv1a(bytes.str()));
  std::ofstream(fs::path(out).replace_extension(".json")) << manifest.dump(1) << "\n";
  return out;
}

class CheckpointCompat : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    fs::create_directories(fs::path(dir_) / "cpu");
    fs::create_directories(fs::path(dir_) / "cuda");
  }
};

// A checkpoint written on a GPU (tensors tagged cuda:0) resumes on a CPU-only machine: model,
// optimizer moments and all land on the CPU, and the next step matches the original's.
TEST_F(CheckpointCompat, CudaTaggedCheckpointLoadsOntoTheCpu) {
  const Config c = fixture_config("gpt");
  auto a = make_model(c.model, 5, 11);
  auto opt_a = make_optimizer(*a, c);
  train_two_steps(*a, *opt_a);
  CheckpointState state;
  state.step = 2, state.n_features = 5, state.config = c.to_json(), state.model_id = "gpt-test-s2";
  const std::string pt = save_checkpoint((fs::path(dir_) / "cpu").string(), *a, *opt_a, state, 1);
  const std::string tagged = cuda_tagged_copy(pt, (fs::path(dir_) / "cuda").string());

  if (!torch::cuda::is_available()) {  // the tag is real: without a device map libtorch wants CUDA
    torch::serialize::InputArchive raw;
    EXPECT_THROW(raw.load_from(tagged), c10::Error) << "the copy's tensors do not carry a CUDA device tag";
  }
  auto b = make_model(c.model, 5, 99);
  auto opt_b = make_optimizer(*b, c);
  EXPECT_EQ(load_checkpoint(tagged, *b, opt_b.get(), /*restore_rng=*/false, torch::kCPU).model_id, "gpt-test-s2");
  EXPECT_TRUE(bitwise_equal(snapshot(*b), snapshot(*a)));
  train_two_steps(*a, *opt_a);
  train_two_steps(*b, *opt_b);
  EXPECT_TRUE(bitwise_equal(snapshot(*b), snapshot(*a))) << "optimizer state was not restored";
}

// Checkpoints written by libtorch 1.13 (tests/fixtures/torch113, made by make_fixture.cpp there)
// load with this libtorch, optimizer included, and give the outputs they gave under 1.13.
TEST_F(CheckpointCompat, Libtorch113CheckpointsLoadAndReproduceTheirOutputs) {
  const fs::path fixtures = fs::path(TICKSTREAM_SOURCE_DIR) / "tests/fixtures/torch113";
  const nlohmann::json expected = nlohmann::json::parse(slurp((fixtures / "expected.json").string()));
  ASSERT_EQ(expected.at("libtorch").get<std::string>().substr(0, 4), "1.13");
  for (const std::string kind : {"gpt", "lstm", "mlp"}) {
    SCOPED_TRACE(kind);
    const auto pt = resolve_checkpoint((fixtures / kind).string());
    ASSERT_TRUE(pt.has_value());
    const Config c = fixture_config(kind);
    auto model = make_model(c.model, 5, 1234);
    torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-2).weight_decay(0.01));  // as made
    load_checkpoint(*pt, *model, &opt, /*restore_rng=*/true, torch::kCPU);
    model->eval();
    torch::NoGradGuard no_grad;
    const ModelOutput out = model->forward(fixture_input());
    for (const char* head : {"pred_return", "dir_logit"}) {
      const auto want = expected.at(kind).at(head).get<std::vector<float>>();
      const torch::Tensor got = std::string(head) == "pred_return" ? out.pred_return : out.dir_logit;
      ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
      for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(got[static_cast<int64_t>(i)].item<float>(), want[i], 1e-5 + 1e-5 * std::abs(want[i])) << head << " " << i;
    }
  }
}

// A file that is no checkpoint archive (manifest intact) is refused naming the file and libtorch.
TEST_F(CheckpointCompat, UnreadableArchiveIsAnInputError) {
  const Config c = fixture_config("mlp");
  auto a = make_model(c.model, 5, 1);
  auto opt = make_optimizer(*a, c);
  CheckpointState state;
  state.config = c.to_json();
  const std::string pt = save_checkpoint(dir_, *a, *opt, state, 1);
  const std::string junk(4096, 'x');
  std::ofstream(pt, std::ios::binary | std::ios::trunc) << junk;
  nlohmann::json manifest = nlohmann::json::parse(slurp(fs::path(pt).replace_extension(".json").string()));
  manifest["bytes"] = junk.size();
  manifest["fnv1a"] = hex64(fnv1a(junk));
  std::ofstream(fs::path(pt).replace_extension(".json")) << manifest.dump(1) << "\n";
  try {
    load_checkpoint(pt, *a, nullptr, false, torch::kCPU);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(pt), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot load this checkpoint"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tickstream
