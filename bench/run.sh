#!/bin/sh
# Engine benchmark beside PyTorch 1.13 (Debian python3-torch), same architecture, batch and 2 threads,
# in the same run. Prints each side's JSON and one ratio line per configuration.
# usage: [ROUNDS=3] bench/run.sh [BUILD_DIR] [SECONDS_PER_MEASUREMENT]
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
peak=$("$build/bench/bench_engine" --conv-peak)
echo "conv alone: $peak"
# ROUNDS alternating simreg / PyTorch measurements per configuration: drift of the machine's speed (other
# tenants, frequency) hits both sides alike; the ratio reported is the median of the per-round ratios.
rounds=${ROUNDS:-3}
tmp32=$(mktemp -d)  # PyTorch's f32 rows, for the bf16 section's second ratio
while read -r model width ch size batch; do
  ss=""; ps=""
  for r in $(seq "$rounds"); do
    s=$("$build/bench/bench_engine" "$model" "$width" "$ch" "$size" "$batch" "$secs")
    p=$(/usr/bin/python3 "$here/torch_peer.py" "$model" "$width" "$ch" "$size" "$batch" "$secs")
    echo "simreg  $s"
    echo "pytorch $p"
    ss="$ss$s
"; ps="$ps$p
"
  done
  printf '%s' "$ps" > "$tmp32/$model-$width"
  /usr/bin/python3 - "$ss" "$ps" "$peak" <<'PY'
import json, statistics as st, sys
S = [json.loads(l) for l in sys.argv[1].split("\n") if l.strip()]
P = [json.loads(l) for l in sys.argv[2].split("\n") if l.strip()]
peak = json.loads(sys.argv[3])["conv3x3_64_32x32_b64_gflops"]
def med(rows, key): return st.median(r[key] for r in rows)
def ratio(skey, pkey): return st.median(s[skey] / p[pkey] for s, p in zip(S, P))
def rounds(skey, pkey): return "/".join(f"{s[skey] / p[pkey]:.2f}" for s, p in zip(S, P))
s = S[0]
print(f"ratio {s['model']} width {s['width']} {s['input']} batch {s['batch']} (median of {len(S)} rounds): "
      f"train {med(S, 'train_img_s'):.1f} vs {med(P, 'train_img_s'):.1f} img/s = {ratio('train_img_s', 'train_img_s'):.2f}x "
      f"[{rounds('train_img_s', 'train_img_s')}], "
      f"inference {med(S, 'infer_img_s'):.1f} vs {med(P, 'infer_img_s'):.1f} img/s = {ratio('infer_img_s', 'infer_img_s'):.2f}x, "
      f"fused inference {med(S, 'infer_fused_img_s'):.1f} img/s = {ratio('infer_fused_img_s', 'infer_img_s'):.2f}x "
      f"[{rounds('infer_fused_img_s', 'infer_img_s')}]")
if all("infer_frozen_img_s" in p for p in P):
    print(f"  against PyTorch's frozen TorchScript ({med(P, 'infer_frozen_img_s'):.1f} img/s): fused inference "
          f"{ratio('infer_fused_img_s', 'infer_frozen_img_s'):.2f}x [{rounds('infer_fused_img_s', 'infer_frozen_img_s')}]")
print(f"  fused inference with {s['winograd_convs']} Winograd convolutions {med(S, 'infer_fused_img_s'):.1f} img/s, all direct "
      f"{med(S, 'infer_fused_direct_img_s'):.1f} img/s ({ratio('infer_fused_direct_img_s', 'infer_img_s'):.2f}x PyTorch): "
      f"Winograd {st.median(s['infer_fused_img_s'] / s['infer_fused_direct_img_s'] for s in S):.2f}x")
print(f"  GFLOP/s against the convolution alone ({peak:.1f}): train {med(S, 'train_gflops'):.1f} "
      f"({100*med(S, 'train_gflops')/peak:.0f}%), inference {med(S, 'infer_gflops'):.1f} ({100*med(S, 'infer_gflops')/peak:.0f}%), "
      f"fused inference {med(S, 'infer_fused_gflops'):.1f} ({100*med(S, 'infer_fused_gflops')/peak:.0f}%)")
