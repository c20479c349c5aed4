#!/bin/sh
# Regenerates the fixture files in this folder with the Go program in
# ../tests/go/jobsfixture (Go bbolt 1.3.6 in GOPATH mode, no network):
#   node-1-compute.db    the real compute store's layout, "%03d" history keys,
#                        one execution with 1005 history rows
#   node-1-requester.db  the real job store's layout, 16-digit history keys, and
#                        a job deleted as v1.2 does, leaving orphaned
#                        idx_executions/idx_evaluations entries
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here/../tests/go/jobsfixture"
GO111MODULE=off GOPATH=${GOPATH:-/usr/share/gocode} GOFLAGS= CGO_ENABLED=0 \
  GOCACHE="$tmp/cache" go build -o "$tmp/jobsfixture" .
"$tmp/jobsfixture" gen -dir "$here"
"$tmp/jobsfixture" check -db "$here/node-1-compute.db"
"$tmp/jobsfixture" check -db "$here/node-1-requester.db"
echo "wrote $here/node-1-compute.db $here/node-1-requester.db"
