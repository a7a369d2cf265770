#!/usr/bin/env bash
# The sanitizer step of tests/run.sh (issue 20): builds the asan preset (Debug, AddressSanitizer +
# UBSan, CPU only) into build/asan and runs the unit and MPI tests under it. Any sanitizer report fails
# the test that printed it (halt_on_error; UBSan reports are errors too). Leak suppressions are for
# third-party code only: tests/asan/lsan.supp says why each is there. Arguments go to ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$ROOT/launch/build.sh" asan
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI keeps its components loaded so that leak stacks through them can be named and suppressed
# (a dlclose'd component prints as "<unknown module>"); the slow unwinder follows frames through
# libraries built without frame pointers (MPI's), which the fast one loses after two frames.
export OMPI_MCA_mca_base_component_disable_dlclose=1
export ASAN_OPTIONS="fast_unwind_on_malloc=0:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:halt_on_error=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/asan/lsan.supp:print_suppressions=0"
cd "$ROOT/build/asan"
# The layering checks are compile-only (no code of ours runs under the sanitizers): the release run has them.
ctest --output-on-failure --timeout 900 -j "$(nproc)" -L "unit|mpi" -E "^layering_" "$@"
