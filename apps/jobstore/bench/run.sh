#!/bin/bash
# Side-by-side job-store benchmark: boltpp::jobstore (jobs_bench) against its
# Go twin on Go bbolt 1.3.6 (go/jobstwin), same layout and documents, durable
# commits, interleaved in one run. Prints one JSON line per measurement and a
# markdown table with the ratio boltpp / Go.
#
#   apps/jobstore/bench/run.sh [--quick] [--build DIR] [--out FILE.jsonl]
#
# Sizes (env): J1_JOBS (300), J1_JOBS_16 (2000), J2_N (500), J2_N_16 (3000),
# J3_N (1000000), J4_JOBS (100000), J4_Q (5000), J5_JOBS (200), J6_ROUNDS (20),
# J6_JOBS (200), J7_N (200). J6 runs without fsync (it measures space, not commits).
# Row "synclat": the disk's fdatasync latency, measured before the write workloads
# and again after them (the faster kept).
# The write workloads (J1, J2, J5, J6, J7) run three times side by side:
# boltpp (default mode), boltpp in WAL mode (--wal, rows "boltpp-wal") and Go.
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
  : "${J4_JOBS:=2000}" "${J4_Q:=500}" "${J5_JOBS:=20}" "${J6_ROUNDS:=3}" "${J6_JOBS:=50}"
fi
: "${J1_JOBS:=300}" "${J1_JOBS_16:=2000}" "${J2_N:=500}" "${J2_N_16:=3000}" "${J3_N:=1000000}" "${J7_N:=200}"
: "${J4_JOBS:=100000}" "${J4_Q:=5000}" "${J5_JOBS:=200}" "${J6_ROUNDS:=20}" "${J6_JOBS:=200}"

