#!/bin/sh
# A/B of the per-convolution algorithm choice (issue 25): OLD_BUILD's bench_engine against NEW_BUILD's,
# alternating in ROUNDS rounds (default 5) of SECONDS per measurement (default 3), 2 threads, for resnet18
# w1 and w0.25 (1x32x32, batch 64) and cnn-small (1x28x28, batch 128). Prints every raw JSON line, then one
# table of medians: training img/s, unfused eval img/s (training graph, eval mode), fused plan img/s, and
# NEW's fused / unfused ratio (the issue's "fused plan never slower than the unfused graph").
# NEW runs with SR_CONV_ALGO as set (default measure: each bench process times its candidates once, when its
# tape and plan are built, outside the timed loops); OLD with its own defaults (main: Winograd on in plans
# and the bench's infer_fused_direct_img_s, every convolution direct, reported as "old fused direct").
# On a loaded machine set OMP_WAIT_POLICY=passive (inherited by both sides): with libgomp's spinning waits
# 2-thread runs collapse when another process takes a core.
# usage: [ROUNDS=5] [OMP_WAIT_POLICY=passive] bench/algo_ab.sh OLD_BUILD NEW_BUILD [SECONDS]
set -eu
old=$1
new=$2
secs=${3:-3}
rounds=${ROUNDS:-5}
export OMP_NUM_THREADS=2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# bench/algo_ab.sh: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u '+%F %T') UTC, load:$(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds x ${secs}s, 2 threads, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}"
for cfg in "resnet18 1 1 32 64" "resnet18 0.25 1 32 64" "cnn-small 1 1 28 128"; do
  tag=$(echo "$cfg" | tr ' ' '_')
  for r in $(seq "$rounds"); do
    # alternate which side goes first, so that a drift in the machine's load hits both alike
    if [ $((r % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
    for side in $order; do
      if [ "$side" = old ]; then b=$old; else b=$new; fi
      line=$("$b/bench/bench_engine" $cfg "$secs")
      echo "$side $line"
      echo "$line" >> "$tmp/$tag.$side"
    done
  done
done
echo "# load after:$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$tmp" <<'PY'
import json, os, statistics, sys
d = sys.argv[1]
def med(rows, k):
    v = [r[k] for r in rows if k in r]
    return statistics.median(v) if v else float("nan")
print("\n| model (batch) | train img/s old / new | ratio | unfused eval img/s old / new | fused img/s old / new "
      "| ratio | old fused direct | new fused / unfused | new plan: winograd, dnnl-winograd convs |")
print("|---|---|---|---|---|---|---|---|---|")
for cfg in ["resnet18 1 1 32 64", "resnet18 0.25 1 32 64", "cnn-small 1 1 28 128"]:
    tag = cfg.replace(" ", "_")
    o = [json.loads(l) for l in open(os.path.join(d, tag + ".old"))]
    n = [json.loads(l) for l in open(os.path.join(d, tag + ".new"))]
    a = cfg.split()
    name = "%s w%s, %sx%sx%s (%s)" % (a[0], a[1], a[2], a[3], a[3], a[4])
    to, tn = med(o, "train_img_s"), med(n, "train_img_s")
    fo, fn = med(o, "infer_fused_img_s"), med(n, "infer_fused_img_s")
    uo, un = med(o, "infer_img_s"), med(n, "infer_img_s")
    ratio_fu = statistics.median([r["infer_fused_img_s"] / r["infer_img_s"] for r in n])
    print("| %s | %.1f / %.1f | %.2fx | %.1f / %.1f | %.1f / %.1f | %.2fx | %.1f | %.2fx | %s, %s |" % (
        name, to, tn, tn / to, uo, un, fo, fn, fn / fo, med(o, "infer_fused_direct_img_s"), ratio_fu,
        n[-1].get("winograd_convs"), n[-1].get("dnnl_winograd_convs")))
PY
