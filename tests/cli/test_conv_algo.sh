#!/bin/sh
# Per-convolution algorithm choice through the CLI: SR_CONV_ALGO is honoured and checked (exit 2 naming it),
# `info --plan` lists each convolution's candidates and choice, `train` records its measured choices in
# config.json and RUN/conv_algo.json, `train --resume` and `eval` reuse them (no new timing), and a corrupt
# cache file makes eval exit 2 naming it.
SIMREG="$1"
T=$(mktemp -d /tmp/sr_cli_conv_algo_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
INFO="info --model resnet18 --width 0.25 --size 16 --plan --batch 4"

SR_CONV_ALGO=fastest "$SIMREG" $INFO > /dev/null 2> "$T/err.txt"
rc=$?
[ "$rc" -eq 2 ] || fail "SR_CONV_ALGO=fastest: exit $rc, expected 2"
grep -q "SR_CONV_ALGO=fastest" "$T/err.txt" || fail "the message names SR_CONV_ALGO: $(cat "$T/err.txt")"

# direct: every convolution's choice is direct, nothing timed
SR_CONV_ALGO=direct "$SIMREG" $INFO > "$T/direct.txt" || fail "info --plan (direct)"
[ "$(grep -c ' direct$' "$T/direct.txt")" -eq 20 ] || { cat "$T/direct.txt"; fail "20 convolutions listed as direct"; }
grep -q "setting direct" "$T/direct.txt" || fail "info --plan names the setting"
# winograd: the project's Winograd for the 3x3 stride-1 convolutions the rule picks
SR_CONV_ALGO=winograd "$SIMREG" $INFO > "$T/wino.txt" || fail "info --plan (winograd)"
grep -q 'layer1.0.conv1 .* winograd$' "$T/wino.txt" || { cat "$T/wino.txt"; fail "layer1.0.conv1 as winograd"; }
# measure (the default): times listed, the choice is one of the timed candidates
SR_CONV_ALGO= "$SIMREG" $INFO --json > "$T/measure.json" || fail "info --plan --json (measure)"
python3 - "$T/measure.json" <<'PY' || fail "info --plan --json lists times and the fastest choice"
import json, sys
j = json.load(open(sys.argv[1]))
rows = j["plan"]
assert len(rows) == 20, len(rows)
for r in rows:
    assert r["ms"]["direct"] > 0, r
    assert r["choice"] in r["ms"], r
    assert r["ms"][r["choice"]] == min(r["ms"].values()), r
print("ok info --plan measure:", sum(r["choice"] != "direct" for r in rows), "of 20 not direct")
PY

# train records its choices; resume and eval reuse them
FM="--data fashion-mnist --limit 600 --no-test --seed 2 --batch 64 --quiet"
SR_CONV_ALGO=measure "$SIMREG" train $FM --epochs 1 --out "$T/run" || fail "train"
python3 - "$T/run" <<'PY' || fail "config.json and conv_algo.json record the choices"
import json, sys
c = json.load(open(sys.argv[1] + "/config.json"))["conv_algo"]
k = json.load(open(sys.argv[1] + "/conv_algo.json"))
assert c["setting"] == "measure", c
keys = [e["key"] for e in c["choices"]]
assert any(x.startswith("train ") for x in keys) and any(x.startswith("plan") for x in keys), keys
assert [e["key"] for e in k["choices"]] == keys
print("ok train recorded", len(keys), "choices")
PY
ls "$T/run" | grep -q tmp && fail "temp files left in the run"
# a recorded choice is reused: rewrite every recorded choice to direct with no times; a run that timed
# again would list times, one that reuses lists none
python3 - "$T/run" <<'PY'
import json, sys
for f in ("config.json", "conv_algo.json"):
    p = sys.argv[1] + "/" + f
    j = json.load(open(p))
    c = j["conv_algo"] if f == "config.json" else j
    for e in c["choices"]:
        e["algo"] = "direct"
        e["ms"] = {}
    json.dump(j, open(p, "w"))
PY
SR_CONV_ALGO=measure "$SIMREG" train --resume "$T/run" --epochs 2 --threads 2 --quiet || fail "resume"
SR_CONV_ALGO=measure "$SIMREG" eval "$T/run" --data fashion-mnist > /dev/null || fail "eval"
python3 - "$T/run" <<'PY' || fail "resume and eval reused the recorded choices"
import json, sys
k = json.load(open(sys.argv[1] + "/conv_algo.json"))
old = [e for e in k["choices"] if e["ms"] == {}]
assert old and all(e["algo"] == "direct" for e in old), k
print("ok", len(old), "recorded choices reused as given;", len(k["choices"]) - len(old), "new keys timed")
PY
echo '{"choices": [{"key": "x", "al' > "$T/run/conv_algo.json"
"$SIMREG" eval "$T/run" --data fashion-mnist > /dev/null 2> "$T/err.txt"
rc=$?
[ "$rc" -eq 2 ] || fail "corrupt cache: exit $rc, expected 2"
grep -q "conv_algo.json" "$T/err.txt" || fail "corrupt cache: message names the file: $(cat "$T/err.txt")"
echo "ok corrupt cache: $(cat "$T/err.txt")"
