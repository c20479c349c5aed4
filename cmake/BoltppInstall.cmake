# File: cmake/BoltppInstall.cmake
# The functions the project's folders call to install what they build. The
# root CMakeLists.txt includes this file before it adds tools/ and apps/;
# cmake/BoltppPackage.cmake (included last) writes the package files that
# list what was registered here.
#
#   boltpp_install_command(<executable target>)
#     Installs the command into bin/ and its man page (generated at install
#     time from its --help output) into share/man/man1/.
#
#   boltpp_install_app(TARGET <library target> EXPORT_NAME <name>
#                      [COMMANDS <executable target>...]
#                      [HEADERS <include dir>]
#                      [DEPENDENCIES "<find_dependency arguments>"...])
#     Installs an application's library and exports it as boltpp::<name>
#     from the boltpp CMake package (find_package(boltpp COMPONENTS <name>)),
#     installs the headers found in HEADERS (default: the calling folder's
#     include/, copied as is into include/), and installs each command as
#     boltpp_install_command does. DEPENDENCIES are the packages the library's
#     link interface needs, one find_dependency() argument list each (e.g.
#     "OpenSSL" or "nlohmann_json 3"); they are found again by
#     boltppConfig.cmake. See docs/packaging.md.
#
# With BOLTPP_INSTALL off (boltpp added to another project with
# add_subdirectory) both functions do nothing.
include_guard(GLOBAL)
include(GNUInstallDirs)

set(BOLTPP_MANPAGE_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/boltpp-manpage.sh")

function(boltpp_install_command target)
  if(NOT BOLTPP_INSTALL)
    return()
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "boltpp_install_command: no target '${target}'")
  endif()
  install(TARGETS ${target} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  # The page is made at install time by running the built command, so it
  # always matches the command being installed. file(INSTALL) honours
  # DESTDIR, which is how CPack stages the Debian package.
  install(CODE "
    set(_page \"${CMAKE_CURRENT_BINARY_DIR}/man/$<TARGET_FILE_NAME:${target}>.1\")
    file(MAKE_DIRECTORY \"${CMAKE_CURRENT_BINARY_DIR}/man\")
    execute_process(
      COMMAND sh \"${BOLTPP_MANPAGE_SCRIPT}\" \"$<TARGET_FILE:${target}>\"
              \"$<TARGET_FILE_NAME:${target}>\" \"${PROJECT_VERSION}\" \"\${_page}\"
      RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR \"could not write the man page of $<TARGET_FILE_NAME:${target}>\")
    endif()
    execute_process(COMMAND gzip -9nf \"\${_page}\" RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR \"gzip failed on \${_page}\")
    endif()
    file(INSTALL \"\${_page}.gz\" DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/man1\")
  ")
endfunction()

# Wraps the target's plain source- or build-tree include directories in
# $<BUILD_INTERFACE:...>; the installed target uses include/ instead.
function(_boltpp_build_tree_includes target)
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT dirs)
    return()
  endif()
  set(wrapped "")
  foreach(dir IN LISTS dirs)
    if(dir MATCHES "^\\$<" OR NOT IS_ABSOLUTE "${dir}")
      list(APPEND wrapped "${dir}")
    else()
      list(APPEND wrapped "$<BUILD_INTERFACE:${dir}>")
    endif()
  endforeach()
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${wrapped}")
endfunction()

function(boltpp_install_app)
  cmake_parse_arguments(PARSE_ARGV 0 APP "" "TARGET;EXPORT_NAME;HEADERS" "COMMANDS;DEPENDENCIES")
  if(NOT APP_TARGET OR NOT APP_EXPORT_NAME)
    message(FATAL_ERROR "boltpp_install_app: TARGET and EXPORT_NAME are required")
  endif()
  if(APP_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "boltpp_install_app: unknown arguments ${APP_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${APP_TARGET})
    message(FATAL_ERROR "boltpp_install_app: no target '${APP_TARGET}'")
  endif()
  # The in-tree alias, so that the applications' own code can already use
  # the name other projects will use.
  if(NOT TARGET boltpp::${APP_EXPORT_NAME})
    add_library(boltpp::${APP_EXPORT_NAME} ALIAS ${APP_TARGET})
  endif()
  if(NOT BOLTPP_INSTALL)
    return()
  endif()

  set_target_properties(${APP_TARGET} PROPERTIES EXPORT_NAME ${APP_EXPORT_NAME})
  get_target_property(type ${APP_TARGET} TYPE)
  get_target_property(soversion ${APP_TARGET} SOVERSION)
  if(type STREQUAL "SHARED_LIBRARY" AND NOT soversion)
    set_target_properties(${APP_TARGET} PROPERTIES
      VERSION ${PROJECT_VERSION} SOVERSION ${BOLTPP_ABI_VERSION})
  endif()
  _boltpp_build_tree_includes(${APP_TARGET})
  install(TARGETS ${APP_TARGET} EXPORT boltppTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

  if(NOT APP_HEADERS AND IS_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/include")
    set(APP_HEADERS "${CMAKE_CURRENT_SOURCE_DIR}/include")
  endif()
  if(APP_HEADERS)
    install(DIRECTORY "${APP_HEADERS}/" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
            FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
  endif()

  foreach(command IN LISTS APP_COMMANDS)
    boltpp_install_command(${command})
  endforeach()

  set_property(GLOBAL APPEND PROPERTY BOLTPP_EXPORTED_APPS ${APP_EXPORT_NAME})
  foreach(dependency IN LISTS APP_DEPENDENCIES)
    set_property(GLOBAL APPEND PROPERTY BOLTPP_APP_DEPENDENCIES "${dependency}")
  endforeach()
endfunction()
