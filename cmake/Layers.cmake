# Layers as build targets. Each source folder is one shared library that links only the layers
# below it; its headers are reachable only as "<folder>/<file>.hpp" through an include directory
# of its own (build/layers/<folder>/<folder> -> the folder), which a target sees only when it links
# that layer. So an include of a higher layer fails to compile, and with --no-undefined a call into
# one fails to link. docs/architecture.md draws the layers.
#
#   tickstream_layer(<name> DIR <folder> [INCLUDE <prefix>] SOURCES ... [LINK ...] [PRIVATE_LINK ...])
function(tickstream_layer name)
  cmake_parse_arguments(L "" "DIR;INCLUDE" "SOURCES;LINK;PRIVATE_LINK" ${ARGN})
  if(NOT L_INCLUDE)
    set(L_INCLUDE ${name})
  endif()
  set(target tickstream_${name})
  add_library(${target} SHARED ${L_SOURCES})
  set(root ${PROJECT_BINARY_DIR}/layers/${L_INCLUDE})
  if(NOT EXISTS ${root}/${L_INCLUDE})
    file(MAKE_DIRECTORY ${root})
    file(CREATE_LINK ${L_DIR} ${root}/${L_INCLUDE} SYMBOLIC)
  endif()
  target_include_directories(${target} PUBLIC ${root})
  target_link_libraries(${target} PUBLIC ${L_LINK} PRIVATE ${L_PRIVATE_LINK})
  target_link_options(${target} PRIVATE LINKER:--no-undefined)
  target_compile_definitions(${target} PUBLIC OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1
    $<$<BOOL:${TICKSTREAM_ENABLE_CUDA}>:TICKSTREAM_WITH_CUDA=1>)
  set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
  tickstream_warnings(${target})
endfunction()
