# Finds every third-party dependency and exposes them as imported targets.
find_package(Threads REQUIRED)
find_package(MPI REQUIRED COMPONENTS C)

set(HDF5_PREFER_PARALLEL ON)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "tickstream needs a parallel (MPI) HDF5; install libhdf5-openmpi-dev")
endif()
add_library(tickstream_hdf5 INTERFACE)
target_include_directories(tickstream_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS})
target_link_libraries(tickstream_hdf5 INTERFACE ${HDF5_C_LIBRARIES} MPI::MPI_C)
target_compile_definitions(tickstream_hdf5 INTERFACE ${HDF5_C_DEFINITIONS})

find_package(Kokkos REQUIRED)
include(KokkosFix)

find_package(fmt REQUIRED)  # spdlog's; Torch.cmake keeps it ahead of the torch wheel's fmt headers
include(TorchLocate)
include(Cuda)
include(Torch)
include(Arrow)  # Parquet input for ingest: a system Arrow or the pyarrow wheel (after TorchLocate: its python)

find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(FastFloat REQUIRED)
find_package(PostgreSQL REQUIRED)  # libpq, for the postgresql:// prediction sink

# Compressed CSV input (.gz, .zst), read streaming (src/store/byte_source.cpp).
find_package(ZLIB REQUIRED)
find_path(TICKSTREAM_ZSTD_INCLUDE_DIR zstd.h)
find_library(TICKSTREAM_ZSTD_LIBRARY zstd)
if(NOT TICKSTREAM_ZSTD_INCLUDE_DIR OR NOT TICKSTREAM_ZSTD_LIBRARY)
  message(FATAL_ERROR "tickstream needs libzstd for .csv.zst input: install libzstd-dev")
endif()
add_library(tickstream_zstd INTERFACE)
target_include_directories(tickstream_zstd SYSTEM INTERFACE ${TICKSTREAM_ZSTD_INCLUDE_DIR})
target_link_libraries(tickstream_zstd INTERFACE ${TICKSTREAM_ZSTD_LIBRARY})
