#!/bin/sh
# simreg attack --attack hsj|square (minimal-perturbation metrics with repeats, budget statistics) and
# simreg robustness --suite paper on two tiny runs: per-run robustness.json and the combined file, the
# transfer note without --source, --quiet, and exit 2 on bad input.
set -eu
SIMREG=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$SIMREG" train --epochs 1 --limit 1500 --lr-schedule constant --no-crop --no-flip --no-test --threads 1 --quiet --out "$T/a"
"$SIMREG" train --epochs 1 --limit 1500 --lr-schedule constant --no-crop --no-flip --no-test --threads 1 --quiet --seed 1 --out "$T/b"
A="--checkpoint last --images 8 --batch 16 --quiet --threads 1"

"$SIMREG" attack --attack hsj $A --iterations 3 --init-evals 20 --max-evals 40 --repeats 2 --seed 4 "$T/a"
"$SIMREG" attack --attack hsj --norm linf $A --iterations 2 --init-evals 20 --max-evals 40 "$T/a"
"$SIMREG" attack --attack square $A --eps 0.2 --queries 100 --seed 2 "$T/a"
/usr/bin/python3 - "$T/a" <<'PY' || fail "hsj / square results"
import json, sys, numpy as np
run = sys.argv[1]
j = json.load(open(run + "/robustness.json"))
h = j["attacks"]["hsj_l2"]
n = len(h["norms_sq_per_dim"])
assert n == len(h["l2"]) == len(h["linf"]) == len(h["queries"]) == len(h["repeat"]) > 0, h
assert n <= 2 * h["attacked"] and set(h["repeat"]) == {0, 1} and h["repeats"] == 2 and h["norm"] == "l2"
for k in ("norm_sq_per_dim", "l2", "linf"):
    q = h["quartiles"][k]
    v = np.array(h[k] if k != "norm_sq_per_dim" else h["norms_sq_per_dim"])
    assert q[0] <= q[1] <= q[2] and np.allclose(q, np.percentile(v, [25, 50, 75])), (k, q)
d = np.load(run + "/" + h["perturbations"]).astype(np.float64).reshape(n, -1)
assert np.allclose(np.sqrt((d ** 2).sum(1)), h["l2"], rtol=1e-5) and np.allclose(abs(d).max(1), h["linf"], rtol=1e-6)
assert np.allclose((d ** 2).mean(1), h["norms_sq_per_dim"], rtol=1e-4)
assert abs(h["median"] - np.median(h["norms_sq_per_dim"])) < 1e-12 and h["ci_low"] <= h["median"] <= h["ci_high"]
assert j["attacks"]["hsj_linf"]["norm"] == "linf" and j["attacks"]["hsj_linf"]["iterations"] == 2
s = j["attacks"]["square_linf"]
assert s["eps"] == 0.2 and s["budget"] == 100 and len(s["queries"]) == s["attacked"]
assert all(1 <= q <= 100 for q in s["queries"]) and 0 < s["success_rate"] <= 1
assert s["success_rate"] == sum(s["fooled"]) / s["attacked"] and s["recheck_failed"] == 0
assert all(q == 100 for q, f in zip(s["queries"], s["fooled"]) if not f)
PY

# the suite: without --source a note, with --source the transfer curve; --quiet is silent
S="--images 6 --repeats 2 --boundary-steps 20 --checkpoint last --batch 16 --threads 1"
"$SIMREG" robustness --suite paper --images 4 --repeats 1 --boundary-steps 10 --checkpoint last --batch 16 --threads 1 --quiet \
  --out "$T/s1.json" "$T/a" 2> "$T/err1"
[ ! -s "$T/err1" ] || fail "--quiet printed: $(cat "$T/err1")"
"$SIMREG" robustness --suite paper $S --source "$T/b" --out "$T/s2.json" "$T/a" "$T/b" 2> "$T/err2"
grep -q "^\[2/2\] .*/b done" "$T/err2" || fail "no per-run progress lines"
/usr/bin/python3 - "$T" <<'PY' || fail "suite results"
import json, sys
t = sys.argv[1]
s1, s2 = json.load(open(t + "/s1.json")), json.load(open(t + "/s2.json"))
assert s1["status"] == "complete" and any("skipped" in n for n in s1["notes"]) and "transfer" not in s1["runs"][0]["results"]
assert s2["status"] == "complete" and [r["run"] for r in s2["runs"]] == [t + "/a", t + "/b"] and not s2["notes"]
assert s2["settings"]["repeats"] == 2 and s2["settings"]["boundary_steps"] == 20 and s2["settings"]["source"] == t + "/b"
for r in s2["runs"]:
    res = r["results"]
    assert set(res["noise"]) == {"gaussian", "uniform", "salt_pepper"} and res["noise"]["gaussian"]["repeats"] == 2
    assert res["transfer"]["fgsm"]["source"] == t + "/b" and len(res["transfer"]["fgsm"]["levels"]) == 10
    b = res["boundary"]
    assert b["attacked"] == 6 and b["repeats"] == 2 and b["steps"] == 20 and len(b["norms_sq_per_dim"]) <= 12
    assert b["images"] == b["attacked"] + b["misclassified_clean"]
    own = json.load(open(r["run"] + "/robustness.json"))  # merged per run, as simreg attack does
    assert own["boundary"] == b and own["transfer"]["fgsm"] == res["transfer"]["fgsm"]
assert "hsj_l2" in json.load(open(t + "/a/robustness.json"))["attacks"]  # earlier results kept by the merge
PY
"$SIMREG" report --out "$T/rep" "$T/a" "$T/b" > /dev/null 2>&1 || fail "report reads the suite's results"

