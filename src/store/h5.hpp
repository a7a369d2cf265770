// RAII wrappers over the HDF5 C API: handles, files (serial or MPI-IO), datasets, attributes.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "comm/communicator.hpp"

namespace tickstream::h5 {

// Owns one hid_t and closes it with the matching H5*close function. Move-only.
// Handles of objects in an MPI-IO file are `collective`: closing them is a collective call, so
// during exception unwinding they are left open instead (the rank is about to abort the job, and
// a collective close that the other ranks never enter would hang it).
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer, bool collective = false)
      : id_(id), closer_(closer), collective_(collective) {}
  Handle(Handle&& o) noexcept
      : id_(std::exchange(o.id_, -1)), closer_(o.closer_), collective_(o.collective_) {}
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  hid_t release() { return std::exchange(id_, -1); }  // caller closes it

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
  bool collective_ = false;
};

// True when `loc` (a file, group or dataset) lives in a file opened with MPI-IO.
bool in_parallel_file(hid_t loc);

// The HDF5 files this process still has open (any handle). After a failed command, one left open is
// one whose write failed (an unwinding collective handle is not closed, see Handle::reset; a file
// whose flush failed for want of space cannot be closed): HDF5 1.10's teardown at MPI_Finalize
// crashes on it (H5F__close_cb), so main ends such a process without that teardown.
int64_t open_file_count();

// Turns HDF5's automatic error printing off (errors become exceptions instead). Idempotent.
void silence_error_printing();

// Debian's HDF5 is built without thread safety: while a background thread reads a store (the
// chunk loader), no other thread may call HDF5. The loader registers its thread here for its
// lifetime, and File::create/open refuse (InternalError) while one is registered, so a misuse
// fails with a message instead of corrupting HDF5's heap.
class BackgroundReaderScope {
 public:
  BackgroundReaderScope();
  ~BackgroundReaderScope();
  BackgroundReaderScope(const BackgroundReaderScope&) = delete;
  BackgroundReaderScope& operator=(const BackgroundReaderScope&) = delete;
  static int active();
};

// An open file. Without a communicator (or with a one-rank one) it is opened serially; otherwise
// collectively with MPI-IO over the communicator's ranks, and row writes/reads through this File
// are collective.
class File {
 public:
  static File create(const std::string& path, comm::Communicator* comm = nullptr);
  static File open(const std::string& path, bool writable, comm::Communicator* comm = nullptr);
  hid_t id() const { return handle_.id(); }
  bool parallel() const { return parallel_; }
  // Transfer property list: collective MPI-IO for parallel files, default otherwise.
  hid_t xfer() const { return xfer_.valid() ? xfer_.id() : H5P_DEFAULT; }
  void close();

 private:
  File(Handle h, bool parallel);
  Handle handle_;
  Handle xfer_;
  bool parallel_ = false;
};

// A simple dataspace of the given dims.
Handle make_space(const std::vector<hsize_t>& dims);

// Before HDF5 parses a file: InputError unless it starts with HDF5's signature and a superblock of
// version 2 or later (what File::create writes: library-version bounds 1.8 .. latest). Those
// superblocks, and the version-2 object headers that come with them, carry checksums, so a damaged
// or foreign file is refused instead of being decoded by HDF5's unchecked older-format code.
void require_checksummed_superblock(const std::string& path);

// The file name and the object path of `id`, for messages.
std::string file_name(hid_t id);
std::string object_name(hid_t id);

// InputError naming the file and dataset unless `dataset` stores at least `elements` values of
// `element_size` bytes: dimensions that a damaged file declares are not trusted for an allocation.
void require_stored(hid_t dataset, hsize_t elements, size_t element_size);

// True when `path` is a readable HDF5 file (rank-local: no MPI-IO, no collective).
bool is_hdf5_file(const std::string& path);

bool exists(hid_t loc, const std::string& path);
// Removes the link `name` (a group or dataset) when it exists; collective on parallel files.
void remove_if_exists(hid_t loc, const std::string& name);
Handle create_group(hid_t loc, const std::string& name);
Handle open_group(hid_t loc, const std::string& name);

