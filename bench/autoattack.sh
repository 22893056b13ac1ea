#!/bin/bash
# simreg's AutoAttack against the reference (fra31/auto-attack, PyTorch) on the same weights and images,
# alternating the two in rounds, both with 2 threads: robust accuracy, wall seconds and CPU seconds (user +
# system: what the attack itself used, which a loaded machine does not inflate) of AutoAttack standard and of
# APGD-CE alone.
#
#   bench/autoattack.sh RUN AUTOATTACK_GIT_DIR [IMAGES=1000] [EPS=0.1] [ROUNDS=1]
#
# RUN: a trained simreg run (Fashion-MNIST); AUTOATTACK_GIT_DIR: a git directory of fra31/auto-attack (the
# `fetch` tool's mirror); it is unpacked with `git archive` into a temp dir put on PYTHONPATH, never into the
# tree (only its .py files: a mirror without the large example weights makes `git archive` print "invalid
# object ... model_test.pt", harmless). SIMREG: the binary (default build/tools/simreg). ATTACKS: which to run (default "apgd-ce autoattack").
set -eu
TIMEFORMAT='wall %R s cpu %U+%S s'
RUN=$1
GITDIR=$2
IMAGES=${3:-1000}
EPS=${4:-0.1}
ROUNDS=${5:-1}
SIMREG=${SIMREG:-build/tools/simreg}
ATTACKS=${ATTACKS:-"apgd-ce autoattack"}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
git --git-dir="$GITDIR" archive HEAD $(git --git-dir="$GITDIR" ls-tree --name-only HEAD autoattack/ | grep "\.py$") | tar -x -C "$TMP"
cp -r "$RUN" "$TMP/run"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load: $(uptime | sed 's/.*load average: //')"
echo "images $IMAGES, eps $EPS (Linf), rounds $ROUNDS; reference $(git --git-dir="$GITDIR" rev-parse --short HEAD)"
r=1
while [ "$r" -le "$ROUNDS" ]; do
  for atk in $ATTACKS; do
    { time "$SIMREG" attack --attack "$atk" --eps "$EPS" --images "$IMAGES" --threads 2 --quiet "$TMP/run" \
      >"$TMP/ours.txt" 2>&1; } 2>"$TMP/t"
    key=$(echo "${atk}_linf" | tr - _)
    ours=$(/usr/bin/python3 -c "import json,sys; b=json.load(open('$TMP/run/robustness.json'))['attacks']['$key']; print(b['robust_accuracy'], b['clean_accuracy'])")
    echo "round $r $atk simreg: robust ${ours% *} clean ${ours#* } $(cat "$TMP/t"); load $(cut -d' ' -f1 /proc/loadavg)"
    { time PYTHONPATH="$TMP" OMP_NUM_THREADS=2 /usr/bin/python3 bench/autoattack_peer.py "$TMP/run" --attack "$atk" \
      --images "$IMAGES" --eps "$EPS" --out "$TMP/peer.json" >"$TMP/peer.txt" 2>&1; } 2>"$TMP/t"
    peer=$(/usr/bin/python3 -c "import json; b=json.load(open('$TMP/peer.json')); print(b['robust_accuracy'], b['clean_accuracy'])")
    echo "round $r $atk reference: robust ${peer% *} clean ${peer#* } $(cat "$TMP/t"); load $(cut -d' ' -f1 /proc/loadavg)"
  done
  r=$((r + 1))
done
