// RAII wrappers over the HDF5 C API; every failing call throws with the HDF5 error stack.
#include "store/h5.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <exception>
#include <fstream>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "runtime/parallel_io.hpp"
#include "store/file_util.hpp"

namespace tickstream::h5 {

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = std::exchange(o.id_, -1);
    closer_ = o.closer_;
    collective_ = o.collective_;
  }
  return *this;
}

void Handle::reset() {
  const bool unwinding = std::uncaught_exceptions() > 0;
  if (id_ >= 0 && closer_ && !(collective_ && unwinding)) closer_(id_);
  id_ = -1;
}

bool in_parallel_file(hid_t loc) {
  const hid_t file = H5Iget_file_id(loc);
  if (file < 0) return false;
  const hid_t fapl = H5Fget_access_plist(file);
  const bool mpio = fapl >= 0 && H5Pget_driver(fapl) == H5FD_MPIO;
  if (fapl >= 0) H5Pclose(fapl);
  H5Fclose(file);  // drops the extra reference only
  return mpio;
}

int64_t open_file_count() {
  const ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
  return n < 0 ? 0 : static_cast<int64_t>(n);
}

void silence_error_printing() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

namespace {

// A one-rank communicator needs no MPI-IO: the sec2 driver is faster and byte-identical.
comm::Communicator* effective_comm(comm::Communicator* comm) {
  return comm != nullptr && comm->size() > 1 ? comm : nullptr;
}

Handle make_fapl(const comm::Communicator* comm) {
  Handle fapl(TS_CHECK_H5(H5Pcreate(H5P_FILE_ACCESS)), H5Pclose);
  if (comm != nullptr) {
    runtime::set_mpio_file_access(fapl.id(), *comm);
    TS_CHECK_H5(H5Pset_all_coll_metadata_ops(fapl.id(), true));
    TS_CHECK_H5(H5Pset_coll_metadata_write(fapl.id(), true));
  }
  TS_CHECK_H5(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_V18, H5F_LIBVER_LATEST));
  return fapl;
}

Handle make_xfer() {
  Handle xfer(TS_CHECK_H5(H5Pcreate(H5P_DATASET_XFER)), H5Pclose);
  TS_CHECK_H5(H5Pset_dxpl_mpio(xfer.id(), H5FD_MPIO_COLLECTIVE));
  // Collective at the HDF5 level (required for filtered datasets), independent MPI-IO below it:
  // ranks write whole chunks of their own, so two-phase aggregation would only copy data around.
  TS_CHECK_H5(H5Pset_dxpl_mpio_collective_opt(xfer.id(), H5FD_MPIO_INDIVIDUAL_IO));
  return xfer;
}

}  // namespace

File::File(Handle h, bool parallel) : handle_(std::move(h)), parallel_(parallel) {
  if (parallel_) xfer_ = make_xfer();
}

namespace {
// The number of background HDF5 readers alive in this process: process-wide by nature, because
// HDF5's own state is (see BackgroundReaderScope).
std::atomic<int>& background_readers() {
  static std::atomic<int> count{0};
  return count;
}

void require_no_background_reader(const std::string& path) {
  TS_CHECK(background_readers().load() == 0,
           "{}: opening an HDF5 file while a chunk loader thread reads another (HDF5 is not thread-safe "
           "here): destroy the loader (its batch source) first", path);
}
}  // namespace

BackgroundReaderScope::BackgroundReaderScope() { ++background_readers(); }
BackgroundReaderScope::~BackgroundReaderScope() { --background_readers(); }
int BackgroundReaderScope::active() { return background_readers().load(); }

File File::create(const std::string& path, comm::Communicator* comm) {
  require_no_background_reader(path);
  silence_error_printing();
  comm = effective_comm(comm);
  Handle fapl = make_fapl(comm);
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id());
  const int err = errno;
  if (id < 0) H5Eclear2(H5E_DEFAULT);
  if (id < 0 && is_out_of_space(err))
    throw OutOfSpaceError(fmt::format("{}: cannot create HDF5 file: {}", path, out_of_space_reason(path)), __FILE__,
                          __LINE__);
  TS_REQUIRE_INPUT(id >= 0, "{}: cannot create HDF5 file (check the directory exists and is writable)",
                   path);
  return File(Handle(id, H5Fclose, comm != nullptr), comm != nullptr);
}

namespace {
constexpr const char* kNotHdf5 = "{}: cannot open as an HDF5 file (missing, unreadable or not HDF5)";
}  // namespace

