#!/usr/bin/env bash
# File: fuzz/run.sh
# Builds the libFuzzer targets (clang++, ASan+UBSan) and runs each for a
# bounded time. Fails when any target finds a crash, a sanitizer report, a
# timeout (hang) or runs out of memory. Each finding is minimized and saved
# in fuzz/regressions/<target>/ -- commit it there: the normal ctest suite
# (reliability.FuzzRegressions.*) replays it from then on.
#
#   fuzz/run.sh [seconds-per-target]        (default 60)
#
# Environment:
#   BOLTPP_FUZZ_BUILD   build directory (default <repo>/build-fuzz)
#   BOLTPP_FUZZ_TARGETS targets to run (default "open ops car_reader car_index")
#   JOBS                build parallelism (default 1; the build runs under nice)
#   FUZZ_JOBS           parallel fuzzing processes per target (default 1;
#                       more uses libFuzzer's -fork mode)
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BOLTPP_FUZZ_BUILD:-$ROOT/build-fuzz}"
SECS="${1:-60}"
TARGETS="${BOLTPP_FUZZ_TARGETS:-open ops car_reader car_index}"
JOBS="${JOBS:-1}"

CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DBOLTPP_BUILD_FUZZ=ON -DBOLTPP_SANITIZE=address,undefined \
  -DBOLTPP_BUILD_TESTS=OFF -DBOLTPP_BUILD_TOOLS=OFF -DBOLTPP_BUILD_BENCH=OFF >/dev/null || exit 2
nice cmake --build "$BUILD" -j"$JOBS" --target boltpp_fuzz_seeds $(for t in $TARGETS; do echo boltpp_fuzz_$t; done) || exit 2

SEEDS="$BUILD/seeds"
mkdir -p "$SEEDS/open" "$SEEDS/ops"
"$BUILD/fuzz/boltpp_fuzz_seeds" "$SEEDS/open" "$SEEDS/ops" || exit 2
# Go bbolt files from the compatibility suite, when present, seed "open" too.
if compgen -G "$ROOT/tests/compat/testdata/*.db" >/dev/null; then
  for f in "$ROOT"/tests/compat/testdata/*.db; do
    { printf '\x00'; cat "$f"; } >"$SEEDS/open/go-$(basename "$f")"
    { printf '\x07'; cat "$f"; } >"$SEEDS/open/go7-$(basename "$f")"
  done
fi

# CAR targets (apps/car): the go-car fixtures and small generated CARs, each
# behind an options byte (0x00 plain; 0x0d zero-length-as-end, re-hash,
# identity CIDs indexed); indexes for the index target.
mkdir -p "$SEEDS/car_reader" "$SEEDS/car_index"
for f in "$ROOT"/apps/car/testdata/*.car "$ROOT"/apps/car/testdata/fuzz-seeds/*.car; do
  [ -e "$f" ] || continue
  { printf '\x00'; cat "$f"; } >"$SEEDS/car_reader/$(basename "$f")"
  { printf '\x0d'; cat "$f"; } >"$SEEDS/car_reader/z-$(basename "$f")"
done
cp "$ROOT"/apps/car/testdata/fuzz-seeds/*.idx "$SEEDS/car_index/" 2>/dev/null
tail -c +479959 "$ROOT/apps/car/testdata/sample-wrapped-v2.car" >"$SEEDS/car_index/sample.idx"

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
total_execs=0
for t in $TARGETS; do
  corpus="$BUILD/corpus/$t"
  regress="$ROOT/fuzz/regressions/$t"
  mkdir -p "$corpus" "$regress"
  log="$BUILD/fuzz-$t.log"
  max_len=70000
  [ "$t" = ops ] && max_len=4096
  # A fixed seed (BOLTPP_FUZZ_SEED, default 1) makes a CI run repeat the same
  # mutation sequence: a finding reproduces, and a clean run stays clean.
  echo "== fuzzing $t for ${SECS}s, seed ${BOLTPP_FUZZ_SEED:-1} (log: $log)"
  start=$(date +%s)
  extra=()
  [ "$t" = ops ] && extra+=(-len_control=20)
  # FUZZ_JOBS > 1: libFuzzer's fork mode, several processes in parallel.
  [ "${FUZZ_JOBS:-1}" -gt 1 ] && extra+=(-fork="$FUZZ_JOBS")
  (cd "$BUILD" && "$BUILD/fuzz/boltpp_fuzz_$t" "$corpus" "$SEEDS/$t" \
    -max_total_time="$SECS" -seed="${BOLTPP_FUZZ_SEED:-1}" -timeout=10 -rss_limit_mb=2048 -max_len=$max_len "${extra[@]}" \
    -artifact_prefix="$BUILD/artifact-$t-" -print_final_stats=1) >"$log" 2>&1
  rc=$?
  execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{s+=$2} END {print s+0}')
  if [ "$execs" = 0 ]; then  # fork mode: the last "#N" status line
    execs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    execs=${execs:-0}
  fi
  total_execs=$((total_execs + execs))
  echo "   $t: exit $rc, $execs executions in $(( $(date +%s) - start ))s, corpus $(ls "$corpus" | wc -l) files"
  for a in "$BUILD"/artifact-"$t"-*; do
    [ -e "$a" ] || continue
    status=1
    name="$(basename "$a" | sed "s/^artifact-$t-//")"
    echo "!! $t found $name; minimizing"
    "$BUILD/fuzz/boltpp_fuzz_$t" -minimize_crash=1 -runs=20000 -timeout=10 \
      -exact_artifact_path="$regress/$name" "$a" >"$BUILD/minimize-$t-$name.log" 2>&1 || true
    [ -e "$regress/$name" ] || cp "$a" "$regress/$name"
    # Keep the stack trace next to the input.
    "$BUILD/fuzz/boltpp_fuzz_$t" "$regress/$name" >"$regress/$name.txt" 2>&1
    echo "   saved $regress/$name (trace: $name.txt)"
    rm -f "$a"
  done
  if [ $rc -ne 0 ] && [ $status -eq 0 ]; then
    echo "!! $t exited with $rc without an artifact; see $log"
    status=1
  fi
done
echo "fuzz total: $total_execs executions; result: $([ $status -eq 0 ] && echo '0 crashes' || echo 'FINDINGS')"
exit $status
