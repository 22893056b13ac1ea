#!/bin/sh
# Sharded attacks: `mpirun -np 2|3 simreg attack` gives the same robustness.json (timings aside) and the
# same perturbation files, byte for byte, as one process - every attack kind, batches split unevenly.
set -eu
SIMREG=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
MPIRUN="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader"
export OMP_NUM_THREADS=1

"$SIMREG" train --epochs 1 --limit 1500 --lr-schedule constant --no-crop --no-flip --no-test --threads 1 --quiet --out "$T/run"
"$SIMREG" train --epochs 1 --limit 1500 --lr-schedule constant --no-crop --no-flip --no-test --threads 1 --quiet --seed 1 --out "$T/src"

# 40 images in batches of 16: 3 batches, so 2 ranks get 2 + 1 and 3 ranks 1 each; with 5 ranks two get none.
attacks() {  # $1: launcher prefix (empty: one process), $2: run directory
  A="--checkpoint last --images 40 --batch 16 --quiet --threads 1 --seed 5"
  $1 "$SIMREG" attack --attack noise $A --n-levels 3 --noise gaussian,salt_pepper --repeats 2 "$2"
  $1 "$SIMREG" attack --attack pgd $A --levels 0,0.1 --steps 3 "$2"
  $1 "$SIMREG" attack --attack transfer $A --source "$T/src" --levels 0,0.1,0.2 "$2"
  $1 "$SIMREG" attack --attack boundary $A --steps 40 --repeats 2 "$2"
  $1 "$SIMREG" attack --attack hsj $A --iterations 3 --init-evals 20 --max-evals 40 "$2"
  $1 "$SIMREG" attack --attack square $A --queries 60 "$2"
  $1 "$SIMREG" attack --attack fmn $A --steps 5 "$2"
  $1 "$SIMREG" attack --attack ddn $A --steps 5 "$2"
}
for np in 1 2 3 5; do
  rm -rf "$T/r$np" && cp -r "$T/run" "$T/r$np" && rm -f "$T/r$np/robustness.json"
  if [ $np = 1 ]; then attacks "" "$T/r1"; else attacks "$MPIRUN -np $np" "$T/r$np"; fi
done
for np in 2 3 5; do
  for f in boundary_delta.npy hsj_l2_delta.npy fmn_l2_delta.npy ddn_l2_delta.npy; do
    cmp -s "$T/r1/$f" "$T/r$np/$f" || fail "$f differs between 1 and $np processes"
  done
  /usr/bin/python3 - "$T/r1/robustness.json" "$T/r$np/robustness.json" <<'PY' || fail "robustness.json differs between 1 and $np processes"
import json, sys
def strip(o):
    if isinstance(o, dict): return {k: strip(v) for k, v in o.items() if k not in ("queries_per_second", "seconds")}
    if isinstance(o, list): return [strip(v) for v in o]
    return o
a, b = (strip(json.load(open(p))) for p in sys.argv[1:])
for k in sorted(set(a) | set(b)):
    if a.get(k) != b.get(k): print("differs:", k); sys.exit(1)
n = a["noise"]["gaussian"]; assert n["images"] == 40 and len(n["accuracy"]) == 3
assert a["boundary"]["attacked"] + a["boundary"]["misclassified_clean"] == 40 and len(a["boundary"]["queries"]) > 0
PY
done
# The robustness suite under mpirun: the same combined results as one process.
for np in 1 2; do
  rm -rf "$T/s$np" && cp -r "$T/run" "$T/s$np" && rm -f "$T/s$np/robustness.json"
  L=""; [ $np = 1 ] || L="$MPIRUN -np $np"
  $L "$SIMREG" robustness --suite paper --images 40 --repeats 2 --boundary-steps 20 --checkpoint last --batch 16 \
    --threads 1 --quiet --source "$T/src" --out "$T/suite$np.json" "$T/s$np"
done
/usr/bin/python3 - "$T/suite1.json" "$T/suite2.json" <<'PY' || fail "robustness suite differs between 1 and 2 processes"
import json, sys
def strip(o):
    if isinstance(o, dict): return {k: strip(v) for k, v in o.items() if k not in ("queries_per_second", "seconds", "run")}
    if isinstance(o, list): return [strip(v) for v in o]
    return o
a, b = (strip(json.load(open(p))) for p in sys.argv[1:])
assert a == b and a["status"] == "complete" and len(a["runs"]) == 1, (a, b)
PY
# Only rank 0 writes: no stray temp files, one results file.
ls "$T/r2" | grep -q '\.tmp' && fail "temp files left behind"
echo "1 passed, 0 failed"
