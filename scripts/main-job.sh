#!/bin/sh
# The main job (README command 1). Until the regularizer and attack issues land this is the engine's
# demo: train cnn-small on Fashion-MNIST (Debian's dataset-fashion-mnist) for two epochs, evaluate it,
# and write the HTML report of the run.
set -eu
build=${1:-build}
out=${SIMREG_OUT:-runs}
bin="$build/tools/simreg"
mkdir -p "$out"
echo "== simreg main job: cnn-small on Fashion-MNIST (demo training) =="
"$bin" info --model cnn-small | tail -3
"$bin" train --model cnn-small --data fashion-mnist --epochs 2 --lr 0.02 --seed 1 --out "$out/demo-cnn-small"
"$bin" report "$out/demo-cnn-small" -o "$out/demo-report"
echo
echo "report: $out/demo-report/index.html"
