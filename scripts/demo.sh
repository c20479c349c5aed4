#!/usr/bin/env bash
# The main job: install, build, then show the store (examples/demo.cc) and the
# tool (boltpp) at work on a fresh database and on a Go-bbolt-written one,
# then the applications (boltpp-car, boltpp-jobs, boltpp-dagstore).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOLTPP_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== the library: examples/demo.cc"
./build/examples/boltpp_demo "$work"
if [ -x build/tools/cli/boltpp ]; then
  cli=build/tools/cli/boltpp
  echo "== the tool on the demo database"
  set -x
  $cli info "$work/demo.db"
  $cli buckets "$work/demo.db"
  $cli keys "$work/demo.db" jobs
  $cli get "$work/demo.db" jobs job-3
  $cli check "$work/demo.db"
  $cli stats "$work/demo.db"
  $cli compact -o "$work/compact.db" "$work/demo.db"
  cp "$work/demo.db" "$work/shrink.db"
  $cli shrink "$work/shrink.db"
  $cli check "$work/shrink.db"
  $cli bench --count 500 --batch-size 1 --wal
  set +x
  sample=tools/cli/testdata/bbolt-1.5-cli/jobs-300.db
  if [ -f "$sample" ]; then
    echo "== the tool on a file written by Go bbolt 1.3.6"
    set -x
    $cli check "$sample"
    $cli buckets "$sample"
    $cli inspect "$sample"
    set +x
  fi
fi
echo
echo "== the applications (apps/*/scripts/demo.sh)"
for app in car jobstore dagstore; do
  if [ -f "apps/$app/scripts/demo.sh" ]; then
    echo
    echo "=== $app"
    bash "apps/$app/scripts/demo.sh" "$(pwd)/build"
  fi
done
