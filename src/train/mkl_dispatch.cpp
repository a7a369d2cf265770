// oneMKL's vendor gate, answered for AMD CPUs with AVX2 (see the comment on the function).
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

// oneMKL, linked statically into the torch wheel's libtorch_cpu.so (its BLAS for every CPU matrix
// product), runs its AVX2 kernels only when this exported function says the CPU is Intel's; on
// AMD CPUs it takes a generic path. Measured on the AMD EPYC test VM, torch::mm float32 on one
// thread: 66-71 GFLOP/s with MKL's answer, 88.6 with this one (OpenBLAS: 90), and the bench's
// training and prediction follow the GEMM (bench/results/README.md). libtickstream_ml.so is
// searched before libtorch_cpu.so, so this definition is the one MKL calls. It says yes when the
// CPU has the instructions those kernels use (AVX2, FMA), and otherwise, or with
// TICKSTREAM_MKL_VENDOR_CHECK=1, returns MKL's own answer.
extern "C" __attribute__((visibility("default"))) int mkl_serv_intel_cpu_true() {
  static const int answer = [] {
    const char* keep = std::getenv("TICKSTREAM_MKL_VENDOR_CHECK");
    const bool mkl_decides = keep != nullptr && std::strcmp(keep, "1") == 0;
    if (!mkl_decides && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    using Fn = int (*)();
    const auto next = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "mkl_serv_intel_cpu_true"));
    return next != nullptr ? next() : 0;
  }();
  return answer;
}
