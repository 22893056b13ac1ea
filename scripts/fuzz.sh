#!/bin/sh
# Run every libFuzzer target for SECONDS (default 60) each, JOBS at a time (default 2), starting from the
# committed seeds in fuzz/corpus/<t> (copied: the repository is not modified). Crashes, leaks, timeouts and
# out-of-memory inputs are saved as OUT/<t>/crash-*; copy them to fuzz/regressions/<t>/ once fixed.
# Prints one line per target with the executions done; exits 1 if any target found a problem.
# usage: scripts/fuzz.sh BUILD_DIR [SECONDS] [JOBS] [OUT]   (BUILD_DIR configured with -DSIMREG_FUZZ=ON)
set -u
BUILD=${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS] [JOBS] [OUT]}
SECS=${2:-60}
JOBS=${3:-2}
OUT=${4:-$BUILD/fuzz-out}
SRC=$(cd "$(dirname "$0")/.." && pwd)
TARGETS="npy safetensors idx cifar png jpeg json cli onnx"
rm -rf "$OUT" && mkdir -p "$OUT"

run_one() {
  t=$1
  d="$OUT/$t"
  mkdir -p "$d/corpus"
  cp "$SRC/fuzz/corpus/$t/"* "$d/corpus/" 2>/dev/null
  # One thread per target (libFuzzer runs one process; OpenMP/oneDNN inside stay at 1 thread).
  OMP_NUM_THREADS=1 "$BUILD/fuzz/fuzz_$t" "$d/corpus" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$d/" >"$d/log.txt" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log.txt" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$d/log.txt" | tail -1 | cut -d' ' -f2)
  found=$(ls "$d" | grep -c -E '^(crash|leak|timeout|oom|slow-unit)-')
  echo "$t rc=$rc executions=${execs:-0} coverage=${cov:-0} findings=$found" > "$d/summary.txt"
}

pids=""
n=0
for t in $TARGETS; do
  [ -x "$BUILD/fuzz/fuzz_$t" ] || { echo "fuzz: $BUILD/fuzz/fuzz_$t missing (configure with -DSIMREG_FUZZ=ON)"; exit 1; }
  run_one "$t" &
  pids="$pids $!"
  n=$((n + 1))
  if [ "$n" -ge "$JOBS" ]; then
    wait
    pids=""
    n=0
  fi
done
wait
status=0
for t in $TARGETS; do
  cat "$OUT/$t/summary.txt"
  grep -q 'rc=0 .*findings=0' "$OUT/$t/summary.txt" || { status=1; grep -m5 -E 'ERROR|SUMMARY|Test unit written' "$OUT/$t/log.txt"; }
done
exit $status
