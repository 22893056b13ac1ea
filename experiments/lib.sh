# Shared helpers for the experiment scripts (POSIX sh, sourced).
#
# An experiment is a list of jobs ("train:NAME", "attack:NAME", ...). Workers take jobs in order; a job is
# claimed by creating OUT/.lock/JOB (mkdir is atomic), finished when OUT/.done/JOB exists. Several workers
# (LANES in one invocation, or a second invocation of the same script) share the queue, so a run can be
# widened while it is going. A job that needs another job's result waits for its done marker.
# Every job's output goes to OUT/logs/JOB.log; OUT/times.tsv gets its threads, wall time and start (unix s).

here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$here/build}
bin="$BUILD/tools/simreg"
THREADS=${THREADS:-1}
LANES=${LANES:-2}

xp_init() {
  if [ ! -x "$bin" ]; then
    echo "error: $bin not found; build first (make build) or set BUILD" >&2
    exit 2
  fi
  mkdir -p "$OUT/.lock" "$OUT/.done" "$OUT/logs"
}

xp_done() { [ -e "$OUT/.done/$(echo "$1" | tr ':' '_')" ]; }

xp_wait_for() {
  while ! xp_done "$1"; do
    if [ -e "$OUT/.failed" ]; then return 1; fi
    sleep 5
  done
}

# xp_worker JOB...: run every unclaimed job through `job` (defined by the experiment).
xp_worker() {
  for j in "$@"; do
    [ -e "$OUT/.failed" ] && return 1
    key=$(echo "$j" | tr ':' '_')
    mkdir "$OUT/.lock/$key" 2>/dev/null || continue
    t0=$(date +%s)
    echo "[$(date +%H:%M:%S)] start $j"
    if job "$j" >"$OUT/logs/$key.log" 2>&1; then
      t1=$(date +%s)
      printf '%s\t%s\t%d\t%d\n' "$j" "$THREADS" "$((t1 - t0))" "$t0" >>"$OUT/times.tsv"
      touch "$OUT/.done/$key"
      echo "[$(date +%H:%M:%S)] done  $j ($((t1 - t0)) s)"
    else
      echo "[$(date +%H:%M:%S)] FAILED $j, see $OUT/logs/$key.log" >&2
      tail -5 "$OUT/logs/$key.log" >&2
      touch "$OUT/.failed"
      return 1
    fi
  done
}

# xp_run JOB...: LANES workers over the job list; returns non-zero when any job failed.
xp_run() {
  pids=""
  i=0
  while [ "$i" -lt "$LANES" ]; do
    xp_worker "$@" &
    pids="$pids $!"
    i=$((i + 1))
  done
  rc=0
  for p in $pids; do wait "$p" || rc=1; done
  return $rc
}

# xp_all_done JOB...: true when every job has finished (the invocation that sees this writes the summary).
xp_all_done() {
  for j in "$@"; do xp_done "$j" || return 1; done
}
