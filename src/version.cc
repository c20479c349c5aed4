// File: src/version.cc
// The run-time side of boltpp/version.h: the numbers this library was built
// with (the macros as they were when the library, not the caller, compiled).
#include "boltpp/version.h"

namespace boltpp {

const char* VersionString() { return BOLTPP_VERSION_STRING; }
int VersionNumber() { return BOLTPP_VERSION; }
int AbiVersion() { return BOLTPP_ABI_VERSION; }

}  // namespace boltpp
