#!/bin/sh
# Smoke-run every libFuzzer target built in fuzz/ for FUZZ_SECONDS (default 5)
# starting from its seed corpus. A crash, leak or sanitizer report fails it.
set -u
secs=${FUZZ_SECONDS:-5}
bdir=${ETHD_BUILDDIR:-.}
sdir=${ETHD_SRCDIR:-.}
found=0; failed=0
for bin in "$bdir"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    case "$bin" in *.c|*.o|*.log) continue;; esac
    name=${bin##*/fuzz_}
    found=$((found + 1))
    work=$(mktemp -d)
    seeds="$sdir/fuzz/corpus/$name"
    [ -d "$seeds" ] || seeds=
    if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 \
            -artifact_prefix="$work/" "$work" $seeds >"$work/log" 2>&1; then
        echo "ok - fuzz $name ($(grep -c '' "$work/log") log lines, ${secs}s)"
    else
        echo "not ok - fuzz $name"; tail -40 "$work/log"; failed=$((failed + 1))
    fi
    rm -rf "$work"
done
if [ "$found" -eq 0 ]; then echo "no fuzz targets built"; exit 1; fi
[ "$failed" -eq 0 ]
