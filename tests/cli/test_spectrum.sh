#!/bin/sh
# simreg spectrum: a cosine at 0.25 cycles/pixel (NHWC .npy) has all its power at r = 0.25; all-zero input and
# bad arguments exit 2 with a message.
set -u
BIN="$1"
SRC="${SR_SRC_DIR:-.}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Number after "KEY": in a JSON file (cJSON writes one member per line).
json_num() { sed -n "s/.*\"$2\":[[:space:]]*\([-0-9.eE+]*\).*/\1/p" "$1" | head -1; }
near() { [ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-9) }'; }

"$BIN" spectrum "$SRC/tests/spectral/data/cosine_nhwc.npy" -o "$T/a" >"$T/out" 2>"$T/err" || fail "spectrum exited $? ($(cat "$T/err"))"
for f in spectrum.json spectrum_map.npy spectrum_2d.png spectrum_2d.svg spectrum_radial.png spectrum_cumulative.svg; do
  [ -s "$T/a/$f" ] || fail "missing $f"
done
near "$(json_num "$T/a/spectrum.json" hf_share)" 1 || fail "HF share at r0=0.25 should be 1: $(json_num "$T/a/spectrum.json" hf_share)"
# The log-power view of the mean-removed spectrum: a zero-mean cosine has no DC power and all of its
# mean-removed power at r = 0.25.
for f in spectrum_map_db.npy spectrum_2d_db.png spectrum_2d_db.svg spectrum_radial_db.png spectrum_radial_db.svg; do
  [ -s "$T/a/$f" ] || fail "missing $f"
done
near "$(json_num "$T/a/spectrum.json" dc_share)" 0 || fail "DC share of a zero-mean cosine: $(json_num "$T/a/spectrum.json" dc_share)"
near "$(json_num "$T/a/spectrum.json" hf_share_mean_removed)" 1 || fail "mean-removed HF share should be 1"
grep -q '"db_range":[[:space:]]*40' "$T/a/spectrum.json" || fail "db_range in spectrum.json"
grep -q '"radial_db_mean_removed":' "$T/a/spectrum.json" || fail "dB radial profile in spectrum.json"
grep -q 'DC share' "$T/out" || fail "summary names the DC share: $(cat "$T/out")"
# Constant perturbations (2,4,4) float64 of 0.5: all power in DC, no mean-removed spectrum, no dB outputs.
{
  printf '\223NUMPY\001\000\166\000'
  printf "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 4, 4), }%55s\n" ""
  i=0
  while [ $i -lt 32 ]; do printf '\000\000\000\000\000\000\340\077'; i=$((i + 1)); done
} >"$T/const.npy"
"$BIN" spectrum "$T/const.npy" -o "$T/c" >"$T/cout" 2>"$T/err" || fail "constant input exited $? ($(cat "$T/err"))"
near "$(json_num "$T/c/spectrum.json" dc_share)" 1 || fail "DC share of constants should be 1"
grep -q '"hf_share_mean_removed":[[:space:]]*null' "$T/c/spectrum.json" || fail "no mean-removed share for constants"
[ ! -e "$T/c/spectrum_2d_db.png" ] && [ -s "$T/c/spectrum_2d.png" ] || fail "constants: linear figures only"
grep -q 'constant' "$T/cout" || fail "summary says the perturbations are constant: $(cat "$T/cout")"
grep -q '3 images of 16x16' "$T/out" || fail "summary line: $(head -1 "$T/out")"
"$BIN" spectrum "$SRC/tests/spectral/data/cosine_nhwc.npy" -o "$T/b" --r0 0.3 >/dev/null 2>&1 || fail "r0 0.3 run"
near "$(json_num "$T/b/spectrum.json" hf_share)" 0 || fail "HF share at r0=0.3 should be 0: $(json_num "$T/b/spectrum.json" hf_share)"

"$BIN" spectrum "$SRC/tests/spectral/data/zeros.npy" -o "$T/z" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "all-zero input should exit 2, got $rc"
grep -q "zero" "$T/err" || fail "all-zero message: $(cat "$T/err")"
[ ! -e "$T/z/spectrum.json" ] || fail "no output for a failed spectrum"
"$BIN" spectrum "$SRC/tests/spectral/data/cosine_nhwc.npy" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "missing -o should exit 2, got $rc"
"$BIN" spectrum "$T/nonexistent.npy" -o "$T/n" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "nonexistent.npy" "$T/err" || fail "missing file: rc $rc, $(cat "$T/err")"
"$BIN" spectrum "$SRC/tests/spectral/data/cosine_nhwc.npy" -o "$T/l" --layout nchw >/dev/null 2>"$T/err"; rc=$?
# Forcing NCHW reads (3,16,16,1) as 16 channels of 16x1 planes: rejected with a message, exit 2.
[ $rc -eq 2 ] && grep -q "2x2" "$T/err" || fail "forced nchw: rc $rc, $(cat "$T/err")"
"$BIN" spectrum --help >/dev/null || fail "--help"
echo "cli spectrum: ok"
