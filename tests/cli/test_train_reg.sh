#!/bin/sh
# simreg train --reg: a regularized run logs the regularization loss, gamma and the similarity
# correlations, records its settings, and resumes from a mid-epoch checkpoint to byte-identical weights.
SIMREG="$1"
T=$(mktemp -d /tmp/sr_cli_reg_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ARGS="--limit 1200 --epochs 2 --no-test --reg threshold --reg-n 300 --reg-pairs 8 --alpha 4 --th 0.6 --seed 9
      --threads 2 --checkpoint-every 3 --quiet"

"$SIMREG" train $ARGS --out "$T/full" || fail "regularized run"
/usr/bin/python3 - "$T/full" <<'PY' || fail "metrics/config of the regularized run"
import json, sys
run = sys.argv[1]
cfg = json.load(open(run + "/config.json"))
reg = cfg["reg"]
assert reg["type"] == "threshold" and reg["alpha"] == 4 and reg["threshold"] == 0.6 and reg["images"] == 300, reg
lines = [json.loads(l) for l in open(run + "/metrics.jsonl")]
assert len(lines) == 2
for m in lines:
    assert m["reg_loss"] > 0 and len(m["gamma"]) == 2 and abs(sum(m["gamma"]) - 1) < 1e-9, m
    assert -1 <= m["similarity_pearson"] <= 1 and -1 <= m["similarity_spearman"] <= 1, m
# gamma moved away from uniform: w is trained
assert abs(lines[-1]["gamma"][0] - 0.5) > 1e-4, lines[-1]["gamma"]
PY
[ -n "$(ls "$T/full/cache" 2>/dev/null)" ] || fail "the target was not cached"

# SIGINT in epoch 2, resume: identical weights, because the pair RNG, running means and w are checkpointed.
"$SIMREG" train $ARGS --out "$T/int" &
pid=$!
i=0
while [ $i -lt 600 ] && ! { [ -f "$T/int/metrics.jsonl" ] && [ -f "$T/int/checkpoint.safetensors" ]; }; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid
wait $pid
rc=$?
[ "$rc" -eq 130 ] || fail "SIGINT should exit 130, got $rc"
"$SIMREG" train --resume "$T/int" --threads 2 --quiet || fail "resume"
cmp -s "$T/full/last.safetensors" "$T/int/last.safetensors" || fail "regularized resume differs from the uninterrupted run"

# Bad regularizer settings.
"$SIMREG" train --reg bogus --out "$T/bad" 2> "$T/err.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "bogus" "$T/err.txt" || fail "--reg bogus: exit $rc, $(cat "$T/err.txt")"
"$SIMREG" train --reg file --out "$T/bad" 2> "$T/err.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "reg-target" "$T/err.txt" || fail "--reg file without a target: exit $rc"
[ ! -e "$T/bad/config.json" ] || fail "a failed start left a run behind"
echo "1 passed, 0 failed"
