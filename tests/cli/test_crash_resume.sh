#!/bin/sh
# Crash safety: a training run with checkpoints is SIGKILLed 20 times at seeded random points, resumed
# after each kill, and must end with weights byte-identical to an uninterrupted run's (same threads).
# A kill point is "after W more checkpoints were written, plus D seconds" with W in {1, 2} and D in
# [0, 0.4) drawn from a fixed seed: every segment makes progress (so 20 kills fit in one run) and the kill
# lands anywhere in a step, a checkpoint write (temp file, fsync, rename) or an epoch-end evaluation.
SIMREG="$1"
T=$(mktemp -d /tmp/sr_cli_crash_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
KILLS=${SR_CRASH_KILLS:-20}
# Fashion-MNIST's 10k test images serve as a small training set (faster startup than the 60k).
F=/usr/share/datasets/fashion-mnist
mkdir -p "$T/data" && ln -s "$F/t10k-images-idx3-ubyte.gz" "$T/data/train-images-idx3-ubyte.gz" &&
  ln -s "$F/t10k-labels-idx1-ubyte.gz" "$T/data/train-labels-idx1-ubyte.gz" || fail "dataset links"
ARGS="--model mlp --data idx:$T/data --limit 1500 --epochs 2 --batch 50 --no-test --seed 11 --threads 2 --checkpoint-every 1 --quiet"

t0=$(date +%s)
"$SIMREG" train $ARGS --out "$T/full" || fail "uninterrupted run"
t1=$(date +%s)

# Seeded kill points: "W D" pairs.
POINTS=$(awk -v n="$KILLS" 'BEGIN { srand(20261201); for (i = 0; i < n; i++) printf "%d:%.2f\n", 1 + int(2 * rand()), 0.4 * rand() }')
ckpt_id() { stat -c %i "$T/run/checkpoint.safetensors" 2>/dev/null || echo none; }
# wait_ckpts PID W: until W new checkpoint files (a rename gives a new inode) or the process ended.
wait_ckpts() {
  last=$(ckpt_id) seen=0 i=0
  while [ "$seen" -lt "$2" ] && [ $i -lt 1200 ] && kill -0 "$1" 2>/dev/null; do
    sleep 0.02
    now=$(ckpt_id)
    [ "$now" != "$last" ] && seen=$((seen + 1)) && last=$now
    i=$((i + 1))
  done
}
kills=0 resumes=0 finished_early=0
"$SIMREG" train $ARGS --out "$T/run" 2>>"$T/log.txt" &
pid=$!
for p in $POINTS; do
  if [ -z "$pid" ]; then
    "$SIMREG" train --resume "$T/run" --threads 2 --quiet 2>>"$T/log.txt" &
    pid=$!
    resumes=$((resumes + 1))
  fi
  wait_ckpts "$pid" "${p%%:*}"
  sleep "${p#*:}"
  kill -9 "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  pid=""
  if [ "$rc" -eq 137 ]; then
    kills=$((kills + 1))
  elif [ "$rc" -eq 0 ]; then
    finished_early=1
    break
  else
    cat "$T/log.txt"
    fail "run exited $rc before the kill (resume after a SIGKILL failed?)"
  fi
  [ -f "$T/run/checkpoint.safetensors" ] || fail "killed before the first checkpoint (wait_ckpts timed out?)"
done
# Finish the job.
if [ "$finished_early" -eq 0 ]; then
  "$SIMREG" train --resume "$T/run" --threads 2 --quiet || fail "final resume"
  resumes=$((resumes + 1))
fi
t2=$(date +%s)
echo "uninterrupted: $((t1 - t0)) s; $kills SIGKILLs, $resumes resumes, interrupted run total $((t2 - t1)) s"
[ "$kills" -ge $((KILLS * 3 / 4)) ] || fail "only $kills of $KILLS kills landed before the run finished (make the run longer)"
cmp -s "$T/full/last.safetensors" "$T/run/last.safetensors" || fail "final weights differ from the uninterrupted run"
cmp -s "$T/full/best.safetensors" "$T/run/best.safetensors" || fail "best weights differ from the uninterrupted run"
n=$(grep -c . "$T/run/metrics.jsonl")
[ "$n" -eq 2 ] || fail "metrics.jsonl has $n lines, expected 2"
echo "1 passed, 0 failed"
