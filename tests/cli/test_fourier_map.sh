#!/bin/sh
# simreg fourier-map on a tiny run: JSON, .npy per eps, heat maps, symmetric maps, band means that agree
# with the map, exported signs, the default output directory, mpirun -np 2 = one process; bad input exits 2
# and leaves no output.
set -eu
SIMREG=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$SIMREG" train --epochs 1 --limit 1500 --lr-schedule constant --no-crop --no-flip --no-test --threads 1 --quiet --out "$T/a"
"$SIMREG" fourier-map --help | grep -q -- "--random-sign" || fail "help"
A="--checkpoint last --images 6 --batch 64 --threads 1 --bootstrap 200"
"$SIMREG" fourier-map $A --eps 1,6 --random-sign --seed 5 --quiet -o "$T/fm" "$T/a"
for f in fourier_map.json fourier_map_eps1.npy fourier_map_eps6.npy fourier_map_eps1.png fourier_map_eps6.svg; do
  [ -s "$T/fm/$f" ] || fail "missing $f"
done
/usr/bin/python3 -c "
import json, math, struct
j = json.load(open('$T/fm/fourier_map.json'))
s = j['settings']
assert s['images'] == 6 and s['eps'] == [1, 6] and s['random_sign'] and s['channels'] == 'all', s
assert s['cells_computed'] == (28 * 28 + 4) // 2, s
assert len(j['signs']) == 6 and set(j['signs']) <= {-1, 1}, j['signs']
assert j['frequency']['fx'][0] == -0.5 and j['frequency']['fx'][14] == 0, j['frequency']
mir = lambda k: (28 - k) % 28
for m in j['maps']:
    e = m['error']
    assert len(e) == 28 and all(len(r) == 28 for r in e)
    for y in range(28):
        for x in range(28):
            assert e[y][x] == e[mir(y)][mir(x)], (y, x)
            assert m['ci_low'][y][x] <= e[y][x] <= m['ci_high'][y][x]
            assert abs(e[y][x] * 6 - round(e[y][x] * 6)) < 1e-9
    # band means are the mean of the map over the band's positions and of the per-image counts
    for b, (lo, hi) in {'low': (0, 0.125), 'mid': (0.125, 0.25), 'high': (0.25, 9)}.items():
        vals = [e[y][x] for y in range(28) for x in range(28)
                if lo <= math.hypot((y - 14) / 28, (x - 14) / 28) + 1e-9 < hi]
        band = m['bands'][b]
        assert band['pixels'] == len(vals) and abs(band['mean'] - sum(vals) / len(vals)) < 1e-12, (b, band)
        assert abs(sum(m['image_band_errors'][b]) / (6 * len(vals)) - band['mean']) < 1e-12
        assert band['ci_low'] <= band['mean'] <= band['ci_high']
    assert abs(m['mean_error'] - sum(map(sum, e)) / 784) < 1e-12
big, small = j['maps'][1]['mean_error'], j['maps'][0]['mean_error']
assert big >= small and big > 0, (small, big)
# the .npy holds the same map
raw = open('$T/fm/fourier_map_eps6.npy', 'rb').read()
hl = struct.unpack('<H', raw[8:10])[0]
assert \"(28, 28)\" in raw[10:10 + hl].decode() and \"<f8\" in raw[10:10 + hl].decode()
vals = struct.unpack('<784d', raw[10 + hl:])
assert list(vals) == [v for r in j['maps'][1]['error'] for v in r]
" || fail "fourier_map.json content"

# same seed, same map; the default output directory is RUN/fourier-map; --channels each on gray data: one map
"$SIMREG" fourier-map $A --eps 6 --random-sign --seed 5 --channels each --quiet "$T/a"
/usr/bin/python3 -c "
import json
a = json.load(open('$T/fm/fourier_map.json'))['maps'][1]
b = json.load(open('$T/a/fourier-map/fourier_map.json'))
assert b['settings']['channels'] == 'each' and len(b['maps']) == 1 and b['maps'][0]['channel'] == 0
assert b['maps'][0]['npy'] == 'fourier_map_c0.npy'
assert a['error'] == b['maps'][0]['error'], 'same seed, same eps: the gray map must not depend on --channels'
" || fail "default directory / channels each"

# under mpirun the (map, cell) jobs are sharded over the ranks: the same JSON as one process
if command -v mpirun > /dev/null; then
  mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np 2 "$SIMREG" fourier-map $A --eps 1,6 \
    --random-sign --seed 5 --quiet -o "$T/fm2" "$T/a"
  /usr/bin/python3 -c "
import json
a, b = [json.load(open(f'$T/{d}/fourier_map.json')) for d in ('fm', 'fm2')]
for j in (a, b): j.pop('seconds'); j['settings'].pop('ranks')
assert a == b, 'mpirun -np 2 differs from one process'
" || fail "mpirun"
fi

# bad input: exit 2, a message naming the flag or file, no output left behind
expect2() {
  what=$1; shift
  set +e
  "$SIMREG" fourier-map "$@" -o "$T/bad" --quiet 2> "$T/err"
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "$what: exit $rc, want 2"
  grep -q -- "$what" "$T/err" || fail "$what: message '$(cat "$T/err")'"
  [ ! -e "$T/bad" ] || fail "$what: left $T/bad behind"
}
expect2 "--eps" --eps 0 "$T/a"
expect2 "--eps" --eps 2,-1 "$T/a"
expect2 "--images" --images 20000 --checkpoint last "$T/a"
expect2 "--channels" --channels rgb "$T/a"
mkdir "$T/noweights" && cp "$T/a/config.json" "$T/noweights/"
expect2 "best.safetensors" "$T/noweights"
expect2 "config.json" "$T/nothere"
echo "fourier-map CLI: ok"
