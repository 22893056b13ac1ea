#!/bin/sh
# simreg's FMN / DDN against the authors' implementations on the same weights and images, alternating
# simreg and the peer in each round (docs/ATTACKS.md has the measured numbers).
#
#   bench/minnorm.sh RUN [ROUNDS]
#   env: ATTACKS (default "fmn:l2 ddn:l2"), STEPS (default 100), IMAGES (default 1000), SIMREG (the binary,
#        default build/tools/simreg), MIRRORS (where the fetched repositories are, default /work/.mirror)
#
# RUN is copied to a temporary directory (its robustness.json is not touched). The reference code is unpacked
# from the fetched repositories into another temporary directory, put on the peer's path and removed at the
# end; it is never committed: pralab/Fast-Minimum-Norm-FMN-Attack (src/attacks/fmn.py), bethgelab/foolbox
# and jonasrauber/eagerpy (what it imports; foolbox.zoo's GitPython import gets a stand-in module), and
# jeromerony/fast_adversarial (fast_adv/attacks/ddn.py). Each line: who, attack, attacked, found, median
# ||delta||_2, median ||delta||_inf, seconds. Threads: 2 for both (OMP / torch.set_num_threads).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
run=${1:?usage: bench/minnorm.sh RUN [ROUNDS]}
rounds=${2:-1}
attacks=${ATTACKS:-"fmn:l2 ddn:l2"}
steps=${STEPS:-100}
images=${IMAGES:-1000}
simreg=${SIMREG:-$here/../build/tools/simreg}
mirrors=${MIRRORS:-/work/.mirror}
tmp=$(mktemp -d /tmp/minnorm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/run" "$tmp/refs/fmnref"
cp "$run/config.json" "$run/best.safetensors" "$tmp/run/"
show() { git --git-dir="$1" show "HEAD:$2"; }
gitdir() { if [ -d "$mirrors/$1/repo/.git" ]; then echo "$mirrors/$1/repo/.git"; else echo "$mirrors/$1/repo"; fi; }
show "$(gitdir pralab+Fast-Minimum-Norm-FMN-Attack)" src/attacks/fmn.py > "$tmp/refs/fmnref/fmn.py"
: > "$tmp/refs/fmnref/__init__.py"
show "$(gitdir jeromerony+fast_adversarial)" fast_adv/attacks/ddn.py > "$tmp/refs/ddnref.py"
git --git-dir="$(gitdir bethgelab+foolbox)" archive HEAD foolbox 2>/dev/null | tar -x -C "$tmp/refs" || true
git --git-dir="$(gitdir jonasrauber+eagerpy)" archive HEAD eagerpy | tar -x -C "$tmp/refs"
printf 'class Repo:  # stand-in for GitPython: foolbox.zoo imports it, the peer never clones\n    pass\n' > "$tmp/refs/git.py"
echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# steps $steps, first $images test images, rounds $rounds"
for r in $(seq 1 "$rounds"); do
  for an in $attacks; do
    a=${an%%:*}
    n=${an##*:}
    name=${a}_$n
    rm -f "$tmp/run/robustness.json"
    t0=$(date +%s.%N)
    OMP_NUM_THREADS=2 "$simreg" attack --attack "$a" --norm "$n" --steps "$steps" --images "$images" --threads 2 \
      --quiet "$tmp/run" > /dev/null
    t1=$(date +%s.%N)
    python3 - "$tmp/run/robustness.json" "$name" "$r" "$t0" "$t1" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["attacks"][sys.argv[2]]
print(f"round {sys.argv[3]} simreg {sys.argv[2]}: attacked {b['attacked']:.0f} found {len(b['l2'])} "
      f"median_l2 {b['quartiles']['l2'][1]:.5f} median_linf {b['quartiles']['linf'][1]:.5f} "
      f"seconds {float(sys.argv[5]) - float(sys.argv[4]):.1f}", flush=True)
PY
    /usr/bin/python3 "$here/minnorm_peer.py" --refs "$tmp/refs" --run "$tmp/run" --attack "$a" --norm "$n" \
      --steps "$steps" --images "$images" --out "$tmp/peer.json" > /dev/null
    python3 - "$tmp/peer.json" "$name" "$r" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
print(f"round {sys.argv[3]} peer   {sys.argv[2]}: attacked {p['attacked']} found {p['found']} "
      f"median_l2 {p['median_l2']:.5f} median_linf {p['median_linf']:.5f} seconds {p['seconds']:.1f}  ({p['peer']})",
      flush=True)
PY
  done
done
echo "# done $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