[ -f "$build/build.ninja" ] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j1 --target boltpp_jobs_bench >/dev/null
cpp="$build/apps/jobstore/boltpp_jobs_bench"
tmp=$(mktemp -d /tmp/jobsbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
(cd "$here/go/jobstwin" && GO111MODULE=off GOPATH=${GOPATH:-/usr/share/gocode} GOFLAGS= CGO_ENABLED=0 \
  GOCACHE="$tmp/gocache" go build -o "$tmp/jobstwin" .)
go="$tmp/jobstwin"
results="$tmp/results.jsonl"

run() {  # run <impl> <workload> args...   impl: cpp, cpp-wal or go
  local impl=$1 w=$2; shift 2
  rm -f "$tmp/db" "$tmp/db-wal"
  if [ "$impl" = cpp-wal ]; then "$cpp" "$w" --file "$tmp/db" --wal "$@" | tee -a "$results"; return; fi
  if [ "$impl" = cpp ]; then "$cpp" "$w" --file "$tmp/db" "$@"; else "$go" "$w" -file "$tmp/db" $(echo "$@" | sed 's/--/-/g'); fi | tee -a "$results"
}

echo "# machine: $(nproc) cores, $(uname -r), $(date -u +%FT%TZ)" >&2
# The disk's fdatasync latency (what bounds the durable rows: C closed-loop
# clients commit at most C / (latency + CPU) per second), before and after.
"$cpp" synclat --file "$tmp/sync.dat" --n 500 | tee -a "$results"
for clients in 1 16; do
  if [ $clients = 1 ]; then j1=$J1_JOBS; j2=$J2_N; else j1=$J1_JOBS_16; j2=$J2_N_16; fi
  run cpp j1 --jobs "$j1" --clients $clients
  run cpp-wal j1 --jobs "$j1" --clients $clients
  run go j1 --jobs "$j1" --clients $clients
  run cpp j2 --n "$j2" --clients $clients
  run cpp-wal j2 --n "$j2" --clients $clients
  run go j2 --n "$j2" --clients $clients
done
run cpp j7 --n "$J7_N" --clients 16
run cpp-wal j7 --n "$J7_N" --clients 16
run go j7 --n "$J7_N" --clients 16
run cpp j5 --jobs "$J5_JOBS"
run cpp-wal j5 --jobs "$J5_JOBS"
run go j5 --jobs "$J5_JOBS"
run cpp j6 --jobs "$J6_JOBS" --n "$J6_ROUNDS" --no-sync
run cpp-wal j6 --jobs "$J6_JOBS" --n "$J6_ROUNDS" --no-sync
run go j6 --jobs "$J6_JOBS" --n "$J6_ROUNDS" --no-sync

"$cpp" synclat --file "$tmp/sync.dat" --n 500 | tee -a "$results"

# J4: one file of J4_JOBS jobs (written once by boltpp), queried by both.
"$cpp" j4load --file "$tmp/j4.db" --jobs "$J4_JOBS" >&2
for rep in 1 2; do
  "$cpp" j4 --file "$tmp/j4.db" --jobs "$J4_JOBS" --n "$J4_Q" | tee -a "$results"
  "$go" j4 -file "$tmp/j4.db" -jobs "$J4_JOBS" -n "$J4_Q" | tee -a "$results"
done

# J3: one file of J3_N executions (written once, read by both); warm cache,
# then counters: boltpp's persisted record, boltpp's recount (key scan) after
# the record is dropped, boltpp decoding every JSON, Go decoding every JSON.
rm -f "$tmp/j3.db"
"$cpp" load --file "$tmp/j3.db" --n "$J3_N" --no-sync >&2
for rep in 1 2; do
  "$cpp" j3 --file "$tmp/j3.db" --decode > /dev/null  # warm the page cache
  "$cpp" j3 --file "$tmp/j3.db" --recount | tee -a "$results"
  "$cpp" j3 --file "$tmp/j3.db" | tee -a "$results"
  "$cpp" j3 --file "$tmp/j3.db" --decode | tee -a "$results"
  "$go" j3 -file "$tmp/j3.db" | tee -a "$results"
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
best = {}
for r in rows:
    k = ((r["workload"], r["clients"]), r["impl"])
    # Repeated rows (J3, J4): keep the faster; throughput workloads run once.
    if k not in best or r["seconds"] / r["ops"] < best[k]["seconds"] / best[k]["ops"]: best[k] = r
def go_of(wk):
    g = best.get((wk, "bbolt-go"))
    if g is None and wk[0].startswith("J3"): g = best.get((("J3", wk[1]), "bbolt-go"))
    return g
print("\n| workload | clients | boltpp | Go bbolt twin | ratio | boltpp file / RSS, notes |")
print("|---|---|---|---|---|---|")
for (wk, impl), r in sorted(best.items()):
    if impl not in ("boltpp", "boltpp-wal") or r["workload"].endswith("load"): continue
    g = go_of(wk)
    unit = r["unit"]
    if r["workload"].startswith("J3"):
        cell = lambda x: f'{x["seconds"]:.3f} s ({x["ops"]} executions)'
        ratio = f'{g["seconds"] / r["seconds"]:.1f}x' if g else "-"
    else:
        cell = lambda x: f'{x["per_sec"]:.0f} {unit}/s'
        ratio = f'{r["per_sec"] / g["per_sec"]:.2f}x' if g else "-"
    extra = f'{r["file_bytes"] / 1e6:.1f} MB / {r["peak_rss_kb"] / 1024:.0f} MiB'
    if g and "bytes_per_job" in r: extra += f'; {r["bytes_per_job"]:.0f} B/job (Go {g["bytes_per_job"]:.0f})'
    if "calls_per_commit" in r: extra += f'; {r["calls_per_commit"]:.1f} calls/commit'
    if "p50_ms" in r: extra += f'; fdatasync p10/p50/p90 {r["p10_ms"]:.2f}/{r["p50_ms"]:.2f}/{r["p90_ms"]:.2f} ms'
    if "p50_us" in r: extra += f'; p50/p99 {r["p50_us"]:.0f}/{r["p99_us"]:.0f} us' + (f' (Go {g["p50_us"]:.0f}/{g["p99_us"]:.0f})' if g else "")
    if "reader_p50_us" in r and g: extra += f'; readers {r["reader_ops_per_sec"]:.0f}/s p50/p99 {r["reader_p50_us"]:.0f}/{r["reader_p99_us"]:.0f} us (Go {g["reader_ops_per_sec"]:.0f}/s {g["reader_p50_us"]:.0f}/{g["reader_p99_us"]:.0f})'
    if "free_pages" in r and g: extra += f'; free pages {r["free_pages"]:.0f} (Go {g["free_pages"]:.0f}); {r["bytes_before_compact"]/1e6:.1f} -> {r["bytes_after_compact"]/1e6:.1f} MB in {r["compact_seconds"]:.2f} s (Go {g["bytes_before_compact"]/1e6:.1f} -> {g["bytes_after_compact"]/1e6:.1f} MB in {g["compact_seconds"]:.2f} s)'
    mode = " (WAL)" if impl == "boltpp-wal" else ""
    print(f'| {r["workload"]}{mode} | {r["clients"]} | {cell(r)} | {cell(g) if g else "-"} | {ratio} | {extra} |')
PY
if [ -n "$out" ]; then cp "$results" "$out"; fi
