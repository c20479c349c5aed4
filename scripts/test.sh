#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: the engine, tool,
# compatibility and reliability suites and the applications' suites (CAR,
# job store, DAG store) under ctest (including bench_quick, which checks that
# the benchmark still runs without judging speed), the engine, tool and CAR
# suites again under AddressSanitizer + UndefinedBehaviorSanitizer, the
# concurrency stress tests under ThreadSanitizer, bounded libFuzzer runs
# (engine and CAR targets), and the packaging test (install, find_package and
# pkg-config consumers, exported symbols, the .deb).
# Ends with one line "N passed, M failed": every ctest test counts once, and
# so does each phase that is not a ctest run (builds, fuzzing).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/install-deps.sh || { echo "install failed"; exit 1; }
export JOBS=$(nproc)
logs=$(mktemp -d)
passed=0
failed=0
failures=()

count_ctest() {  # adds the ctest summary lines of a log to the totals
  local line total bad
  while read -r line; do
    bad=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + total - bad))
    failed=$((failed + bad))
  done < <(grep -E "tests? failed out of [0-9]+" "$1")
}

phase() {  # phase NAME COUNTS_CTEST(0|1) COMMAND...
  local name=$1 is_ctest=$2; shift 2
  local start=$SECONDS log="$logs/phase-$RANDOM.log" rc
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if [ "$is_ctest" = 1 ] && grep -qE "tests? failed out of" "$log"; then
    count_ctest "$log"
  elif [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  if [ "$rc" -ne 0 ]; then failures+=("$name"); fi
  echo "=== $name: $([ "$rc" -eq 0 ] && echo ok || echo FAILED) ($((SECONDS - start)) s)"
}

# Line tables only (-g1): enough for readable failures, and the build is a
# third of the CI run with full debug info.
build() {
  cmake -S "$root" -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOLTPP_WERROR=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
    -DBOLTPP_BUILD_TESTS=ON -DBOLTPP_BUILD_BENCH=ON >/dev/null &&
    cmake --build build -j"$JOBS"
}

phase "build" 0 build
phase "ctest" 1 bash -c "cd build && ctest --output-on-failure -j$JOBS"
# Under ASan the randomized suites run smaller: the release ctest above ran
# them at full size (compat 200 seeds each way, model 100,000 ops per seed).
# The sanitizer build covers the engine, the tool and the CAR reader (which
# parses untrusted input); the job and DAG stores run on the engine's public
# API and are covered by the release ctest, as is the allocation-counting test
# (boltpp_smalltx_tests replaces operator new, which ASan would otherwise check).
phase "asan+ubsan: build and ctest" 1 env BOLTPP_COMPAT_COUNT=20 BOLTPP_COMPAT_PINGPONG=2 \
  BOLTPP_MODEL_OPS=20000 BOLTPP_MODEL_TXS=100 \
  SAN_TARGETS="boltpp_tests boltpp_reliability_tests boltpp_compat_tests boltpp_compat_tool boltpp_cli boltpp_cli_tests boltpp_car_tests" \
  ASAN_CTEST_ARGS="-E (jobstore|dagstore|bench_quick|boltpp_demo|smalltx|SmallTx)" \
  bash tests/reliability/sanitizers.sh asan
phase "tsan: concurrency stress" 1 bash tests/reliability/sanitizers.sh tsan
phase "fuzz: 30 s per target" 0 bash fuzz/run.sh 30
phase "packaging: install, consumers, exported symbols, .deb" 0 bash tests/packaging/consumer_test.sh build

echo
if [ "${#failures[@]}" -gt 0 ]; then echo "failed phases: ${failures[*]}"; fi
echo "ci: $passed passed, $failed failed"
[ "${#failures[@]}" -eq 0 ]
