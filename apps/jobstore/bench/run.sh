#!/bin/bash
# Side-by-side job-store benchmark: boltpp::jobstore (jobs_bench) against its
# Go twin on Go bbolt 1.3.6 (go/jobstwin), same layout and documents, durable
# commits, interleaved in one run. Prints one JSON line per measurement and a
# markdown table with the ratio boltpp / Go.
#
#   apps/jobstore/bench/run.sh [--quick] [--build DIR] [--out FILE.jsonl]
#
# Sizes (env): J1_JOBS (300), J1_JOBS_16 (2000), J2_N (500), J2_N_16 (3000),
# J3_N (1000000), J7_N (200).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build="$root/build-jobs"
out=""
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--build DIR] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
if [ $quick = 1 ]; then
  : "${J1_JOBS:=30}" "${J1_JOBS_16:=200}" "${J2_N:=40}" "${J2_N_16:=300}" "${J3_N:=20000}" "${J7_N:=20}"
fi
: "${J1_JOBS:=300}" "${J1_JOBS_16:=2000}" "${J2_N:=500}" "${J2_N_16:=3000}" "${J3_N:=1000000}" "${J7_N:=200}"

[ -f "$build/build.ninja" ] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j1 --target boltpp_jobs_bench >/dev/null
cpp="$build/apps/jobstore/boltpp_jobs_bench"
tmp=$(mktemp -d /tmp/jobsbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
(cd "$here/go/jobstwin" && GO111MODULE=off GOPATH=${GOPATH:-/usr/share/gocode} GOFLAGS= CGO_ENABLED=0 \
  GOCACHE="$tmp/gocache" go build -o "$tmp/jobstwin" .)
go="$tmp/jobstwin"
results="$tmp/results.jsonl"

run() {  # run <impl> <workload> args...
  local impl=$1 w=$2; shift 2
  rm -f "$tmp/db"
  if [ "$impl" = cpp ]; then "$cpp" "$w" --file "$tmp/db" "$@"; else "$go" "$w" -file "$tmp/db" $(echo "$@" | sed 's/--/-/g'); fi | tee -a "$results"
}

echo "# machine: $(nproc) cores, $(uname -r), $(date -u +%FT%TZ)" >&2
for clients in 1 16; do
  if [ $clients = 1 ]; then j1=$J1_JOBS; j2=$J2_N; else j1=$J1_JOBS_16; j2=$J2_N_16; fi
  run cpp j1 --jobs "$j1" --clients $clients
  run go j1 --jobs "$j1" --clients $clients
  run cpp j2 --n "$j2" --clients $clients
  run go j2 --n "$j2" --clients $clients
done
run cpp j7 --n "$J7_N" --clients 16
run go j7 --n "$J7_N" --clients 16

# J3: one file of J3_N executions (written once, read by both); warm cache,
# then counters: boltpp's key scan, boltpp decoding every JSON, Go decoding every JSON.
rm -f "$tmp/j3.db"
"$cpp" load --file "$tmp/j3.db" --n "$J3_N" --no-sync >&2
for rep in 1 2; do
  "$cpp" j3 --file "$tmp/j3.db" --decode > /dev/null  # warm the page cache
  "$cpp" j3 --file "$tmp/j3.db" | tee -a "$results"
  "$cpp" j3 --file "$tmp/j3.db" --decode | tee -a "$results"
  "$go" j3 -file "$tmp/j3.db" | tee -a "$results"
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def key(r): return (r["workload"], r["clients"])
best = {}
for r in rows:
    k = (key(r), r["impl"])
    # J3 runs twice: keep the faster of each; throughput workloads run once.
    if k not in best or r["seconds"] < best[k]["seconds"]: best[k] = r
print("\n| workload | clients | boltpp | Go bbolt twin | ratio | boltpp file / RSS |")
print("|---|---|---|---|---|---|")
for (wk, impl), r in sorted(best.items()):
    if impl != "boltpp": continue
    g = best.get((wk, "bbolt-go"))
    unit = r["unit"]
    if r["workload"].startswith("J3"):
        cell = lambda x: f'{x["seconds"]:.3f} s ({x["ops"]} executions)'
        ratio = f'{g["seconds"] / r["seconds"]:.2f}x' if g else "-"
    else:
        cell = lambda x: f'{x["per_sec"]:.0f} {unit}/s'
        ratio = f'{r["per_sec"] / g["per_sec"]:.2f}x' if g else "-"
    extra = f'{r["file_bytes"] / 1e6:.1f} MB / {r["peak_rss_kb"] / 1024:.0f} MiB'
    if "bytes_per_job" in r: extra += f' ({r["bytes_per_job"]:.0f} B/job; Go {g["bytes_per_job"]:.0f})' if g else ""
    print(f'| {r["workload"]} | {r["clients"]} | {cell(r)} | {cell(g) if g else "-"} | {ratio} | {extra} |')
PY
if [ -n "$out" ]; then cp "$results" "$out"; fi
