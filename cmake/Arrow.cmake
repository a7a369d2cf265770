# Apache Arrow's C++ libraries (arrow, parquet) for Parquet input to `tickstream ingest`
# (src/store/parquet_reader.cpp; docs/build.md "Arrow (Parquet input)"). Looked for in order:
#  1. a system Arrow: find_package(Arrow CONFIG) + find_package(Parquet CONFIG) (Apache's apt
#     repository, conda; -DArrow_DIR=<prefix>/lib/cmake/Arrow or CMAKE_PREFIX_PATH);
#  2. else the pyarrow wheel of the project's Python (TICKSTREAM_PYTHON, .venv, then python3, as
#     TorchLocate.cmake looks for torch): Debian 12 packages no libarrow-dev, the wheel bundles
#     libarrow.so.<SO> and libparquet.so.<SO> with their headers (launch/install-deps.sh pins it).
# TICKSTREAM_PARQUET: AUTO builds without Parquet input when neither is found (the reader then
# throws "built without Parquet support"), ON makes that a configure error, OFF never looks.
# Result: the INTERFACE target tickstream_arrow (empty without Arrow) and TICKSTREAM_HAVE_PARQUET.
set(TICKSTREAM_PARQUET "AUTO" CACHE STRING "Parquet input for ingest through Apache Arrow C++: AUTO|ON|OFF")
set_property(CACHE TICKSTREAM_PARQUET PROPERTY STRINGS AUTO ON OFF)
if(NOT TICKSTREAM_PARQUET MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "tickstream: TICKSTREAM_PARQUET='${TICKSTREAM_PARQUET}' is not one of AUTO, ON, OFF")
endif()

# The reader uses the arrow::Result form of FileReader::GetRecordBatchReader, new in Arrow 19.
set(TICKSTREAM_ARROW_MIN 19)

add_library(tickstream_arrow INTERFACE)
set(_ts_arrow_found FALSE)
set(_ts_arrow_why "")

# 1. A system Arrow. Quiet: its absence is the common case on Debian 12.
function(_ts_arrow_from_config found why)
  find_package(Arrow CONFIG QUIET)
  if(NOT Arrow_FOUND)
    set(${why} "no ArrowConfig.cmake (Arrow_DIR / CMAKE_PREFIX_PATH)" PARENT_SCOPE)
    return()
  endif()
  if(Arrow_VERSION VERSION_LESS TICKSTREAM_ARROW_MIN)
    set(${why} "Arrow ${Arrow_VERSION} at ${Arrow_DIR} is older than ${TICKSTREAM_ARROW_MIN}" PARENT_SCOPE)
    return()
  endif()
  find_package(Parquet CONFIG QUIET HINTS "${Arrow_DIR}/../Parquet")
  if(NOT Parquet_FOUND OR NOT TARGET Parquet::parquet_shared)
    set(${why} "Arrow ${Arrow_VERSION} at ${Arrow_DIR} has no Parquet (ParquetConfig.cmake)" PARENT_SCOPE)
    return()
  endif()
  target_link_libraries(tickstream_arrow INTERFACE Parquet::parquet_shared Arrow::arrow_shared)
  message(STATUS "tickstream: Parquet input ON: Arrow ${Arrow_VERSION} (${Arrow_DIR})")
  set(${found} TRUE PARENT_SCOPE)
endfunction()

# The python whose pyarrow to try: the one TorchLocate.cmake resolved (TICKSTREAM_PYTHON or .venv)
# first, so torch and pyarrow come from one environment, then the same fallbacks it uses.
function(_ts_pyarrow_pythons out)
  set(_list ${TICKSTREAM_PYTHON} ${TICKSTREAM_PYTHON_RESOLVED} "${PROJECT_SOURCE_DIR}/.venv/bin/python")
  find_program(_ts_arrow_sys_python python3 NO_CACHE)
  if(_ts_arrow_sys_python)
    list(APPEND _list "${_ts_arrow_sys_python}")
  endif()
  list(REMOVE_DUPLICATES _list)
  set(${out} ${_list} PARENT_SCOPE)
endfunction()

# Imported target `name` for lib<lib>.so.<so> in `dir`. The versioned file itself, so that the
# unversioned links pyarrow.create_library_symlinks() makes are not needed to link.
function(_ts_arrow_wheel_library name lib dir so include)
  set(_file "${dir}/lib${lib}.so.${so}")
  if(NOT EXISTS "${_file}")
    set(_file "${dir}/lib${lib}.so")
  endif()
  add_library(${name} SHARED IMPORTED)
  set_target_properties(${name} PROPERTIES IMPORTED_LOCATION "${_file}" INTERFACE_INCLUDE_DIRECTORIES "${include}")
endfunction()

