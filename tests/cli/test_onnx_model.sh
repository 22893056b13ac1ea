#!/bin/sh
# --model onnx:PATH instead of a run: eval (temporary run), eval --corruptions, attack, robustness and
# fourier-map (into --run-dir, or -o for fourier-map), with the accuracy of an explicit simreg import; a final
# Softmax kept for scores (eval --scores: probabilities, decisions equal) and through fine-tuning and export;
# bad combinations exit 2 and leave no temporary run behind.
set -eu
SIMREG=$1
SRC=${SR_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export TMPDIR="$T/tmp"
mkdir "$TMPDIR"
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3
$PY -c "import numpy" 2>/dev/null || { echo "SKIP: /usr/bin/python3 without numpy"; exit 77; }
acc() { $PY -c "import json,sys; print(json.load(sys.stdin)['accuracy'])"; }
FX=$SRC/tests/onnx/fixtures
M=onnx:$FX/normnet.onnx
S=onnx:$FX/softnet.onnx

$PY - "$T/c/cifar-10-batches-bin" <<'PY'
import os, sys
import numpy as np
d = sys.argv[1]; os.makedirs(d)
rng = np.random.RandomState(6)
def batch(n, path):
    rec = np.zeros((n, 3073), np.uint8)
    rec[:, 0] = np.arange(n) % 10
    rec[:, 1:] = rng.randint(0, 256, (n, 3072))
    rec.tofile(path)
for i in range(1, 6): batch(20, os.path.join(d, "data_batch_%d.bin" % i))
batch(60, os.path.join(d, "test_batch.bin"))
PY
D="cifar10:$T/c"
Q="--quiet --threads 1"

# eval: a temporary run, removed afterwards; the same accuracy as an explicit import
A1=$("$SIMREG" eval --model "$M" --data "$D" --json | acc)
"$SIMREG" import "$FX/normnet.onnx" --data "$D" --out "$T/imp" >/dev/null
A2=$("$SIMREG" eval "$T/imp" --json | acc)
[ "$A1" = "$A2" ] || fail "eval --model $A1, of the import $A2"
[ -z "$(ls "$TMPDIR")" ] || fail "temporary run left: $(ls "$TMPDIR")"

# commands that write into the run: --run-dir (an import there, reused by the next command)
"$SIMREG" attack --attack noise --model "$M" --data "$D" --run-dir "$T/r" --images 8 --n-levels 2 $Q
"$SIMREG" attack --attack fgsm --model "$M" --data "$D" --run-dir "$T/r" --images 8 --levels 0,0.1 $Q
$PY -c "import json; j=json.load(open('$T/r/robustness.json')); assert 'noise' in j and 'fgsm' in j['white_box'], list(j)" ||
  fail "attack results: $(cat "$T/r/robustness.json")"
# a transfer source given as onnx:PATH (imported into a temporary run on the target's dataset, then removed)
"$SIMREG" attack --attack transfer --source "$S" --images 8 --levels 0,0.1 $Q "$T/imp"
$PY -c "import json; t=json.load(open('$T/imp/robustness.json'))['transfer']['fgsm']; assert t['source'] == '$S' and len(t['accuracy']) == 2, t" ||
  fail "transfer from an ONNX source: $(cat "$T/imp/robustness.json")"
[ -z "$(ls "$TMPDIR")" ] || fail "temporary source run left: $(ls "$TMPDIR")"
"$SIMREG" robustness --suite paper --model "$M" --data "$D" --run-dir "$T/r" --images 8 --repeats 1 \
  --boundary-steps 20 --masking-images 0 --out "$T/suite.json" $Q 2>/dev/null
$PY -c "import json; j=json.load(open('$T/suite.json')); assert j['status'] == 'complete' and len(j['runs']) == 1" ||
  fail "robustness suite"
mkdir -p "$T/cc"
$PY - "$T/c/cifar-10-batches-bin/test_batch.bin" "$T/cc" <<'PY'
import sys
import numpy as np
rec = np.fromfile(sys.argv[1], np.uint8).reshape(-1, 3073)
x = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
np.save(sys.argv[2] + "/labels.npy", np.tile(rec[:, 0].astype(np.int64), 5))
np.save(sys.argv[2] + "/gaussian_noise.npy", np.concatenate([x] * 5))
PY
"$SIMREG" eval --model "$M" --data "$D" --run-dir "$T/r" --corruptions "$T/cc" >/dev/null
[ -s "$T/r/corruptions.json" ] || fail "eval --corruptions wrote no RUN/corruptions.json"
"$SIMREG" fourier-map --model "$M" --data "$D" --images 4 --eps 2 --bootstrap 10 -o "$T/fm" --quiet
[ -s "$T/fm/fourier_map.json" ] || fail "fourier-map -o"
[ -z "$(ls "$TMPDIR")" ] || fail "temporary run left after fourier-map: $(ls "$TMPDIR")"

# exit 2: no --run-dir where results go into the run, a trained run as --run-dir, RUN and --model, no --data
set +e
"$SIMREG" attack --attack noise --model "$M" --data "$D" $Q 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "run-dir" "$T/err" || fail "attack without --run-dir: rc $rc $(cat "$T/err")"
"$SIMREG" fourier-map --model "$M" --data "$D" --quiet 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "run-dir" "$T/err" || fail "fourier-map without -o or --run-dir: rc $rc"
"$SIMREG" train --epochs 0 --limit 32 --quiet --data "$D" --color --out "$T/builtin" >/dev/null 2>&1
"$SIMREG" eval --model "$M" --data "$D" --run-dir "$T/builtin" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "holds another run" "$T/err" || fail "trained run as --run-dir: rc $rc $(cat "$T/err")"
"$SIMREG" eval "$T/imp" --model "$M" --data "$D" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "RUN and --model: rc $rc"
"$SIMREG" eval --model "$M" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--data" "$T/err" || fail "--model without --data: rc $rc"
"$SIMREG" eval --model "onnx:$T/missing.onnx" --data "$D" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "missing.onnx" "$T/err" || fail "missing model: rc $rc $(cat "$T/err")"
"$SIMREG" eval "$T/imp" --input-scale 2 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "--input-scale without --model: rc $rc"
set -e
[ -z "$(ls "$TMPDIR")" ] || fail "temporary run left after errors: $(ls "$TMPDIR")"

# a final Softmax: scores are probabilities (softmax of normnet's logits), accuracy equal (decisions on logits)
"$SIMREG" eval --model "$M" --data "$D" --scores "$T/logits.npy" >/dev/null
B=$("$SIMREG" eval --model "$S" --data "$D" --scores "$T/probs.npy" --json)
echo "$B" | grep -q '"scores":"softmax"' || fail "eval --json: $B"
[ "$(echo "$B" | acc)" = "$A1" ] || fail "softnet accuracy differs from normnet's"
$PY - "$T/logits.npy" "$T/probs.npy" <<'PY' || fail "softmax scores"
import sys
import numpy as np
z, p = np.load(sys.argv[1]).astype(np.float64), np.load(sys.argv[2]).astype(np.float64)
e = np.exp(z - z.max(1, keepdims=True))
want = e / e.sum(1, keepdims=True)
assert p.shape == (60, 10) and np.abs(p - want).max() < 1e-6, np.abs(p - want).max()
assert (p.argmax(1) == z.argmax(1)).all()
PY
"$SIMREG" import "$FX/softnet.onnx" --data "$D" --out "$T/si" | grep -q "kept for scores" || fail "import message"
grep -q '"scores":.*"softmax"' "$T/si/config.json" || fail "config.json scores"
"$SIMREG" train --init "$T/si" --data "$D" --epochs 1 --batch 16 --limit 32 --no-test $Q --out "$T/sft"
"$SIMREG" export "$T/sft" -o "$T/sft.onnx" >/dev/null
if $PY -c "import onnx" 2>/dev/null; then
  $PY -c "import onnx; m = onnx.load('$T/sft.onnx'); onnx.checker.check_model(m); assert m.graph.node[-1].op_type == 'Softmax'" ||
    fail "the export lost its Softmax"
fi
"$SIMREG" info --model "onnx:$T/sft.onnx" | grep -q "scores: softmax" || fail "info of the export"
# grouped, dilated convolutions: fine-tuned, exported, re-imported and evaluated by PyTorch: equal accuracies
"$SIMREG" train --init "$FX/dwnet.onnx" --data "$D" --epochs 1 --batch 16 --limit 32 --no-test $Q --out "$T/dw"
"$SIMREG" export "$T/dw" -o "$T/dw.onnx" >/dev/null
A3=$("$SIMREG" eval "$T/dw" --json | acc)
A4=$("$SIMREG" eval --model "onnx:$T/dw.onnx" --data "$D" --json | acc)
[ "$A3" = "$A4" ] || fail "dwnet: fine-tuned $A3, its export $A4"
if $PY -c "import torch, onnx" 2>/dev/null; then
  P=$($PY "$SRC/tests/onnx/eval_onnx.py" "$T/dw.onnx" "$T/c" | acc)
  $PY -c "assert abs($P - $A3) <= 0.001" || fail "dwnet export: PyTorch $P, simreg $A3"
fi
echo "onnx --model cli ok"
