// File: boltpp/export.h
// BOLTPP_EXPORT marks what the shared library exports: the public classes and
// functions of include/boltpp/. The library is compiled with hidden
// visibility (-fvisibility=hidden -fvisibility-inlines-hidden), so anything
// without this mark, the engine's internals included, stays inside
// libboltpp.so. The mark changes nothing for the static library.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define BOLTPP_EXPORT [[gnu::visibility("default")]]
#else
#define BOLTPP_EXPORT
#endif
