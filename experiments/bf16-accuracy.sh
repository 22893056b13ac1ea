#!/bin/sh
# Issue 12's accuracy check of --precision bf16: the same training in f32 and in bf16 (same seed, flags and
# threads) on Fashion-MNIST, test accuracy of the last epoch side by side; the target is |bf16 - f32| <= 0.5
# points. cnn-small uses the default recipe (20 epochs, the paper's cyclic schedule, which ends annealed);
# resnet18 width 0.25 runs RESNET_EPOCHS epochs with a cosine schedule (the cyclic one would end at lr 0.03
# after 6 epochs, where the last epoch's accuracy is a noisy snapshot).
# usage: [BUILD=build] [SEEDS="1"] [MODELS="cnn-small resnet18"] [RESNET_EPOCHS=6] [THREADS=2] [EXTRA="..."]
#        experiments/bf16-accuracy.sh OUT        (EXTRA: more train flags, e.g. "--limit 640" for a smoke run)
# Writes OUT/<model>-s<seed>-<precision>/ (run directories) and OUT/summary.tsv; prints the table.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD:-$here/build}/tools/simreg
out=${1:?usage: experiments/bf16-accuracy.sh OUT}
[ -x "$bin" ] || { echo "error: $bin not found; build first (make build) or set BUILD" >&2; exit 2; }
mkdir -p "$out"
summary="$out/summary.tsv"
printf 'model\tseed\tf32_test_acc\tbf16_test_acc\tdiff_points\tf32_s\tbf16_s\n' > "$summary"
for model in ${MODELS:-cnn-small resnet18}; do
  for seed in ${SEEDS:-1}; do
    for p in f32 bf16; do
      run="$out/$model-s$seed-$p"
      if [ ! -e "$run/done.json" ]; then
        rm -rf "$run"
        if [ "$model" = resnet18 ]; then
          set -- --width 0.25 --epochs "${RESNET_EPOCHS:-6}" --lr-schedule cosine
        else
          set --
        fi
        t0=$(date +%s)
        "$bin" train --model "$model" "$@" --precision "$p" --seed "$seed" --threads "${THREADS:-2}" --quiet --json \
          ${EXTRA:-} --out "$run" > "$out/$model-s$seed-$p.json"
        echo "$(( $(date +%s) - t0 ))" > "$out/$model-s$seed-$p.seconds"
        cp "$out/$model-s$seed-$p.json" "$run/done.json"
      fi
    done
    /usr/bin/python3 - "$out" "$model" "$seed" >> "$summary" <<'PY'
import json, sys
out, model, seed = sys.argv[1:]
acc, secs = {}, {}
for p in ("f32", "bf16"):
    acc[p] = json.load(open(f"{out}/{model}-s{seed}-{p}/done.json"))["test_acc"]
    secs[p] = open(f"{out}/{model}-s{seed}-{p}.seconds").read().strip()
print(f"{model}\t{seed}\t{acc['f32']:.4f}\t{acc['bf16']:.4f}\t{100 * (acc['bf16'] - acc['f32']):+.2f}\t{secs['f32']}\t{secs['bf16']}")
PY
  done
done
column -t "$summary" 2>/dev/null || cat "$summary"
/usr/bin/python3 - "$summary" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
worst = max(abs(float(r["diff_points"])) for r in rows)
print(f"largest |bf16 - f32|: {worst:.2f} points (target <= 0.5): {'met' if worst <= 0.5 else 'NOT met'}")
PY
