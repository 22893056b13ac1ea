#!/bin/sh
# The study's workload beside PyTorch 1.13 (issue 25): simreg (bench/bench_study.c, the public API) and
# PyTorch (bench/study_peer.py) alternating per item, ROUNDS rounds, 2 threads each, then one table.
#   train   resnet18 w0.25 / w1, 32x32 gray CIFAR-10 (crop + flip), batch 64: the plain step and the
#           regularized step (--reg threshold --alpha 1, Th 0.8, N 5000, k 16 pairs) of simreg's trainer
#           (sr_train); PyTorch eager, the same step (study_peer.py's docstring)
#   query   a Boundary / HSJ query batch (attack --batch 128: HSJ's gradient-estimate probes fill batches
#           of 128; Boundary asks for every unconverged image of its group of <= 128 per step; smaller calls
#           are padded to a power of two, e.g. the main job's ~50 images -> 64, stragglers -> 16): colour
#           images -> gray -> normalised -> fused inference plan / frozen TorchScript -> argmax
#   fourier the `simreg fourier-map --eps 4 --random-sign` stream (batches of 256 perturbed images)
# Ratios are medians of the per-round ratios (the per-round values in brackets); the regularizer's share
# of the step is 1 - (regularized steps/s) / (plain steps/s) per round, its FLOP share 32 / (64 + 32).
# Peak RSS: getrusage of each training process (setup = model, data, target built, before the first step).
# Under load, OMP_WAIT_POLICY=passive (inherited by both sides) keeps the two-thread numbers from collapsing
# (OpenMP barriers spinning against other tenants); a quiet machine is measured with the default.
# usage: [SECS=8] [CIFAR_DIR=DIR] [WIDTHS="0.25 1"] [TARGETS=1] bench/study_mix.sh BUILD [ROUNDS]   (raw lines and the table on stdout)
# CIFAR_DIR: a CIFAR-10 binary directory (default /work/cifar-study/data; 2560 records of each batch file
# are used); without one the images are random bytes (the timings do not depend on the pixels).
set -eu
build=${1:?usage: bench/study_mix.sh BUILD [ROUNDS]}
rounds=${2:-3}
secs=${SECS:-8}
here=$(cd "$(dirname "$0")" && pwd)
export OMP_NUM_THREADS=2
py=/usr/bin/python3
if ! $py -c 'import torch' 2>/dev/null; then
  echo "study_mix: installing python3-torch (the benchmark peer)" >&2
  apt-get install -y -q python3-torch >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -q python3-torch >/dev/null; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
data="$tmp/data/cifar-10-batches-bin"
mkdir -p "$data"
src=${CIFAR_DIR:-/work/cifar-study/data}
[ -d "$src/cifar-10-batches-bin" ] && src="$src/cifar-10-batches-bin"
recs=2560
seed=0
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
  if [ -f "$src/$f.bin" ]; then
    head -c $((recs * 3073)) "$src/$f.bin" >"$data/$f.bin"
  else
    seed=$((seed + 1))
    $py -c "import numpy as np, sys; r = np.random.default_rng(int(sys.argv[2])).integers(0, 256, ($recs, 3073), dtype=np.uint8); r[:, 0] %= 10; r.tofile(sys.argv[1])" "$data/$f.bin" "$seed"
  fi
done
[ -f "$src/data_batch_1.bin" ] && pixels="CIFAR-10 ($src)" || pixels="random bytes"

