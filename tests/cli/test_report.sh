#!/bin/sh
# simreg report: two hand-written run directories (one with robustness and metrics, one with a config only)
# give a page, markdown and JSON with "not run" cells; malformed JSON exits 2 naming the file.
set -u
BIN="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$T/base" "$T/reg"
cat >"$T/base/config.json" <<'J'
{"name": "base", "model": "resnet18", "dataset": "cifar10-gray", "seed": 1, "reg": {"alpha": 0}}
J
cat >"$T/base/robustness.json" <<'J'
{"clean_accuracy": 0.88,
 "noise": {"gaussian": {"levels": [0, 0.05, 0.1], "accuracy": [0.88, 0.4, 0.14]}},
 "transfer": {"fgsm": {"levels": [0, 0.01, 0.02], "accuracy": [0.88, 0.5, 0.31]}},
 "boundary": {"median": 0.0028, "ci_low": 0.0025, "ci_high": 0.0031}}
J
printf '{"epoch": 1, "train_loss": 1.5, "val_loss": 1.6, "train_acc": 0.45, "val_acc": 0.44, "lr": 0.1, "seconds": 3}\n{"epoch": 2, "train_loss": 1.1, "val_loss": 1.2, "train_acc": 0.6, "val_acc": 0.58, "lr": 0.1, "seconds": 3}\n' >"$T/base/metrics.jsonl"
cat >"$T/reg/config.json" <<'J'
{"name": "pixel <reg>", "model": "resnet18", "seed": 2, "reg": {"alpha": 10, "threshold": 0.8}}
J

"$BIN" report "$T/base" "$T/reg" -o "$T/out" --bootstrap 200 >"$T/log" 2>&1 || fail "report exited $?: $(cat "$T/log")"
for f in index.html report.md report.json noise_0.png noise_0.svg transfer_0.png boundary_median.png train_loss.svg; do
  [ -s "$T/out/$f" ] || fail "missing $f"
done
grep -q "0.1400 @ 0.1" "$T/out/index.html" || fail "strongest Gaussian level in the table"
grep -q "pixel &lt;reg&gt;" "$T/out/index.html" || fail "run name escaped"
grep -q "not run" "$T/out/report.md" || fail "missing data marked not run"
grep -q '"clean_accuracy":[[:space:]]*0.88' "$T/out/report.json" || fail "clean accuracy in report.json"
! grep -q "spectra_2d" "$T/out/index.html" || fail "no spectra without perturbations"

# Perturbations for the base run only (robustness.json in the format written before the dB outputs existed):
# dB map and dB radial profile, no difference map (a note says why), HF difference of the other run null.
SRC="${SR_SRC_DIR:-.}"
COS="$(cd "$SRC/tests/spectral/data" && pwd)/cosine_nhwc.npy"
sed "s|\"ci_high\": 0.0031}|\"ci_high\": 0.0031, \"perturbations\": \"$COS\"}|" "$T/base/robustness.json" >"$T/rb" &&
  mv "$T/rb" "$T/base/robustness.json"
"$BIN" report "$T/base" "$T/reg" -o "$T/outs" --bootstrap 200 >"$T/log" 2>&1 || fail "report with spectra exited $?: $(cat "$T/log")"
for f in spectra_2d_db.png spectra_2d_db.svg spectra_radial_db.png spectra_radial_db.svg spectra_2d.png; do
  [ -s "$T/outs/$f" ] || fail "missing $f"
done
[ ! -e "$T/outs/spectra_2d_diff.png" ] || fail "no difference map with one spectrum"
grep -q "no spectrum difference map" "$T/outs/report.md" || fail "note about the missing difference map"
grep -q '"hf_share_diff":[[:space:]]*null' "$T/outs/report.json" || fail "hf_share_diff null without a pair"
grep -q '"dc_share":' "$T/outs/report.json" || fail "dc_share in report.json"
# Both runs with the same perturbations: a difference map, and an HF difference of exactly 0.
cp "$T/base/robustness.json" "$T/reg/robustness.json"
"$BIN" report "$T/base" "$T/reg" -o "$T/outd" --bootstrap 200 >"$T/log" 2>&1 || fail "report of a pair exited $?: $(cat "$T/log")"
[ -s "$T/outd/spectra_2d_diff.png" ] && [ -s "$T/outd/spectra_2d_diff.svg" ] || fail "missing spectra_2d_diff"
grep -q "<td>+0.0000 \[" "$T/outd/index.html" || fail "HF difference of identical sets is 0 in the table"

printf '{"noise": {"gaussian": {"levels": [0, 0.1], "accuracy": [0.9, 0.5]}}' >"$T/reg/robustness.json"
"$BIN" report "$T/base" "$T/reg" -o "$T/out2" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "malformed JSON should exit 2, got $rc"
grep -q "reg/robustness.json" "$T/err" || fail "message names the file: $(cat "$T/err")"
[ ! -e "$T/out2/index.html" ] || fail "no page from a failed report"
"$BIN" report "$T/base" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "missing -o should exit 2, got $rc"
"$BIN" report "$T/nope" -o "$T/out3" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "missing run directory should exit 2, got $rc"
"$BIN" report --help >/dev/null || fail "--help"
echo "cli report: ok"
