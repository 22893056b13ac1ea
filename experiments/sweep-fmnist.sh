#!/bin/sh
# sweep-fmnist: alpha in {1, 4, 10} x Th in {0.2, 0.4, 0.8} on cnn-small, Fashion-MNIST, EPOCHS epochs each,
# against a baseline; each model gets noise sweeps (0..0.5 step 0.05, 2000 test images), transferred FGSM from
# a separately trained cnn-small, and a short Boundary attack; then the paper's selection rule (keep settings
# with clean accuracy >= 0.9x baseline, rank by Gaussian-noise accuracy at sigma = 0.5) and a report of the
# baseline and the three best settings.
# Stated time: ~25 min on 2 cores (2 lanes x 1 thread, EPOCHS=3); measured 52 min beside other heavy jobs.
# Usage: experiments/sweep-fmnist.sh   (env: OUT, EPOCHS, LANES, THREADS, BUILD, SEED)
set -eu
. "$(dirname "$0")/lib.sh"
OUT=${OUT:-runs/sweep-fmnist}
EPOCHS=${EPOCHS:-3}
SEED=${SEED:-1}
COMMON="--model cnn-small --no-crop --no-flip --lr 0.02"
ALPHAS="1 4 10"
THS="0.2 0.4 0.8"

job() {
  kind=${1%%:*}
  name=${1#*:}
  case "$kind" in
    train)
      case "$name" in
        src) "$bin" train $COMMON --epochs 3 --seed $((SEED + 1)) --threads "$THREADS" --quiet --out "$OUT/src" ;;
        base) "$bin" train $COMMON --epochs "$EPOCHS" --seed "$SEED" --threads "$THREADS" --quiet --out "$OUT/base" ;;
        *) a=${name#a}; a=${a%%-*}; th=${name#*-th}
           "$bin" train $COMMON --epochs "$EPOCHS" --seed "$SEED" --reg threshold --alpha "$a" --th "$th" \
             --threads "$THREADS" --quiet --out "$OUT/$name" ;;
      esac ;;
    attack)
      xp_wait_for "train:$name" && xp_wait_for "train:src" || return 1
      r="$OUT/$name"
      "$bin" attack --threads "$THREADS" --attack boundary --images 100 --steps 500 --seed "$SEED" --quiet "$r"
      "$bin" attack --threads "$THREADS" --attack transfer --source "$OUT/src" --images 1000 --seed "$SEED" --quiet "$r"
      "$bin" attack --threads "$THREADS" --attack noise --images 2000 --max-level 0.5 --n-levels 11 --seed "$SEED" --quiet "$r" ;;
  esac
}

xp_init
MODELS="base"
for a in $ALPHAS; do for th in $THS; do MODELS="$MODELS a$a-th$th"; done; done
JOBS="train:src"
for m in $MODELS; do JOBS="$JOBS train:$m"; done
for m in $MODELS; do JOBS="$JOBS attack:$m"; done
# shellcheck disable=SC2086
xp_run $JOBS || { echo "sweep-fmnist: a job failed (remove $OUT/.failed and its $OUT/.lock entry to retry)" >&2; exit 1; }
# shellcheck disable=SC2086
if xp_all_done $JOBS && mkdir "$OUT/.lock/summary" 2>/dev/null; then
  regs=""
  for m in $MODELS; do [ "$m" = base ] || regs="$regs $OUT/$m"; done
  # shellcheck disable=SC2086
  "$bin" select --baseline "$OUT/base" --metric noise:gaussian --json "$OUT/selection.json" $regs | tee "$OUT/selection.txt"
  # the baseline and the three best-ranked settings
  best=$(awk 'NR > 3 && $4 ~ /^[123]$/ {print $4, $1}' "$OUT/selection.txt" | sort -n | cut -d' ' -f2 | tr '\n' ' ')
  # shellcheck disable=SC2086
  "$bin" report "$OUT/base" $best -o "$OUT/report" --title "sweep-fmnist: cnn-small, best settings by the selection rule"
  echo "report: $OUT/report/index.html"
fi
