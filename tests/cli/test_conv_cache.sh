#!/bin/sh
# The machine-wide convolution choice cache through the CLI (SR_CONV_CACHE): two fresh measuring runs
# with the same seed, threads and cache give bit-identical weights and the same recorded choices (the
# second takes the first's from the cache and times nothing); the default path follows XDG_CACHE_HOME,
# else HOME; =off writes no cache; a directory that cannot be made is a warning, not a failure; a corrupt
# cache is exit 2 naming it; concurrent commands keep each other's keys; an attack with a batch the run did
# not record adds its keys; info --plan names the cache and where each choice came from.
SIMREG="$1"
T=$(mktemp -d /tmp/sr_cli_conv_cache_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: no Fashion-MNIST"; exit 77; }
export SR_CONV_ALGO=measure
C="$T/cache/sub/conv_algo.json"  # its directory does not exist yet
TRAIN="train --data fashion-mnist --limit 200 --batch 64 --epochs 1 --no-test --seed 5 --threads 2 --quiet"

# two fresh runs, one cache
SR_CONV_CACHE="$C" "$SIMREG" $TRAIN --out "$T/a" || fail "train a"
[ -s "$C" ] || fail "the first run created the cache $C"
cp "$C" "$T/cache-after-a.json"
SR_CONV_CACHE="$C" "$SIMREG" $TRAIN --out "$T/b" || fail "train b"
cmp "$T/a/last.safetensors" "$T/b/last.safetensors" || fail "same seed, threads and cache: weights differ"
cmp "$C" "$T/cache-after-a.json" || fail "the second run measured keys the first had cached"
python3 - "$T/a" "$T/b" "$C" <<'PY' || fail "config.json records the same choices, the cache's"
import json, sys
a = json.load(open(sys.argv[1] + "/config.json"))["conv_algo"]["choices"]
b = json.load(open(sys.argv[2] + "/config.json"))["conv_algo"]["choices"]
c = json.load(open(sys.argv[3]))["choices"]
assert a and a == b, (a, b)
# the cache holds exactly what the first run measured, times included (b's times are a's: not re-timed)
assert sorted(json.dumps(e, sort_keys=True) for e in a) == sorted(json.dumps(e, sort_keys=True) for e in c)
print("ok two fresh runs: identical weights and", len(a), "identical choices")
PY
ls "$T/cache/sub" | grep -q tmp && fail "temp files left beside the cache"

# the default path: $XDG_CACHE_HOME/simreg, else $HOME/.cache/simreg; off: nothing written
INFO="info --plan --batch 3"
env -u SR_CONV_CACHE XDG_CACHE_HOME="$T/xdg" HOME="$T/home" "$SIMREG" $INFO > "$T/info1.txt" || fail "info (xdg)"
[ -s "$T/xdg/simreg/conv_algo.json" ] || fail "XDG_CACHE_HOME: no cache at \$XDG_CACHE_HOME/simreg/conv_algo.json"
grep -q "choice cache: $T/xdg/simreg/conv_algo.json" "$T/info1.txt" || { cat "$T/info1.txt"; fail "info names the cache"; }
grep -q "measured direct\|measured winograd\|measured dnnl-winograd" "$T/info1.txt" || fail "info: measured now"
env -u SR_CONV_CACHE XDG_CACHE_HOME="$T/xdg" HOME="$T/home" "$SIMREG" $INFO > "$T/info2.txt" || fail "info again"
[ "$(grep -c ' cache  *[a-z-]*$' "$T/info2.txt")" -eq 2 ] || { cat "$T/info2.txt"; fail "info: both choices from the cache"; }
env -u SR_CONV_CACHE -u XDG_CACHE_HOME HOME="$T/home" "$SIMREG" $INFO > /dev/null || fail "info (home)"
[ -s "$T/home/.cache/simreg/conv_algo.json" ] || fail "HOME: no cache at \$HOME/.cache/simreg/conv_algo.json"
SR_CONV_CACHE=off HOME="$T/home-off" XDG_CACHE_HOME="$T/xdg-off" "$SIMREG" $INFO > "$T/off.txt" || fail "info (off)"
grep -q "choice cache: off" "$T/off.txt" || fail "info says the cache is off"
SR_CONV_CACHE=off HOME="$T/home-off" XDG_CACHE_HOME="$T/xdg-off" "$SIMREG" $TRAIN --out "$T/off" || fail "train (off)"
[ ! -e "$T/home-off" ] && [ ! -e "$T/xdg-off" ] || fail "SR_CONV_CACHE=off wrote a cache"
echo "ok default paths (XDG_CACHE_HOME, HOME) and off"

# a directory that cannot be made: one warning, the command goes on
: > "$T/plainfile"
SR_CONV_CACHE="$T/plainfile/c.json" "$SIMREG" $INFO > /dev/null 2> "$T/warn.txt" || fail "an unusable cache directory failed the command"
[ "$(grep -c "warning: convolution choice cache" "$T/warn.txt")" -eq 1 ] || { cat "$T/warn.txt"; fail "one warning"; }
echo "ok unusable directory: $(cat "$T/warn.txt")"

# a corrupt cache: exit 2 naming it, and the file is left alone
echo '{"choices": [{"key": "x", "al' > "$T/bad.json"
for cmd in "$TRAIN --out $T/bad-run" "$INFO" "eval $T/a"; do
  SR_CONV_CACHE="$T/bad.json" "$SIMREG" $cmd > /dev/null 2> "$T/err.txt"
  rc=$?
  [ "$rc" -eq 2 ] || { cat "$T/err.txt"; fail "corrupt cache ($cmd): exit $rc, expected 2"; }
  grep -q "$T/bad.json" "$T/err.txt" && grep -q "delete" "$T/err.txt" ||
    fail "corrupt cache: the message names the file and says to delete it: $(cat "$T/err.txt")"
done
[ "$(cat "$T/bad.json")" = '{"choices": [{"key": "x", "al' ] || fail "the corrupt cache was rewritten"
echo "ok corrupt cache: $(cat "$T/err.txt")"

# concurrent commands: every one's keys kept
for b in 1 2 5 6 7 9; do SR_CONV_CACHE="$T/conc.json" "$SIMREG" $INFO --batch $b > /dev/null & done
wait
python3 - "$T/conc.json" <<'PY' || fail "concurrent info --plan runs lost keys"
import json, sys
keys = [e["key"] for e in json.load(open(sys.argv[1]))["choices"]]
batches = sorted({k.split(" n")[1].split()[0] for k in keys})
assert len(keys) == 12 and len(set(keys)) == 12 and batches == ["1", "2", "5", "6", "7", "9"], keys
print("ok 6 concurrent commands: all 12 keys kept")
PY

# an attack with a batch the run did not record: its plans' keys go into the machine cache
SR_CONV_CACHE="$C" "$SIMREG" attack --attack noise --images 20 --batch 7 --n-levels 2 --repeats 1 --quiet "$T/a" ||
  fail "attack"
python3 - "$C" "$T/cache-after-a.json" <<'PY' || fail "the attack's new keys in the machine cache"
import json, sys
new = [e["key"] for e in json.load(open(sys.argv[1]))["choices"]]
old = [e["key"] for e in json.load(open(sys.argv[2]))["choices"]]
assert new[:len(old)] == old, "existing entries kept in order"
added = new[len(old):]
assert added and all(" n7 " in k or " n6 " in k for k in added), added  # 20 images: batches of 7 and 6
print("ok attack added", len(added), "keys")
PY
