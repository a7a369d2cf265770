// Small whole-file writes done atomically (temp name + rename), for reports and exports.
#pragma once

#include <string>

namespace tickstream {

// Writes `text` to `path` through a unique temp name, closed and checked before the rename; on
// any failure the temp file is removed and InputError names the path. `durable` also fsyncs the
// file before the rename and the directory after it (checkpoints).
void write_file_atomically(const std::string& path, const std::string& text, bool durable = false);

}  // namespace tickstream
