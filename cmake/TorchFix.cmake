# Wraps libtorch (Debian 1.13 CPU or a 2.x CUDA build) in one interface target with SYSTEM includes.
add_library(tickstream_torch INTERFACE)
target_link_libraries(tickstream_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(tickstream_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(tickstream_torch INTERFACE $<$<COMPILE_LANGUAGE:CXX>:${_torch_flags}>)
