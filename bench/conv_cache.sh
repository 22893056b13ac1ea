#!/bin/sh
# What the machine-wide convolution choice cache (SR_CONV_CACHE, issue 25d) saves: wall seconds of the same
# measuring command with an empty cache (every key timed) and with the cache the empty-cache run filled
# (every key read), alternating which goes first in ROUNDS rounds (default 3), 2 threads. Also checks that
# a warm run's weights equal those of the cold run whose cache it read (cmp). Commands: `simreg info --plan --tape` of resnet18 w1
# and w0.25 (1x32x32, batch 64), and a tiny `simreg train` (resnet18 w0.25, 200 Fashion-MNIST images,
# batch 64, one epoch). Prints every raw time, then one table of medians.
# usage: [ROUNDS=3] bench/conv_cache.sh BUILD
set -eu
b=$1
rounds=${ROUNDS:-3}
export OMP_NUM_THREADS=2 SR_CONV_ALGO=measure
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# bench/conv_cache.sh: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u '+%F %T') UTC, load:$(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds, 2 threads"
secs() {  # secs CACHE OUT CMD...: wall seconds of one run
  c=$1
  o=$2
  shift 2
  t0=$(date +%s.%N)
  SR_CONV_CACHE=$c "$b/tools/simreg" "$@" > "$o" 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
for job in r18w1 r18w025 train; do
  case $job in
  r18w1) cmd="info --model resnet18 --width 1 --size 32 --plan --tape --batch 64" ;;
  r18w025) cmd="info --model resnet18 --width 0.25 --size 32 --plan --tape --batch 64" ;;
  train) cmd="train --model resnet18 --width 0.25 --data fashion-mnist --limit 200 --batch 64 --epochs 1 --no-test --seed 5 --threads 2 --quiet" ;;
  esac
  : > "$tmp/$job.cold"
  : > "$tmp/$job.warm"
  filled=""
  for r in $(seq "$rounds"); do
    # alternate which side goes first; a warm run reads a copy of the last cache a cold run filled
    if [ $((r % 2)) -eq 1 ]; then order="cold warm"; else order="warm cold"; fi
    for side in $order; do
      if [ "$side" = cold ]; then
        c="$tmp/c$r.json"
        rm -f "$c" "$c.lock"
      else
        c="$tmp/warm.json"
        cp "$filled" "$c"
      fi
      if [ "$job" = train ]; then
        rm -rf "$tmp/run-$side-$r"
        s=$(secs "$c" "$tmp/log" $cmd --out "$tmp/run-$side-$r")
      else
        s=$(secs "$c" "$tmp/log" $cmd)
      fi
      echo "$job $side round $r: $s s"
      echo "$s" >> "$tmp/$job.$side"
      if [ "$side" = cold ]; then
        filled="$tmp/c$r.json"
        filled_run="$tmp/run-cold-$r"
      elif [ "$job" = train ]; then  # the same choices as the cold run that filled the cache: the same weights
        cmp -s "$filled_run/last.safetensors" "$tmp/run-warm-$r/last.safetensors" && same=bit-identical || same=DIFFER
        echo "train round $r: warm run vs the cold run whose cache it read: weights $same"
      fi
    done
  done
done
echo
printf "| %-46s | %9s | %9s | %6s |\n" "command (median of $rounds)" "cold s" "warm s" "saved"
printf "|%s|%s|%s|%s|\n" "------------------------------------------------" "-----------" "-----------" "--------"
for job in r18w1 r18w025 train; do
  c=$(median < "$tmp/$job.cold")
  w=$(median < "$tmp/$job.warm")
  case $job in
  r18w1) name="info --plan --tape resnet18 w1 32x32 batch 64" ;;
  r18w025) name="info --plan --tape resnet18 w0.25 32x32 b64" ;;
  train) name="train resnet18 w0.25, 200 images, 1 epoch" ;;
  esac
  printf "| %-46s | %9.2f | %9.2f | %5.0f%% |\n" "$name" "$c" "$w" "$(echo "100 * ($c - $w) / $c" | bc -l)"
done
