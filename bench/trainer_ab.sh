#!/bin/sh
# The trainer's step, old build against new (issue 25): bench_study's `train` item (sr_train itself on
# CIFAR-10 gray: loader thread, crop + flip, tape, regularizer, SGD) of two builds, alternating in every
# round (the order swapped every other round, so a drift of the machine hits both), then a table of medians.
# Items: resnet18 at each width of WIDTHS, plain and regularized (threshold, alpha 1, k = 16 pairs).
# usage: [SECS=8] [WIDTHS="0.25"] [REGS="none threshold"] [CIFAR_DIR=DIR] bench/trainer_ab.sh OLD_BUILD NEW_BUILD [ROUNDS]
#   OLD_BUILD, NEW_BUILD: CMake build directories holding bench/bench_study (ROUNDS default 3).
# CIFAR_DIR: a CIFAR-10 binary directory (default /work/cifar-study/data); as in bench/study_mix.sh only
# 2560 records of each batch file are used (198 steps an epoch: the timed steps stay inside the first one).
# SR_CONV_ALGO is passed through (default here: rule, so both builds run the same convolutions; measure
# would time each build's own choice). cpu_ms_step: process CPU ms per step, the steadier number under load
# with OMP_WAIT_POLICY=passive (spinning threads count as CPU time under the default active policy).
set -eu
old=${1:?usage: bench/trainer_ab.sh OLD_BUILD NEW_BUILD [ROUNDS]}
new=${2:?usage: bench/trainer_ab.sh OLD_BUILD NEW_BUILD [ROUNDS]}
rounds=${3:-3}
secs=${SECS:-8}
widths=${WIDTHS:-0.25}
regs=${REGS:-none threshold}
export OMP_NUM_THREADS=2
export SR_CONV_ALGO=${SR_CONV_ALGO:-rule}
for b in "$old" "$new"; do
  [ -x "$b/bench/bench_study" ] || { echo "trainer_ab: $b/bench/bench_study not found" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
data="$tmp/cifar-10-batches-bin"
mkdir -p "$data"
src=${CIFAR_DIR:-/work/cifar-study/data}
[ -d "$src/cifar-10-batches-bin" ] && src="$src/cifar-10-batches-bin"
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
  [ -f "$src/$f.bin" ] || { echo "trainer_ab: $src/$f.bin not found (set CIFAR_DIR)" >&2; exit 2; }
  head -c $((2560 * 3073)) "$src/$f.bin" >"$data/$f.bin"
done
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "# trainer A/B: old $old, new $new; $(date -u '+%F %H:%M UTC'); $cpu ($(nproc) CPUs), $OMP_NUM_THREADS threads"
echo "# $rounds rounds, $secs s per measurement, SR_CONV_ALGO=$SR_CONV_ALGO, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset (libgomp: active)}; load at start:$(uptime | sed 's/.*load average://')"
raw="$tmp/raw"
: >"$raw"
one() {  # one() SIDE BUILD WIDTH REG
  line=$("$2/bench/bench_study" train resnet18 "$3" "$data" "$4" "$secs" 2>"$tmp/err") ||
    { echo "trainer_ab: $1 failed: $(cat "$tmp/err")" >&2; exit 1; }
  echo "$1 $line" | tee -a "$raw"
}
r=1
while [ "$r" -le "$rounds" ]; do
  for w in $widths; do
    for g in $regs; do
      if [ $((r % 2)) -eq 1 ]; then
        one old "$old" "$w" "$g"
        one new "$new" "$w" "$g"
      else
        one new "$new" "$w" "$g"
        one old "$old" "$w" "$g"
      fi
    done
  done
  r=$((r + 1))
done
echo "# load at end:$(uptime | sed 's/.*load average://')"
python3 - "$raw" <<'EOF'
import collections, json, statistics as st, sys
rows = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    side, js = line.split(" ", 1)
    d = json.loads(js)
    rows[(d["width"], d["reg"])][side].append(d)
print("| resnet18 | img/s old | img/s new | new/old (per-round median) | CPU ms/step old | new |")
print("|---|---|---|---|---|---|")
for (w, reg), s in rows.items():
    o, n = s["old"], s["new"]
    ratios = [b["img_s"] / a["img_s"] for a, b in zip(o, n)]
    def cpu(x):
        v = [d["cpu_ms_step"] for d in x if "cpu_ms_step" in d]
        return f"{st.median(v):.1f}" if v else "-"
    print(f"| w{w:g} {reg} | {st.median(d['img_s'] for d in o):.1f} | {st.median(d['img_s'] for d in n):.1f} | "
          f"{st.median(ratios):.3f} [{', '.join(f'{x:.3f}' for x in ratios)}] | {cpu(o)} | {cpu(n)} |")
EOF
