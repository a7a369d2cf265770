// Transparent huge pages for the heap: re-executes the program once with glibc.malloc.hugetlb=1.
#pragma once

namespace tickstream {

// Call first thing in main, before MPI_Init. Unless TICKSTREAM_THP=0 or GLIBC_TUNABLES already
// sets glibc.malloc.hugetlb, execs /proc/self/exe with the tunable added (glibc >= 2.35 then
// madvises its heap for huge pages: first touch of large arrays costs ~2x less). Returns only
// when no re-exec happened (or it failed).
void reexec_with_huge_pages(char** argv);

}  // namespace tickstream
