#!/usr/bin/env bash
# File: tests/packaging/consumer_test.sh
# boltpp as other projects and machines get it (issue 14):
#  1. builds a shared libboltpp and the commands (BUILD_SHARED_LIBS=ON,
#     -O2, no tests) in a scratch build tree and installs it into a
#     scratch prefix;
#  2. checks the shared library: SONAME libboltpp.so.<BOLTPP_ABI_VERSION>,
#     and `nm -D` lists only the public API (every exported name is one of
#     include/boltpp's BOLTPP_EXPORT classes or functions, and those are there);
#  3. builds tests/packaging/cmake_consumer (find_package) and
#     pkgconfig_consumer (pkg-config) against the prefix; one writes a
#     database, the other reads it back, the installed `boltpp check` agrees;
#  4. with STATIC_BUILD_DIR (an already built default, static tree): installs
#     it into a second prefix and runs both consumers against libboltpp.a;
#  5. makes the Debian package with `cpack -G DEB`, checks its contents,
#     unpacks it with `dpkg -x` into a scratch root and runs `boltpp --version`
#     and a consumer from there; then installs and removes it with dpkg in a
#     scratch dpkg database (--root; its ldconfig calls go to a stand-in, so
#     this machine is not touched) and checks nothing is left behind.
#
#   bash tests/packaging/consumer_test.sh [STATIC_BUILD_DIR]
#
# Environment: JOBS (default nproc), BOLTPP_PACKAGING_WORK (scratch directory,
# default a new temporary one, removed at the end unless KEEP=1),
# BOLTPP_PACKAGING_APPS=ON to build the applications into the package too.
# Prints one "ok:" line per check; exit status 0 when all pass, 1 otherwise.
# (Pipes end in `grep >/dev/null`, not `grep -q`: with pipefail, grep -q
# quitting early can fail the writer with SIGPIPE.)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/packaging
static_build=${1:-}
jobs=${JOBS:-$(nproc)}
work=${BOLTPP_PACKAGING_WORK:-$(mktemp -d /tmp/boltpp-packaging.XXXXXX)}
mkdir -p "$work"
if [ -z "${BOLTPP_PACKAGING_WORK:-}" ] && [ "${KEEP:-0}" != 1 ]; then
  trap 'rm -rf "$work"' EXIT
fi
start=$SECONDS

fail() { echo "FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $* ($((SECONDS - start)) s)"; }

version_part() { sed -nE "s/^#define BOLTPP_$1 +([0-9]+) *$/\1/p" "$root/include/boltpp/version.h"; }
version="$(version_part VERSION_MAJOR).$(version_part VERSION_MINOR).$(version_part VERSION_PATCH)"
abi=$(version_part ABI_VERSION)
[ -n "$abi" ] && [ "$version" != ".." ] || fail "could not read include/boltpp/version.h"

# What the checks run, with the Debian package that has it. CPack's DEB
# generator needs `file` and dpkg-shlibdeps to work out the dependencies.
for need in "file:file" "dpkg-shlibdeps:dpkg-dev" "nm:binutils" "readelf:binutils" \
  "pkg-config:pkg-config" "make:make" "gzip:gzip" "cpack:cmake" "ninja:ninja-build"; do
  command -v "${need%%:*}" >/dev/null || fail "needs ${need%%:*} (Debian package ${need#*:})"
done

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

# 1. Shared build, installed into a scratch prefix.
build=$work/build-shared
# -O2 as a distribution builds (GCC 12 warns falsely about some code at -O3);
# warnings are the main build's business (-DBOLTPP_WERROR=ON there).
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DBUILD_SHARED_LIBS=ON \
  -DBOLTPP_BUILD_TESTS=OFF -DBOLTPP_BUILD_APPS="${BOLTPP_PACKAGING_APPS:-OFF}" \
  "${launcher[@]}" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; fail "configure of the shared build"; }
cmake --build "$build" -j"$jobs" >"$work/build.log" 2>&1 ||
  { tail -50 "$work/build.log"; fail "shared build"; }
