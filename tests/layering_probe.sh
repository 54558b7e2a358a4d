#!/bin/sh
# Issue 12 item 6: the layering is enforced by the build.  For component C,
# compiles a one-line probe `#include "<header>"` with C's own include flags
# (CMake's, passed after the first three arguments) for every header under
# src/: each header scripts/lint's edge table allows C must compile, and
# every other one (other components' public headers outside the table,
# store/ record headers of other owners, anyone's *_internal.h) must fail to
# compile because it is not found.
#   layering_probe.sh CC SOURCE_DIR C -I... -D...
set -eu
cc=$1 src=$2 comp=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 refused=0 allowed=0

probe() { # header flags... -> 0 when it compiles
    printf '#include "%s"\n' "$1" >"$tmp/probe.c"
    shift
    "$cc" -std=c17 -fsyntax-only "$@" "$tmp/probe.c" >"$tmp/out" 2>&1
}

for h in $("$src/scripts/lint" allowed "$comp"); do
    allowed=$((allowed + 1))
    if ! probe "$h" "$@"; then
        echo "FAIL: $comp may include $h (edge table) but it does not compile:"
        cat "$tmp/out"
        fails=$((fails + 1))
    fi
done
for h in $("$src/scripts/lint" refused "$comp"); do
    refused=$((refused + 1))
    if probe "$h" "$@"; then
        echo "FAIL: $comp must not see $h, yet it compiles"
        fails=$((fails + 1))
    elif ! grep -q "No such file" "$tmp/out"; then
        echo "FAIL: $h refused to $comp for another reason than not found:"
        cat "$tmp/out"
        fails=$((fails + 1))
    fi
done
echo "$comp: $allowed allowed header(s) compile, $refused refused one(s) are not found; $fails failure(s)"
[ "$fails" -eq 0 ]
