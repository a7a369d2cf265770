// Small whole-file writes done atomically (temp name + rename), for reports and exports.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace tickstream {

// A write that failed for want of space (ENOSPC, EDQUOT): bad input (the environment), exit 2.
// Thrown where the path is not known (an HDF5 call); AtomicOutput::write names the output.
class OutOfSpaceError : public InputError {
 public:
  using InputError::InputError;
};

// Writes `text` to `path` through a unique temp name, closed and checked before the rename; on
// any failure the temp file is removed and InputError names the path. `durable` also fsyncs the
// file before the rename and the directory after it (checkpoints).
void write_file_atomically(const std::string& path, const std::string& text, bool durable = false);

// True for the errno values of a full filesystem or an exhausted quota (ENOSPC, EDQUOT).
bool is_out_of_space(int err);

// The bytes an unprivileged writer may still write on the filesystem holding `path` (statvfs);
// the largest int64 when it cannot be told.
int64_t free_bytes(const std::string& path);

// "no space left on device (12 KiB free of 2 MiB on the filesystem holding DIR)" for `path`, the
// reason a write failed with is_out_of_space(errno); the free space is measured now (statvfs).
std::string out_of_space_reason(const std::string& path);

}  // namespace tickstream
