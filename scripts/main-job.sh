#!/bin/sh
# The main job (README command 1): the whole study, scaled to ~10 minutes on 2 cores (measured: 14.5 min
# with EPOCHS=4, BIMAGES=300 while a test suite ran beside it; hence 3 and 200).
# On Fashion-MNIST (Debian's dataset-fashion-mnist), cnn-small:
#   base  — baseline (paper recipe without augmentation, lr 0.02, EPOCHS epochs)
#   reg   — the same plus the thresholded pixel-similarity regularizer (Th 0.8, alpha 10, N 5000)
#   src   — a separately trained baseline (other seed, 3 epochs): the source of transferred FGSM
# then on base and reg: Boundary attack (BIMAGES test images, BSTEPS steps; minimal perturbations -> spectra),
# transferred FGSM from src (eps = linspace(0, 0.1, 10), 1000 images), noise sweeps (Gaussian, uniform,
# salt-and-pepper, 0..0.5 in steps of 0.05, 2000 images), and the HTML report comparing base and reg.
# Two lanes of one thread each share the jobs (experiments/lib.sh). Usage: scripts/main-job.sh [BUILD]
set -eu
BUILD=$(cd "${1:-build}" && pwd)
export BUILD
OUT=${SIMREG_OUT:-runs/main}
EPOCHS=${EPOCHS:-3}
BIMAGES=${BIMAGES:-200}
BSTEPS=${BSTEPS:-1000}
SEED=${SEED:-1}
. "$(dirname "$0")/../experiments/lib.sh"
COMMON="--model cnn-small --no-crop --no-flip --lr 0.02"

job() {
  kind=${1%%:*}
  name=${1#*:}
  case "$kind" in
    train)
      case "$name" in
        src) "$bin" train $COMMON --epochs 3 --seed $((SEED + 1)) --threads "$THREADS" --quiet --out "$OUT/src" ;;
        base) "$bin" train $COMMON --epochs "$EPOCHS" --seed "$SEED" --threads "$THREADS" --quiet --out "$OUT/base" ;;
        reg) "$bin" train $COMMON --epochs "$EPOCHS" --seed "$SEED" --reg threshold --th 0.8 --alpha 10 \
               --threads "$THREADS" --quiet --out "$OUT/reg" ;;
      esac ;;
    attack)
      xp_wait_for "train:$name" && xp_wait_for "train:src" || return 1
      r="$OUT/$name"
      "$bin" attack --threads "$THREADS" --attack boundary --images "$BIMAGES" --steps "$BSTEPS" --seed "$SEED" --quiet "$r"
      "$bin" attack --threads "$THREADS" --attack transfer --source "$OUT/src" --images 1000 --seed "$SEED" --quiet "$r"
      "$bin" attack --threads "$THREADS" --attack noise --images 2000 --max-level 0.5 --n-levels 11 --seed "$SEED" --quiet "$r" ;;
  esac
}

echo "== simreg main job: baseline vs similarity-regularized cnn-small on Fashion-MNIST =="
echo "   output: $OUT   (lanes: $LANES x $THREADS thread; per-job logs in $OUT/logs)"
rm -rf "$OUT"
xp_init
JOBS="train:base train:reg train:src attack:base attack:reg"
t0=$(date +%s)
# shellcheck disable=SC2086
xp_run $JOBS || { echo "main job: a job failed" >&2; exit 1; }
"$bin" report "$OUT/base" "$OUT/reg" -o "$OUT/report" --title "simreg: baseline vs thresholded pixel regularizer (cnn-small, Fashion-MNIST)"
"$bin" select --baseline "$OUT/base" --metric noise:gaussian "$OUT/reg" | tee "$OUT/selection.txt"
echo
echo "main job finished in $(( $(date +%s) - t0 )) s"
echo "report: $OUT/report/index.html"
