# Use ccache as the compiler launcher when it is installed.
find_program(TICKSTREAM_CCACHE ccache)
if(TICKSTREAM_CCACHE)
  foreach(lang C CXX CUDA)
    set(CMAKE_${lang}_COMPILER_LAUNCHER ${TICKSTREAM_CCACHE})
  endforeach()
endif()
