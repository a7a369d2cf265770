# Finds libtorch 2.x (after TorchLocate and Cuda), checks the supported range, and wraps it in
# tickstream_torch. The C++ standard becomes the one that libtorch asks for (17 or 20).
set(TICKSTREAM_TORCH_MIN 2.11)
set(TICKSTREAM_TORCH_MAX 2.13)  # the version launch/install-deps.sh pins

if(TICKSTREAM_ENABLE_CUDA)
  # Torch's CUDA CMake code ignores CMAKE_CUDA_ARCHITECTURES and defaults to architectures nvcc 13
  # rejects; give it the same list ("80;90" -> "8.0;9.0").
  set(_ts_arch_list "")
  foreach(_a IN LISTS CMAKE_CUDA_ARCHITECTURES)
    string(REGEX REPLACE "-(real|virtual)$" "" _a "${_a}")
    string(REGEX REPLACE "([0-9]+)([0-9])$" "\\1.\\2" _a "${_a}")
    list(APPEND _ts_arch_list "${_a}")
  endforeach()
  set(TORCH_CUDA_ARCH_LIST "${_ts_arch_list}")
else()
  # A CPU build on a CUDA wheel still runs Torch's CUDA CMake code, which otherwise probes the
  # installed GPUs with a try_run that fails on a reconfigure (empty CUDA_ARCHITECTURES).
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()

# Torch's CUDA code also warns about and turns OFF CMAKE_CUDA_ARCHITECTURES, which the project's own
# kernels use: hide it while Torch is found and put it back after.
set(_ts_archs "${CMAKE_CUDA_ARCHITECTURES}")
get_property(_ts_archs_cached CACHE CMAKE_CUDA_ARCHITECTURES PROPERTY VALUE)
unset(CMAKE_CUDA_ARCHITECTURES)
unset(CMAKE_CUDA_ARCHITECTURES CACHE)
find_package(Torch REQUIRED)
# The trap of a system libtorch (Debian's 1.13 in /usr/lib): the config found must link its own.
get_filename_component(_ts_torch_lib_dir "${TORCH_LIBRARY}" DIRECTORY)
get_filename_component(_ts_torch_lib_dir "${_ts_torch_lib_dir}" REALPATH)
get_filename_component(_ts_torch_prefix "${TORCH_INSTALL_PREFIX}" REALPATH)
if(NOT _ts_torch_lib_dir STREQUAL "${_ts_torch_prefix}/lib")
  message(FATAL_ERROR "tickstream: the libtorch config at ${Torch_DIR} resolved libtorch.so to "
                      "${TORCH_LIBRARY}, outside its own ${_ts_torch_prefix}/lib (another libtorch on the "
                      "system, e.g. Debian's libtorch-dev 1.13, shadows it): remove that one or pass -DTorch_DIR")
endif()
if(_ts_archs_cached)
  set(CMAKE_CUDA_ARCHITECTURES "${_ts_archs_cached}" CACHE STRING "CUDA architectures" FORCE)
endif()
if(_ts_archs)
  set(CMAKE_CUDA_ARCHITECTURES "${_ts_archs}")
endif()
if(Torch_VERSION VERSION_LESS TICKSTREAM_TORCH_MIN OR Torch_VERSION VERSION_GREATER "${TICKSTREAM_TORCH_MAX}.999")
  message(FATAL_ERROR "tickstream: libtorch ${Torch_VERSION} at ${Torch_DIR} is outside the supported "
                      "range ${TICKSTREAM_TORCH_MIN} to ${TICKSTREAM_TORCH_MAX}.x (launch/install-deps.sh "
                      "installs ${TICKSTREAM_TORCH_MAX}; point Torch_DIR at a supported libtorch)")
endif()

# The standard libtorch was built with (its torch target's CXX_STANDARD, 20 from 2.10 on): the
# project compiles with it (and builds with 17 for an older libtorch).
get_target_property(_ts_torch_std torch CXX_STANDARD)
set(TICKSTREAM_CXX_STANDARD 17)
if(_ts_torch_std AND _ts_torch_std GREATER 17)
  set(TICKSTREAM_CXX_STANDARD ${_ts_torch_std})
endif()
set(CMAKE_CXX_STANDARD ${TICKSTREAM_CXX_STANDARD})
set(CMAKE_CUDA_STANDARD 17)

