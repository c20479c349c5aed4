#!/bin/sh
# File: cmake/boltpp-manpage.sh
# Writes a section-1 man page for a command from its own --help output, so
# the pages never drift from the commands:
#   boltpp-manpage.sh COMMAND NAME VERSION OUT
# COMMAND is the executable, NAME the installed name ("boltpp"), OUT the
# page to write ("boltpp.1"). The text before the first "Heading:" line is
# the description (its first line also gives NAME's one-line summary); each
# "Heading:" (cobra's "Flags:", CLI11's "Options:", ...) becomes a section.
# When a section lists subcommands ("Available Commands:", "Subcommands:",
# "Commands:"), each one's `COMMAND SUB --help` is added under COMMANDS.
# Needs only sh and awk. Exit status 1 when COMMAND --help fails.
set -eu
if [ "$#" -ne 4 ]; then
  echo "usage: $0 COMMAND NAME VERSION OUT" >&2
  exit 1
fi
cmd=$1 name=$2 version=$3 out=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$cmd" --help >"$tmp/help" 2>&1; then
  echo "$0: '$cmd --help' failed:" >&2
  cat "$tmp/help" >&2
  exit 1
fi

# Subcommand names: two-space-indented first words in a commands section.
awk '
  /^[A-Z][A-Za-z ]*:$/ { in_cmds = ($0 ~ /^(Available Commands|Commands|Subcommands|SUBCOMMANDS):$/); next }
  /^[^ ]/ { in_cmds = 0 }
  in_cmds && /^  [a-z][a-z0-9_-]*( |$)/ { sub(/^  /, ""); sub(/ .*/, ""); if ($0 != "help" && $0 != "completion") print }
' "$tmp/help" >"$tmp/subcommands"
: >"$tmp/subhelp"
while read -r sub; do
  printf '@@SUBCOMMAND@@ %s\n' "$sub" >>"$tmp/subhelp"
  "$cmd" "$sub" --help >>"$tmp/subhelp" 2>&1 || true
done <"$tmp/subcommands"

awk -v name="$name" -v version="$version" -v subhelp="$tmp/subhelp" '
  function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    if (s ~ /^[.\047]/) s = "\\&" s
    return s
  }
  function heading(h) { h = toupper(h); sub(/:$/, "", h); return h }
  BEGIN {
    NAME = toupper(name)
    printf ".TH \"%s\" \"1\" \"\" \"%s %s\" \"User Commands\"\n", NAME, name, version
    state = "desc"
  }
  {
    lines[NR] = $0
  }
  END {
    # Description: the lines before the first heading or "Usage:" line.
    n = 0
    for (i = 1; i <= NR; i++) {
      if (lines[i] ~ /^[A-Z][A-Za-z ]*:$/ || lines[i] ~ /^Usage:/) break
      desc[++n] = lines[i]
    }
    first = i
    while (n > 0 && desc[n] == "") n--
    summary = (n > 0 && desc[1] != "") ? desc[1] : "a command of boltpp"
    sub("^" name ": *", "", summary)
    sub(/ \(.*/, "", summary)  # the first line up to a parenthesis or a full stop
    sub(/\..*/, "", summary)
    print ".SH NAME"
    print esc(name) " \\- " esc(summary)
    if (n > 0) {
      print ".SH DESCRIPTION"
      for (j = 1; j <= n; j++) print (desc[j] == "" ? ".PP" : esc(desc[j]))
    }
    open = 0
    for (i = first; i <= NR; i++) {
      line = lines[i]
      if (line ~ /^[A-Z][A-Za-z ]*:$/) {
        if (open) print ".fi"
        print ".SH " heading(line)
        print ".nf"
        open = 1
      } else if (line ~ /^Usage: /) {
        if (open) print ".fi"
        print ".SH USAGE"
        print ".nf"
        open = 1
        sub(/^Usage: */, "", line)
        print esc(line)
      } else {
        if (!open) { print ".PP"; print ".nf"; open = 1 }
        print esc(line)
      }
    }
    if (open) print ".fi"
    # Every subcommand help, as a subsection of COMMANDS.
    started = 0
    while ((getline line < subhelp) > 0) {
      if (line ~ /^@@SUBCOMMAND@@ /) {
        if (!started) { print ".SH COMMANDS"; started = 1 } else print ".fi"
        sub(/^@@SUBCOMMAND@@ /, "", line)
        print ".SS \"" esc(name " " line) "\""
        print ".nf"
      } else {
        print esc(line)
      }
    }
    if (started) print ".fi"
  }
' "$tmp/help" >"$tmp/page"
mv "$tmp/page" "$out"
