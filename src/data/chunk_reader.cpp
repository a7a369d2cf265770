// ChunkReader: one hyperslab per dataset per tile (into reusable buffers) from a serially opened store, HDF5 chunk cache sized to a tile.
#include <algorithm>

#include "core/error.hpp"
#include "data/chunk_loader.hpp"
#include "store/h5.hpp"
#include "store/store_format.hpp"

namespace tickstream {
namespace {

// One of the four datasets, with the chunk cache it was opened with.
struct Slab {
  const char* name = "";
  h5::Handle ds;
  std::vector<hsize_t> dims, chunk;  // chunk empty: contiguous
  size_t element = 0;                // bytes per element in the file
  size_t cache_bytes = 0;            // 0: opened with the default cache
};

size_t next_prime(size_t n) {
  auto prime = [](size_t k) {
    if (k < 2) return false;
    for (size_t d = 2; d * d <= k; ++d)
      if (k % d == 0) return false;
    return true;
  };
  while (!prime(n)) ++n;
  return n;
}

Slab open_slab(hid_t file, const char* name) {
  Slab s;
  s.name = name;
  s.ds = h5::open_dataset(file, name);
  s.dims = h5::dataset_dims(s.ds.id());
  s.chunk = h5::dataset_chunk(s.ds.id());
  h5::Handle type(TS_CHECK_H5(H5Dget_type(s.ds.id())), H5Tclose);
  s.element = H5Tget_size(type.id());
  TS_CHECK(s.element > 0, "/{}: cannot get the element size of its type", name);
  return s;
}

// Chunks of `s` that the selection [start, start + count) touches, and their bytes.
std::pair<size_t, size_t> touched(const Slab& s, const std::vector<hsize_t>& start,
                                  const std::vector<hsize_t>& count) {
  size_t chunks = 1, chunk_bytes = s.element;
  for (size_t d = 0; d < s.chunk.size(); ++d) {
    if (count[d] == 0) return {0, 0};
    chunks *= static_cast<size_t>((start[d] + count[d] - 1) / s.chunk[d] - start[d] / s.chunk[d] + 1);
    chunk_bytes *= static_cast<size_t>(s.chunk[d]);
  }
  return {chunks, chunks * chunk_bytes};
}

// Reopens the dataset with a chunk cache that holds every chunk of this selection, when the
// current one is smaller (once per reader in practice: tiles share a shape).
void fit_cache(hid_t file, Slab& s, const std::vector<hsize_t>& start, const std::vector<hsize_t>& count) {
  if (s.chunk.empty()) return;
  const auto [chunks, bytes] = touched(s, start, count);
  if (bytes <= s.cache_bytes) return;
  s.ds.reset();
  s.ds = h5::open_dataset_with_cache(file, s.name, bytes, next_prime(std::max<size_t>(10 * chunks, 101)));
  s.cache_bytes = bytes;
}

template <typename Vector>
void read_slab_into(const h5::File& file, Slab& s, hid_t mem_type, const std::vector<hsize_t>& start,
                    const std::vector<hsize_t>& count, Vector& out) {
  size_t n = 1;
  for (hsize_t c : count) n *= static_cast<size_t>(c);
  if (out.capacity() < n) Vector(out.get_allocator()).swap(out);  // regrow to exactly n, never by doubling
  out.resize(n);
  if (n == 0) return;
  fit_cache(file.id(), s, start, count);
  h5::read_slab(file, s.ds.id(), mem_type, start, count, out.data());
}

}  // namespace

size_t Chunk::bytes() const {
  return (values.size() + label_values.size()) * sizeof(float) + valid.size() + label_valid.size();
}

size_t Chunk::capacity_bytes() const {
  return (values.capacity() + label_values.capacity()) * sizeof(float) + valid.capacity() + label_valid.capacity();
}

struct ChunkReader::Impl {
  std::string path;
  int64_t seq_len = 1;
  h5::File file;
  Slab values, valid, label_values, label_valid;
  int64_t tickers = 0, bars = 0, features = 0, labels = 0;
  bool with_labels = true;
  const HostMemory* memory = &pageable_host_memory();

