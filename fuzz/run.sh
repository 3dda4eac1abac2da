#!/bin/bash
# fuzz/run.sh BUILD_DIR SECONDS — runs every BUILD_DIR/fuzz_* libFuzzer
# binary for SECONDS each, one after the other.
#
# Each target keeps its corpus in BUILD_DIR/fuzz-corpus/NAME, seeded on
# first use from fuzz/seeds/NAME (without fuzz_) when that folder exists (inputs in the
# target's own form, e.g. with its selector byte first), else from
# ../shared/data/json/JSONTestSuite/test_parsing and from examples/ when
# present; a target can be chosen with FUZZ_ONLY=NAME. It writes crash
# reproducers to
# BUILD_DIR/fuzz-artifacts/NAME/. Exits non-zero if any target crashed.
# Knobs: FUZZ_JOBS (parallel workers per target, default 1), FUZZ_ARGS
# (extra libFuzzer flags).
set -uo pipefail

BUILD=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS}
SECS=${2:-60}
BUILD=$(cd "$BUILD" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUITE=${KOBAN_DATA:-$ROOT/../shared/data}/json/JSONTestSuite/test_parsing
EXAMPLES=$ROOT/examples
JOBS=${FUZZ_JOBS:-1}

shopt -s nullglob
targets=("$BUILD"/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz: no fuzz_* binaries in $BUILD (make fuzz builds them)" >&2
    exit 2
fi

status=0
for t in "${targets[@]}"; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    name=$(basename "$t")
    [ -n "${FUZZ_ONLY:-}" ] && [ "$name" != "$FUZZ_ONLY" ] && continue
    corpus=$BUILD/fuzz-corpus/$name
    art=$BUILD/fuzz-artifacts/$name
    mkdir -p "$corpus" "$art"
    seeds=$ROOT/fuzz/seeds/${name#fuzz_}
    if [ -z "$(ls -A "$corpus")" ] && [ -d "$seeds" ]; then
        cp "$seeds"/* "$corpus"/
    elif [ -z "$(ls -A "$corpus")" ]; then
        [ -d "$SUITE" ] && cp "$SUITE"/* "$corpus"/ 2>/dev/null
        if [ -d "$EXAMPLES" ]; then
            find "$EXAMPLES" -type f -size -256k | while read -r f; do
                cp "$f" "$corpus/ex_$(echo "$f" | md5sum | cut -c1-12)"
            done
        fi
    fi
    echo "fuzz: $name for ${SECS}s (corpus $(ls "$corpus" | wc -l) files)" >&2
    log=$BUILD/fuzz-artifacts/$name.log
    par=()
    [ "$JOBS" -gt 1 ] && par=(-jobs="$JOBS" -workers="$JOBS")
    # -rss_limit_mb: the targets bound their own memory; this catches leaks.
    # shellcheck disable=SC2086
    (cd "$art" && "$t" "$corpus" -max_total_time="$SECS" -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" "${par[@]}" \
        ${FUZZ_ARGS:-}) > "$log" 2>&1
    rc=$?
    stats=$(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' ')
    found=("$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*)
    if [ $rc -ne 0 ] || [ ${#found[@]} -gt 0 ]; then
        echo "fuzz: $name FAILED (exit $rc); see $log and $art" >&2
        grep -E 'ERROR|SUMMARY|fuzz_[a-z_]*:' "$log" | head -20 >&2
        status=1
    else
        echo "fuzz: $name ok: $stats" >&2
    fi
done
exit $status
