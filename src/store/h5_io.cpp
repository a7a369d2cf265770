// HDF5 hyperslab row I/O, string datasets and attributes.
#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "store/h5.hpp"

namespace tickstream::h5 {
namespace {

Handle vlen_string_type() {
  Handle t(TS_CHECK_H5(H5Tcopy(H5T_C_S1)), H5Tclose);
  TS_CHECK_H5(H5Tset_size(t.id(), H5T_VARIABLE));
  TS_CHECK_H5(H5Tset_cset(t.id(), H5T_CSET_UTF8));
  return t;
}

// Selects [start, start+count) in the file space of `dataset`; returns (file space, mem space).
std::pair<Handle, Handle> select_slab(hid_t dataset, const std::vector<hsize_t>& start,
                                      const std::vector<hsize_t>& count) {
  Handle file_space(TS_CHECK_H5(H5Dget_space(dataset)), H5Sclose);
  const bool empty = std::any_of(count.begin(), count.end(), [](hsize_t c) { return c == 0; });
  if (empty) {
    TS_CHECK_H5(H5Sselect_none(file_space.id()));
    Handle mem(TS_CHECK_H5(H5Screate(H5S_NULL)), H5Sclose);
    return {std::move(file_space), std::move(mem)};
  }
  TS_CHECK_H5(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr,
                                  count.data(), nullptr));
  return {std::move(file_space), make_space(count)};
}

std::pair<std::vector<hsize_t>, std::vector<hsize_t>> row_slab(hid_t dataset, hsize_t row_begin,
                                                               hsize_t rows) {
  std::vector<hsize_t> count = dataset_dims(dataset);
  std::vector<hsize_t> start(count.size(), 0);
  start[0] = row_begin;
  count[0] = rows;
  return {start, count};
}

}  // namespace

void read_slab(const File& f, hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start,
               const std::vector<hsize_t>& count, void* data) {
  auto [file_space, mem_space] = select_slab(dataset, start, count);
  if (H5Dread(dataset, mem_type, mem_space.id(), file_space.id(), f.xfer(), data) >= 0) return;
  const std::string stack = detail::take_h5_stack();
  throw_if_corrupt(dataset, mem_type, start, count, stack);  // bad input: a damaged chunk, named
  detail::throw_h5_read(dataset, fmt::format("H5Dread of {} rows", count.empty() ? 0 : count[0]), stack, __FILE__,
                        __LINE__);
}

void write_rows(const File& f, hid_t dataset, hid_t mem_type, hsize_t row_begin, hsize_t rows,
                const void* data) {
  auto [start, count] = row_slab(dataset, row_begin, rows);
  const auto spaces = select_slab(dataset, start, count);  // (file, memory); no structured binding:
  // a lambda (TS_CHECK_H5) may not capture one in C++17 (clang rejects it)
  TS_CHECK_H5(H5Dwrite(dataset, mem_type, spaces.second.id(), spaces.first.id(), f.xfer(), data));
}

void read_rows(const File& f, hid_t dataset, hid_t mem_type, hsize_t row_begin, hsize_t rows,
               void* data) {
  auto [start, count] = row_slab(dataset, row_begin, rows);
  read_slab(f, dataset, mem_type, start, count, data);
}

void write_vector(const File& f, hid_t loc, const std::string& name, hid_t type,
                  const void* data, hsize_t n, bool writer) {
  // One chunk with a Fletcher32 checksum (a contiguous dataset has none): a damaged byte in
  // /stats or /meta/time is an error, not a wrong number.
  Handle ds = create_dataset(loc, name, {type, {n}, n > 0 ? std::vector<hsize_t>{n} : std::vector<hsize_t>{}, n > 0});
  write_rows(f, ds.id(), type, 0, writer ? n : 0, data);
}

void write_strings(const File& f, hid_t loc, const std::string& name,
                   const std::vector<std::string>& values, bool writer) {
  size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  Handle type(TS_CHECK_H5(H5Tcopy(H5T_C_S1)), H5Tclose);
  TS_CHECK_H5(H5Tset_size(type.id(), width));
  TS_CHECK_H5(H5Tset_strpad(type.id(), H5T_STR_NULLPAD));
  std::vector<char> packed(values.size() * width, '\0');
  for (size_t i = 0; i < values.size(); ++i)
    std::memcpy(packed.data() + i * width, values[i].data(), values[i].size());
  Handle ds = create_dataset(loc, name, {type.id(), {values.size()}, {}, false});
  write_rows(f, ds.id(), type.id(), 0, writer ? values.size() : 0, packed.data());
}

