#!/usr/bin/env bash
# File: apps/dagstore/scripts/demo.sh
# A short tour of boltpp-dagstore: generate a small corpus with boltpp-car,
# migrate it (lazy registration), initialize every shard, list them, fetch a
# block, then serve the store over HTTP briefly and curl a block and a piece.
#
#   apps/dagstore/scripts/demo.sh [BUILD_DIR]   (default <repo>/build; built if needed)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
BUILD="${1:-${BOLTPP_BUILD:-$ROOT/build}}"
DAG="$BUILD/apps/dagstore/boltpp-dagstore"
CAR="$BUILD/apps/car/boltpp-car"
if [ ! -x "$DAG" ] || [ ! -x "$CAR" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j"${JOBS:-2}" --target boltpp_dagstore_cli boltpp_car_cli >/dev/null
fi
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
STORE="$WORK/dagstore"
run() { echo "\$ boltpp-dagstore $*"; "$DAG" --root "$STORE" "$@"; echo; }

echo "\$ boltpp-car gen --out cars --count 5 --seed 7"
"$CAR" gen --out "$WORK/cars" --count 5 --seed 7 >/dev/null
ls "$WORK/cars"
echo
run migrate "$WORK/cars"
run list-shards
run initialize-all --concurrency=2
run list-shards --output json
first_car="$(ls "$WORK"/cars/*.car | head -1)"
cid="$("$CAR" ls "$first_car" | tail -1)"
key="$("$DAG" --root "$STORE" list-shards --output json | grep -m1 '"Key"' | sed 's/.*"Key": "\([^"]*\)".*/\1/')"
run lookup-piece-cid "$cid"
echo "\$ boltpp-dagstore get-block $cid | od -An -tx1 | head -2"
"$DAG" --root "$STORE" get-block "$cid" | od -An -tx1 | head -2
echo
run gc
run verify

echo "\$ boltpp-dagstore serve --listen 127.0.0.1:0 &"
"$DAG" --root "$STORE" serve --listen 127.0.0.1:0 >"$WORK/serve.out" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.05; done
cat "$WORK/serve.out"
url="$(sed -n 's/^listening on //p' "$WORK/serve.out")"
echo "\$ curl -s -o block.bin '$url/ipfs/$cid?format=raw'"
kill -0 "$SERVER_PID"
curl -sf "$url/ipfs/$cid?format=raw" -o "$WORK/block.bin"
echo "served block: $(stat -c %s "$WORK/block.bin") bytes"
echo "\$ curl -s $url/piece/$key | wc -c"
curl -sf "$url/piece/$key" | wc -c
echo "\$ curl -s -o /dev/null -w '%{http_code}' $url/ipfs/bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"
curl -s -o /dev/null -w '%{http_code}\n' "$url/ipfs/bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"
kill -INT "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=""
"$DAG" --root "$STORE" get-block "$cid" | cmp - "$WORK/block.bin" && echo "the served block equals get-block's"
