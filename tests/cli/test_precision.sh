#!/bin/sh
# --precision f32|bf16: train, eval and attack take it; bf16 trains a different model from f32 (same seed),
# config.json records it and --resume keeps it; anything else is refused with exit 2 before a run is touched.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
common="--limit 256 --epochs 1 --no-test --quiet --seed 3"
# shellcheck disable=SC2086
"$bin" train --precision f32 $common --out "$tmp/f32" || { echo "FAIL: --precision f32"; fail=1; }
# shellcheck disable=SC2086
"$bin" train --precision bf16 $common --out "$tmp/bf" || { echo "FAIL: --precision bf16"; fail=1; }
for r in f32 bf; do
  [ -e "$tmp/$r/last.safetensors" ] || { echo "FAIL: $r run wrote no checkpoint"; fail=1; }
done
grep -q '"precision":[[:space:]]*"bf16"' "$tmp/bf/config.json" || { echo "FAIL: config.json lacks precision bf16"; fail=1; }
grep -q '"precision":[[:space:]]*"f32"' "$tmp/f32/config.json" || { echo "FAIL: config.json lacks precision f32"; fail=1; }
# the bf16 run is a different computation: its weights differ from the f32 run's
cmp -s "$tmp/f32/last.safetensors" "$tmp/bf/last.safetensors" && { echo "FAIL: bf16 and f32 runs are identical"; fail=1; }
# and a deterministic one
# shellcheck disable=SC2086
"$bin" train --precision bf16 $common --out "$tmp/bf2" || { echo "FAIL: second bf16 run"; fail=1; }
cmp -s "$tmp/bf/last.safetensors" "$tmp/bf2/last.safetensors" || { echo "FAIL: bf16 run not reproducible"; fail=1; }
# resume keeps bf16 from config.json: one more epoch from the checkpoint
"$bin" train --resume "$tmp/bf" --epochs 2 --quiet || { echo "FAIL: resume of a bf16 run"; fail=1; }
grep -q '"precision":[[:space:]]*"bf16"' "$tmp/bf/config.json" || { echo "FAIL: resume lost precision bf16"; fail=1; }
# eval and attack in bf16 on a run trained in f32 (the master weights are f32 either way)
e32=$("$bin" eval --precision f32 --json "$tmp/f32") || { echo "FAIL: eval --precision f32"; fail=1; }
e16=$("$bin" eval --precision bf16 --json "$tmp/f32") || { echo "FAIL: eval --precision bf16"; fail=1; }
echo "$e16" | grep -q accuracy || { echo "FAIL: eval bf16 printed no accuracy: $e16"; fail=1; }
[ "$e32" != "$e16" ] || { echo "FAIL: eval bf16 = eval f32 to the last digit: $e16"; fail=1; }
"$bin" attack --attack noise --images 64 --n-levels 3 --noise gaussian --precision bf16 --quiet "$tmp/f32" ||
  { echo "FAIL: attack --precision bf16"; fail=1; }
[ -e "$tmp/f32/robustness.json" ] || { echo "FAIL: bf16 attack wrote no robustness.json"; fail=1; }
# refused before anything is written
# shellcheck disable=SC2086
"$bin" train --precision fp8 $common --out "$tmp/x" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "precision must be f32 or bf16, not 'fp8'" "$tmp/err" ||
  { echo "FAIL: train --precision fp8: exit $rc, $(cat "$tmp/err")"; fail=1; }
[ ! -e "$tmp/x" ] || { echo "FAIL: a refused run left $tmp/x behind"; fail=1; }
for cmd in eval "attack --attack noise"; do
  # shellcheck disable=SC2086
  "$bin" $cmd --precision fp16 "$tmp/bf" 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq 2 ] && grep -q "precision must be f32 or bf16" "$tmp/err" ||
    { echo "FAIL: $cmd --precision fp16: exit $rc, $(cat "$tmp/err")"; fail=1; }
done
[ ! -e "$tmp/bf/robustness.json" ] || { echo "FAIL: a refused attack wrote robustness.json"; fail=1; }
[ "$fail" -eq 0 ] && echo "precision: ok"
exit "$fail"
