#!/bin/sh
# simreg rsa end to end on 60 Fashion-MNIST images: pixel and thresholded targets, a user's matrix (the pixel
# export of `simreg similarity`, in a different row order via its indices), the layers and the gamma mix of
# a tiny trained run, CKA; outputs (rsa.json, figures, report hook); and every bad input exits 2 naming the
# file and the fault.
set -u
BIN="$1"
SRC="${SR_SRC_DIR:-.}"
FX="$SRC/tests/fixtures/reg"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BIN" train --data fashion-mnist --limit 300 --epochs 1 --no-test --seed 3 --out "$T/run" --quiet >/dev/null 2>&1 || fail "train"
"$BIN" similarity --reg pixel --reg-n 60 -o "$T/pix.npy" --no-plot >/dev/null 2>&1 || fail "similarity export"

"$BIN" rsa pixel threshold:0.8 "file:$T/pix.npy:$T/pix_indices.npy" "run:$T/run:all" "run:$T/run:mix" "cka:run:$T/run:all" \
  --n 60 --boot 100 --perm 100 --hexbin 1-2,1-4 -o "$T/out" >"$T/stdout" 2>"$T/err" || fail "rsa exited $? ($(cat "$T/err"))"
for f in rsa.json rsa_matrix.png rsa_matrix.svg rsa_pairs_1_2.png rsa_pairs_1_4.svg rsa_profile.png rsa_profile.svg rsa_cka.png; do
  [ -s "$T/out/$f" ] || fail "missing $f"
done
grep -q "rsa: 60 images, 1770 pairs" "$T/stdout" || fail "summary: $(head -1 "$T/stdout")"
# the file is the same pixel similarity: Pearson, Spearman = 1 with pixel, and it is over the same images
grep -Eq "^  1-3 +1\.0000 .* 1\.0000 " "$T/stdout" || fail "pixel vs its own export is not 1: $(grep '^  1-3' "$T/stdout")"
grep -q "mostly ties" "$T/stdout" || fail "the thresholded target's ties are not pointed out"
grep -q '"kendall_tau_b":	0\.' "$T/out/rsa.json" || grep -q '"kendall_tau_b":	-0\.' "$T/out/rsa.json" || fail "no Kendall tau-b for the tied target"
grep -q '"gamma_from":	"uniform' "$T/out/rsa.json" || fail "the baseline mix should use uniform gamma"
grep -q '"profile":' "$T/out/rsa.json" || fail "no profile in rsa.json"
grep -q '"linear_cka":' "$T/out/rsa.json" || fail "no CKA table"
grep -q '"p":	0\.0099' "$T/out/rsa.json" || fail "no Mantel p = 1/101 for pixel vs its export"

# The same seed gives the same numbers; the report draws the profile of a run carrying rsa/rsa.json.
"$BIN" rsa pixel "file:$T/pix.npy:$T/pix_indices.npy" threshold:0.8 --n 60 --boot 50 --perm 50 --no-plot --quiet -o "$T/a" >/dev/null 2>&1 || fail "rerun a"
"$BIN" rsa pixel "file:$T/pix.npy:$T/pix_indices.npy" threshold:0.8 --n 60 --boot 50 --perm 50 --no-plot --quiet -o "$T/b" >/dev/null 2>&1 || fail "rerun b"
sed '/"seconds"/,$d' "$T/a/rsa.json" >"$T/a.j"
sed '/"seconds"/,$d' "$T/b/rsa.json" >"$T/b.j"
cmp -s "$T/a.j" "$T/b.j" || fail "two runs with one seed differ"
# Without rank resampling Spearman has no CI and no p; Pearson keeps both.
"$BIN" rsa pixel threshold:0.8 --n 60 --boot 20 --perm 20 --no-rank-resampling --no-plot --quiet -o "$T/nr" >/dev/null 2>&1 || fail "no-rank-resampling"
grep -q '"spearman_resampled":	false' "$T/nr/rsa.json" || fail "setting not recorded"
[ "$(grep -c '"p":	null' "$T/nr/rsa.json")" -eq 1 ] || fail "want exactly the Spearman p null: $(grep '"p":' "$T/nr/rsa.json")"
mkdir -p "$T/run/rsa" && cp "$T/out/rsa.json" "$T/run/rsa/rsa.json"
"$BIN" report "$T/run" -o "$T/rep" >/dev/null 2>"$T/err" || fail "report: $(cat "$T/err")"
[ -s "$T/rep/rsa_profile_1.png" ] || fail "report did not draw the RSA profile"
grep -q "rsa_profile_1" "$T/rep/index.html" || fail "report page lacks the RSA profile"

bad() {  # EXPECTED-MESSAGE NAME-IN-MESSAGE ARGS...
  msg="$1" name="$2"
  shift 2
  "$BIN" rsa "$@" --boot 10 --perm 10 --no-plot -o "$T/bad" >/dev/null 2>"$T/err"; rc=$?
  [ $rc -eq 2 ] || fail "$*: exit $rc, want 2 ($(cat "$T/err"))"
  grep -qF -- "$msg" "$T/err" || fail "$*: message '$(cat "$T/err")' lacks '$msg'"
  grep -qF -- "$name" "$T/err" || fail "$*: message '$(cat "$T/err")' does not name $name"
  [ ! -e "$T/bad/rsa.json" ] || fail "$*: output written for a bad input"
}
bad "must be square with N >= 3, got 6 x 5" bad_shape.npy pixel "file:$FX/bad_shape.npy"
bad "not symmetric: max |S[i][j] - S[j][i]| =" asym.npy pixel "file:$FX/asym.npy"
bad "is not finite" nan.npy pixel "file:$FX/nan.npy"
bad "6 indices for the 60 x 60 matrix" pix.npy pixel "file:$T/pix.npy:$FX/idx.npy" --n 60
bad "a 6 x 6 matrix, but the other sources are over 60 images" good.npy pixel "file:$FX/good.npy:$FX/idx.npy" --n 60
seq 100 159 >"$T/other.txt"
bad "sources over different image sets" pix_indices.npy pixel "file:$T/pix.npy:$T/pix_indices.npy" --indices "$T/other.txt"
bad "has no feature layer 'conv9'" conv9 pixel "run:$T/run:conv9" --n 60
bad "expected pixel" "nonsense" pixel nonsense --n 60
bad "the threshold must be a number in [0, 1)" "threshold:1.5" pixel threshold:1.5 --n 60
bad "config.json" "nowhere" pixel "run:$T/nowhere:all" --n 60
"$BIN" rsa pixel --n 60 -o "$T/bad" >/dev/null 2>&1; [ $? -eq 2 ] || fail "one source alone must exit 2"
"$BIN" rsa pixel threshold >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing -o must exit 2"
"$BIN" rsa pixel threshold --split val -o "$T/bad" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --split must exit 2"
echo "cli_rsa: ok"