void require_checksummed_superblock(const std::string& path) {
  constexpr std::string_view kSignature("\x89HDF\r\n\x1a\n", 8);
  std::ifstream in(path, std::ios::binary);
  if (!in) return;  // missing or unreadable: H5Fopen says so
  char head[9] = {};
  in.read(head, sizeof(head));
  // At offset 0 only: HDF5 would also search 512, 1024, ... (a user block), which File::create never writes.
  TS_REQUIRE_INPUT(in.gcount() == 9 && std::string_view(head, 8) == kSignature, kNotHdf5, path);
  const int version = static_cast<unsigned char>(head[8]);
  TS_REQUIRE_INPUT(version >= 2,
                   "{}: HDF5 superblock version {}: tickstream opens files with superblock version 2 or later "
                   "(checksummed metadata, as it writes them: HDF5 library versions 1.8 .. latest)",
                   path, version);
}

File File::open(const std::string& path, bool writable, comm::Communicator* comm) {
  require_no_background_reader(path);
  require_checksummed_superblock(path);
  silence_error_printing();
  comm = effective_comm(comm);
  Handle fapl = make_fapl(comm);
  hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.id());
  if (id < 0) H5Eclear2(H5E_DEFAULT);
  TS_REQUIRE_INPUT(id >= 0, kNotHdf5, path);
  return File(Handle(id, H5Fclose, comm != nullptr), comm != nullptr);
}

void File::close() {
  xfer_.reset();
  if (handle_.valid()) TS_CHECK_H5(H5Fclose(handle_.release()));
}

Handle make_space(const std::vector<hsize_t>& dims) {
  return Handle(TS_CHECK_H5(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr)),
                H5Sclose);
}

bool is_hdf5_file(const std::string& path) {
  silence_error_printing();
#if H5_VERSION_GE(1, 12, 0)
  const htri_t ok = H5Fis_accessible(path.c_str(), H5P_DEFAULT);
#else
  const htri_t ok = H5Fis_hdf5(path.c_str());
#endif
  if (ok < 0) H5Eclear2(H5E_DEFAULT);
  return ok > 0;
}

bool exists(hid_t loc, const std::string& path) {
  size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

void remove_if_exists(hid_t loc, const std::string& name) {
  if (exists(loc, name)) TS_CHECK_H5(H5Ldelete(loc, name.c_str(), H5P_DEFAULT));
}

Handle create_group(hid_t loc, const std::string& name) {
  return Handle(TS_CHECK_H5(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)),
                H5Gclose, in_parallel_file(loc));
}

Handle open_group(hid_t loc, const std::string& name) {
  return Handle(TS_READ_H5(loc, H5Gopen2(loc, name.c_str(), H5P_DEFAULT)), H5Gclose, in_parallel_file(loc));
}

Handle create_dataset(hid_t loc, const std::string& name, const DatasetSpec& spec) {
  Handle space = make_space(spec.dims);
  Handle dcpl(TS_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE)), H5Pclose);
  if (!spec.chunk.empty()) {
    std::vector<hsize_t> chunk(spec.chunk);
    for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = std::max<hsize_t>(1, std::min(chunk[i], spec.dims[i]));
    TS_CHECK_H5(H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data()));
    if (spec.fletcher32) TS_CHECK_H5(H5Pset_fletcher32(dcpl.id()));
    // Parallel HDF5 defaults to early allocation, which writes every filtered chunk once at
    // creation; incremental allocation lets the collective write allocate each chunk once.
    TS_CHECK_H5(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_INCR));
  }
  TS_CHECK_H5(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER));
  return Handle(TS_CHECK_H5(H5Dcreate2(loc, name.c_str(), spec.type, space.id(), H5P_DEFAULT,
                                       dcpl.id(), H5P_DEFAULT)),
                H5Dclose, in_parallel_file(loc));
}

Handle open_dataset(hid_t loc, const std::string& name) {
  hid_t id = H5Dopen2(loc, name.c_str(), H5P_DEFAULT);
  if (id < 0) H5Eclear2(H5E_DEFAULT);
  TS_REQUIRE_INPUT(id >= 0, "{}: dataset '{}' not found in the store", file_name(loc), name);
  return Handle(id, H5Dclose, in_parallel_file(loc));
}