# 2. The pyarrow wheel.
function(_ts_arrow_from_wheel found why)
  _ts_pyarrow_pythons(_pythons)
  set(_python "")
  foreach(_py IN LISTS _pythons)
    if(NOT EXISTS "${_py}")
      continue()
    endif()
    execute_process(
      COMMAND "${_py}" -c "import pyarrow as pa; print(pa.get_include()); print(pa.get_library_dirs()[0])"
      OUTPUT_VARIABLE _out ERROR_QUIET RESULT_VARIABLE _rc OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(_rc EQUAL 0)
      set(_python "${_py}")  # foreach restores _py after the loop
      break()
    endif()
  endforeach()
  if(NOT _python)
    list(JOIN _pythons ", " _tried)
    set(${why} "no pyarrow in ${_tried}" PARENT_SCOPE)
    return()
  endif()
  string(REPLACE "\n" ";" _lines "${_out}")
  list(GET _lines 0 _include)
  list(GET _lines 1 _libdir)
  set(_config "${_include}/arrow/util/config.h")
  if(NOT EXISTS "${_config}" OR NOT EXISTS "${_include}/parquet/arrow/reader.h")
    set(${why} "the pyarrow of ${_python} ships no C++ headers (${_include})" PARENT_SCOPE)
    return()
  endif()
  file(STRINGS "${_config}" _so REGEX "^#define ARROW_SO_VERSION \"[0-9]+\"")
  file(STRINGS "${_config}" _version REGEX "^#define ARROW_VERSION_STRING \"")
  string(REGEX REPLACE ".*\"([0-9]+)\".*" "\\1" _so "${_so}")
  string(REGEX REPLACE ".*\"(.*)\".*" "\\1" _version "${_version}")
  if(_version VERSION_LESS TICKSTREAM_ARROW_MIN)
    set(${why} "the pyarrow of ${_python} is Arrow ${_version}, older than ${TICKSTREAM_ARROW_MIN}" PARENT_SCOPE)
    return()
  endif()
  foreach(_lib arrow parquet)
    if(NOT EXISTS "${_libdir}/lib${_lib}.so.${_so}" AND NOT EXISTS "${_libdir}/lib${_lib}.so")
      set(${why} "the pyarrow of ${_python} has no lib${_lib}.so.${_so} in ${_libdir}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  _ts_arrow_wheel_library(tickstream_wheel_arrow arrow "${_libdir}" "${_so}" "${_include}")
  _ts_arrow_wheel_library(tickstream_wheel_parquet parquet "${_libdir}" "${_so}" "${_include}")
  # Imported targets' include folders are SYSTEM: Arrow's headers do not trip -Wshadow/-Werror.
  # The wheel's folder is no system library folder: binaries need an RPATH entry to find
  # libarrow.so.<SO> (CMake's build RPATH lists it too; this one also survives without that).
  target_link_libraries(tickstream_arrow INTERFACE tickstream_wheel_parquet tickstream_wheel_arrow)
  target_link_options(tickstream_arrow INTERFACE "LINKER:-rpath,${_libdir}")
  message(STATUS "tickstream: Parquet input ON: Arrow ${_version} from the pyarrow wheel of ${_python} (${_libdir})")
  set(${found} TRUE PARENT_SCOPE)
endfunction()

if(NOT TICKSTREAM_PARQUET STREQUAL "OFF")
  _ts_arrow_from_config(_ts_arrow_found _ts_why_config)
  if(NOT _ts_arrow_found)
    _ts_arrow_from_wheel(_ts_arrow_found _ts_why_wheel)
  endif()
  set(_ts_arrow_why "${_ts_why_config}; ${_ts_why_wheel}")
endif()

if(_ts_arrow_found)
  # Arrow's recent headers (the wheel's 26) are C++20: with an older libtorch the project is C++17,
  # and the targets that include them (the store layer, test_parquet_reader) still get C++20.
  target_compile_features(tickstream_arrow INTERFACE cxx_std_20)
elseif(TICKSTREAM_PARQUET STREQUAL "ON")
  message(FATAL_ERROR "tickstream: TICKSTREAM_PARQUET=ON but no Apache Arrow C++ found (${_ts_arrow_why}): "
                      "run launch/install-deps.sh (pyarrow into .venv) or pass -DArrow_DIR=<prefix>/lib/cmake/Arrow")
elseif(TICKSTREAM_PARQUET STREQUAL "AUTO")
  message(STATUS "tickstream: Parquet input OFF: no Apache Arrow C++ found (${_ts_arrow_why}); to enable it run "
                 "launch/install-deps.sh (pyarrow into .venv), or pass -DArrow_DIR=<prefix>/lib/cmake/Arrow or "
                 "-DTICKSTREAM_PYTHON=<python with pyarrow>; -DTICKSTREAM_PARQUET=ON makes this an error")
else()
  message(STATUS "tickstream: Parquet input OFF (TICKSTREAM_PARQUET=OFF)")
endif()
set(TICKSTREAM_HAVE_PARQUET ${_ts_arrow_found} CACHE INTERNAL "Parquet input built (cmake/Arrow.cmake)")