struct DatasetSpec {
  hid_t type = -1;               // e.g. H5T_NATIVE_DOUBLE
  std::vector<hsize_t> dims;     // full shape
  std::vector<hsize_t> chunk;    // chunk shape (clamped to dims); empty = contiguous
  bool fletcher32 = true;
};
Handle create_dataset(hid_t loc, const std::string& name, const DatasetSpec& spec);
Handle open_dataset(hid_t loc, const std::string& name);
// As open_dataset, with the dataset's own chunk cache: `nbytes` bytes in `nslots` hash slots (a
// prime, ~10x the chunks it should hold), w0 = 1 (fully read chunks are evicted first).
Handle open_dataset_with_cache(hid_t loc, const std::string& name, size_t nbytes, size_t nslots);
std::vector<hsize_t> dataset_dims(hid_t dataset);
std::vector<hsize_t> dataset_chunk(hid_t dataset);  // empty when contiguous
bool dataset_has_fletcher32(hid_t dataset);
// After a failed read of [start, start + count) of `dataset` with HDF5 error stack `h5_stack`: when
// a chunk failed its Fletcher32 checksum, throws InputError naming the file, the dataset and the
// chunk (found by reading the selection's chunks one by one); otherwise returns.
void throw_if_corrupt(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start,
                      const std::vector<hsize_t>& count, const std::string& h5_stack);
// Every dataset of a file, as absolute paths.
std::vector<std::string> dataset_paths(hid_t file);
// The origins of the chunks of `dataset` that cannot be read (their checksum); empty when contiguous.
std::vector<std::vector<hsize_t>> corrupt_chunks(hid_t dataset);

// Writes/reads rows [row_begin, row_begin + rows) along dimension 0 (all of the other dims).
// Collective on parallel files: every rank calls, possibly with rows == 0.
void write_rows(const File& f, hid_t dataset, hid_t mem_type, hsize_t row_begin, hsize_t rows,
                const void* data);
void read_rows(const File& f, hid_t dataset, hid_t mem_type, hsize_t row_begin, hsize_t rows,
               void* data);
// Reads a hyperslab [start, start+count) of any rank.
void read_slab(const File& f, hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start,
               const std::vector<hsize_t>& count, void* data);

// Fixed-length (NULLPAD) string dataset of `values` (h5py reads it as bytes). Collective: every
// rank passes the same values; rank 0 of the file's communicator writes.
void write_strings(const File& f, hid_t loc, const std::string& name,
                   const std::vector<std::string>& values, bool writer);
std::vector<std::string> read_strings(hid_t loc, const std::string& name);

// 1-D dataset written by one rank (`writer`), collective on parallel files.
void write_vector(const File& f, hid_t loc, const std::string& name, hid_t type,
                  const void* data, hsize_t n, bool writer);

// Attributes (all ranks pass identical values on parallel files).
void set_attr(hid_t loc, const std::string& name, const std::string& value);
void set_attr(hid_t loc, const std::string& name, int64_t value);
void set_attr(hid_t loc, const std::string& name, double value);
void set_attr(hid_t loc, const std::string& name, const std::vector<std::string>& values);
bool has_attr(hid_t loc, const std::string& name);
std::string get_attr_string(hid_t loc, const std::string& name);
int64_t get_attr_int(hid_t loc, const std::string& name);
double get_attr_double(hid_t loc, const std::string& name);
std::vector<std::string> get_attr_strings(hid_t loc, const std::string& name);
std::vector<std::string> attr_names(hid_t loc);

}  // namespace tickstream::h5

namespace tickstream::detail {
[[noreturn]] void throw_h5(const char* expr, const char* file, int line);
// A read of `loc`'s file that HDF5 cannot do: the content is damaged or not what tickstream writes,
// so InputError naming the file and object, with HDF5's error stack `h5_stack`.
[[noreturn]] void throw_h5_read(hid_t loc, const std::string& what, const std::string& h5_stack, const char* file,
                                int line);
// HDF5's error stack, one line per frame, and clears it.
std::string take_h5_stack();
}  // namespace tickstream::detail

// HDF5 calls return a negative herr_t/hid_t on failure; the message carries the error stack.
#define TS_CHECK_H5(call)                                                           \
  ([&]() {                                                                          \
    auto ts_h5_rc_ = (call);                                                        \
    if (ts_h5_rc_ < 0) ::tickstream::detail::throw_h5(#call, __FILE__, __LINE__);   \
    return ts_h5_rc_;                                                               \
  }())

// The same for calls that read what a file holds (metadata, attributes, data): a failure is bad
// input (InputError naming the file), not an internal error.
#define TS_READ_H5(loc, call)                                                                    \
  ([&]() {                                                                                       \
    auto ts_h5_rc_ = (call);                                                                     \
    if (ts_h5_rc_ < 0)                                                                           \
      ::tickstream::detail::throw_h5_read(loc, #call, ::tickstream::detail::take_h5_stack(),     \
                                          __FILE__, __LINE__);                                   \
    return ts_h5_rc_;                                                                            \
  }())
