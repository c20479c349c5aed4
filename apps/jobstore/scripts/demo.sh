#!/bin/bash
# A short tour of the job store, the execution store and boltpp-jobs:
# simulate a network, inspect both files, then verify and repair a file in the
# real stores' layout (written by Go bbolt) that carries the real DeleteJob's
# orphaned index entries.
#   apps/jobstore/scripts/demo.sh [BUILD_DIR]     (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/../../build}
jobs="$build/apps/jobstore/boltpp-jobs"
boltpp="$build/tools/cli/boltpp"
[ -x "$jobs" ] || { echo "build boltpp-jobs first: cmake --build $build --target boltpp_jobs" >&2; exit 1; }
dir=$(mktemp -d /tmp/jobstore-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
export BACALHAU_DIR=$dir
say() { printf '\n$ %s\n' "$*"; }

say boltpp-jobs --node-id demo simulate --jobs 50 --clients 8
"$jobs" --node-id demo simulate --jobs 50 --clients 8
say boltpp-jobs --node-id demo job list --limit 5
"$jobs" --node-id demo job list --limit 5
first=$("$jobs" --node-id demo job list --limit 1 --order-by id -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ID"][:10])')
say boltpp-jobs --node-id demo job history "$first"
"$jobs" --node-id demo job history "$first"
say boltpp-jobs --node-id demo node counters
"$jobs" --node-id demo node counters
if [ -x "$boltpp" ]; then
  say boltpp buckets "$dir/demo-compute.db"
  "$boltpp" buckets "$dir/demo-compute.db"
fi
cp "$here/testdata/node-1-requester.db" "$here/testdata/node-1-compute.db" "$dir/"
chmod 600 "$dir"/node-1-*.db
say boltpp-jobs --node-id node-1 verify "   # files written by Go bbolt in the real layout"
"$jobs" --node-id node-1 verify || echo "(exit $?: the real DeleteJob left orphans)"
say boltpp-jobs --node-id node-1 verify --repair
"$jobs" --node-id node-1 verify --repair
say boltpp-jobs --node-id node-1 node history e-00000006-aaaa-4000-8000-000000000006 "| tail -3   # 1005 rows, %03d keys, in order"
"$jobs" --node-id node-1 node history e-00000006-aaaa-4000-8000-000000000006 | tail -3
say boltpp-jobs --node-id node-1 restart --fail-stuck-after 1d --delete-terminal-after 1d --compact
"$jobs" --node-id node-1 restart --fail-stuck-after 1d --delete-terminal-after 1d --compact