std::vector<std::string> read_strings(hid_t loc, const std::string& name) {
  Handle ds = open_dataset(loc, name);
  Handle type(TS_READ_H5(ds.id(), H5Dget_type(ds.id())), H5Tclose);
  TS_REQUIRE_INPUT(H5Tget_class(type.id()) == H5T_STRING && H5Tis_variable_str(type.id()) == 0,
                   "{}: {}: not a fixed-length string dataset", file_name(ds.id()), name);
  const size_t width = H5Tget_size(type.id());
  const std::vector<hsize_t> dims = dataset_dims(ds.id());
  TS_REQUIRE_INPUT(dims.size() == 1, "{}: {}: {} dimensions, expected 1", file_name(ds.id()), name, dims.size());
  const hsize_t n = dims[0];
  require_stored(ds.id(), n, width);
  std::vector<char> packed(n * width);
  if (n > 0) TS_READ_H5(ds.id(), H5Dread(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, packed.data()));
  std::vector<std::string> out(n);
  for (hsize_t i = 0; i < n; ++i) {
    const char* p = packed.data() + i * width;
    out[i].assign(p, strnlen(p, width));
  }
  return out;
}

namespace {

void write_attr(hid_t loc, const std::string& name, hid_t type, hid_t space, const void* data) {
  if (H5Aexists(loc, name.c_str()) > 0) TS_CHECK_H5(H5Adelete(loc, name.c_str()));
  Handle attr(TS_CHECK_H5(H5Acreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT)),
              H5Aclose);
  TS_CHECK_H5(H5Awrite(attr.id(), type, data));
}

Handle open_attr(hid_t loc, const std::string& name) {
  TS_REQUIRE_INPUT(H5Aexists(loc, name.c_str()) > 0, "attribute '{}' missing in the store", name);
  return Handle(TS_READ_H5(loc, H5Aopen(loc, name.c_str(), H5P_DEFAULT)), H5Aclose);
}

}  // namespace

void set_attr(hid_t loc, const std::string& name, const std::string& value) {
  Handle type = vlen_string_type();
  Handle space(TS_CHECK_H5(H5Screate(H5S_SCALAR)), H5Sclose);
  const char* p = value.c_str();
  write_attr(loc, name, type.id(), space.id(), &p);
}

void set_attr(hid_t loc, const std::string& name, int64_t value) {
  Handle space(TS_CHECK_H5(H5Screate(H5S_SCALAR)), H5Sclose);
  write_attr(loc, name, H5T_NATIVE_INT64, space.id(), &value);
}

void set_attr(hid_t loc, const std::string& name, double value) {
  Handle space(TS_CHECK_H5(H5Screate(H5S_SCALAR)), H5Sclose);
  write_attr(loc, name, H5T_NATIVE_DOUBLE, space.id(), &value);
}

void set_attr(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
  Handle type = vlen_string_type();
  Handle space = make_space({values.size()});
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  write_attr(loc, name, type.id(), space.id(), ptrs.data());
}

bool has_attr(hid_t loc, const std::string& name) { return H5Aexists(loc, name.c_str()) > 0; }

std::vector<std::string> get_attr_strings(hid_t loc, const std::string& name) {
  Handle attr = open_attr(loc, name);
  Handle space(TS_READ_H5(loc, H5Aget_space(attr.id())), H5Sclose);
  const hssize_t n = TS_READ_H5(loc, H5Sget_simple_extent_npoints(space.id()));
  Handle type = vlen_string_type();
  std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
  TS_READ_H5(loc, H5Aread(attr.id(), type.id(), ptrs.data()));
  std::vector<std::string> out;
  for (char* p : ptrs) out.emplace_back(p ? p : "");
#if H5_VERSION_GE(1, 12, 0)
  TS_CHECK_H5(H5Treclaim(type.id(), space.id(), H5P_DEFAULT, ptrs.data()));
#else
  TS_CHECK_H5(H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, ptrs.data()));
#endif
  return out;
}

std::string get_attr_string(hid_t loc, const std::string& name) {
  auto v = get_attr_strings(loc, name);
  TS_REQUIRE_INPUT(v.size() == 1, "attribute '{}' is not a single string", name);
  return v[0];
}

int64_t get_attr_int(hid_t loc, const std::string& name) {
  Handle attr = open_attr(loc, name);
  int64_t v = 0;
  TS_READ_H5(loc, H5Aread(attr.id(), H5T_NATIVE_INT64, &v));
  return v;
}

double get_attr_double(hid_t loc, const std::string& name) {
  Handle attr = open_attr(loc, name);
  double v = 0;
  TS_READ_H5(loc, H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v));
  return v;
}

std::vector<std::string> attr_names(hid_t loc) {
#if H5_VERSION_GE(1, 12, 0)
  H5O_info2_t info;
  TS_READ_H5(loc, H5Oget_info3(loc, &info, H5O_INFO_NUM_ATTRS));
#else
  H5O_info_t info;
  TS_READ_H5(loc, H5Oget_info2(loc, &info, H5O_INFO_NUM_ATTRS));
#endif
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    char buf[256] = {0};
    TS_READ_H5(loc, H5Aget_name_by_idx(loc, ".", H5_INDEX_NAME, H5_ITER_INC, i, buf, sizeof(buf) - 1,
                                       H5P_DEFAULT));
    names.emplace_back(buf);
  }
  return names;
}

}  // namespace tickstream::h5