field() { grep -m1 "^$1[[:space:]]*:" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'; }
isa=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -x -E 'avx2|avx512f|avx512_bf16|amx_tile' | tr '\n' ' ')
cpu="$(field 'model name'), family $(field 'cpu family') model $(field model), ${isa}"
echo "# study mix: simreg vs PyTorch $($py -c 'import torch; print(torch.__version__)'), $OMP_NUM_THREADS threads, $(date -u '+%F %H:%M UTC'), $cpu ($(nproc) CPUs)"
echo "# images: $pixels; $rounds rounds, ${secs} s per measurement; OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset (libgomp: active)}; load at start:$(uptime | sed 's/.*load average://')"
raw="$tmp/raw"
: >"$raw"
# one item: simreg and PyTorch, the order swapped every other round (a drift of the machine hits both)
pair() {
  r=$1
  shift
  if [ $((r % 2)) -eq 1 ]; then
    s=$("$build/bench/bench_study" "$@")
    p=$($py "$here/study_peer.py" "$@")
  else
    p=$($py "$here/study_peer.py" "$@")
    s=$("$build/bench/bench_study" "$@")
  fi
  echo "round $r simreg  $s"
  echo "round $r pytorch $p"
  echo "$r simreg $s" >>"$raw"
  echo "$r pytorch $p" >>"$raw"
}
for r in $(seq "$rounds"); do
  for w in ${WIDTHS:-0.25 1}; do
    pair "$r" train resnet18 "$w" "$tmp/data" none "$secs"
    pair "$r" train resnet18 "$w" "$tmp/data" threshold "$secs"
    for b in 128 64 16; do
      pair "$r" query resnet18 "$w" "$b" "$((secs / 2))"
    done
    pair "$r" fourier resnet18 "$w" "$((secs / 2))"
  done
done
# The issue's other targets, same rounds: plain training and inference of the three models (bench_engine
# vs torch_peer.py, random data, as bench/run.sh's f32 section), PyTorch's inference also frozen TorchScript.
# TARGETS=0 skips it.
engine() {
  r=$1
  shift
  if [ $((r % 2)) -eq 1 ]; then
    s=$("$build/bench/bench_engine" "$@" "$((secs / 2))")
    p=$($py "$here/torch_peer.py" "$@" "$((secs / 2))")
  else
    p=$($py "$here/torch_peer.py" "$@" "$((secs / 2))")
    s=$("$build/bench/bench_engine" "$@" "$((secs / 2))")
  fi
  echo "round $r simreg  $s"
  echo "round $r pytorch $p"
  echo "$r engine-simreg $s" >>"$raw"
  echo "$r engine-pytorch $p" >>"$raw"
}
if [ "${TARGETS:-1}" = 1 ]; then
  for r in $(seq "$rounds"); do
    for w in ${WIDTHS:-0.25 1}; do
      engine "$r" resnet18 "$w" 1 32 64
    done
    engine "$r" cnn-small 1 1 28 128
  done
fi
echo "# load at end:$(uptime | sed 's/.*load average://')"
$py - "$raw" <<'PY'
import collections, json, statistics as st, sys
rows = collections.defaultdict(dict)  # (item, width, reg|batch) -> {(side, round): row}
eng = collections.defaultdict(dict)  # (model, width) -> {(side, round): row}
for line in open(sys.argv[1]):
    r, side, js = line.split(" ", 2)
    d = json.loads(js)
    if side.startswith("engine-"):
        eng[(d["model"], d["width"])][(side[7:], int(r))] = d
        continue
    key = (d["item"], d["width"], d.get("reg", d["batch"]))
    rows[key][(side, int(r))] = d
def per_round(key, field):
    R = sorted({r for _, r in rows[key]})
    return R, [rows[key][("simreg", r)][field] for r in R], [rows[key][("pytorch", r)][field] for r in R]
def fmt(v):
    return "/".join(f"{x:.2f}" for x in v)
print("\n| workload (resnet18, 32x32 gray, 2 threads) | simreg | PyTorch | simreg / PyTorch [rounds] |")
print("|---|---|---|---|")
for key in sorted(rows, key=lambda k: ({"train": 0, "query": 1, "fourier": 2}[k[0]], k[1], f"{k[2]:>9}")):
    item, width, what = key
    f = "steps_s" if item == "train" else "img_s"
    R, s, p = per_round(key, f)
    ratios = [a / b for a, b in zip(s, p)]
    unit = "steps/s" if item == "train" else "img/s"
    name = {"train": f"{'regularized' if what != 'none' else 'plain'} training step (batch 64{', k 16 pairs' if what != 'none' else ''})",
            "query": f"attack query batch of {what} (fused plan vs frozen TorchScript)",
            "fourier": "Fourier-map stream, batches of 256 (fused plan vs frozen TorchScript)"}[item]
    print(f"| w{width:g} {name} | {st.median(s):.2f} {unit} | {st.median(p):.2f} {unit} | "
          f"**{st.median(ratios):.2f}x** [{fmt(ratios)}] |")