PY
done <<'CONFIGS'
resnet18 1.0 1 32 64
resnet18 0.25 1 32 64
cnn-small 1 1 28 128
CONFIGS

# --precision bf16 beside PyTorch's bf16 (torch_peer.py --bf16: autocast, f32 master weights), alternating with
# simreg's f32. This CPU and oneDNN 2.6 have no bf16 convolution (docs/PERFORMANCE.md): simreg rounds to bf16 at
# every layer boundary around f32 kernels; PyTorch falls back to its slow bf16 kernels. Both ratios are printed:
# against PyTorch in bf16 (like for like) and against PyTorch in f32 (its median from the f32 section above).
while read -r model width ch size batch; do
  s16=""; p16=""; s32=""
  for r in $(seq "$rounds"); do
    s=$("$build/bench/bench_engine" --bf16 "$model" "$width" "$ch" "$size" "$batch" "$secs")
    p=$(/usr/bin/python3 "$here/torch_peer.py" --bf16 "$model" "$width" "$ch" "$size" "$batch" "$secs")
    f=$("$build/bench/bench_engine" "$model" "$width" "$ch" "$size" "$batch" "$secs")
    echo "simreg  $s"
    echo "pytorch $p"
    s16="$s16$s
"; p16="$p16$p
"; s32="$s32$f
"
  done
  /usr/bin/python3 - "$s16" "$p16" "$s32" "$(cat "$tmp32/$model-$width")" "$peak" <<'PY'
import json, statistics as st, sys
B, P, F, P32 = ([json.loads(l) for l in a.split("\n") if l.strip()] for a in sys.argv[1:5])
peak = json.loads(sys.argv[5])
def med(rows, k): return st.median(r[k] for r in rows)
def r(X, Y, kx, ky): return st.median(x[kx] / y[ky] for x, y in zip(X, Y))
b = B[0]
print(f"bf16 {b['model']} width {b['width']} batch {b['batch']} (median of {len(B)} rounds): "
      f"train {med(B, 'train_img_s'):.1f} vs PyTorch bf16 {med(P, 'train_img_s'):.2f} img/s = "
      f"{r(B, P, 'train_img_s', 'train_img_s'):.1f}x, fused inference {med(B, 'infer_fused_img_s'):.1f} vs "
      f"PyTorch bf16 {med(P, 'infer_img_s'):.1f} img/s = {r(B, P, 'infer_fused_img_s', 'infer_img_s'):.1f}x")
print(f"  against PyTorch f32 ({med(P32, 'train_img_s'):.1f} / {med(P32, 'infer_img_s'):.1f} img/s above): "
      f"train {med(B, 'train_img_s') / med(P32, 'train_img_s'):.2f}x, "
      f"fused inference {med(B, 'infer_fused_img_s') / med(P32, 'infer_img_s'):.2f}x; "
      f"simreg bf16 / f32 (alternating): train {r(B, F, 'train_img_s', 'train_img_s'):.2f}x, "
      f"fused inference {r(B, F, 'infer_fused_img_s', 'infer_fused_img_s'):.2f}x")
print(f"  PyTorch bf16 inference: autocast {med(P, 'infer_autocast_img_s'):.1f}, whole model in bf16 "
      f"{med(P, 'infer_pure_bf16_img_s'):.1f} img/s (the faster is compared)")
f32c = peak["conv3x3_64_32x32_b64_gflops"]
bfc = f"{peak['bf16_conv_gflops']:.1f} GFLOP/s" if peak.get("bf16_conv_gflops") else peak.get("bf16_conv", "not measured")
print(f"  GFLOP/s: train {med(B, 'train_gflops'):.1f}, fused inference {med(B, 'infer_fused_gflops'):.1f}, against the "
      f"f32 convolution alone {f32c:.1f} (the kernels bf16 runs on here); oneDNN's bf16 convolution alone: {bfc}")
PY
done <<'CONFIGS'
resnet18 1.0 1 32 64
resnet18 0.25 1 32 64
cnn-small 1 1 28 128
CONFIGS
rm -rf "$tmp32"

