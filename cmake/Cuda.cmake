# TICKSTREAM_CUDA=AUTO|ON|OFF decides whether the CUDA kernels (kernels/), the NCCL backend and the
# CUDA paths of training and prediction are built. It needs three things: nvcc, NCCL, and a
# libtorch built with CUDA of the same major version as the toolkit. ON fails configure naming
# what is missing; AUTO builds CUDA when all three are there and says what it chose and why; OFF
# builds for the CPU. Runs after TorchLocate (which tells where the torch wheel and its NCCL are)
# and before Torch (whose CUDA code must see the same toolkit and architectures).
set(TICKSTREAM_CUDA_ROOT "/usr/local/cuda" CACHE PATH "CUDA toolkit searched for nvcc after CUDA_HOME and PATH")
set(TICKSTREAM_ENABLE_CUDA OFF)
set(TICKSTREAM_CUDA_WHY "")   # why CUDA is off, or what it was built with

# Records that CUDA cannot be built: fatal under ON, a note under AUTO.
macro(_ts_cuda_missing)
  string(JOIN "" _ts_what ${ARGN})
  if(TICKSTREAM_CUDA STREQUAL "ON")
    message(FATAL_ERROR "tickstream: TICKSTREAM_CUDA=ON but ${_ts_what}. Install it, or configure with "
                        "-DTICKSTREAM_CUDA=AUTO (CUDA when everything is found) or OFF (CPU only).")
  endif()
  if(NOT TICKSTREAM_CUDA_WHY)
    set(TICKSTREAM_CUDA_WHY "${_ts_what}")
  endif()
endmacro()

function(_ts_nccl_version header out)
  file(STRINGS "${header}" _defs REGEX "^#define NCCL_(MAJOR|MINOR|PATCH) +[0-9]+")
  set(_v "")
  foreach(_part MAJOR MINOR PATCH)
    string(REGEX MATCH "NCCL_${_part} +([0-9]+)" _m "${_defs}")
    list(APPEND _v "${CMAKE_MATCH_1}")
  endforeach()
  list(JOIN _v "." _v)
  set(${out} "${_v}" PARENT_SCOPE)
endfunction()

# NCCL: the torch wheel's (nvidia-nccl-cu13: include/nccl.h and lib/libnccl.so.2 only; libtorch_cuda
# needs its symbols, the toolkit's older NCCL does not link with it), then NCCL_HOME, the toolkit.
function(_ts_find_nccl)
  set(_hints "")
  if(TICKSTREAM_TORCH_PACKAGE_DIR)
    list(APPEND _hints "${TICKSTREAM_TORCH_PACKAGE_DIR}/../nvidia/nccl")
  endif()
  list(APPEND _hints $ENV{NCCL_HOME} ${CUDAToolkit_LIBRARY_ROOT} ${TICKSTREAM_CUDA_ROOT})
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${_hints} PATH_SUFFIXES include NO_DEFAULT_PATH)
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 NAMES_PER_DIR HINTS ${_hints} PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
endfunction()

if(NOT TICKSTREAM_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER)
    find_program(_ts_nvcc nvcc HINTS ENV CUDA_HOME PATHS ENV PATH "${TICKSTREAM_CUDA_ROOT}" PATH_SUFFIXES bin
                 NO_DEFAULT_PATH NO_CACHE)
    if(_ts_nvcc)
      set(CMAKE_CUDA_COMPILER ${_ts_nvcc})
    endif()
  endif()
  if(NOT CMAKE_CUDA_COMPILER)
    _ts_cuda_missing("nvcc was not found (looked in CUDA_HOME, PATH and ${TICKSTREAM_CUDA_ROOT}/bin)")
  elseif(TICKSTREAM_TORCH_PACKAGE_DIR AND NOT TICKSTREAM_TORCH_CUDA)
    _ts_cuda_missing("the libtorch in ${TICKSTREAM_TORCH_PACKAGE_DIR} is a CPU-only build")
  else()
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)  # A100, H100/H200
    endif()
    set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)  # one CUDA runtime, the shared one torch uses
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    get_filename_component(CUDA_TOOLKIT_ROOT_DIR "${CUDAToolkit_BIN_DIR}" DIRECTORY)  # for Torch's FindCUDA
    _ts_find_nccl()
    string(REGEX MATCH "^[0-9]+" _ts_torch_cuda_major "${TICKSTREAM_TORCH_CUDA}")
    if(TICKSTREAM_TORCH_CUDA AND NOT _ts_torch_cuda_major STREQUAL CUDAToolkit_VERSION_MAJOR)
      _ts_cuda_missing("libtorch is built for CUDA ${TICKSTREAM_TORCH_CUDA} and the toolkit at "
                       "${CUDA_TOOLKIT_ROOT_DIR} is CUDA ${CUDAToolkit_VERSION} (one major version throughout)")
    elseif(NOT NCCL_INCLUDE_DIR OR NOT NCCL_LIBRARY)
      _ts_cuda_missing("NCCL was not found (nccl.h and libnccl.so[.2] in the torch wheel's nvidia/nccl, NCCL_HOME or the toolkit)")
    else()
      _ts_nccl_version("${NCCL_INCLUDE_DIR}/nccl.h" TICKSTREAM_NCCL_VERSION)
      set(TICKSTREAM_ENABLE_CUDA ON)
      string(JOIN " " TICKSTREAM_CUDA_WHY "nvcc ${CMAKE_CUDA_COMPILER_VERSION}, NCCL"
             "${TICKSTREAM_NCCL_VERSION} (${NCCL_LIBRARY}), architectures ${CMAKE_CUDA_ARCHITECTURES}")
      add_library(tickstream_nccl INTERFACE)
      target_include_directories(tickstream_nccl SYSTEM INTERFACE ${NCCL_INCLUDE_DIR})
      target_link_libraries(tickstream_nccl INTERFACE ${NCCL_LIBRARY} CUDA::cudart)
    endif()
  endif()
else()
  set(TICKSTREAM_CUDA_WHY "TICKSTREAM_CUDA=OFF")
endif()
