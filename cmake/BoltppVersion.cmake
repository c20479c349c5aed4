# File: cmake/BoltppVersion.cmake
# Reads boltpp's version from include/boltpp/version.h, the one place it is
# written, so that project(), the package version file, boltpp.pc, the
# SONAME and the Debian package all agree with the headers. Included before
# project(); sets BOLTPP_VERSION ("MAJOR.MINOR.PATCH") and BOLTPP_ABI_VERSION.
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/../include/boltpp/version.h" _boltpp_version_lines
     REGEX "^#define BOLTPP_(VERSION_MAJOR|VERSION_MINOR|VERSION_PATCH|ABI_VERSION) +[0-9]+ *$")
foreach(_boltpp_part VERSION_MAJOR VERSION_MINOR VERSION_PATCH ABI_VERSION)
  set(_boltpp_${_boltpp_part} "")
  foreach(_boltpp_line IN LISTS _boltpp_version_lines)
    if(_boltpp_line MATCHES "^#define BOLTPP_${_boltpp_part} +([0-9]+)")
      set(_boltpp_${_boltpp_part} ${CMAKE_MATCH_1})
    endif()
  endforeach()
  if(_boltpp_${_boltpp_part} STREQUAL "")
    message(FATAL_ERROR "include/boltpp/version.h: no '#define BOLTPP_${_boltpp_part} <number>'")
  endif()
endforeach()
set(BOLTPP_VERSION "${_boltpp_VERSION_MAJOR}.${_boltpp_VERSION_MINOR}.${_boltpp_VERSION_PATCH}")
set(BOLTPP_ABI_VERSION "${_boltpp_ABI_VERSION}")
