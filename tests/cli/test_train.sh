#!/bin/sh
# simreg train / eval / info end to end on a slice of Fashion-MNIST, and every bad input the training
# pipeline promises to reject: exit code 2, a message naming the file or flag, no partial output.
SIMREG="$1"
T=$(mktemp -d /tmp/sr_cli_train_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
FM=/usr/share/datasets/fashion-mnist

# expect_fail NAME PATTERN CMD...: exit 2, stderr matches PATTERN, no run directory left behind.
expect_fail() {
  name=$1; pat=$2; shift 2
  "$@" > "$T/out.txt" 2> "$T/err.txt"
  rc=$?
  [ "$rc" -eq 2 ] || { cat "$T/err.txt"; fail "$name: exit $rc, expected 2"; }
  grep -q -- "$pat" "$T/err.txt" || { cat "$T/err.txt"; fail "$name: message lacks '$pat'"; }
  [ ! -e "$T/run-bad/config.json" ] || fail "$name: left a partial run"
  echo "ok $name: $(head -1 "$T/err.txt")"
}

# A small real run: 2 epochs on 2000 images, then eval and info on what it wrote.
"$SIMREG" train --data fashion-mnist --limit 2000 --epochs 2 --no-test --seed 3 --out "$T/run" --quiet || fail "train"
for f in config.json metrics.jsonl last.safetensors best.safetensors; do [ -s "$T/run/$f" ] || fail "missing $f"; done
[ "$(wc -l < "$T/run/metrics.jsonl")" -eq 2 ] || fail "metrics.jsonl should have 2 lines"
ls "$T/run" | grep -q tmp && fail "temp files left in the run"
"$SIMREG" eval "$T/run" --json > "$T/eval.json" || fail "eval"
grep -q '"accuracy":0\.[3-9]' "$T/eval.json" || { cat "$T/eval.json"; fail "accuracy after 2 short epochs should be > 0.3"; }
grep -q '"confusion":\[\[' "$T/eval.json" || fail "confusion matrix"
"$SIMREG" info --model resnet18 --width 0.25 | grep -q "parameters 701818" || fail "info parameter count"
# Same seed, same thread count: identical weights.
"$SIMREG" train --data fashion-mnist --limit 2000 --epochs 2 --no-test --seed 3 --out "$T/run2" --quiet || fail "train 2"
cmp -s "$T/run/last.safetensors" "$T/run2/last.safetensors" || fail "same seed gave different weights"

# Corruption evaluation: accuracy per corruption and severity into RUN/corruptions.json, which the report reads.
"$SIMREG" corrupt --data fashion-mnist --out "$T/fc" --limit 200 --corruptions contrast,gaussian_noise --freq-images 100 --quiet \
  || fail "corrupt"
"$SIMREG" eval "$T/run" --corruptions "$T/fc" > "$T/corr.txt" || fail "eval --corruptions"
grep -q '^contrast ' "$T/corr.txt" && grep -q '^gaussian_noise ' "$T/corr.txt" || { cat "$T/corr.txt"; fail "corruption table"; }
/usr/bin/python3 -c "
import json,sys
j=json.load(open('$T/run/corruptions.json'))
c=j['corruptions']
assert set(c)=={'contrast','gaussian_noise'}, c
assert all(len(v['accuracy'])==5 and all(0<=a<=1 for a in v['accuracy']) and v['group'] in ('low','mid','high') for v in c.values())
assert c['contrast']['accuracy'][4] < c['contrast']['accuracy'][0], 'contrast severity 5 must hurt more than 1'
" 2>/dev/null || [ ! -x /usr/bin/python3 ] || fail "corruptions.json content"
"$SIMREG" report "$T/run" -o "$T/report" > /dev/null || fail "report over the run"
grep -q "corruption" "$T/report/report.md" || fail "report lacks the corruption table"
expect_fail "corruptions directory missing" "$T/none" "$SIMREG" eval "$T/run" --corruptions "$T/none"

# Bad data files.
mkdir -p "$T/idx"
cp "$FM/t10k-labels-idx1-ubyte.gz" "$T/idx/train-labels-idx1-ubyte.gz"
gzip -dc "$FM/t10k-images-idx3-ubyte.gz" | head -c 100000 > "$T/idx/train-images-idx3-ubyte"
expect_fail "truncated IDX" "train-images-idx3-ubyte" "$SIMREG" train --data "idx:$T/idx" --out "$T/run-bad"
gzip -dc "$FM/t10k-images-idx3-ubyte.gz" | sed '1s/^\x00\x00\x08\x03/\x00\x00\x08\x09/' > "$T/idx/train-images-idx3-ubyte"
expect_fail "wrong magic" "magic" "$SIMREG" train --data "idx:$T/idx" --out "$T/run-bad"
gzip -dc "$FM/t10k-images-idx3-ubyte.gz" > "$T/idx/train-images-idx3-ubyte"
gzip -dc "$FM/t10k-labels-idx1-ubyte.gz" > "$T/idx/train-labels-idx1-ubyte"
rm "$T/idx/train-labels-idx1-ubyte.gz"
printf '\014' | dd of="$T/idx/train-labels-idx1-ubyte" bs=1 seek=20 conv=notrunc 2>/dev/null
expect_fail "label out of range" "label" "$SIMREG" train --data "idx:$T/idx" --out "$T/run-bad"
expect_fail "missing directory" "$T/nope" "$SIMREG" train --data "idx:$T/nope" --out "$T/run-bad"
mkdir -p "$T/folder/a" "$T/folder/b"
head -c 300 /dev/urandom > "$T/folder/a/x.jpg"
cp "$T/folder/a/x.jpg" "$T/folder/b/y.jpg"
expect_fail "unreadable JPEG" "x.jpg" "$SIMREG" train --data "folder:$T/folder" --out "$T/run-bad"
# Flags.
expect_fail "unknown flag" "--bogus" "$SIMREG" train --bogus 1 --out "$T/run-bad"
expect_fail "negative epochs" "epochs" "$SIMREG" train --epochs -3 --out "$T/run-bad"
expect_fail "non-numeric value" "--lr" "$SIMREG" train --lr fast --out "$T/run-bad"
# A checkpoint of another architecture.
mkdir -p "$T/other"
sed 's/"model":[^,]*/"model": "mlp"/' "$T/run/config.json" > "$T/other/config.json"
cp "$T/run/best.safetensors" "$T/other/best.safetensors"
expect_fail "checkpoint of another architecture" "best.safetensors" "$SIMREG" eval "$T/other"
echo "1 passed, 0 failed"
