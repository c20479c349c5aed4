#!/usr/bin/env bash
# File: tests/packaging/check_exports.sh
# Checks that a shared libboltpp exports exactly the public API:
#   bash tests/packaging/check_exports.sh path/to/libboltpp.so
# Every dynamic symbol the library defines (nm -D --defined-only, demangled)
# must belong to one of the classes or functions include/boltpp/ marks
# BOLTPP_EXPORT (their members, vtables and type_info), and a sample of the
# API must be there (so that an empty export list fails too). Prints the
# offending names and exits 1 otherwise; prints the export count on success.
set -euo pipefail
lib=${1:?usage: check_exports.sh LIBBOLTPP_SO}

# The public API, as listed in docs/packaging.md.
classes='Bucket|Cursor|DB|Tx|Status|TxStats|BucketStats|Mapping|File|FileSystem|FileWrapper'
functions='CodeMessage|Compact|VersionString|VersionNumber|AbiVersion'
public="^((typeinfo|typeinfo name|vtable) for )?boltpp::(($classes)(::|$)|($functions)\\()"

symbols=$(nm -D --defined-only --format=posix -C "$lib" | sed -E 's/ [A-Za-z] [0-9a-f]*( [0-9a-f]*)?$//')
[ -n "$symbols" ] || { echo "$lib exports nothing" >&2; exit 1; }
internal=$(grep -Ev "$public" <<<"$symbols" || true)
if [ -n "$internal" ]; then
  echo "$lib exports names outside the public API:" >&2
  echo "$internal" >&2
  exit 1
fi
for want in 'boltpp::DB::Open(' 'boltpp::DB::Update(' 'boltpp::Tx::Commit()' 'boltpp::Tx::Check' \
  'boltpp::Bucket::Put(' 'boltpp::Cursor::Next()' 'boltpp::Status::ToString' \
  'boltpp::CodeMessage(' 'boltpp::Compact(' 'boltpp::VersionString()' \
  'boltpp::FileSystem::Default()' 'boltpp::TxStats::Add(' 'typeinfo for boltpp::FileSystem'; do
  grep -qF "$want" <<<"$symbols" || { echo "$lib does not export $want" >&2; exit 1; }
done
echo "$lib: $(wc -l <<<"$symbols") exported names, all in the public API"
