// File: src/thread_annotations.h
// Clang's thread-safety attributes (as leveldb's port/thread_annotations.h
// and abseil's): they name the mutex that guards a member. Under GCC they
// expand to nothing and serve as checked-by-review documentation.
#pragma once

#if defined(__clang__)
#define BOLTPP_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define BOLTPP_THREAD_ANNOTATION(x)
#endif

// The member is read and written only with the named mutex held.
#define GUARDED_BY(mu) BOLTPP_THREAD_ANNOTATION(guarded_by(mu))
// The pointee is read and written only with the named mutex held.
#define PT_GUARDED_BY(mu) BOLTPP_THREAD_ANNOTATION(pt_guarded_by(mu))
// The function must be called with the named mutex held.
#define REQUIRES(...) BOLTPP_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The function must be called without the named mutex held (it takes it).
#define EXCLUDES(...) BOLTPP_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
