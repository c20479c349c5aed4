#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: the engine, tool,
# compatibility and reliability suites (ctest), the same suites under
# AddressSanitizer + UndefinedBehaviorSanitizer, the concurrency tests under
# ThreadSanitizer, and bounded fuzzing. The quick benchmark run (ctest
# bench_quick) checks that the benchmark still works; speed is not judged
# here. Ends with one line "N passed, M failed" over all phases.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/install-deps.sh || { echo "install failed"; exit 1; }
jobs=$(nproc)
passed=0
failed=0
failures=()

phase() {  # phase NAME COMMAND...
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

configure_and_build() {  # DIR extra cmake args...
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOLTPP_WERROR=ON "$@" >/dev/null &&
    cmake --build "$dir" -j"$jobs"
}

run_ctest() {  # DIR [ctest args...]
  local dir=$1; shift
  (cd "$dir" && ctest --output-on-failure -j"$jobs" "$@")
}

phase "build" configure_and_build build -DBOLTPP_BUILD_BENCH=ON
phase "ctest" run_ctest build
if [ -x tests/reliability/sanitizers.sh ] || [ -f tests/reliability/sanitizers.sh ]; then
  phase "sanitizers (asan+ubsan, tsan)" bash tests/reliability/sanitizers.sh
else
  phase "build asan+ubsan" configure_and_build build-asan -DBOLTPP_SANITIZE=address,undefined -DBOLTPP_BUILD_TOOLS=OFF
  phase "ctest asan+ubsan" run_ctest build-asan
fi
if [ -f fuzz/run.sh ]; then
  phase "fuzz (bounded)" bash fuzz/run.sh
fi

echo
if [ "${#failures[@]}" -gt 0 ]; then
  echo "failed phases: ${failures[*]}"
fi
echo "ci: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
