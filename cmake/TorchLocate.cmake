# Where libtorch comes from, decided before CUDA and Torch are configured (both need to know):
#  1. Torch_DIR or CMAKE_PREFIX_PATH, when the user gives them (a cluster's own libtorch) win;
#  2. else the torch wheel in the project's virtual environment (.venv, launch/install-deps.sh);
#  3. else the torch package of `python3` on PATH (e.g. a GPU host's system PyTorch).
# Sets TICKSTREAM_TORCH_PACKAGE_DIR (the wheel's torch/ folder, "" when libtorch is not a wheel)
# and TICKSTREAM_TORCH_CUDA (the CUDA version the wheel was built for, "" for CPU builds).
set(TICKSTREAM_PYTHON "" CACHE FILEPATH "Python whose torch package provides libtorch (default: .venv, then python3)")

function(_ts_torch_probe python out_dir out_cuda)
  execute_process(
    COMMAND "${python}" -c "import os, torch; print(os.path.dirname(torch.__file__)); print(torch.version.cuda or '')"
    OUTPUT_VARIABLE _out ERROR_QUIET RESULT_VARIABLE _rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(_rc EQUAL 0)
    string(REPLACE "\n" ";" _lines "${_out}")
    list(GET _lines 0 _dir)
    list(LENGTH _lines _n)
    set(_cuda "")
    if(_n GREATER 1)
      list(GET _lines 1 _cuda)
    endif()
    set(${out_dir} "${_dir}" PARENT_SCOPE)
    set(${out_cuda} "${_cuda}" PARENT_SCOPE)
  endif()
endfunction()

set(TICKSTREAM_TORCH_PACKAGE_DIR "")
set(TICKSTREAM_TORCH_CUDA "")
set(_ts_pythons ${TICKSTREAM_PYTHON})
if(NOT _ts_pythons)
  find_program(_ts_sys_python python3 NO_CACHE)
  set(_ts_pythons "${PROJECT_SOURCE_DIR}/.venv/bin/python" ${_ts_sys_python})
endif()
foreach(_py IN LISTS _ts_pythons)
  if(EXISTS "${_py}" AND NOT TICKSTREAM_TORCH_PACKAGE_DIR)
    _ts_torch_probe("${_py}" TICKSTREAM_TORCH_PACKAGE_DIR TICKSTREAM_TORCH_CUDA)
    set(_ts_torch_python "${_py}")
  endif()
endforeach()
set(TICKSTREAM_PYTHON_RESOLVED "${_ts_torch_python}")  # the python whose torch was found (tests)

set(_ts_user_torch FALSE)
if(Torch_DIR OR DEFINED ENV{Torch_DIR} OR CMAKE_PREFIX_PATH OR DEFINED ENV{CMAKE_PREFIX_PATH})
  set(_ts_user_torch TRUE)
endif()
if(TICKSTREAM_TORCH_PACKAGE_DIR)
  # The torch/ folder itself as the prefix: its share/cmake/Torch config then resolves the wheel's
  # own lib/libtorch.so (a prefix of torch/share/cmake let it pick a system libtorch first).
  # Appended, so a user's CMAKE_PREFIX_PATH is searched before it.
  list(APPEND CMAKE_PREFIX_PATH "${TICKSTREAM_TORCH_PACKAGE_DIR}")
  message(STATUS "tickstream: torch wheel of ${_ts_torch_python}: ${TICKSTREAM_TORCH_PACKAGE_DIR} "
                 "(CUDA '${TICKSTREAM_TORCH_CUDA}')")
elseif(NOT _ts_user_torch)
  message(FATAL_ERROR "tickstream: no libtorch found: run launch/install-deps.sh (installs the pinned "
                      "torch wheel into .venv), or pass -DTorch_DIR=<libtorch>/share/cmake/Torch, "
                      "-DCMAKE_PREFIX_PATH=<libtorch> or -DTICKSTREAM_PYTHON=<python with torch>")
endif()
