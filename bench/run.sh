#!/bin/sh
# Engine benchmark beside PyTorch 1.13 (Debian python3-torch), same architecture, batch and 2 threads,
# in the same run. Prints each side's JSON and one ratio line per configuration.
# usage: bench/run.sh [BUILD_DIR] [SECONDS_PER_MEASUREMENT]
set -eu
build=${1:-build}
secs=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "bench: installing python3-torch (the benchmark peer)" >&2
  apt-get install -y -q python3-torch >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -q python3-torch >/dev/null; }
fi
export OMP_NUM_THREADS=2
echo "# simreg engine vs PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), 2 threads, $(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "conv alone: $("$build/bench/bench_engine" --conv-peak)"
while read -r model width ch size batch; do
  s=$("$build/bench/bench_engine" "$model" "$width" "$ch" "$size" "$batch" "$secs")
  p=$(/usr/bin/python3 "$here/torch_peer.py" "$model" "$width" "$ch" "$size" "$batch" "$secs")
  echo "simreg  $s"
  echo "pytorch $p"
  /usr/bin/python3 - "$s" "$p" <<'PY'
import json, sys
s, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"ratio {s['model']} width {s['width']} {s['input']} batch {s['batch']}: "
      f"train {s['train_img_s']:.1f} vs {p['train_img_s']:.1f} img/s = {s['train_img_s']/p['train_img_s']:.2f}x, "
      f"inference {s['infer_img_s']:.1f} vs {p['infer_img_s']:.1f} img/s = {s['infer_img_s']/p['infer_img_s']:.2f}x")
PY
done <<'CONFIGS'
resnet18 1.0 1 32 64
resnet18 0.25 1 32 64
cnn-small 1 1 28 128
CONFIGS

# Attack bookkeeping: attack queries/s vs inference img/s of the attack wrapper, same model and batch, 1 thread
# (bench/bench_attack.c, docs/ATTACKS.md; target: overhead <= 10%).
tmp=$(mktemp -d)
"$build/tools/simreg" train --limit 6400 --epochs 1 --no-test --quiet --threads 1 --out "$tmp/run"
echo "attack $(OMP_NUM_THREADS=1 "$build/bench/bench_attack" "$tmp/run" 128 "$secs")"
rm -rf "$tmp"

# Data loading share of a real training epoch slice (the loader thread runs ahead of the steps).
tmp=$(mktemp -d)
"$build/tools/simreg" train --data fashion-mnist --limit 12800 --epochs 1 --no-test --quiet --out "$tmp/run"
/usr/bin/python3 - "$tmp/run/metrics.jsonl" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).readline())
print(f"training cnn-small on Fashion-MNIST: {m['seconds']:.1f} s for the epoch, {100*m['data_wait_share']:.2f}% waiting for data")
PY
rm -rf "$tmp"

# Regularizer overhead: one epoch slice with and without --reg (k = 16 pairs = 32 extra images per step of
# 64), against the regularization batch's share of the FLOPs, 32 / (64 + 32) = 33%.
for model in "cnn-small 1" "resnet18 0.25"; do
  set -- $model
  tmp=$(mktemp -d)
  "$build/tools/simreg" train --model "$1" --width "$2" --limit 6400 --epochs 1 --no-test --quiet --out "$tmp/base"
  "$build/tools/simreg" train --model "$1" --width "$2" --limit 6400 --epochs 1 --no-test --quiet --out "$tmp/reg" \
    --reg threshold --reg-n 5000
  /usr/bin/python3 - "$1" "$tmp/base/metrics.jsonl" "$tmp/reg/metrics.jsonl" <<'PY'
import json, sys
b = json.loads(open(sys.argv[2]).readline())["seconds"]
r = json.loads(open(sys.argv[3]).readline())["seconds"]
print(f"regularizer {sys.argv[1]}: baseline {b:.1f} s, regularized {r:.1f} s per 6336 images: "
      f"overhead {100*(r-b)/r:.1f}% of the step (FLOP share of the pair batch 33.3%, target <= 38.3%)")
PY
  rm -rf "$tmp"
done
tmp=$(mktemp -d)
/usr/bin/python3 - "$build/tools/simreg" "$tmp/t.npy" <<'PY'
import subprocess, sys, time
t0 = time.time()
subprocess.run([sys.argv[1], "similarity", "--data", "fashion-mnist", "--reg-n", "5000", "--reg", "threshold",
                "-o", sys.argv[2]], check=True, stdout=subprocess.DEVNULL)
print(f"target N=5000 (Fashion-MNIST, thresholded, built and written, no cache): {time.time() - t0:.2f} s")
PY
rm -rf "$tmp"