print()
for width in sorted({k[1] for k in rows}):
    plain, reg = ("train", width, "none"), ("train", width, "threshold")
    if plain not in rows or reg not in rows:
        continue
    for side in ("simreg", "pytorch"):
        R = sorted({r for s, r in rows[reg] if s == side})
        sh = [100 * (1 - rows[reg][(side, r)]["steps_s"] / rows[plain][(side, r)]["steps_s"]) for r in R]
        print(f"w{width:g} regularizer's share of the step, {side}: {st.median(sh):.1f}% [{fmt(sh)}] "
              f"(FLOP share 33.3%, target <= 38.3%)")
    for side in ("simreg", "pytorch"):
        pk = [rows[reg][k]["peak_rss_mb"] for k in rows[reg] if k[0] == side]
        su = [rows[reg][k]["setup_rss_mb"] for k in rows[reg] if k[0] == side]
        pp = [rows[plain][k]["peak_rss_mb"] for k in rows[plain] if k[0] == side]
        print(f"w{width:g} peak RSS {side}: regularized {st.median(pk):.0f} MB (setup {st.median(su):.0f} MB, "
              f"steps {st.median(pk) - st.median(su):.0f} MB), plain {st.median(pp):.0f} MB")
    s = st.median(rows[reg][k]["peak_rss_mb"] for k in rows[reg] if k[0] == "simreg")
    p = st.median(rows[reg][k]["peak_rss_mb"] for k in rows[reg] if k[0] == "pytorch")
    print(f"w{width:g} regularized step peak RSS simreg / PyTorch: {s / p:.2f}x (target <= 1)")
if eng:
    print("\n| model (batch), bench_engine vs torch_peer.py | train img/s simreg / PyTorch eager | ratio | "
          "fused inference img/s simreg / PyTorch frozen TorchScript | ratio | vs PyTorch eager | "
          "simreg fused / unfused (eval graph) |")
    print("|---|---|---|---|---|---|---|")
for (model, width), d in sorted(eng.items(), key=lambda kv: (kv[0][0] != "resnet18", -kv[0][1])):
    R = sorted({r for s, r in d if ("pytorch", r) in d and ("simreg", r) in d})
    S, P = [d[("simreg", r)] for r in R], [d[("pytorch", r)] for r in R]
    def ratio(a, b):
        v = [x[a] / y[b] for x, y in zip(S, P)]
        return f"**{st.median(v):.2f}x** [{fmt(v)}]"
    med = lambda rows, k: st.median(x[k] for x in rows)
    fu = [x["infer_fused_img_s"] / x["infer_img_s"] for x in S]
    print(f"| {model} w{width:g} ({S[0]['batch']}) | {med(S, 'train_img_s'):.1f} / {med(P, 'train_img_s'):.1f} | "
          f"{ratio('train_img_s', 'train_img_s')} | {med(S, 'infer_fused_img_s'):.1f} / {med(P, 'infer_frozen_img_s'):.1f} | "
          f"{ratio('infer_fused_img_s', 'infer_frozen_img_s')} | {ratio('infer_fused_img_s', 'infer_img_s')} | "
          f"{st.median(fu):.2f}x [{fmt(fu)}] (direct plan {med(S, 'infer_fused_direct_img_s'):.1f}, "
          f"{S[0]['winograd_convs']} Winograd convs in the fused) |")
if eng:
    print("targets: plain training >= 3x (resnet18), >= 4x (cnn-small); fused inference >= 2.5x frozen TorchScript; "
          "fused >= unfused (ratio >= 1)")
PY