# A libtorch given by Torch_DIR / CMAKE_PREFIX_PATH is checked here for CUDA (a wheel was checked
# in Cuda.cmake before it was found).
find_library(_ts_c10_cuda c10_cuda PATHS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH NO_CACHE)
if(TICKSTREAM_ENABLE_CUDA AND NOT _ts_c10_cuda)
  set(TICKSTREAM_ENABLE_CUDA OFF)
  _ts_cuda_missing("the libtorch at ${TORCH_INSTALL_PREFIX} has no c10_cuda (a CPU-only build)")
endif()
if(TICKSTREAM_ENABLE_CUDA)
  message(STATUS "tickstream: CUDA build ON (TICKSTREAM_CUDA=${TICKSTREAM_CUDA}): ${TICKSTREAM_CUDA_WHY}")
else()
  message(STATUS "tickstream: CUDA build OFF (TICKSTREAM_CUDA=${TICKSTREAM_CUDA}): ${TICKSTREAM_CUDA_WHY}")
endif()
message(STATUS "tickstream: libtorch ${Torch_VERSION} (${TORCH_INSTALL_PREFIX}), C++${TICKSTREAM_CXX_STANDARD}")

add_library(tickstream_torch INTERFACE)
target_link_libraries(tickstream_torch INTERFACE ${TORCH_LIBRARIES})
if(TARGET tickstream_nccl)  # libtorch_cuda needs the wheel's NCCL (cmake/Cuda.cmake found it)
  target_link_libraries(tickstream_torch INTERFACE tickstream_nccl)
elseif(TICKSTREAM_TORCH_PACKAGE_DIR AND EXISTS "${TICKSTREAM_TORCH_PACKAGE_DIR}/../nvidia/nccl/lib")
  # A CPU build on a CUDA wheel (presets cpu, asan): torch's CMake still links libtorch_cuda, whose
  # NCCL symbols the linker must resolve against the wheel's libnccl.so.2, not an older one it finds
  # first (the toolkit's). At run time libtorch_cuda's own RPATH finds the wheel's.
  get_filename_component(_ts_wheel_nccl "${TICKSTREAM_TORCH_PACKAGE_DIR}/../nvidia/nccl/lib" ABSOLUTE)
  target_link_options(tickstream_torch INTERFACE "LINKER:-rpath-link,${_ts_wheel_nccl}")
endif()
# The torch wheel ships fmt 12's headers in its include folder; spdlog and libfmt here are the
# system's (Debian: fmt 9, which spdlog 1.10 needs). A folder holding only a link to the system's
# fmt, searched before torch's, keeps every translation unit on the one fmt that is linked.
set(_ts_fmt_first "")
get_target_property(_ts_fmt_inc fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
list(GET _ts_fmt_inc 0 _ts_fmt_inc)
foreach(_inc IN LISTS TORCH_INCLUDE_DIRS)
  if(EXISTS "${_inc}/fmt/format.h" AND EXISTS "${_ts_fmt_inc}/fmt/format.h" AND NOT _ts_fmt_first)
    set(_ts_fmt_first "${PROJECT_BINARY_DIR}/generated/fmt-first")
    file(MAKE_DIRECTORY "${_ts_fmt_first}")
    file(CREATE_LINK "${_ts_fmt_inc}/fmt" "${_ts_fmt_first}/fmt" SYMBOLIC)
  endif()
endforeach()
target_include_directories(tickstream_torch SYSTEM INTERFACE ${_ts_fmt_first} ${TORCH_INCLUDE_DIRS})
separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(tickstream_torch INTERFACE $<$<COMPILE_LANGUAGE:CXX>:${_torch_flags}>)
if(TICKSTREAM_ENABLE_CUDA)
  target_link_libraries(tickstream_torch INTERFACE ${_ts_c10_cuda})
endif()

# src/core/build_info.hpp: what this binary is (tickstream version --json prints it).
set(TICKSTREAM_CUDA_BUILT false)
set(TICKSTREAM_CUDA_ARCHS "")
if(TICKSTREAM_ENABLE_CUDA)
  set(TICKSTREAM_CUDA_BUILT true)
  string(JOIN ";" TICKSTREAM_CUDA_ARCHS ${CMAKE_CUDA_ARCHITECTURES})
else()
  set(CUDAToolkit_VERSION "")
  set(TICKSTREAM_NCCL_VERSION "")
endif()
configure_file(${PROJECT_SOURCE_DIR}/src/core/build_info.hpp.in ${PROJECT_BINARY_DIR}/generated/core/build_info.hpp @ONLY)
