// Huge-page heap via glibc tunables: one re-exec before anything else runs.
#include "runtime/thp.hpp"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace tickstream {

void reexec_with_huge_pages(char** argv) {
  const char* opt = std::getenv("TICKSTREAM_THP");
  if (opt && std::strcmp(opt, "0") == 0) return;
  const char* current = std::getenv("GLIBC_TUNABLES");
  if (current && std::strstr(current, "glibc.malloc.hugetlb")) return;
  std::string tunables = current && *current ? std::string(current) + ":" : std::string();
  tunables += "glibc.malloc.hugetlb=1";
  if (setenv("GLIBC_TUNABLES", tunables.c_str(), 1) != 0) return;
  // The executable's real path, not /proc/self/exe: the kernel names the process after the file
  // exec'd, so every rank stays "tickstream" in ps, top and pgrep -x (not "exe").
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = '\0';
    execv(self, argv);
  }
  execv("/proc/self/exe", argv);
  // exec failed (no /proc?): carry on without huge pages.
}

}  // namespace tickstream
