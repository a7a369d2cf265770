# Debian's Trilinos Kokkos exports Kokkos::kokkos with include dir /usr/lib/include; point it at
# the real headers and mark them SYSTEM so their warnings stay out of project builds.
set(TICKSTREAM_KOKKOS_INCLUDE /usr/include/trilinos CACHE PATH
    "Kokkos headers where its CMake package points nowhere (Debian's; tests/gpu/host-check.sh sets it)")
if(TARGET Kokkos::kokkos)
  set(_kk_inc "${Kokkos_INCLUDE_DIRS}")
  if(NOT _kk_inc OR NOT EXISTS "${_kk_inc}")
    set(_kk_inc "${TICKSTREAM_KOKKOS_INCLUDE}")
  endif()
  get_filename_component(_kk_inc "${_kk_inc}" REALPATH)
  set_target_properties(Kokkos::kokkos PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_kk_inc}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${_kk_inc}")
  get_target_property(_kk_links Kokkos::kokkos INTERFACE_LINK_LIBRARIES)
  if(_kk_links)
    list(FILTER _kk_links EXCLUDE REGEX "^-D")
    set_target_properties(Kokkos::kokkos PROPERTIES INTERFACE_LINK_LIBRARIES "${_kk_links}")
  endif()
endif()
