#!/bin/sh
# collect-cifar10: copy the small results of experiments/paper-cifar10.sh from OUT into the repository
# (docs/results/paper-cifar10/), then regenerate the CIFAR-10 tables of docs/RESULTS.md from them
# (experiments/cifar10-table.py; between the cifar10-table markers).
# Copied: every run's config.json, metrics.jsonl, robustness.json, eval-*.json, corruptions.json and
# fourier-map/ (json, png, npy under 1 MiB); the reports (report-*/), selections, alphas, times.tsv,
# load.tsv, study.log and the job logs; PNG figures only (no SVG / HTML copies). Never checkpoints,
# weights, perturbation dumps over 1 MiB or the data.
# Run it as often as you like (it replaces what it copied before); commit docs/ afterwards.
# Usage: experiments/collect-cifar10.sh [OUT]   (default /work/cifar-study)
set -eu
OUT=${1:-${OUT:-/work/cifar-study}}
here=$(cd "$(dirname "$0")/.." && pwd)
DST="$here/docs/results/paper-cifar10"
[ -d "$OUT" ] || {
  echo "collect-cifar10: no $OUT" >&2
  exit 2
}
mkdir -p "$DST"

# copy_small SRC DST: the files of SRC (recursively) small enough and of a kind worth committing
copy_small() {
  (cd "$1" && find . -type f -size -1024k \( -name '*.json' -o -name '*.jsonl' -o -name '*.md' -o -name '*.png' \
    -o -name '*.txt' -o -name '*.tsv' -o -name '*.csv' -o -name '*.npy' \) \
    ! -path './cache/*' ! -name '*.tmp') | while read -r f; do
    mkdir -p "$2/$(dirname "$f")"
    cp "$1/$f" "$2/$f"
  done
}

for d in "$OUT"/p-* "$OUT"/g-* "$OUT"/c-* "$OUT"/report-*; do
  [ -d "$d" ] || continue
  case "$d" in *.tmp) continue ;; esac
  n=$(basename "$d")
  rm -rf "${DST:?}/$n"
  mkdir -p "$DST/$n"
  copy_small "$d" "$DST/$n"
done
for f in times.tsv load.tsv study.log alphas select-pilot.txt select-pilot.json select-gray.txt select-gray.json \
  select-colour.txt select-colour.json; do
  [ -f "$OUT/$f" ] && cp "$OUT/$f" "$DST/$f"
done
if [ -d "$OUT/logs" ]; then
  rm -rf "$DST/logs"
  mkdir -p "$DST/logs"
  cp "$OUT"/logs/*.log "$DST/logs/" 2>/dev/null || true
fi
# which jobs are done (the study's progress, for a later session)
ls "$OUT/.done" 2>/dev/null | sort >"$DST/done.txt"
python3 "$here/experiments/cifar10-table.py" "$DST" >"$DST/table.md.tmp"
mv "$DST/table.md.tmp" "$DST/table.md"
python3 "$here/experiments/cifar10-table.py" "$DST" --splice "$here/docs/RESULTS.md"
echo "collected into $DST; docs/RESULTS.md's CIFAR-10 tables regenerated from it"