ok "shared build in $build"
prefix=$work/prefix-shared
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "install into $prefix"; }
ok "installed into $prefix"

# 2. The shared library's name and exports.
libdir=$prefix/lib
so=$libdir/libboltpp.so.$version
[ -f "$so" ] && [ -L "$libdir/libboltpp.so.$abi" ] && [ -L "$libdir/libboltpp.so" ] ||
  fail "want $so with links libboltpp.so.$abi and libboltpp.so; have: $(ls "$libdir")"
soname=$(readelf -d "$so" | sed -nE 's/.*\(SONAME\).*\[(.*)\].*/\1/p')
[ "$soname" = "libboltpp.so.$abi" ] || fail "SONAME is '$soname', want libboltpp.so.$abi"
ok "SONAME $soname"
bash "$here/check_exports.sh" "$so" || fail "the shared library exports more or less than the public API"
ok "nm -D: only the public API is exported"

# 3. Consumers against the shared library: one writes, the other reads.
run_consumers() {  # run_consumers NAME PREFIX
  local name=$1 pfx=$2 out=$work/consumers-$1 keys=2000
  rm -f "$out"/*.db "$out"/*.db.compact  # a kept work directory is reused
  mkdir -p "$out/pc"
  cmake -S "$here/cmake_consumer" -B "$out/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$pfx" \
    >"$out/cmake.log" 2>&1 && cmake --build "$out/cmake" >>"$out/cmake.log" 2>&1 ||
    { cat "$out/cmake.log"; fail "$name: the find_package consumer did not build"; }
  grep -q "boltpp $version from $pfx/lib/cmake/boltpp" "$out/cmake.log" ||
    fail "$name: find_package did not find boltpp $version in $pfx"
  PKG_CONFIG_PATH=$pfx/lib/pkgconfig make -s -f "$here/pkgconfig_consumer/Makefile" -C "$out/pc" \
    >"$out/pc.log" 2>&1 || { cat "$out/pc.log"; fail "$name: the pkg-config consumer did not build"; }
  ok "$name: consumers built with find_package and with pkg-config"
  # The pkg-config consumer has no RUNPATH; it finds a shared libboltpp here.
  export LD_LIBRARY_PATH=$pfx/lib
  "$out/cmake/consumer" version || fail "$name: version"
  "$out/pc/consumer" version || fail "$name: version (pkg-config)"
  "$out/cmake/consumer" write "$out/test.db" $keys || fail "$name: find_package consumer, write"
  "$out/pc/consumer" read "$out/test.db" $keys || fail "$name: pkg-config consumer, read"
  "$out/pc/consumer" read "$out/test.db.compact" $keys || fail "$name: read the compacted copy"
  "$pfx/bin/boltpp" check "$out/test.db" | grep -x OK >/dev/null || fail "$name: boltpp check"
  [ "$("$pfx/bin/boltpp" get "$out/test.db" widgets key000007)" = "value-49" ] ||
    fail "$name: boltpp get"
  # A read of a file that is not a database fails with bbolt's error.
  head -c 8192 /dev/urandom >"$out/junk.db"
  if "$out/pc/consumer" read "$out/junk.db" 1 2>"$out/junk.err"; then
    fail "$name: a junk file was read as a database"
  fi
  grep -q "invalid database" "$out/junk.err" || fail "$name: junk file: $(cat "$out/junk.err")"
  unset LD_LIBRARY_PATH
  ok "$name: written by one consumer, read by the other, checked by the installed boltpp"
}
run_consumers shared "$prefix"
ldd "$work/consumers-shared/cmake/consumer" | grep "libboltpp.so.$abi => $libdir/" >/dev/null ||
  fail "the find_package consumer is not linked to $libdir/libboltpp.so.$abi"

# 4. The static library from an already built tree.
if [ -n "$static_build" ]; then
  cmake --install "$static_build" --prefix "$work/prefix-static" >"$work/install-static.log" 2>&1 ||
    { cat "$work/install-static.log"; fail "install of $static_build"; }
  [ -f "$work/prefix-static/lib/libboltpp.a" ] || fail "$static_build has no static libboltpp"
  run_consumers static "$work/prefix-static"
fi

# 5. The Debian package.
(cd "$build" && cpack -G DEB) >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$build"/boltpp_"$version"_*.deb)
dpkg-deb --contents "$deb" >"$work/deb-contents"
for want in "./usr/bin/boltpp" "./usr/lib/libboltpp.so.$version" "./usr/lib/libboltpp.so.$abi" \
  "./usr/lib/libboltpp.so" "./usr/include/boltpp/boltpp.h" "./usr/include/boltpp/version.h" \
  "./usr/lib/cmake/boltpp/boltppConfig.cmake" "./usr/lib/cmake/boltpp/boltppConfigVersion.cmake" \
  "./usr/lib/pkgconfig/boltpp.pc" "./usr/share/man/man1/boltpp.1.gz"; do
  grep -q " $want\( \|$\)" "$work/deb-contents" || fail "$deb lacks $want"
done
if grep -q "boltpp_engine_static\|/src/" "$work/deb-contents"; then fail "$deb ships internal files"; fi
dpkg-deb --field "$deb" Depends | grep libc6 >/dev/null || fail "$deb: no Depends on libc6 (shlibdeps)"
ok "$(basename "$deb"): library, headers, CMake and pkg-config files, commands, man pages"
debroot=$work/debroot
rm -rf "$debroot"
dpkg -x "$deb" "$debroot"
got=$("$debroot/usr/bin/boltpp" --version)
[ "$got" = "boltpp version $version" ] || fail "boltpp --version from the package: '$got'"
ok "dpkg -x; $debroot/usr/bin/boltpp --version: $got"
LD_LIBRARY_PATH=$debroot/usr/lib "$work/consumers-shared/pc/consumer" read \
  "$work/consumers-shared/test.db" 2000 >/dev/null || fail "consumer against the packaged library"
zcat "$debroot/usr/share/man/man1/boltpp.1.gz" | grep '^\.SS "boltpp get"' >/dev/null ||
  fail "the man page lacks the subcommands"
ok "the packaged library serves a consumer; the man page has every subcommand"

# Install and remove with dpkg, in a scratch dpkg database and root.
dpkgroot=$work/dpkgroot
rm -rf "$dpkgroot"
mkdir -p "$dpkgroot/var/lib/dpkg/updates" "$dpkgroot/var/lib/dpkg/info" "$dpkgroot/usr/bin"
touch "$dpkgroot/var/lib/dpkg/status"
# The maintainer scripts run outside the scratch root (there is no shell in
# it); they find a stand-in ldconfig first on PATH, which records the call
# instead of rebuilding this machine's cache.
mkdir -p "$work/fakebin"
printf '#!/bin/sh\necho "ldconfig $*" >>"%s"\n' "$work/ldconfig.calls" >"$work/fakebin/ldconfig"
chmod +x "$work/fakebin/ldconfig"
: >"$work/ldconfig.calls"
dpkg_scratch() {
  PATH=$work/fakebin:$PATH dpkg --root="$dpkgroot" --force-not-root --force-bad-path \
    --force-depends --force-script-chrootless --log=/dev/null "$@"
}
dpkg_scratch --install "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --install"; }
[ -x "$dpkgroot/usr/bin/boltpp" ] || fail "dpkg --install put no usr/bin/boltpp"
dpkg_scratch --purge boltpp >>"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --purge"; }
left=$(cd "$dpkgroot" && find . -path ./var -prune -o -type f -print)
[ -z "$left" ] || fail "dpkg --purge left files behind: $left"
[ "$(grep -c ldconfig "$work/ldconfig.calls")" = 2 ] ||
  fail "want ldconfig run on install and on removal, got: $(cat "$work/ldconfig.calls")"
ok "dpkg --install and --purge in a scratch root leave nothing behind"
echo "packaging: all checks passed in $((SECONDS - start)) s"
