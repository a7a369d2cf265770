// AtomicOutput: a file written under a temporary name by all ranks and renamed on success.
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "comm/communicator.hpp"
#include "runtime/temp_files.hpp"

namespace tickstream {

// InputError unless `path` names a file in an existing directory (checked before long work).
void require_output_path(const std::string& path);

class AtomicOutput {
 public:
  // Collective. Checks the target directory exists; the temp name comes from rank 0.
  AtomicOutput(std::string final_path, comm::Communicator& comm);
  ~AtomicOutput();  // not committed: rank 0 (or any rank unwinding an exception) removes it
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& temp_path() const { return temp_; }
  const std::string& final_path() const { return final_; }
  // Collective: the temporary file starts as a copy of `source` (rank 0 copies), for an output that
  // rewrites a file; a copy that fails for want of space is an OutOfSpaceError.
  void copy_from(const std::string& source);
  // The same copy started on a host thread of rank 0 (not collective: the caller works
  // meanwhile); copy_from or finish_copy then waits for it and agrees on its outcome. An output
  // abandoned before (not committed) stops the copy within one 8 MiB piece.
  void start_copy_from(const std::string& source);
  // Collective: waits for a started copy; its failure ends every rank as copy_from's would.
  void finish_copy();
  // Runs `body`, the writing of temp_path(): a write that fails for want of space (OutOfSpaceError)
  // becomes an InputError naming the output and the space left on its filesystem.
  void write(const std::function<void()>& body);
  // Collective: after every rank closed the file, rank 0 renames it into place.
  void commit();

 private:
  // OutOfSpaceError naming the output and the space left where its temporary file is, then `detail`.
  [[noreturn]] void throw_out_of_space(const std::string& detail) const;

  std::string final_;
  std::string temp_;
  comm::Communicator& comm_;
  std::future<void> copy_;  // rank 0's copy in flight (start_copy_from)
  std::atomic<bool> cancel_copy_{false};  // set when the output is abandoned
  std::unique_ptr<TempFileGuard> guard_;  // removed if the job is terminated by a signal
  bool committed_ = false;
};

}  // namespace tickstream
