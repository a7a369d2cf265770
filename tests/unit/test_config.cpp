// Config: defaults, types, ranges, unknown keys, --set overrides, date order, hash; errors name keys.
#include <gtest/gtest.h>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/time.hpp"

namespace tickstream {
namespace {

const char* kFull = R"(# a full job
[data]
store = "runs/q/store.h5"
shard = "tickers"
train_start = 2010-01-04
train_end = 2016-12-30
valid_start = 2017-01-03
valid_end = "2018-12-31"
test_start = 2019-01-02

[features]
horizon = 5

[model]
kind = "lstm"
d_model = 96
n_layers = 3
n_heads = 4
seq_len = 128
dropout = 0

[train]
batch_size = 512
lr = 1e-3
checkpoint_dir = "runs/q/ckpt"

[loader]
prefetch = 4
resident = "off"

[dist]
backend = "mpi"
bucket_mb = 12.5

[predict]
batch_size = "auto"
min_confidence = 0.25
)";

// The InputError message of parsing `text` (with overrides), or "" when it parses.
std::string error_of(const std::string& text, std::vector<std::string> overrides = {}) {
  try {
    parse_config(text, "job.toml", overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ParsesEveryKindOfKey) {
  const Config c = parse_config(kFull, "job.toml");
  EXPECT_EQ(c.data.store, "runs/q/store.h5");
  EXPECT_EQ(c.data.train_start, *parse_timestamp("2010-01-04"));
  EXPECT_EQ(c.data.valid_end, *parse_timestamp("2018-12-31"));
  EXPECT_EQ(c.features.horizon, 5);
  EXPECT_EQ(c.model.kind, "lstm");
  EXPECT_EQ(c.model.dropout, 0.0);  // an integer is accepted for a float key
  EXPECT_EQ(c.train.batch_size, 512);
  EXPECT_EQ(c.train.lr, 1e-3);
  EXPECT_EQ(c.train.epochs, 10);  // default kept
  EXPECT_EQ(c.loader.resident, "off");
  EXPECT_EQ(c.dist.bucket_mb, 12.5);
  EXPECT_EQ(c.predict.batch_size, 0);  // auto
  EXPECT_EQ(c.predict.min_confidence, 0.25);
  EXPECT_EQ(c.to_json()["data"]["train_start"], "2010-01-04");
  EXPECT_EQ(c.to_json()["predict"]["batch_size"], "auto");
}

TEST(Config, ErrorsNameFileLineSectionAndKey) {
  EXPECT_EQ(error_of("[data]\nstore = \"s.h5\"\n[train]\nlrr = 0.1\n"),
            "job.toml:4: [train] lrr: unknown key (did you mean 'lr'?)");
  EXPECT_EQ(error_of("[data]\nstore = \"s.h5\"\n[trian]\nlr = 0.1\n"), "job.toml:3: unknown section [trian]");
  EXPECT_EQ(error_of("[data]\nstore = \"s.h5\"\n[train]\nlr = \"fast\"\n"),
            "job.toml:4: [train] lr: expected a number in [1e-12, 10]");
  EXPECT_EQ(error_of("[data]\nstore = \"s.h5\"\n[train]\nbatch_size = 0\n"),
            "job.toml:4: [train] batch_size: 0 is out of range: expected \"auto\" or an integer in [1, 16777216]");
  EXPECT_EQ(error_of("[data]\nstore = \"s.h5\"\n[model]\nkind = \"rnn\"\n"),
            "job.toml:4: [model] kind: 'rnn' is not allowed: expected one of \"gpt\", \"lstm\", \"mlp\"");
  EXPECT_EQ(error_of("[data]\nstore = \"s.h5\"\ntrain_start = \"2010-02-30\"\n"),
            "job.toml:3: [data] train_start: expected a date (2010-01-04 or \"2010-01-04\")");
  EXPECT_EQ(error_of("[data]\nstore = \"s.h5\"\n[train]\nepochs = 1.5\n"),
            "job.toml:4: [train] epochs: expected an integer in [1, 1000000]");
  EXPECT_NE(error_of("[data\nstore = 1\n").find("job.toml:1:"), std::string::npos);
}

TEST(Config, ConsistencyChecks) {
  EXPECT_EQ(error_of("[model]\nkind = \"mlp\"\n"), "job.toml: [data] store: required (path of the store .h5)");
  EXPECT_EQ(error_of("[data]\nstore = \"s\"\ntrain_end = 2017-06-30\nvalid_start = 2017-01-03\n"),
            "job.toml: [data] train_end (2017-06-30) must come before valid_start (2017-01-03)");
  EXPECT_EQ(error_of("[data]\nstore = \"s\"\n[model]\nd_model = 65\nn_heads = 4\n"),
            "job.toml: [model] d_model (65) must be a multiple of n_heads (4)");
  EXPECT_EQ(error_of("[data]\nstore = \"s\"\ntrain_start = 2010-01-04\ntrain_end = 2010-01-04\n"), "");
}

TEST(Config, OverridesApplyInOrderAndAreChecked) {
  const Config c = parse_config(kFull, "job.toml",
                                {"train.lr=0.01", "model.kind=gpt", "data.store=other.h5", "predict.batch_size=64",
                                 "data.test_start=2019-06-03", "train.lr=0.02"});
  EXPECT_EQ(c.train.lr, 0.02);
  EXPECT_EQ(c.model.kind, "gpt");
  EXPECT_EQ(c.data.store, "other.h5");
  EXPECT_EQ(c.predict.batch_size, 64);
  EXPECT_EQ(c.data.test_start, *parse_timestamp("2019-06-03"));
  const Config a = parse_config(kFull, "job.toml", {"train.batch_size=auto"});
  EXPECT_EQ(a.train.batch_size, 0);  // resolved by the train command (train/train_command.cpp)
  EXPECT_EQ(a.to_json()["train"]["batch_size"], "auto");
  EXPECT_EQ(error_of(kFull, {"train.lrr=1"}), "--set train.lrr=1: unknown key [train] lrr (did you mean 'lr'?)");
  EXPECT_EQ(error_of(kFull, {"lr=1"}), "--set lr=1: expected section.key=value");
  EXPECT_EQ(error_of(kFull, {"train.lr=abc"}), "--set train.lr=abc: [train] lr: expected a number in [1e-12, 10]");
  EXPECT_EQ(error_of(kFull, {"model.kind=cnn"}),
            "--set model.kind=cnn: [model] kind: 'cnn' is not allowed: expected one of \"gpt\", \"lstm\", \"mlp\"");
}

TEST(Config, HashFollowsTheResolvedValues) {
  const Config a = parse_config(kFull, "a.toml");
  const Config b = parse_config(std::string("# same values, other layout\n") + kFull, "b.toml");
  const Config c = parse_config(kFull, "a.toml", {"train.seed=7"});
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a.hash(), c.hash());
  EXPECT_EQ(a.hash().size(), 16u);
}

// The shipped configs (configs/*.toml) parse, and set what their comments promise.
TEST(Config, ShippedConfigsAreValid) {
  const std::string dir = std::string(TICKSTREAM_SOURCE_DIR) + "/configs/";
  const Config q = load_config(dir + "quickstart.toml");
  EXPECT_EQ(q.model.kind, "gpt");
  EXPECT_EQ(q.train.max_steps, 600);
  const Config d = load_config(dir + "daily.toml");
  EXPECT_EQ(d.data.shard, "tickers");
  EXPECT_EQ(d.predict.batch_size, 0);  // auto
  EXPECT_GE(d.model.d_model, 128);
  const Config i = load_config(dir + "intraday.toml");
  EXPECT_EQ(i.data.shard, "time");
  EXPECT_EQ(i.loader.resident, "off");
  EXPECT_GT(i.features.horizon, 1);
}

TEST(Config, MissingFileIsAnInputError) {
  EXPECT_THROW(load_config("/nonexistent/job.toml"), InputError);
}

TEST(Config, FeatureTimeframes) {
  const Config c = parse_config("[data]\nstore = \"s.h5\"\n[features]\ngaps = \"strict\"\n[features.timeframes]\n"
                                "\"1w\" = [\"rsi_14\"]\n\"1d\" = [\"vol_20\", \"logret_5\"]\n", "tf.toml");
  EXPECT_EQ(c.features.gaps, "strict");
  ASSERT_EQ(c.features.timeframes.size(), 2u);
  EXPECT_EQ(c.features.timeframes[0].name, "1d");  // name order
  EXPECT_EQ(c.features.timeframes[0].features, (std::vector<std::string>{"vol_20", "logret_5"}));
  EXPECT_EQ(c.to_json()["features"]["timeframes"][1]["name"], "1w");
  const Config none = parse_config("[data]\nstore = \"s.h5\"\n", "n.toml");
  EXPECT_FALSE(none.to_json()["features"].contains("timeframes"));  // configs without them keep their hash
  EXPECT_THROW(parse_config("[data]\nstore = \"s.h5\"\n[features.timeframes]\n\"1w\" = []\n", "e.toml"), InputError);
  EXPECT_THROW(parse_config("[data]\nstore = \"s.h5\"\n[features.timeframes]\n\"1w\" = [1]\n", "e.toml"), InputError);
}

}  // namespace
}  // namespace tickstream
