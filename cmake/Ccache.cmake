# Use ccache as the compiler launcher when it is installed. CCACHE_BASEDIR makes the paths under the
# checkout relative in ccache's hash, so a fresh clone in another folder (CI) hits the same cache.
find_program(TICKSTREAM_CCACHE ccache)
if(TICKSTREAM_CCACHE)
  foreach(lang C CXX CUDA)
    set(CMAKE_${lang}_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}
        ${TICKSTREAM_CCACHE})
  endforeach()
endif()
