#!/usr/bin/env bash
# File: tests/reliability/sanitizers.sh
# Sanitizer runs of the test suites (issue 5).
#
#   tests/reliability/sanitizers.sh [asan|tsan|all]     (default all)
#
# asan: configures <repo>/build-asan with -DBOLTPP_SANITIZE=address,undefined,
#       builds the test suites and runs ctest. The reliability suite runs at
#       a quarter of its release size (BOLTPP_RELIABILITY_SCALE=0.25): every
#       fault kind, crash mode, kill and fuzz regression path is exercised,
#       with fewer iterations.
# tsan: configures <repo>/build-tsan with -DBOLTPP_SANITIZE=thread, builds
#       the reliability suite and runs its concurrency stress tests (readers,
#       a writer, Batch callers, hot backups, map growth) for
#       BOLTPP_STRESS_SECONDS each (default 15) for each of its four variants.
#
# Environment:
#   JOBS             build and ctest parallelism (default 1; builds run under nice)
#   SAN_TARGETS      targets to build for asan (default: all)
#   SAN_CMAKE_ARGS   extra configure arguments (e.g. -DBOLTPP_BUILD_TOOLS=OFF)
#   ASAN_CTEST_ARGS  extra ctest arguments for asan (e.g. "-R reliability")
#   SAN_OPT_FLAGS    optimization and debug flags (default "-O1 -g1": the
#                    optimization level the sanitizers' docs recommend, and
#                    line tables only, enough for symbolized reports; full
#                    debug info doubles the build and link time)
# Any sanitizer report fails the run (halt_on_error).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
MODE="${1:-all}"
JOBS="${JOBS:-1}"
read -r -a EXTRA <<<"${SAN_CMAKE_ARGS:-}"
EXTRA+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=${SAN_OPT_FLAGS:--O1 -g1} -DNDEBUG")

run_asan() {
  local b="$ROOT/build-asan"
  echo "== ASan+UBSan: configure and build ($b)"
  cmake -S "$ROOT" -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBOLTPP_SANITIZE=address,undefined -DBOLTPP_BUILD_TESTS=ON "${EXTRA[@]}" >/dev/null || return 1
  local targets=()
  for t in ${SAN_TARGETS:-all}; do targets+=(--target "$t"); done
  nice cmake --build "$b" -j"$JOBS" "${targets[@]}" || return 1
  echo "== ASan+UBSan: ctest"
  read -r -a cargs <<<"${ASAN_CTEST_ARGS:-}"
  (cd "$b" && \
    ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    BOLTPP_RELIABILITY_SCALE="${BOLTPP_RELIABILITY_SCALE:-0.25}" \
    BOLTPP_STRESS_SECONDS="${BOLTPP_STRESS_SECONDS_ASAN:-4}" \
    ctest --output-on-failure -j"$JOBS" "${cargs[@]}") || return 1
}

run_tsan() {
  local b="$ROOT/build-tsan"
  echo "== TSan: configure and build ($b)"
  cmake -S "$ROOT" -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBOLTPP_SANITIZE=thread -DBOLTPP_BUILD_TESTS=ON "${EXTRA[@]}" >/dev/null || return 1
  nice cmake --build "$b" -j"$JOBS" --target boltpp_reliability_tests || return 1
  echo "== TSan: concurrency stress"
  (cd "$b" && \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4" \
    BOLTPP_STRESS_SECONDS="${BOLTPP_STRESS_SECONDS:-15}" \
    ctest --output-on-failure -j"$JOBS" -R 'reliability\..*Concurrency') || return 1
}

rc=0
case "$MODE" in
  asan) run_asan || rc=1 ;;
  tsan) run_tsan || rc=1 ;;
  all) run_asan || rc=1; run_tsan || rc=1 ;;
  *) echo "usage: $0 [asan|tsan|all]" >&2; exit 64 ;;
esac
echo "== sanitizers ($MODE): $([ $rc -eq 0 ] && echo passed || echo FAILED)"
exit $rc
