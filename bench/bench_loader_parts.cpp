// bench loader pieces: H5Dread reference with per-tile checksums, timed loader passes, window-gather timing.
#include "bench/bench_loader_parts.hpp"
#include "bench/bench_gather_gpu.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "data/loader_stats.hpp"
#include "store/h5.hpp"
#include "kernels/window_gather.hpp"
#include "store/store_format.hpp"

namespace tickstream {
namespace {

using Clock = std::chrono::steady_clock;
uint64_t fnv(const void* data, size_t n, uint64_t h) {
  const auto* b = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, b + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
  }
  for (; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  return h;
}

void busy_wait(double s) {
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  while (Clock::now() < end) {
  }
}

const char* const kNames[4] = {store::path::kFeatureValues, store::path::kFeatureValid, store::path::kLabelValues, store::path::kLabelValid};

}  // namespace

uint64_t chunk_checksum(const Chunk& c) {
  uint64_t h = 0xcbf29ce484222325ULL;
  h = fnv(c.values.data(), c.values.size() * sizeof(float), h);
  h = fnv(c.valid.data(), c.valid.size(), h);
  h = fnv(c.label_values.data(), c.label_values.size() * sizeof(float), h);
  return fnv(c.label_valid.data(), c.label_valid.size(), h);
}

struct SlabReference::Impl {
  explicit Impl(h5::File f) : file(std::move(f)) {}
  h5::File file;
  h5::Handle ds[4];
  std::vector<hsize_t> chunk;
  int64_t seq_len = 1, features = 0, labels = 0;
  Chunk buf;  // preallocated for the largest tile
};

SlabReference::SlabReference(const std::string& store, int64_t seq_len, const std::vector<Tile>& order)
    : impl_(std::make_unique<Impl>(h5::File::open(store, false))) {
  Impl& m = *impl_;
  m.seq_len = seq_len;
  h5::Handle probe = h5::open_dataset(m.file.id(), kNames[0]);
  m.chunk = h5::dataset_chunk(probe.id());
  TS_CHECK(m.chunk.size() == 3, "bench loader: /features/values is not chunked [tickers, bars, features]");
  m.features = static_cast<int64_t>(h5::dataset_dims(probe.id())[2]);
  m.labels = static_cast<int64_t>(h5::dataset_dims(h5::open_dataset(m.file.id(), kNames[2]).id())[2]);
  int64_t rows = 0, bars = 0;
  for (const Tile& t : order) rows = std::max(rows, t.rows), bars = std::max(bars, t.bar_begin + t.bars - t.read_begin(seq_len));
  // Chunks one tile touches at most: +1 per axis for an unaligned start.
  const auto c0 = static_cast<int64_t>(m.chunk[0]), c1 = static_cast<int64_t>(m.chunk[1]);
  const auto chunks = static_cast<size_t>(((rows + c0 - 1) / c0 + 1) * ((bars + c1 - 1) / c1 + 1));
  const size_t per_cell[4] = {static_cast<size_t>(m.features) * 4, 1, static_cast<size_t>(m.labels) * 4, 1};
  for (int d = 0; d < 4; ++d)
    m.ds[d] = h5::open_dataset_with_cache(m.file.id(), kNames[d], chunks * static_cast<size_t>(c0 * c1) * per_cell[d], 10007);
  const auto cells = static_cast<size_t>(rows * bars);
  m.buf.values.assign(cells * static_cast<size_t>(m.features), 0.0f);
  m.buf.valid.assign(cells, 0);
  m.buf.label_values.assign(cells * static_cast<size_t>(m.labels), 0.0f);
  m.buf.label_valid.assign(cells, 0);
}

SlabReference::~SlabReference() = default;

double SlabReference::pass(const std::vector<Tile>& order, std::vector<uint64_t>* hashes) {
  Impl& m = *impl_;
  const auto t0 = Clock::now();
  for (const Tile& t : order) {
    const auto r0 = static_cast<hsize_t>(t.row_begin), rows = static_cast<hsize_t>(t.rows);
    const auto b0 = static_cast<hsize_t>(t.read_begin(m.seq_len));
    const auto bars = static_cast<hsize_t>(t.bar_begin + t.bars) - b0;
    const auto nf = static_cast<hsize_t>(m.features), nl = static_cast<hsize_t>(m.labels);
    h5::read_slab(m.file, m.ds[0].id(), H5T_NATIVE_FLOAT, {r0, b0, 0}, {rows, bars, nf}, m.buf.values.data());
    h5::read_slab(m.file, m.ds[1].id(), H5T_NATIVE_UINT8, {r0, b0}, {rows, bars}, m.buf.valid.data());
    h5::read_slab(m.file, m.ds[2].id(), H5T_NATIVE_FLOAT, {r0, b0, 0}, {rows, bars, nl}, m.buf.label_values.data());
    h5::read_slab(m.file, m.ds[3].id(), H5T_NATIVE_UINT8, {r0, b0}, {rows, bars}, m.buf.label_valid.data());
    if (!hashes) continue;
    const size_t cells = rows * bars;
    uint64_t h = fnv(m.buf.values.data(), cells * nf * sizeof(float), 0xcbf29ce484222325ULL);
    h = fnv(m.buf.valid.data(), cells, h);
    h = fnv(m.buf.label_values.data(), cells * nl * sizeof(float), h);
    hashes->push_back(fnv(m.buf.label_valid.data(), cells, h));
  }
  return seconds_since(t0);
}

double SlabReference::bytes(const std::vector<Tile>& order) const {
  double total = 0;
  for (const Tile& t : order)
    total += static_cast<double>(t.rows * (t.bar_begin + t.bars - t.read_begin(impl_->seq_len))) *
             static_cast<double>((impl_->features + impl_->labels) * 4 + 2);
  return total;
}

nlohmann::json SlabReference::chunk_shape() const { return impl_->chunk; }

LoaderRun loader_pass(ChunkReader& reader, const std::vector<Tile>& order, int64_t prefetch, double compute_s,
                      std::vector<uint64_t>* hashes, ChunkBufferPool& spare) {
  LoaderRun run;
  const auto t0 = Clock::now();
  ChunkLoader loader(reader, order, prefetch, nullptr, &spare);
  while (auto c = loader.next()) {
    if (hashes) hashes->push_back(chunk_checksum(*c));
    if (compute_s > 0) busy_wait(compute_s);
  }
  run.wall_s = seconds_since(t0);
  run.stats = loader.stats();
  return run;
}

namespace {

// Per-feature mean and 1/std over the chunk's valid cells (what the store's /stats would give).
void chunk_normalizer(const Chunk& c, std::vector<float>& mean, std::vector<float>& inv_std) {
  const auto nf = static_cast<size_t>(c.features);
  std::vector<double> s(nf, 0), s2(nf, 0);
  double n = 0;
  for (size_t cell = 0; cell < c.valid.size(); ++cell) {
    if (!c.valid[cell]) continue;
    n += 1;
    for (size_t f = 0; f < nf; ++f) s[f] += c.values[cell * nf + f], s2[f] += double(c.values[cell * nf + f]) * c.values[cell * nf + f];
  }
  TS_CHECK(n > 1, "bench loader: the assembly chunk has no valid cells");
  for (size_t f = 0; f < nf; ++f) {
    const double m = s[f] / n, sd = std::sqrt(std::max(0.0, s2[f] / n - m * m));
    mean.push_back(static_cast<float>(m)), inv_std.push_back(sd > 0 ? static_cast<float>(1 / sd) : 1.0f);
  }
}

// `count` random windows (chunk-local row, end) with seq_len valid bars and a valid label.
void draw_windows(const Chunk& c, int64_t seq_len, size_t count, std::vector<int32_t>& rows, std::vector<int32_t>& ends) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> row(0, c.tile.rows - 1), end(seq_len - 1, c.bars - 1);
  for (size_t tries = 0; rows.size() < count; ++tries) {
    TS_CHECK(tries < 100 * count + 1000, "bench loader: too few valid windows in the assembly chunk");
    const int64_t r = row(rng), e = end(rng);
    const uint8_t* v = c.valid.data() + r * c.bars;
    if (!c.label_valid[static_cast<size_t>(r * c.bars + e)] || !std::all_of(v + e - seq_len + 1, v + e + 1, [](uint8_t x) { return x != 0; }))
      continue;
    rows.push_back(static_cast<int32_t>(r)), ends.push_back(static_cast<int32_t>(e));
  }
}

// Window `w` of the batch starting at `at` recomputed directly; throws on a difference.
void check_window(const Chunk& c, const WindowGatherArgs& a, const std::vector<float>& y, size_t at, int64_t w) {
  const size_t i = at + static_cast<size_t>(w);
  for (int64_t s = 0; s < a.seq_len; ++s)
    for (int64_t f = 0; f < a.features; ++f) {
      const float x = c.values[static_cast<size_t>((a.rows[w] * c.bars + a.ends[w] - a.seq_len + 1 + s) * c.features + f)];
      const float want = std::min(std::max((x - a.mean[f]) * a.inv_std[f], -a.clip), a.clip);
      const float got = a.out[(w * a.seq_len + s) * a.features + f];
      TS_CHECK(std::isfinite(got) && std::fabs(got - want) <= 1e-5f * std::max(1.0f, std::fabs(want)),
               "bench loader: gathered window {} step {} feature {} is {}, expected {}", i, s, f, got, want);
    }
  const float label = c.label_values[static_cast<size_t>(a.rows[w] * c.bars + a.ends[w]) * static_cast<size_t>(c.labels)];
  TS_CHECK(y[static_cast<size_t>(w)] == label, "bench loader: label of window {} is {}, expected {}", i, y[static_cast<size_t>(w)], label);
}

}  // namespace

