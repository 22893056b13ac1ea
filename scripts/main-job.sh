#!/bin/sh
# The main job (README command 1): the method's study on the setting where its effect shows, scaled to ~10
# minutes on 2 cores. On Fashion-MNIST (Debian's dataset-fashion-mnist), resnet18 width 0.25, the
# paper-fmnist recipe (cosine lr from 0.1, weight decay 5e-4, flips, no crops) for EPOCHS epochs:
#   base  — baseline
#   reg   — the same plus the thresholded pixel-similarity regularizer (Th 0.8, alpha ALPHA, N 5000); alpha 1
#           is what the paper's selection rule picked among the thresholded arms of experiments/paper-fmnist.sh
#           (docs/RESULTS.md)
#   src   — a separately trained cnn-small (other seed, 3 epochs): the source of transferred FGSM
# then on base and reg:
#   HopSkipJump L2 on the correctly classified among the first MIMAGES test images, MITER iterations with
#     MEVALS gradient-estimate queries at iteration 1: the minimal perturbations (convergence curve and flag
#     in robustness.json; their spectra in the report)
#   FGSM transferred from src (eps = linspace(0, 0.1, 10), 1000 images)
#   noise sweeps (Gaussian, uniform, salt-and-pepper, 0..0.5 in steps of 0.05, 2000 images)
#   Fourier sensitivity maps (FIMAGES images, eps 4, random signs)
# and the report with its verdicts. Two lanes of one thread each share the jobs (experiments/lib.sh).
# Usage: scripts/main-job.sh [BUILD]
set -eu
BUILD=$(cd "${1:-build}" && pwd)
export BUILD
OUT=${SIMREG_OUT:-runs/main}
EPOCHS=${EPOCHS:-2}
ALPHA=${ALPHA:-1}
MIMAGES=${MIMAGES:-60}
MITER=${MITER:-80}
MEVALS=${MEVALS:-25}
FIMAGES=${FIMAGES:-200}
SEED=${SEED:-1}
. "$(dirname "$0")/../experiments/lib.sh"
RECIPE="--model resnet18 --width 0.25 --epochs $EPOCHS --lr-schedule cosine --weight-decay 5e-4 --no-crop"

job() {
  kind=${1%%:*}
  name=${1#*:}
  case "$kind" in
    train)
      case "$name" in
        src) "$bin" train --model cnn-small --no-crop --no-flip --lr 0.02 --epochs 3 --seed $((SEED + 1)) \
               --threads "$THREADS" --quiet --out "$OUT/src" ;;
        base) "$bin" train $RECIPE --seed "$SEED" --threads "$THREADS" --quiet --out "$OUT/base" ;;
        reg) "$bin" train $RECIPE --seed "$SEED" --reg threshold --th 0.8 --alpha "$ALPHA" \
               --threads "$THREADS" --quiet --out "$OUT/reg" ;;
      esac ;;
    attack)
      xp_wait_for "train:$name" && xp_wait_for "train:src" || return 1
      r="$OUT/$name"
      "$bin" attack --threads "$THREADS" --attack hsj --images "$MIMAGES" --iterations "$MITER" \
        --init-evals "$MEVALS" --seed "$SEED" --quiet "$r"
      "$bin" attack --threads "$THREADS" --attack transfer --source "$OUT/src" --images 1000 --seed "$SEED" --quiet "$r"
      "$bin" fourier-map "$r" --threads "$THREADS" --images "$FIMAGES" --random-sign --seed "$SEED" --quiet
      # noise last: clean_accuracy and clean_correct in robustness.json are those of its 2000 images
      "$bin" attack --threads "$THREADS" --attack noise --images 2000 --max-level 0.5 --n-levels 11 --seed "$SEED" \
        --quiet "$r" ;;
  esac
}

echo "== simreg main job: baseline vs similarity-regularized resnet18 (width 0.25) on Fashion-MNIST =="
echo "   output: $OUT   (lanes: $LANES x $THREADS thread; per-job logs in $OUT/logs)"
rm -rf "$OUT"
xp_init
JOBS="train:reg train:base train:src attack:base attack:reg"
t0=$(date +%s)
# shellcheck disable=SC2086
xp_run $JOBS || { echo "main job: a job failed" >&2; exit 1; }
"$bin" report "$OUT/base" "$OUT/reg" -o "$OUT/report" --minimal hsj \
  --title "simreg: baseline vs thresholded pixel regularizer (resnet18 w0.25, Fashion-MNIST, $EPOCHS epochs)"
"$bin" select --baseline "$OUT/base" --metric noise:gaussian "$OUT/reg" | tee "$OUT/selection.txt"
echo
echo "main job finished in $(( $(date +%s) - t0 )) s"
echo "report: $OUT/report/index.html"
