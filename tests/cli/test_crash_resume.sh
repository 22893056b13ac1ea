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

# Seeded kill points "W:D" (three times as many as needed: a fast machine may finish a run between kills).
POINTS=$(awk -v n="$((3 * KILLS))" 'BEGIN { srand(20261201); for (i = 0; i < n; i++) printf "%d:%.2f\n", 1 + int(2 * rand()), 0.4 * rand() }')
ckpt_id() { stat -c %i "$T/run/checkpoint.safetensors" 2>/dev/null || echo none; }
# wait_ckpts PID W: until W new checkpoint files (a rename gives a new inode) or the process ended.
wait_ckpts() {
  last=$(ckpt_id) seen=0 i=0
  while [ "$seen" -lt "$2" ] && [ $i -lt 1500 ] && kill -0 "$1" 2>/dev/null; do
    sleep 0.02
    now=$(ckpt_id)
    [ "$now" != "$last" ] && seen=$((seen + 1)) && last=$now
    i=$((i + 1))
  done
}
kills=0 resumes=0 completed=0
for p in $POINTS; do
  [ "$kills" -ge "$KILLS" ] && break
  if [ -f "$T/run/checkpoint.safetensors" ]; then
    "$SIMREG" train --resume "$T/run" --threads 2 --quiet 2>>"$T/log.txt" &
    resumes=$((resumes + 1))
  else
    "$SIMREG" train $ARGS --out "$T/run" 2>>"$T/log.txt" &
  fi
  pid=$!
  wait_ckpts "$pid" "${p%%:*}"
  sleep "${p#*:}"
  kill -9 "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  if [ "$rc" -eq 137 ]; then
    kills=$((kills + 1))
    [ -f "$T/run/checkpoint.safetensors" ] || fail "killed before the first checkpoint (wait_ckpts timed out?)"
  elif [ "$rc" -eq 0 ]; then
    # The run finished between two kills: it must already match, then the next kills go to a fresh run.
    cmp -s "$T/full/last.safetensors" "$T/run/last.safetensors" || fail "a run finished after $kills kills with different weights"
    completed=$((completed + 1))
    rm -rf "$T/run"
  else
    cat "$T/log.txt"
    fail "run exited $rc before the kill (resume after a SIGKILL failed?)"
  fi
done
[ "$kills" -eq "$KILLS" ] || fail "only $kills SIGKILLs landed"
# Finish the job.
if [ -f "$T/run/checkpoint.safetensors" ]; then
  "$SIMREG" train --resume "$T/run" --threads 2 --quiet || fail "final resume"
  resumes=$((resumes + 1))
else
  "$SIMREG" train $ARGS --out "$T/run" || fail "final run"
fi
t2=$(date +%s)
echo "uninterrupted: $((t1 - t0)) s; $kills SIGKILLs, $resumes resumes, $completed runs completed between kills, killed runs total $((t2 - t1)) s"
cmp -s "$T/full/last.safetensors" "$T/run/last.safetensors" || fail "final weights differ from the uninterrupted run"
cmp -s "$T/full/best.safetensors" "$T/run/best.safetensors" || fail "best weights differ from the uninterrupted run"
n=$(grep -c . "$T/run/metrics.jsonl")
[ "$n" -eq 2 ] || fail "metrics.jsonl has $n lines, expected 2"
echo "1 passed, 0 failed"
