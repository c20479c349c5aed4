// File: fuzz/fuzz_logic.h
// The bodies of the libFuzzer targets, kept apart from LLVMFuzzerTestOneInput
// so that the normal test build (boltpp_reliability_tests) can replay
// fuzz/regressions/ and the seed corpus through exactly the same code.
//
// Both return 0. A bug shows as a crash, a sanitizer report, a hang, or an
// abort() with a message on stderr (a model mismatch in FuzzOps).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace boltpp::fuzz {

// Target "open": input = one flags byte, then the bytes of a database file.
//   flags & 1: recompute both meta checksums first (so that mutations get
//              past the checksum and reach the trees)
//   flags & 2: open read-write and commit a few changes (exercises the
//              freelist and the commit path on damaged input)
//   flags & 4: also Compact into an in-memory database
// The file is written to a temporary file and opened read-only; Check(),
// a walk of every bucket with cursors both ways, Get/Seek of every key,
// Stats, Inspect, Page and WriteTo must all return, with errors or not.
int FuzzOpenFile(const uint8_t* data, size_t size);

// Target "ops": input = a program of operations on an in-memory database
// and a std::map model; after each commit, reopen and at the end the two
// must agree and Check() must be clean.
int FuzzOps(const uint8_t* data, size_t size);

// Helpers for seeds and regression tests.
// FNV-1a 64 over the meta struct's first 56 bytes: recomputes the checksum of
// the meta page at page_offset in file (no-op when out of range).
void FixMetaChecksum(std::string* file, size_t page_offset);
// Both metas, guessing the page size from meta 0 (or trying 1K..64K).
void FixMetaChecksums(std::string* file);

}  // namespace boltpp::fuzz
