#!/bin/sh
# An imported ResNet-18 against the built-in one with the same shapes: bench_engine's training, inference
# and fused-inference img/s, alternating built-in / imported for ROUNDS rounds; medians printed.
# usage: bench/onnx_vs_builtin.sh BUILD_DIR [WIDTH] [BATCH] [SECONDS] [ROUNDS]   (needs python3-torch)
set -eu
B=${1:?usage: bench/onnx_vs_builtin.sh BUILD_DIR [WIDTH] [BATCH] [SECONDS] [ROUNDS]}
W=${2:-0.25}
N=${3:-64}
S=${4:-5}
R=${5:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 "$HERE/onnx_resnet.py" "$W" 3 32 "$T/r18.onnx" >&2
for r in $(seq "$R"); do
  "$B/bench/bench_engine" resnet18 "$W" 3 32 "$N" "$S" | sed 's/^/builtin /'
  "$B/bench/bench_engine" "onnx:$T/r18.onnx" "$W" 3 32 "$N" "$S" | sed 's/^/onnx /'
done > "$T/out.txt"
cat "$T/out.txt"
/usr/bin/python3 - "$T/out.txt" <<'PY'
import json, statistics, sys
rows = {"builtin": [], "onnx": []}
for line in open(sys.argv[1]):
    k, j = line.split(" ", 1)
    rows[k].append(json.loads(j))
for key in ("train_img_s", "infer_img_s", "infer_fused_img_s"):
    b = statistics.median(r[key] for r in rows["builtin"])
    o = statistics.median(r[key] for r in rows["onnx"])
    print(f"{key}: built-in {b:.1f}, imported {o:.1f}, imported/built-in {o / b:.3f}")
PY
