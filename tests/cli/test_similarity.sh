#!/bin/sh
# simreg similarity: builds targets from Fashion-MNIST (threshold, pixel, high subset; --reg-data resized),
# the cache, the export round-trips through --reg file, and every malformed similarity file exits 2 with
# a message naming the file and the fault.
set -u
BIN="$1"
SRC="${SR_SRC_DIR:-.}"
FX="$SRC/tests/fixtures/reg"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# field N of the "values exactly -1/0/+1: a/b/c" triple in a histogram text
triple() { sed -n 's|.*-1/0/+1: \([0-9]*\)/\([0-9]*\)/\([0-9]*\).*|\1 \2 \3|p' "$1" | head -1; }

"$BIN" similarity --reg-n 300 --th 0.8 -o "$T/th.npy" --cache "$T/cache" >"$T/out" 2>"$T/err" || fail "threshold exited $? ($(cat "$T/err"))"
for f in th.npy th_indices.npy th_hist.txt th_hist.png th_hist.svg; do [ -s "$T/$f" ] || fail "missing $f"; done
grep -q "threshold: 300 images 1x28x28 from fashion-mnist, th 0.8: built" "$T/out" || fail "summary: $(head -1 "$T/out")"
grep -q "300 images, 44850 pairs" "$T/th_hist.txt" || fail "pair count: $(head -1 "$T/th_hist.txt")"
set -- $(triple "$T/th_hist.txt")
neg=$1 zero=$2 pos=$3
[ $((neg + zero + pos)) -eq 44850 ] || fail "threshold values must all be -1/0/+1: $neg/$zero/$pos"
[ "$pos" -gt 0 ] || fail "no strongly similar pair among 300 Fashion-MNIST images"
# 128-byte npy header + 300*300 float32
[ "$(wc -c <"$T/th.npy")" -eq $((128 + 300 * 300 * 4)) ] || fail "th.npy size $(wc -c <"$T/th.npy")"
"$BIN" similarity --reg-n 300 --th 0.8 -o "$T/th2.npy" --cache "$T/cache" --no-plot >"$T/out2" 2>&1 || fail "cached run"
grep -q "read from the cache" "$T/out2" || fail "second run should hit the cache: $(head -1 "$T/out2")"
cmp -s "$T/th.npy" "$T/th2.npy" || fail "cached target differs"

# The high subset (|S| > 0.8) holds exactly the pairs the threshold target sets to +-1.
"$BIN" similarity --reg-n 300 --reg high --th 0.8 -o "$T/hi.npy" --no-plot >"$T/out" 2>&1 || fail "high: $(cat "$T/out")"
grep -q "300 images, $((neg + pos)) pairs" "$T/hi_hist.txt" || fail "high subset: $(head -1 "$T/hi_hist.txt"), threshold had $neg/$pos"
"$BIN" similarity --reg-n 300 --reg pixel -o "$T/pix.npy" --no-plot >"$T/out" 2>&1 || fail "pixel: $(cat "$T/out")"
grep -q "44850 pairs" "$T/pix_hist.txt" || fail "pixel pairs"

# Round trip: the export and its indices pass --reg file validation.
"$BIN" similarity --reg file --file "$T/pix.npy" --indices "$T/pix_indices.npy" -o "$T/rt.npy" --no-plot >"$T/out" 2>&1 ||
  fail "round trip: $(cat "$T/out")"
cmp -s "$T/pix.npy" "$T/rt.npy" || fail "round trip changed the matrix"
"$BIN" similarity --reg file --file "$FX/good.npy" --indices "$FX/idx.txt" --n-images 100 -o "$T/g.npy" --no-plot >/dev/null 2>&1 ||
  fail "good file with text indices"

# Another dataset resized to a 32x32 input.
"$BIN" similarity --reg-data fashion-mnist --reg-n 200 --height 32 --width 32 -o "$T/rd.npy" --no-plot >"$T/out" 2>&1 ||
  fail "reg-data: $(cat "$T/out")"
grep -q "200 images 1x32x32" "$T/out" || fail "reg-data size: $(head -1 "$T/out")"

bad() {  # FILE INDICES EXPECTED-MESSAGE
  "$BIN" similarity --reg file --file "$1" --indices "$2" --n-images 60000 -o "$T/bad.npy" >/dev/null 2>"$T/err"; rc=$?
  [ $rc -eq 2 ] || fail "$1: exit $rc, want 2 ($(cat "$T/err"))"
  grep -qF -- "$3" "$T/err" || fail "$1: message '$(cat "$T/err")' lacks '$3'"
  grep -qF -- "$(basename "$1")" "$T/err" || grep -qF -- "$(basename "$2")" "$T/err" || fail "$1: message does not name the file"
  [ ! -e "$T/bad.npy" ] || fail "$1: output written for a bad input"
}
bad "$FX/bad_shape.npy" "$FX/idx.npy" "must be square, got 6 x 5"
bad "$FX/nan.npy" "$FX/idx.npy" "S[2][4] = nan is not finite"
bad "$FX/asym.npy" "$FX/idx.npy" "not symmetric: S[1][3]"
bad "$FX/big.npy" "$FX/idx.npy" "S[3][5] = 1.2 is outside [-1, 1]"
bad "$FX/diag.npy" "$FX/idx.npy" "diagonal S[2][2] = 0.9 is not 1"
bad "$FX/int.npy" "$FX/idx.npy" "float32 or float64, got int32"
bad "$FX/trunc.npy" "$FX/idx.npy" "truncated"
bad "$FX/good.npy" "$FX/idx_range.npy" "index 60000 (entry 4) is outside [0, 60000)"
bad "$T/none.npy" "$FX/idx.npy" "cannot open"

# Bad flags.
"$BIN" similarity --reg thresh -o "$T/x.npy" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "thresh" "$T/err" || fail "unknown --reg: rc $rc, $(cat "$T/err")"
"$BIN" similarity --th 1.5 -o "$T/x.npy" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "--th 1.5 should exit 2, got $rc"
"$BIN" similarity --reg-n 300 --reg high --th 0.9999 -o "$T/x.npy" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "selects no pair" "$T/err" || fail "empty subset: rc $rc, $(cat "$T/err")"
"$BIN" similarity --reg-n 300 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "missing -o should exit 2, got $rc"
"$BIN" similarity --help >/dev/null || fail "--help"
echo "cli similarity: ok"
