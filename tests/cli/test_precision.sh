#!/bin/sh
# --precision: f32 trains; bf16 is refused with exit 2 and a message naming the flag and the CPU's oneDNN ISA
# (this project's machines are AVX2: oneDNN 2.6 has no bf16 convolution there).
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$bin" train --precision bf16 --limit 64 --epochs 1 --no-test --quiet --out "$tmp/bf" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || { echo "FAIL: --precision bf16 exit $rc, want 2"; fail=1; }
grep -q "precision bf16" "$tmp/err" || { echo "FAIL: message does not name the flag: $(cat "$tmp/err")"; fail=1; }
grep -q "oneDNN ISA" "$tmp/err" || { echo "FAIL: message does not name the ISA: $(cat "$tmp/err")"; fail=1; }
if grep -q avx512 /proc/cpuinfo; then :; else
  grep -q "needs AVX-512 (bf16 instructions); this CPU's oneDNN ISA is avx" "$tmp/err" ||
    { echo "FAIL: AVX2 machine message: $(cat "$tmp/err")"; fail=1; }
fi
[ ! -e "$tmp/bf" ] || { echo "FAIL: a refused run left $tmp/bf behind"; fail=1; }
"$bin" train --precision fp8 --limit 64 --epochs 1 --no-test --quiet --out "$tmp/x" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "must be f32 or bf16" "$tmp/err" || { echo "FAIL: --precision fp8: exit $rc, $(cat "$tmp/err")"; fail=1; }
"$bin" train --precision f32 --limit 64 --epochs 1 --no-test --quiet --out "$tmp/f32" || { echo "FAIL: --precision f32"; fail=1; }
[ -e "$tmp/f32/last.safetensors" ] || { echo "FAIL: f32 run wrote no checkpoint"; fail=1; }
# eval and attack take the same flag and refuse bf16 the same way, before touching the run
for cmd in eval "attack --attack noise"; do
  # shellcheck disable=SC2086
  "$bin" $cmd --precision bf16 "$tmp/f32" 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq 2 ] && grep -q "precision bf16" "$tmp/err" || { echo "FAIL: $cmd --precision bf16: exit $rc, $(cat "$tmp/err")"; fail=1; }
done
"$bin" eval --precision f32 "$tmp/f32" >/dev/null || { echo "FAIL: eval --precision f32"; fail=1; }
[ ! -e "$tmp/f32/robustness.json" ] || { echo "FAIL: a refused attack wrote robustness.json"; fail=1; }
[ "$fail" -eq 0 ] && echo "precision: ok"
exit "$fail"
