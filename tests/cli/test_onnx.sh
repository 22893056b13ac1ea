#!/bin/sh
# ONNX models end to end on a tiny random CIFAR-10-format dataset: simreg import -> eval, attack -> train
# --init with the regularizer -> export -> the exported file evaluated by PyTorch (tests/onnx/eval_onnx.py)
# and re-imported, accuracies equal; --features; bad input exits 2 naming the file.
set -eu
SIMREG=$1
SRC=${SR_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
acc() { "$SIMREG" eval "$1" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['accuracy'])"; }
FX=$SRC/tests/onnx/fixtures
/usr/bin/python3 -c "import numpy" 2>/dev/null || { echo "SKIP: /usr/bin/python3 without numpy"; exit 77; }

/usr/bin/python3 - "$T/c/cifar-10-batches-bin" <<'PY'
import os, sys
import numpy as np
d = sys.argv[1]; os.makedirs(d)
rng = np.random.RandomState(5)
def batch(n, path):
    rec = np.zeros((n, 3073), np.uint8)
    rec[:, 0] = np.arange(n) % 10
    rec[:, 1:] = rng.randint(0, 256, (n, 3072))
    rec.tofile(path)
for i in range(1, 6): batch(40, os.path.join(d, "data_batch_%d.bin" % i))
batch(100, os.path.join(d, "test_batch.bin"))
PY
D="cifar10:$T/c"

"$SIMREG" import "$FX/resnet18.onnx" --data "$D" --out "$T/imp" | grep -q "feature layers: /layer1" || fail "import"
for f in config.json model.onnx best.safetensors last.safetensors; do [ -s "$T/imp/$f" ] || fail "import wrote no $f"; done
A1=$(acc "$T/imp")
"$SIMREG" attack --attack noise --images 16 --batch 8 --n-levels 2 --quiet --threads 1 "$T/imp"
"$SIMREG" attack --attack fgsm --images 16 --batch 8 --levels 0,0.1 --quiet --threads 1 "$T/imp"
[ -s "$T/imp/robustness.json" ] || fail "attack on an imported run"

"$SIMREG" train --init "$T/imp" --data "$D" --reg threshold --reg-n 32 --epochs 1 --batch 16 --limit 64 --no-test --threads 1 \
  --quiet --out "$T/ft"
grep -q '"model":.*"onnx:model.onnx"' "$T/ft/config.json" || fail "fine-tuned run does not record its graph"
A2=$(acc "$T/ft")
"$SIMREG" export "$T/ft" -o "$T/ft.onnx" | grep -q wrote || fail "export"
"$SIMREG" import "$T/ft.onnx" --data "$D" --out "$T/re" >/dev/null
A3=$(acc "$T/re")
[ "$A2" = "$A3" ] || fail "re-imported export: accuracy $A3, the fine-tuned run's $A2"
if /usr/bin/python3 -c "import torch, onnx" 2>/dev/null; then
  P1=$(/usr/bin/python3 "$SRC/tests/onnx/eval_onnx.py" "$FX/resnet18.onnx" "$T/c" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['accuracy'])")
  P2=$(/usr/bin/python3 "$SRC/tests/onnx/eval_onnx.py" "$T/ft.onnx" "$T/c" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['accuracy'])")
  /usr/bin/python3 -c "assert abs($P1-$A1) <= 0.001 and abs($P2-$A2) <= 0.001" || fail "PyTorch: $P1 $P2, simreg: $A1 $A2"
  echo "accuracy imported simreg $A1 torch $P1; fine-tuned simreg $A2 torch $P2"
else
  echo "(python3-torch/onnx absent: PyTorch-side evaluation not checked)"
fi

# --features: named ONNX tensors, or an unknown one (exit 2)
L3=/layer3/layer3.1/Relu_1_output_0
"$SIMREG" train --init "$FX/normnet.onnx" --features /Relu_output_0,/Relu_1_output_0 --data "$D" --reg threshold \
  --reg-n 32 --epochs 1 --batch 16 --limit 64 --no-test --threads 1 --quiet --out "$T/nf"
grep -q '"features":.*"/Relu_output_0,/Relu_1_output_0"' "$T/nf/config.json" || fail "features not recorded"
set +e
"$SIMREG" train --init "$T/imp" --features nope --data "$D" --epochs 1 --quiet --out "$T/bad" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "nope" "$T/err" || fail "unknown feature: rc $rc $(cat "$T/err")"
"$SIMREG" train --init "$T/imp" --features "$L3" --data "$D" --reg threshold --reg-n 32 --epochs 0 --quiet --out "$T/l3"
[ $? -eq 0 ] || fail "one named feature layer"

# bad input: exit 2, the file named
head -c 1000 "$FX/resnet18.onnx" > "$T/trunc.onnx"
"$SIMREG" import "$T/trunc.onnx" --data "$D" --out "$T/x" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "trunc.onnx" "$T/err" || fail "truncated: rc $rc $(cat "$T/err")"
echo "not a model" > "$T/text.onnx"
"$SIMREG" import "$T/text.onnx" --data "$D" --out "$T/x" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "text.onnx" "$T/err" || fail "text: rc $rc"
LC_ALL=C sed 's/GlobalAveragePool/GlobalAveragePoox/g' "$FX/resnet18.onnx" > "$T/op.onnx"
"$SIMREG" import "$T/op.onnx" --data "$D" --out "$T/x" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "op GlobalAveragePoox, opset 13" "$T/err" && grep -q "Supported: Conv" "$T/err" || fail "op: rc $rc $(cat "$T/err")"
"$SIMREG" import "$FX/resnet18.onnx" --size 28 --data "$D" --out "$T/x" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "resnet18.onnx" "$T/err" || fail "size mismatch: rc $rc"
"$SIMREG" info --model "onnx:$T/missing.onnx" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "missing.onnx" "$T/err" || fail "missing file: rc $rc"
"$SIMREG" train --epochs 0 --limit 64 --quiet --data "$D" --color --out "$T/builtin" >/dev/null 2>&1
"$SIMREG" export "$T/builtin" -o "$T/b.onnx" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "export of a built-in model: rc $rc"
set -e
echo "onnx cli ok"