nlohmann::json assembly_figures(ChunkReader& reader, const Tile& tile, int64_t seq_len, int64_t batch, int64_t batches) {
  const std::shared_ptr<const Chunk> chunk = reader.read(tile);
  const Chunk& c = *chunk;
  TS_CHECK(c.labels >= 2, "bench loader: the store has {} labels, 2 expected (return, up)", c.labels);
  std::vector<float> mean, inv_std;
  chunk_normalizer(c, mean, inv_std);
  std::vector<int32_t> all_rows, all_ends;
  draw_windows(c, seq_len, static_cast<size_t>(batch * batches), all_rows, all_ends);
  std::vector<float> x(static_cast<size_t>(batch * seq_len * c.features)), y(static_cast<size_t>(batch)), up(y.size());
  std::vector<double> ms;
  const GatherTile resident{c.values.data(), c.tile.rows, c.bars};
  WindowGatherArgs a;
  a.tiles = &resident, a.tiles_count = 1, a.features = c.features;
  a.batch = batch, a.seq_len = seq_len, a.mean = mean.data(), a.inv_std = inv_std.data(), a.clip = 10.0f, a.out = x.data();
  for (int64_t k = -1; k < batches; ++k) {  // batch -1: untimed warm-up (first touch of the output)
    const size_t at = static_cast<size_t>(std::max<int64_t>(k, 0) * batch);
    a.rows = all_rows.data() + at, a.ends = all_ends.data() + at;
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < batch; ++i) {
      const size_t cell = static_cast<size_t>(a.rows[i] * c.bars + a.ends[i]) * static_cast<size_t>(c.labels);
      y[static_cast<size_t>(i)] = c.label_values[cell];
      up[static_cast<size_t>(i)] = c.label_values[cell + 1] > 0.5f ? 1.0f : 0.0f;
    }
    window_gather_reference(a);
    if (k >= 0) ms.push_back(1e3 * seconds_since(t0));
    if (k == 0 || k == batches - 1)
      for (int64_t w : {int64_t{0}, batch / 2, batch - 1}) check_window(c, a, y, at, w);
  }
  nlohmann::json j{{"assembly_ms_median", quantile(ms, 0.5)}, {"assembly_ms_p99", quantile(ms, 0.99)},
          {"assembly_ms_min", quantile(ms, 0)}, {"assembly_ms_max", quantile(ms, 1)},
          {"assembly_batch", {batch, seq_len, c.features}}, {"assembly_batches", batches},
          {"assembly_note", "window_gather_reference (normalize + clip 10) + labels from one resident 256-ticker tile, "
                            "random valid windows, preallocated output, one core"}};
  j.update(gpu_assembly_figures(c, all_rows, all_ends, mean, inv_std, seq_len, batch, batches));
  return j;
}

}  // namespace tickstream
