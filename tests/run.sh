#!/bin/sh
# Runs every koban test against a build directory and ends with the line
# "N passed, N failed, N skipped". Usage: tests/run.sh BUILD_DIR [PATTERN]
#   unit tests:        BUILD_DIR/test_*            (C, tests/unit/<module>/)
#   integration tests: tests/integration/test_*.py (real daemon, real HTTP)
# Each prints "KOBAN-TEST passed=N failed=N skipped=N"; a program that dies
# without that line counts as one failure.
set -u
build=${1:?usage: tests/run.sh BUILD_DIR [PATTERN]}
pattern=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
export KOBAN_BIN="$build/koban"
export KOBAN_BUILD="$build"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
logdir="$build/test-logs"
mkdir -p "$logdir"
P=0; F=0; S=0; failed_names=""

run_one() {
  name=$1; shift
  log="$logdir/$name.log"
  start=$(date +%s)
  "$@" >"$log" 2>&1
  rc=$?
  line=$(grep '^KOBAN-TEST ' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    p=0; f=1; s=0
  else
    p=$(echo "$line" | sed 's/.*passed=\([0-9]*\).*/\1/')
    f=$(echo "$line" | sed 's/.*failed=\([0-9]*\).*/\1/')
    s=$(echo "$line" | sed 's/.*skipped=\([0-9]*\).*/\1/')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  fi
  P=$((P + p)); F=$((F + f)); S=$((S + s))
  t=$(( $(date +%s) - start ))
  if [ "$f" -gt 0 ]; then
    failed_names="$failed_names $name"
    printf '%-40s FAIL (%s passed, %s failed, %s skipped, %ss)\n' "$name" "$p" "$f" "$s" "$t"
    grep -E 'FAIL|ERROR|runtime error|AddressSanitizer|LeakSanitizer' "$log" | head -n 20 | sed 's/^/    /'
  else
    printf '%-40s ok   (%s passed, %s skipped, %ss)\n' "$name" "$p" "$s" "$t"
    grep -E '^ *SKIP' "$log" | head -n 5 | sed 's/^/    /'
  fi
}

for t in "$build"/test_*; do
  [ -x "$t" ] || continue
  n=$(basename "$t")
  case "$n" in *"$pattern"*) ;; *) continue ;; esac
  run_one "$n" "$t"
done
for t in "$top"/tests/integration/test_*.py; do
  [ -f "$t" ] || continue
  n=$(basename "$t" .py)
  case "$n" in *"$pattern"*) ;; *) continue ;; esac
  run_one "$n" python3 "$t"
done

[ -n "$failed_names" ] && echo "failed:$failed_names (logs in $logdir)"
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
