#!/bin/sh
# The regularized training step, old simreg binary vs new (issue 25: the pair batch as one ghost-BatchNorm
# pass): resnet18 width 0.25 and 1, CIFAR-10 32x32 gray, batch 64 + k = 16 pairs (--reg threshold), 2
# threads. Each run trains 2 epochs and times epoch 2 (epoch 1 builds the oneDNN primitives): step time =
# the epoch's training seconds (metrics.jsonl, the SGD loop only: no evaluation, no probe) / its steps.
# Rounds alternate old/new (the order flips every round), each round runs both binaries with and without
# the regularizer; medians over rounds. The regularizer's share of the step = (reg step - plain step) /
# reg step, against its FLOP share 2k / (64 + 2k) = 33%.
# Minima (ms) are printed too: under load the rounds vary severalfold. The pair batch alone, in one
# process, old path against new in the same binary: build/bench/bench_regstep resnet18 WIDTH 32 64 16.
# usage: bench/regstep_ab.sh OLD_SIMREG NEW_SIMREG [ROUNDS]
#   data: CIFAR_DIR=DIR (holding cifar-10-batches-bin/), else built once with ../shared/tools/cifar10-bin
#   into ${TMPDIR:-/tmp}/simreg-regstep-cifar; models: MODELS="0.25 1" (resnet18 widths);
#   STEPS_W025 / STEPS_W1: steps per epoch (default 40 / 12).
set -eu
old=${1:?usage: bench/regstep_ab.sh OLD_SIMREG NEW_SIMREG [ROUNDS]}
new=${2:?usage: bench/regstep_ab.sh OLD_SIMREG NEW_SIMREG [ROUNDS]}
rounds=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${CIFAR_DIR:-}" ]; then
  CIFAR_DIR=${TMPDIR:-/tmp}/simreg-regstep-cifar
  "$here/../../shared/tools/cifar10-bin" "$CIFAR_DIR" >/dev/null
fi
tmp=$(mktemp -d /tmp/sr_regstep_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
k=16
batch=64

# limit for S steps of 64: n_tr = limit - round(limit / 100) (the 1% hold-out) = 64 S
limit_for() { awk -v s="$1" -v b="$batch" 'BEGIN { n = s * b; l = int(n / 0.99); while (l - int((l + 50) / 100) < n) l++; while (l - int((l + 50) / 100) > n) l--; print l }'; }

# step seconds of epoch 2 of RUN with S steps
step_s() { sed -n 2p "$1/metrics.jsonl" | sed 's/.*"seconds":\([0-9.e+-]*\).*/\1/' | awk -v s="$2" '{ printf "%.6f", $1 / s }'; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minimum() { sort -g | head -1; }

echo "# regularized step A/B, $(date -u +%FT%TZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds, old/new alternating; 2 threads"
echo "# old: $old"
echo "# new: $new"
for w in ${MODELS:-0.25 1}; do
  if [ "$w" = 1 ]; then steps=${STEPS_W1:-12}; else steps=${STEPS_W025:-40}; fi
  limit=$(limit_for "$steps")
  common="--data cifar10:$CIFAR_DIR --model resnet18 --width $w --limit $limit --batch $batch --epochs 2
          --no-test --lr 0.01 --lr-schedule constant --seed 1 --threads 2 --checkpoint-every 0 --quiet"
  reg="--reg threshold --reg-n 1000 --reg-pairs $k"
  r=1
  while [ "$r" -le "$rounds" ]; do
    if [ $((r % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
    for which in $order; do
      if [ "$which" = old ]; then bin=$old; else bin=$new; fi
      OMP_NUM_THREADS=2 "$bin" train $common $reg --out "$tmp/$which-reg-$w-$r"
      step_s "$tmp/$which-reg-$w-$r" "$steps" >> "$tmp/$which-reg-$w"
      echo >> "$tmp/$which-reg-$w"
      OMP_NUM_THREADS=2 "$bin" train $common --out "$tmp/$which-plain-$w-$r"
      step_s "$tmp/$which-plain-$w-$r" "$steps" >> "$tmp/$which-plain-$w"
      echo >> "$tmp/$which-plain-$w"
      rm -rf "$tmp/$which-reg-$w-$r" "$tmp/$which-plain-$w-$r"
    done
    r=$((r + 1))
  done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-16s %5s %12s %12s %9s %10s %10s %15s\n" model steps "reg step ms" "plain ms" "reg share" "FLOP share" "reg old/new" "min reg/plain ms"
for w in ${MODELS:-0.25 1}; do
  if [ "$w" = 1 ]; then steps=${STEPS_W1:-12}; else steps=${STEPS_W025:-40}; fi
  oreg=$(median < "$tmp/old-reg-$w")
  nreg=$(median < "$tmp/new-reg-$w")
  for which in old new; do
    rs=$(median < "$tmp/$which-reg-$w")
    ps=$(median < "$tmp/$which-plain-$w")
    rmin=$(minimum < "$tmp/$which-reg-$w")
    pmin=$(minimum < "$tmp/$which-plain-$w")
    awk -v m="resnet18 w$w $which" -v s="$steps" -v r="$rs" -v p="$ps" -v k="$k" -v b="$batch" -v o="$oreg" -v n="$nreg" -v which="$which" \
      -v rm="$rmin" -v pm="$pmin" \
      'BEGIN { printf "%-16s %5d %12.1f %12.1f %8.1f%% %9.1f%% %10s %7.0f/%-7.0f\n", m, s, 1000 * r, 1000 * p, 100 * (r - p) / r,
               100 * 2 * k / (b + 2 * k), which == "new" ? sprintf("%.3fx", o / n) : "", 1000 * rm, 1000 * pm }'
  done
done
echo "# every round (seconds per step):"
for f in "$tmp"/*-reg-* "$tmp"/*-plain-*; do
  printf "#   %s: %s\n" "$(basename "$f")" "$(tr '\n' ' ' < "$f")"
done
