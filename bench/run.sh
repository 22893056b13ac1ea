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

# Data loading share of a real training epoch slice (the loader thread runs ahead of the steps).
tmp=$(mktemp -d)
"$build/tools/simreg" train --data fashion-mnist --limit 12800 --epochs 1 --no-test --quiet --out "$tmp/run"
/usr/bin/python3 - "$tmp/run/metrics.jsonl" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).readline())
print(f"training cnn-small on Fashion-MNIST: {m['seconds']:.1f} s for the epoch, {100*m['data_wait_share']:.2f}% waiting for data")
PY
rm -rf "$tmp"
