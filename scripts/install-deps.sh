#!/usr/bin/env bash
# Installs everything boltpp needs to build and test, from Debian 12's packages.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev nlohmann-json3-dev
  clang libclang-rt-14-dev
  golang-go golang-github-coreos-bbolt-dev
  etcd-server etcd-client
  liblmdb-dev librocksdb-dev libsqlite3-dev
  gnuplot-nox
  libcli11-dev libfmt-dev libssl-dev libsodium-dev libb2-dev libcpp-httplib-dev libleveldb-dev
  curl python3 file
)
# Node.js runs the CAR cross-checks against @ipld/car and ipfs-car (npm
# packages the tests install from apps/car/tests/node/package-lock.json);
# Debian's nodejs and npm when the machine has no node of its own.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