# FMN / DDN, the per-image minimum over attacks and the masking flags; the report shows them
"$SIMREG" attack --attack fmn $A --steps 10 "$T/a"
"$SIMREG" attack --attack fmn --norm linf $A --steps 10 "$T/a"
"$SIMREG" robustness --suite paper --images 6 --repeats 1 --boundary-steps 20 --minimal boundary,fmn,ddn --wb-steps 10 \
  --masking-images 3 --checkpoint last --batch 16 --threads 1 --quiet --out "$T/s3.json" "$T/b"
/usr/bin/python3 - "$T" <<'PY' || fail "fmn / ddn / minimal / masking results"
import json, sys, numpy as np
t = sys.argv[1]
a = json.load(open(t + "/a/robustness.json"))["attacks"]
for name in ("fmn_l2", "fmn_linf"):
    f = a[name]
    n = len(f["l2"])
    assert n > 0 and f["steps"] == 10 and f["recheck_failed"] == 0 and len(f["gradients"]) == n
    assert all(g == 10 for g in f["gradients"]) and all(q == 11 for q in f["queries"])
    d = np.load(t + "/a/" + f["perturbations"]).astype(np.float64).reshape(n, -1)
    assert np.allclose(np.sqrt((d ** 2).sum(1)), f["l2"], rtol=1e-5)
j = json.load(open(t + "/b/robustness.json"))
m = j["minimal"]
assert m["attacks"] == ["boundary", "fmn", "ddn"] and m["attacked"] == 6 and len(m["l2"]) == 6
for i in range(6):
    own = [min([l for l, k in zip(r["l2"], r["image"]) if k == i] or [float("inf")])
           for r in (j["boundary"], j["attacks"]["fmn_l2"], j["attacks"]["ddn_l2"])]
    assert (m["l2"][i] is None and min(own) == float("inf")) or abs(m["l2"][i] - min(own)) < 1e-12, (i, own, m["l2"][i])
    assert m["l2"][i] is None or m["attack"][i] == m["attacks"][own.index(min(own))]
acc = m["curve"]["robust_accuracy"]
assert all(x >= y for x, y in zip(acc, acc[1:])) and len(acc) == len(m["curve"]["eps"])
k = j["masking"]
assert [f["name"] for f in k["flags"]] == ["black_box_beats_white_box", "accuracy_at_large_eps",
                                          "stronger_pgd_finds_more", "zero_gradients"]
assert k["images"] == 3 and all(f["measured"] for f in k["flags"]) and all(f["rule"] for f in k["flags"])
PY
# a model with every weight zero (constant logits, zero input gradients): FMN / DDN find nothing without
# failing, and the masking flags (b) and (d) fire
mkdir "$T/z" && cp "$T/a/config.json" "$T/a/last.safetensors" "$T/z/"
/usr/bin/python3 - "$T/z/last.safetensors" <<'PY'
import struct, sys
raw = bytearray(open(sys.argv[1], "rb").read())
(hl,) = struct.unpack("<Q", raw[:8])
raw[8 + hl:] = bytes(len(raw) - 8 - hl)
open(sys.argv[1], "wb").write(raw)
PY
"$SIMREG" robustness --suite paper --images 4 --repeats 1 --minimal fmn,ddn --wb-steps 3 --masking-images 3 \
  --checkpoint last --batch 16 --threads 1 --quiet --out "$T/s4.json" "$T/z" 2> /dev/null || fail "zero model suite"
/usr/bin/python3 - "$T/z/robustness.json" <<'PY' || fail "zero model: not found, flags fired"
import json, sys
j = json.load(open(sys.argv[1]))
f = j["attacks"]["fmn_l2"]
assert f["l2"] == [] and f["median"] is None and f["zero_gradients"] == 4 * 3 and j["minimal"]["not_found"] == 4
fired = {x["name"]: x["fired"] for x in j["masking"]["flags"]}
assert fired["zero_gradients"] and fired["accuracy_at_large_eps"] and not fired["stronger_pgd_finds_more"], fired
PY
"$SIMREG" report --out "$T/rep3" "$T/b" > /dev/null 2>&1 || fail "report with minimal / masking"
grep -q "Gradient-masking flags" "$T/rep3/report.md" && grep -q "per-image minimum over attacks" "$T/rep3/report.md" \
  || fail "report sections"

set +e
"$SIMREG" robustness --suite nope "$T/a" 2> "$T/e"; [ $? -eq 2 ] && grep -q "suite" "$T/e" || fail "unknown suite"
"$SIMREG" robustness --suite paper "$T/a" "$T/missing" 2> "$T/e"; [ $? -eq 2 ] && grep -q missing "$T/e" || fail "missing run"
"$SIMREG" robustness --suite paper --source "$T/nosrc" "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "missing source"
"$SIMREG" robustness --suite paper 2>/dev/null; [ $? -eq 2 ] || fail "no runs"
"$SIMREG" robustness --suite paper --images 0 "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "--images 0"
"$SIMREG" attack --attack hsj --init-evals 50 --max-evals 10 "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "max-evals < init-evals"
"$SIMREG" attack --attack square --p-init 2 "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "p-init > 1"
"$SIMREG" attack --attack ddn --norm linf "$T/a" 2> "$T/e"; [ $? -eq 2 ] && grep -q norm "$T/e" || fail "ddn linf"
"$SIMREG" robustness --suite paper --minimal boundary,nope "$T/a" 2> "$T/e"; [ $? -eq 2 ] && grep -q minimal "$T/e" \
  || fail "unknown minimal attack"
"$SIMREG" robustness --suite paper --minimal fmn,fmn "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "minimal twice"
"$SIMREG" robustness --suite paper --minimal-eps 1,-2 "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "negative minimal eps"
echo ok
