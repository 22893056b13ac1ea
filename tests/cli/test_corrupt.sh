#!/bin/sh
# simreg corrupt: writes the CIFAR-10-C layout deterministically (any thread count), prints the frequency
# table, and rejects bad input with exit code 2.
SIMREG="$1"
FM=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
if [ ! -r "$FM" ]; then
  echo "SKIP: Fashion-MNIST not installed ($FM)"
  exit 77
fi
T=$(mktemp -d /tmp/sr_cli_corrupt_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$SIMREG" corrupt --data fashion-mnist --out "$T/a" --limit 30 --corruptions fog,glass_blur,shot_noise \
  --seed 4 --threads 1 --freq-images 30 --quiet || fail "run a"
"$SIMREG" corrupt --data fashion-mnist --out "$T/b" --limit 30 --corruptions fog,glass_blur,shot_noise \
  --seed 4 --threads 2 --freq-images 30 --quiet || fail "run b"
for f in fog.npy glass_blur.npy shot_noise.npy labels.npy frequency.csv; do
  [ -s "$T/a/$f" ] || fail "missing $f"
  cmp -s "$T/a/$f" "$T/b/$f" || fail "$f differs between 1 and 2 threads"
done
ls "$T/a" | grep -q tmp && fail "temp files left"
# uint8 (150, 28, 28, 1) images and (150,) labels: check the npy headers.
head -c 128 "$T/a/fog.npy" | grep -q "'shape': (150, 28, 28, 1)" || fail "fog.npy shape"
head -c 128 "$T/a/labels.npy" | grep -q "'descr': '|u1'.*'shape': (150,)" || fail "labels.npy header"
head -1 "$T/a/frequency.csv" | grep -q '^corruption,images,share_s1' || fail "frequency.csv header"
[ "$(wc -l < "$T/a/frequency.csv")" -eq 4 ] || fail "frequency.csv rows"

# Another seed changes the random corruptions.
"$SIMREG" corrupt --data fashion-mnist --out "$T/c" --limit 30 --corruptions shot_noise --seed 5 --quiet \
  --freq-images 0 || fail "run c"
cmp -s "$T/a/shot_noise.npy" "$T/c/shot_noise.npy" && fail "seed ignored"
[ -e "$T/c/frequency.csv" ] && fail "--freq-images 0 must skip the table"

# --groups alone measures and prints, writing nothing.
out=$("$SIMREG" corrupt --data fashion-mnist --groups --limit 20 --corruptions fog,gaussian_noise,contrast) || fail "groups"
echo "$out" | grep -q "^gaussian_noise .* high$" || fail "gaussian_noise not high in: $out"
echo "$out" | grep -q "^fog .* low$" || fail "fog not low in: $out"

# Bad input: exit 2 with a message naming the problem.
expect2() {
  msg=$("$SIMREG" corrupt "$@" 2>&1 >/dev/null)
  rc=$?
  [ $rc -eq 2 ] || fail "exit $rc (want 2) for: $*"
  echo "$msg" | grep -q -e "$EXPECT" || fail "message '$msg' lacks '$EXPECT' for: $*"
}
EXPECT="gaussian_blur" expect2 --data fashion-mnist --out "$T/d" --corruptions fog,gaussian_blur
EXPECT="data" expect2 --out "$T/d"
EXPECT="--out" expect2 --data fashion-mnist
EXPECT="limit" expect2 --data fashion-mnist --out "$T/d" --limit -3
EXPECT="nonexistent" expect2 --data cifar10:/nonexistent --out "$T/d"
[ -e "$T/d" ] && fail "a failed run left $T/d"
echo "ok"
