#!/bin/sh
# Install every Debian package simreg uses. Idempotent: does nothing when all are present.
# usage: scripts/install-deps.sh [main]
#   (no argument) everything: build, run, and the test suite's tools (clang for the fuzzers, valgrind,
#                 chromium for the report render test, PIL for fixture/corpus generators, PyTorch and
#                 python3-onnx for the ONNX fixture generator)
#   main          only what building simreg and running the main job need (make main): a fresh
#                 machine's first command should not wait for a browser and a second compiler
set -eu
PKGS="build-essential cmake pkg-config libdnnl-dev libopenblas-dev libfftw3-dev libplplot-dev
plplot-driver-cairo libcjson-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libopenmpi-dev openmpi-bin
dataset-fashion-mnist libprotobuf-c-dev protobuf-c-compiler libonnx-dev"
TEST_PKGS="python3-pil chromium clang clang-format libclang-rt-14-dev valgrind python3-torch python3-onnx"
case "${1:-all}" in
  main) ;;
  all) PKGS="$PKGS $TEST_PKGS" ;;
  *) echo "install-deps: unknown argument '$1' (use 'main' or nothing)" >&2; exit 2 ;;
esac
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then echo "install-deps: all packages present"; exit 0; fi
echo "install-deps: installing$missing"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
