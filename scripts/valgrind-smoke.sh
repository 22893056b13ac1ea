#!/bin/sh
# valgrind memcheck on a short train + attack run (docs/ERRORS.md). Use a build without sanitizers:
#   cmake -S . -B build-vg -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMREG_TESTS=OFF && cmake --build build-vg --target simreg_cli
#   sh scripts/valgrind-smoke.sh build-vg/tools/simreg
# Exits non-zero if memcheck reports any error or any definite/indirect leak in either command.
set -u
SIMREG=${1:?usage: scripts/valgrind-smoke.sh SIMREG}
T=$(mktemp -d /tmp/sr_vg_XXXXXX)
trap 'rm -rf "$T"' EXIT
F=/usr/share/datasets/fashion-mnist
mkdir -p "$T/d"
for k in images-idx3 labels-idx1; do
  ln -s "$F/t10k-$k-ubyte.gz" "$T/d/train-$k-ubyte.gz"
  ln -s "$F/t10k-$k-ubyte.gz" "$T/d/t10k-$k-ubyte.gz"
done
# oneDNN generates code at run time: --smc-check=all-non-file makes memcheck see it.
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
  --errors-for-leak-kinds=definite,indirect --smc-check=all-non-file"
export OMP_NUM_THREADS=1
$VG "$SIMREG" train --model mlp --data "idx:$T/d" --limit 64 --epochs 1 --batch 16 --no-test --threads 1 \
  --quiet --out "$T/run"
a=$?
$VG "$SIMREG" attack --attack pgd --steps 2 --images 8 --batch 8 --n-levels 2 --threads 1 --quiet "$T/run"
b=$?
echo "valgrind: train exit $a, attack exit $b (99 = memcheck found errors or leaks)"
[ "$a" -eq 0 ] && [ "$b" -eq 0 ]