Handle open_dataset_with_cache(hid_t loc, const std::string& name, size_t nbytes, size_t nslots) {
  Handle dapl(TS_CHECK_H5(H5Pcreate(H5P_DATASET_ACCESS)), H5Pclose);
  TS_CHECK_H5(H5Pset_chunk_cache(dapl.id(), nslots, nbytes, 1.0));
  hid_t id = H5Dopen2(loc, name.c_str(), dapl.id());
  if (id < 0) H5Eclear2(H5E_DEFAULT);
  TS_REQUIRE_INPUT(id >= 0, "{}: dataset '{}' not found in the store", file_name(loc), name);
  return Handle(id, H5Dclose, in_parallel_file(loc));
}

std::vector<hsize_t> dataset_dims(hid_t dataset) {
  Handle space(TS_READ_H5(dataset, H5Dget_space(dataset)), H5Sclose);
  const int rank = TS_READ_H5(dataset, H5Sget_simple_extent_ndims(space.id()));
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  TS_READ_H5(dataset, H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr));
  return dims;
}

std::vector<hsize_t> dataset_chunk(hid_t dataset) {
  Handle dcpl(TS_READ_H5(dataset, H5Dget_create_plist(dataset)), H5Pclose);
  if (H5Pget_layout(dcpl.id()) != H5D_CHUNKED) return {};
  std::vector<hsize_t> chunk(H5S_MAX_RANK);
  const int rank = TS_READ_H5(dataset, H5Pget_chunk(dcpl.id(), H5S_MAX_RANK, chunk.data()));
  chunk.resize(static_cast<size_t>(rank));
  return chunk;
}

void require_stored(hid_t dataset, hsize_t elements, size_t element_size) {
  const hsize_t stored = H5Dget_storage_size(dataset);
  TS_REQUIRE_INPUT(element_size > 0 && elements <= stored / element_size,
                   "{}: {}: {} values of {} bytes declared, {} bytes stored: the file is truncated or damaged",
                   file_name(dataset), object_name(dataset), elements, element_size, stored);
}

std::string object_name(hid_t id) {
  char name[512] = {0};
  H5Iget_name(id, name, sizeof(name));
  return name;
}

std::string file_name(hid_t id) {
  char name[1024] = {0};
  H5Fget_name(id, name, sizeof(name));
  return name;
}

bool dataset_has_fletcher32(hid_t dataset) {
  Handle dcpl(TS_READ_H5(dataset, H5Dget_create_plist(dataset)), H5Pclose);
  const int filters = TS_READ_H5(dataset, H5Pget_nfilters(dcpl.id()));
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0;
    size_t nelmts = 0;
    const H5Z_filter_t id =
        H5Pget_filter2(dcpl.id(), static_cast<unsigned>(i), &flags, &nelmts, nullptr, 0, nullptr, nullptr);
    if (id == H5Z_FILTER_FLETCHER32) return true;
  }
  return false;
}

}  // namespace tickstream::h5

namespace tickstream::detail {
namespace {
herr_t collect_h5_frame(unsigned n, const H5E_error2_t* err, void* out) {
  auto* text = static_cast<std::string*>(out);
  *text += fmt::format("\n  #{} {}(): {}", n, err->func_name ? err->func_name : "?",
                       err->desc ? err->desc : "");
  return 0;
}
}  // namespace

std::string take_h5_stack() {
  std::string stack;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_h5_frame, &stack);
  H5Eclear2(H5E_DEFAULT);
  return stack;
}

// A write that failed for want of space: errno says so (sec2 and MPI-IO drivers both leave it), or
// the sec2 driver's message does.
bool out_of_space(int err, const std::string& stack) {
  return is_out_of_space(err) || stack.find("errno = 28,") != std::string::npos ||
         stack.find("errno = 122,") != std::string::npos;
}

void throw_h5(const char* expr, const char* file, int line) {
  const int err = errno;
  const std::string stack = take_h5_stack();
  // No HDF5 call may follow here: HDF5 1.10 crashes querying a file whose flush just failed.
  if (out_of_space(err, stack))
    throw OutOfSpaceError(fmt::format("HDF5 {} failed for want of space{}", expr, stack), file, line);
  throw InternalError(fmt::format("HDF5 call failed: {}{}", expr, stack), file, line);
}

void throw_h5_read(hid_t loc, const std::string& what, const std::string& h5_stack, const char* file, int line) {
  throw InputError(fmt::format("{}: {}: HDF5 cannot read it (the file is damaged, or tickstream did not write it): "
                               "{}{}", h5::file_name(loc), h5::object_name(loc), what, h5_stack),
                   file, line);
}

}  // namespace tickstream::detail