# Peak memory (RSS) of the same 10-step training run, each measurement in a fresh process so peaks do not mix.
# setup: after building the model, optimizer and data (PyTorch: after importing torch), before the first step.
while read -r model width ch size batch; do
  s=$("$build/bench/bench_engine" --rss "$model" "$width" "$ch" "$size" "$batch" 10)
  ps=""
  for r in $(seq "$rounds"); do  # PyTorch's peak moves between runs (its caching allocator); simreg's does not
    ps="$ps$(/usr/bin/python3 "$here/torch_peer.py" --rss "$model" "$width" "$ch" "$size" "$batch" 10)
"
  done
  /usr/bin/python3 - "$s" "$ps" <<'PY'
import json, statistics as st, sys
s = json.loads(sys.argv[1])
P = [json.loads(l) for l in sys.argv[2].split("\n") if l.strip()]
pk = [p["train_peak_rss_mb"] for p in P]
print(f"peak RSS {s['model']} width {s['width']} batch {s['batch']}, {s['steps']} training steps: "
      f"{s['train_peak_rss_mb']:.0f} MB vs PyTorch median {st.median(pk):.0f} MB (min {min(pk):.0f}, max {max(pk):.0f}, "
      f"{len(pk)} runs) = {s['train_peak_rss_mb']/st.median(pk):.2f}x (setup {s['setup_rss_mb']:.0f} vs {P[0]['setup_rss_mb']:.0f} MB)")
PY
done <<'CONFIGS'
resnet18 1.0 1 32 64
resnet18 0.25 1 32 64
cnn-small 1 1 28 128
CONFIGS

# The same in bf16, 2 training steps and one PyTorch run (a PyTorch bf16 step of resnet18 width 1 takes ~70 s here).
while read -r model width ch size batch; do
  s=$("$build/bench/bench_engine" --bf16 --rss "$model" "$width" "$ch" "$size" "$batch" 2)
  p=$(/usr/bin/python3 "$here/torch_peer.py" --bf16 --rss "$model" "$width" "$ch" "$size" "$batch" 2)
  /usr/bin/python3 - "$s" "$p" <<'PY'
import json, sys
s, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"peak RSS bf16 {s['model']} width {s['width']} batch {s['batch']}, {s['steps']} training steps: "
      f"{s['train_peak_rss_mb']:.0f} MB vs PyTorch autocast {p['train_peak_rss_mb']:.0f} MB = "
      f"{s['train_peak_rss_mb']/p['train_peak_rss_mb']:.2f}x (setup {s['setup_rss_mb']:.0f} vs {p['setup_rss_mb']:.0f} MB)")
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
# 64), against the regularization batch's share of the FLOPs, 32 / (64 + 32) = 33%. ROUNDS alternating
# pairs; the overhead reported is the median of the per-round ones (one pair alone swings by +-15 points).
for model in "cnn-small 1" "resnet18 0.25"; do
  set -- $model
  tmp=$(mktemp -d)
  for r in $(seq "$rounds"); do
    "$build/tools/simreg" train --model "$1" --width "$2" --limit 6400 --epochs 1 --no-test --quiet --out "$tmp/base$r"
    "$build/tools/simreg" train --model "$1" --width "$2" --limit 6400 --epochs 1 --no-test --quiet --out "$tmp/reg$r" \
      --reg threshold --reg-n 5000
  done
  /usr/bin/python3 - "$1" "$tmp" "$rounds" <<'PY'
import json, statistics as st, sys
sec = lambda p: json.loads(open(p).readline())["seconds"]
R = range(1, int(sys.argv[3]) + 1)
b = [sec(f"{sys.argv[2]}/base{r}/metrics.jsonl") for r in R]
g = [sec(f"{sys.argv[2]}/reg{r}/metrics.jsonl") for r in R]
ov = [100 * (y - x) / y for x, y in zip(b, g)]
print(f"regularizer {sys.argv[1]}: baseline {st.median(b):.1f} s, regularized {st.median(g):.1f} s per 6336 images "
      f"(medians of {len(b)}): overhead {st.median(ov):.1f}% of the step [{'/'.join(f'{o:.1f}' for o in ov)}] "
      f"(FLOP share of the pair batch 33.3%, target <= 38.3%)")
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
