#!/bin/sh
# summary.sh BUILDDIR: count test cases across the automake test logs and
# print "N passed, N failed". Check programs report "Checks: X, Failures: F,
# Errors: E"; shell tests print TAP-style "ok - " / "not ok - " lines; a test
# that failed without reporting any case (a crash, a build error) counts as
# one failure.
set -u
dir=${1:-.}
pass=0; fail=0
for trs in $(find "$dir" -name '*.trs' | sort); do
    log=${trs%.trs}.log
    [ -f "$log" ] || continue
    res=$(sed -n 's/^:test-result: //p' "$trs" | head -1)
    counts=$(awk '
        /[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
            for (i = 1; i <= NF; i++) {
                if ($i == "Checks:") c = $(i+1) + 0
                if ($i == "Failures:") f = $(i+1) + 0
                if ($i == "Errors:") e = $(i+1) + 0
            }
            p += c - f - e; x += f + e; seen = 1
        }
        /^ok - / { p++; seen = 1 }
        /^not ok - / { x++; seen = 1 }
        END { printf "%d %d %d\n", p, x, seen }' "$log")
    set -- $counts
    p=$1; x=$2; seen=$3
    if [ "$seen" -eq 0 ]; then
        if [ "$res" = PASS ]; then p=1; else x=1; fi
    elif [ "$res" != PASS ] && [ "$res" != SKIP ] && [ "$x" -eq 0 ]; then
        x=1 # it reported only passes but still failed (crash after the run, leak report)
    fi
    pass=$((pass + p)); fail=$((fail + x))
    [ "$x" -gt 0 ] && echo "FAILED: ${trs%.trs} ($res)" >&2
done
echo "$pass passed, $fail failed"
