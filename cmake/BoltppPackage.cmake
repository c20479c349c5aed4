# File: cmake/BoltppPackage.cmake
# Installs the library and its public headers, and writes what other projects
# and package managers use to find them:
#   lib/libboltpp.{a,so.*}           the library (BUILD_SHARED_LIBS picks which)
#   include/boltpp/*.h               the public API
#   lib/cmake/boltpp/                boltppConfig.cmake, boltppConfigVersion.cmake
#                                    (SameMajorVersion), boltppTargets*.cmake:
#                                    boltpp::boltpp and one target per application
#   lib/pkgconfig/boltpp.pc          for pkg-config
#   share/doc/boltpp/                README.md and docs/*.md
# and configures CPack for `cpack -G DEB`. Included at the end of the root
# CMakeLists.txt, after every folder registered its commands and
# applications (cmake/BoltppInstall.cmake).
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(BOLTPP_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/boltpp" CACHE STRING
    "Where boltppConfig.cmake is installed (relative to the prefix)")

install(TARGETS boltpp EXPORT boltppTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/boltpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")

# The CMake package.
get_property(_boltpp_apps GLOBAL PROPERTY BOLTPP_EXPORTED_APPS)
get_property(_boltpp_app_deps GLOBAL PROPERTY BOLTPP_APP_DEPENDENCIES)
if(_boltpp_app_deps)
  list(REMOVE_DUPLICATES _boltpp_app_deps)
endif()
set(BOLTPP_CONFIG_DEPENDENCIES "")
foreach(_boltpp_dep IN LISTS _boltpp_app_deps)
  string(APPEND BOLTPP_CONFIG_DEPENDENCIES "find_dependency(${_boltpp_dep})\n")
endforeach()
if(_boltpp_apps)
  string(REPLACE ";" ", " BOLTPP_EXPORTED_APPS_TEXT "${_boltpp_apps}")
else()
  set(BOLTPP_EXPORTED_APPS_TEXT "none")
endif()
install(EXPORT boltppTargets NAMESPACE boltpp:: DESTINATION ${BOLTPP_CMAKE_INSTALL_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/boltppConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package-files/boltppConfig.cmake
  INSTALL_DESTINATION ${BOLTPP_CMAKE_INSTALL_DIR})
# 0.x releases are compatible with each other only within the same major
# number, as every release line is: what BOLTPP_ABI_VERSION also promises.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package-files/boltppConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package-files/boltppConfig.cmake
              ${PROJECT_BINARY_DIR}/package-files/boltppConfigVersion.cmake
        DESTINATION ${BOLTPP_CMAKE_INSTALL_DIR})

# boltpp.pc, relocatable: its prefix is found from the file's own place
# (${pcfiledir}), so the same file works under /usr, /usr/local or a
# scratch prefix.
set(_boltpp_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(BOLTPP_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(BOLTPP_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(BOLTPP_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH _boltpp_pc_up "/prefix/${_boltpp_pc_dir}" "/prefix")
  string(REGEX REPLACE "/$" "" _boltpp_pc_up "${_boltpp_pc_up}")
  set(BOLTPP_PC_PREFIX "\${pcfiledir}/${_boltpp_pc_up}")
  set(BOLTPP_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(BOLTPP_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# A static libboltpp.a needs its own dependencies on every link line.
get_target_property(_boltpp_type boltpp TYPE)
if(_boltpp_type STREQUAL "STATIC_LIBRARY")
  set(BOLTPP_PC_STATIC_LIBS " -pthread")
else()
  set(BOLTPP_PC_STATIC_LIBS "")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/boltpp.pc.in ${PROJECT_BINARY_DIR}/package-files/boltpp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package-files/boltpp.pc DESTINATION ${_boltpp_pc_dir})

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")

# CPack: `cpack -G DEB` in the build directory makes one Debian package,
# boltpp_<version>_<arch>.deb, with everything installed above (library,
# headers, CMake and pkg-config files, commands, man pages, docs).
set(CPACK_PACKAGE_NAME boltpp)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "boltpp")
set(CPACK_PACKAGE_CONTACT "boltpp maintainers <maintainers@users.noreply.example>" CACHE STRING
    "The Maintainer field of the Debian package")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "embedded transactional key/value store with Go bbolt's file format")
set(CPACK_PACKAGE_DESCRIPTION
    "boltpp is a C++ embedded key/value store that reads and writes the file format of Go's bbolt \
(single-file copy-on-write B+tree, serializable transactions, nested buckets). This package has the \
library, its headers, CMake and pkg-config files, the boltpp command (a drop-in for bbolt's command \
line) and the applications' commands, with their man pages.")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
# Dependencies (libc6, libstdc++6, ...) from the binaries, by dpkg-shlibdeps;
# the libraries built here are looked up in the build tree.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
if(_boltpp_type STREQUAL "SHARED_LIBRARY")
  # A shlibs file for packages built against libboltpp.so, and the ldconfig trigger.
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
endif()
include(CPack)
