#!/bin/sh
# paper-fmnist: the paper's Fashion-MNIST comparison at CPU scale.
#   resnet18 width 0.25: baseline vs thresholded pixel target (alpha 1, 4, 10; Th 0.8) vs plain pixel target
#   vs MSE loss (thresholded target, alpha 10); transferred FGSM from a separately trained cnn-small.
#   Each model: noise sweeps (Gaussian, uniform, salt-and-pepper, sigma/eps/p = 0, 0.05, ..., 0.5 on 2000 test
#   images), transferred FGSM (eps = linspace(0, 0.1, 10), 1000 images), Boundary attack (BIMAGES images,
#   BSTEPS steps), then the HTML report and the paper's selection rule.
# Stated time: ~90 min on 2 cores (2 lanes x 1 thread, EPOCHS=2). Measured with two jobs at a time: 1362 s per
# regularized model, ~7 min of attacks per model; see docs/RESULTS.md.
# Usage: experiments/paper-fmnist.sh   (env: OUT, EPOCHS, LANES, THREADS, BUILD, BIMAGES, BSTEPS, SEED)
# Run it again (or a second copy at the same time) to continue / widen: finished jobs are skipped.
set -eu
. "$(dirname "$0")/lib.sh"
OUT=${OUT:-runs/paper-fmnist}
EPOCHS=${EPOCHS:-2}
SEED=${SEED:-1}
BIMAGES=${BIMAGES:-100}
BSTEPS=${BSTEPS:-1000}
RECIPE="--model resnet18 --width 0.25 --epochs $EPOCHS --lr-schedule cosine --weight-decay 5e-4 --no-crop"

# name -> regularizer flags
reg_flags() {
  case "$1" in
    base) echo "" ;;
    th-a10) echo "--reg threshold --th 0.8 --alpha 10" ;;
    th-a4) echo "--reg threshold --th 0.8 --alpha 4" ;;
    th-a1) echo "--reg threshold --th 0.8 --alpha 1" ;;
    pix-a10) echo "--reg pixel --alpha 10" ;;
    mse-a10) echo "--reg threshold --th 0.8 --alpha 10 --reg-loss mse" ;;
  esac
}
MODELS="base th-a10 th-a4 th-a1 pix-a10 mse-a10"

job() {
  kind=${1%%:*}
  name=${1#*:}
  case "$kind" in
    train)
      if [ "$name" = src ]; then
        "$bin" train --model cnn-small --epochs 5 --no-crop --no-flip --seed $((SEED + 1)) \
          --threads "$THREADS" --quiet --out "$OUT/src"
      else
        # shellcheck disable=SC2046
        "$bin" train $RECIPE $(reg_flags "$name") --seed "$SEED" --threads "$THREADS" --quiet --out "$OUT/$name"
      fi ;;
    attack)
      xp_wait_for "train:$name" && xp_wait_for "train:src" || return 1
      r="$OUT/$name"
      # noise last: clean_accuracy in robustness.json is that of the last command's images (2000 here)
      "$bin" attack --threads "$THREADS" --attack boundary --images "$BIMAGES" --steps "$BSTEPS" --seed "$SEED" --quiet "$r"
      "$bin" attack --threads "$THREADS" --attack transfer --source "$OUT/src" --images 1000 --seed "$SEED" --quiet "$r"
      "$bin" attack --threads "$THREADS" --attack noise --images 2000 --max-level 0.5 --n-levels 11 --seed "$SEED" --quiet "$r"
      "$bin" eval "$r" --json >"$r/eval-test.json" ;;
  esac
}

xp_init
JOBS="train:src"
for m in $MODELS; do JOBS="$JOBS train:$m"; done
for m in $MODELS; do JOBS="$JOBS attack:$m"; done
# shellcheck disable=SC2086
xp_run $JOBS || { echo "paper-fmnist: a job failed (remove $OUT/.failed and its $OUT/.lock entry to retry)" >&2; exit 1; }
# shellcheck disable=SC2086
if xp_all_done $JOBS && mkdir "$OUT/.lock/report" 2>/dev/null; then
  runs="" regs=""
  for m in $MODELS; do runs="$runs $OUT/$m"; [ "$m" = base ] || regs="$regs $OUT/$m"; done
  # shellcheck disable=SC2086
  "$bin" report $runs -o "$OUT/report" --title "paper-fmnist: resnet18 w0.25, $EPOCHS epochs"
  # shellcheck disable=SC2086
  "$bin" select --baseline "$OUT/base" --metric noise:gaussian --json "$OUT/selection.json" $regs \
    | tee "$OUT/selection.txt"
  echo "report: $OUT/report/index.html"
fi