  Impl(const std::string& p, int64_t s, h5::File f) : path(p), seq_len(s), file(std::move(f)) {}
  void check_shapes() const;
};

void ChunkReader::Impl::check_shapes() const {
  const auto& d = values.dims;
  TS_REQUIRE_INPUT(d.size() == 3, "{}: /features/values has rank {}, expected 3 [tickers, bars, features]",
                   path, d.size());
  std::vector<const Slab*> masks{&valid};
  if (with_labels) masks.push_back(&label_valid);
  for (const Slab* s : masks)
    TS_REQUIRE_INPUT(s->dims == (std::vector<hsize_t>{d[0], d[1]}),
                     "{}: /{} is not [{}, {}] like /features/values", path, s->name, d[0], d[1]);
  if (!with_labels) return;
  const auto& l = label_values.dims;
  TS_REQUIRE_INPUT(l.size() == 3 && l[0] == d[0] && l[1] == d[1],
                   "{}: /labels/values is not [{}, {}, labels] like /features/values", path, d[0], d[1]);
}

ChunkReader::ChunkReader(const std::string& store_path, int64_t seq_len, bool with_labels) {
  TS_REQUIRE_INPUT(seq_len >= 1, "[model] seq_len must be at least 1, got {}", seq_len);
  h5::File file = h5::File::open(store_path, false);
  std::vector<const char*> groups{store::path::kFeatures};
  if (with_labels) groups.push_back(store::path::kLabels);
  for (const char* g : groups)
    TS_REQUIRE_INPUT(h5::exists(file.id(), g),
                     "{}: no /{} group: run `tickstream features --config ...` on this store first",
                     store_path, g);
  impl_ = std::make_unique<Impl>(store_path, seq_len, std::move(file));
  Impl& m = *impl_;
  m.with_labels = with_labels;
  m.values = open_slab(m.file.id(), store::path::kFeatureValues);
  m.valid = open_slab(m.file.id(), store::path::kFeatureValid);
  if (with_labels) {
    m.label_values = open_slab(m.file.id(), store::path::kLabelValues);
    m.label_valid = open_slab(m.file.id(), store::path::kLabelValid);
  }
  m.check_shapes();
  m.tickers = static_cast<int64_t>(m.values.dims[0]);
  m.bars = static_cast<int64_t>(m.values.dims[1]);
  m.features = static_cast<int64_t>(m.values.dims[2]);
  m.labels = with_labels ? static_cast<int64_t>(m.label_values.dims[2]) : 0;
}

ChunkReader::~ChunkReader() = default;

std::shared_ptr<const Chunk> ChunkReader::read(const Tile& tile) {
  auto c = std::make_shared<Chunk>();
  read_into(tile, *c);
  return c;
}

void ChunkReader::read_into(const Tile& tile, Chunk& out) {
  Impl& m = *impl_;
  TS_CHECK(tile.row_begin >= 0 && tile.rows >= 0 && tile.row_begin + tile.rows <= m.tickers &&
               tile.bar_begin >= 0 && tile.bars >= 0 && tile.bar_begin + tile.bars <= m.bars,
           "tile rows [{}, +{}) x bars [{}, +{}) lies outside the store's {} tickers x {} bars",
           tile.row_begin, tile.rows, tile.bar_begin, tile.bars, m.tickers, m.bars);
  Chunk* c = &out;
  c->tile = tile;
  c->bar0 = tile.read_begin(m.seq_len);
  c->bars = tile.bar_begin + tile.bars - c->bar0;
  c->features = m.features;
  c->labels = m.labels;
  const auto r0 = static_cast<hsize_t>(tile.row_begin), rows = static_cast<hsize_t>(tile.rows);
  const auto b0 = static_cast<hsize_t>(c->bar0), bars = static_cast<hsize_t>(c->bars);
  const auto nf = static_cast<hsize_t>(m.features), nl = static_cast<hsize_t>(m.labels);
  if (&c->values.get_allocator().memory() != m.memory) HostVector<float>(HostAllocator<float>(*m.memory)).swap(c->values);
  read_slab_into(m.file, m.values, H5T_NATIVE_FLOAT, {r0, b0, 0}, {rows, bars, nf}, c->values);
  read_slab_into(m.file, m.valid, H5T_NATIVE_UINT8, {r0, b0}, {rows, bars}, c->valid);
  if (!m.with_labels) {
    c->label_values.clear(), c->label_valid.clear();
    return;
  }
  read_slab_into(m.file, m.label_values, H5T_NATIVE_FLOAT, {r0, b0, 0}, {rows, bars, nl}, c->label_values);
  read_slab_into(m.file, m.label_valid, H5T_NATIVE_UINT8, {r0, b0}, {rows, bars}, c->label_valid);
}

void ChunkReader::set_host_memory(const HostMemory& memory) { impl_->memory = &memory; }

int64_t ChunkReader::features() const { return impl_->features; }
int64_t ChunkReader::labels() const { return impl_->labels; }
int64_t ChunkReader::tickers() const { return impl_->tickers; }
int64_t ChunkReader::bars() const { return impl_->bars; }

size_t ChunkReader::h5_cache_bytes() const {
  const Impl& m = *impl_;
  return m.values.cache_bytes + m.valid.cache_bytes + m.label_values.cache_bytes + m.label_valid.cache_bytes;
}

}  // namespace tickstream
