// A chunk that fails its Fletcher32 checksum: found and named (file, dataset, chunk), as bad input.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "store/h5.hpp"

namespace tickstream::h5 {
namespace {

// Reads the part of chunk `origin` inside the dataset; false when HDF5 cannot (its checksum).
bool chunk_reads(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& origin, const std::vector<hsize_t>& chunk,
                 const std::vector<hsize_t>& dims) {
  std::vector<hsize_t> count(dims.size());
  size_t n = H5Tget_size(mem_type);
  for (size_t d = 0; d < dims.size(); ++d) count[d] = std::min(chunk[d], dims[d] - origin[d]), n *= count[d];
  std::vector<unsigned char> buffer(n);
  Handle file_space(TS_CHECK_H5(H5Dget_space(dataset)), H5Sclose);
  TS_CHECK_H5(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, origin.data(), nullptr, count.data(), nullptr));
  Handle mem(TS_CHECK_H5(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr)), H5Sclose);
  const bool ok = H5Dread(dataset, mem_type, mem.id(), file_space.id(), H5P_DEFAULT, buffer.data()) >= 0;
  H5Eclear2(H5E_DEFAULT);
  return ok;
}

// Calls fn(origin) for every chunk (of shape `chunk`) overlapping [start, start + count) until fn
// returns true; returns that chunk's origin, or empty (also for a contiguous dataset: no shape).
template <typename Fn>
std::vector<hsize_t> find_chunk(const std::vector<hsize_t>& chunk, const std::vector<hsize_t>& start,
                                const std::vector<hsize_t>& count, Fn fn) {
  if (chunk.empty() || chunk.size() != start.size()) return {};
  std::vector<hsize_t> first(chunk.size()), last(chunk.size()), at(chunk.size());
  for (size_t d = 0; d < chunk.size(); ++d) {
    if (count[d] == 0) return {};
    first[d] = start[d] / chunk[d], last[d] = (start[d] + count[d] - 1) / chunk[d], at[d] = first[d];
  }
  for (;;) {
    std::vector<hsize_t> origin(chunk.size());
    for (size_t d = 0; d < chunk.size(); ++d) origin[d] = at[d] * chunk[d];
    if (fn(origin)) return origin;
    size_t d = chunk.size();
    while (d > 0 && at[d - 1] == last[d - 1]) at[d - 1] = first[d - 1], --d;
    if (d == 0) return {};
    ++at[d - 1];
  }
}

std::vector<hsize_t> failing_chunk(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start,
                                   const std::vector<hsize_t>& count) {
  const std::vector<hsize_t> chunk = dataset_chunk(dataset), dims = dataset_dims(dataset);
  return find_chunk(chunk, start, count,
                    [&](const std::vector<hsize_t>& origin) { return !chunk_reads(dataset, mem_type, origin, chunk, dims); });
}

// The chunks a dataset declares fit in its file (tickstream writes every chunk, unfiltered but for
// Fletcher32's 4 bytes): a file declaring more, e.g. damaged dimensions, is refused before a
// chunk-by-chunk read walks them all (HDF5's own chunk count would walk its index as long).
void require_chunks_fit(hid_t dataset, const std::vector<hsize_t>& chunk, const std::vector<hsize_t>& dims) {
  if (chunk.empty() || chunk.size() != dims.size()) return;
  Handle type(TS_READ_H5(dataset, H5Dget_type(dataset)), H5Tclose);
  double bytes = static_cast<double>(H5Tget_size(type.id()));
  for (size_t d = 0; d < dims.size(); ++d)
    bytes *= static_cast<double>((dims[d] + chunk[d] - 1) / chunk[d]) * static_cast<double>(chunk[d]);
  const hid_t file = TS_READ_H5(dataset, H5Iget_file_id(dataset));
  hsize_t file_bytes = 0;
  const herr_t rc = H5Fget_filesize(file, &file_bytes);
  H5Fclose(file);  // drops the extra reference only
  TS_READ_H5(dataset, rc);
  TS_REQUIRE_INPUT(bytes <= static_cast<double>(file_bytes),
                   "{}: {}: its dimensions [{}] in chunks of [{}] need {:.0f} bytes, more than the file's {}: "
                   "the file is damaged or was not written by tickstream", file_name(dataset), object_name(dataset),
                   fmt::join(dims, ", "), fmt::join(chunk, ", "), bytes, file_bytes);
}

herr_t collect_dataset(hid_t, const char* name, const H5O_info_t* info, void* out) {
  if (info->type == H5O_TYPE_DATASET) static_cast<std::vector<std::string>*>(out)->push_back(std::string("/") + name);
  return 0;
}

}  // namespace

std::vector<std::string> dataset_paths(hid_t file) {
  std::vector<std::string> out;
  TS_READ_H5(file, H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &out, H5O_INFO_BASIC));
  return out;
}

std::vector<std::vector<hsize_t>> corrupt_chunks(hid_t dataset) {
  std::vector<std::vector<hsize_t>> bad;
  const std::vector<hsize_t> chunk = dataset_chunk(dataset), dims = dataset_dims(dataset);
  require_chunks_fit(dataset, chunk, dims);
  Handle type(TS_READ_H5(dataset, H5Dget_type(dataset)), H5Tclose);
  Handle native(TS_READ_H5(dataset, H5Tget_native_type(type.id(), H5T_DIR_ASCEND)), H5Tclose);
  find_chunk(chunk, std::vector<hsize_t>(dims.size(), 0), dims, [&](const std::vector<hsize_t>& origin) {
    if (!chunk_reads(dataset, native.id(), origin, chunk, dims)) bad.push_back(origin);
    return false;
  });
  return bad;
}

void throw_if_corrupt(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start,
                      const std::vector<hsize_t>& count, const std::string& h5_stack) {
  if (h5_stack.find("Fletcher32") == std::string::npos) return;
  const std::vector<hsize_t> origin = failing_chunk(dataset, mem_type, start, count);
  TS_INPUT_ERROR("{}: {}: the chunk at [{}] fails its Fletcher32 checksum: the file is damaged (a bad disk, "
                 "an interrupted copy); re-create it from its inputs", file_name(dataset), object_name(dataset),
                 origin.empty() ? std::string("?") : fmt::format("{}", fmt::join(origin, ", ")));
}

}  // namespace tickstream::h5
