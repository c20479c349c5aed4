// File: boltpp/version.h
// boltpp's version, as macros (the headers a program was compiled against)
// and as functions (the library it runs with). This file is the one place the
// version is written: CMake reads the project version and the shared
// library's ABI version (its SONAME) from the four numbers below.
#pragma once

#include "boltpp/export.h"

#define BOLTPP_VERSION_MAJOR 0
#define BOLTPP_VERSION_MINOR 1
#define BOLTPP_VERSION_PATCH 0
// Raised whenever a release breaks the binary interface of the shared
// library; the SONAME is libboltpp.so.<BOLTPP_ABI_VERSION>.
#define BOLTPP_ABI_VERSION 0

#define BOLTPP_VERSION_STRINGIZE_(x) #x
#define BOLTPP_VERSION_STRINGIZE(x) BOLTPP_VERSION_STRINGIZE_(x)
// "MAJOR.MINOR.PATCH", a string literal.
// clang-format off
#define BOLTPP_VERSION_STRING                        \
  BOLTPP_VERSION_STRINGIZE(BOLTPP_VERSION_MAJOR) "." \
  BOLTPP_VERSION_STRINGIZE(BOLTPP_VERSION_MINOR) "." \
  BOLTPP_VERSION_STRINGIZE(BOLTPP_VERSION_PATCH)
// clang-format on
// One number that orders versions: MAJOR * 10000 + MINOR * 100 + PATCH
// (0.1.0 is 100), for `#if BOLTPP_VERSION >= ...` checks.
#define BOLTPP_VERSION \
  (BOLTPP_VERSION_MAJOR * 10000 + BOLTPP_VERSION_MINOR * 100 + BOLTPP_VERSION_PATCH)

namespace boltpp {

// The version of the library the program runs with, "MAJOR.MINOR.PATCH".
// With the shared library this can be newer than BOLTPP_VERSION_STRING (any
// release with the same ABI version may be installed under the program).
BOLTPP_EXPORT const char* VersionString();
// The same as one number, as BOLTPP_VERSION encodes it.
BOLTPP_EXPORT int VersionNumber();
// The library's BOLTPP_ABI_VERSION.
BOLTPP_EXPORT int AbiVersion();

}  // namespace boltpp
