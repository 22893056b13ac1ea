#!/bin/sh
# simreg attack on a tiny run: every attack writes its part of RUN/robustness.json (merged), the Boundary
# perturbations are a .npy that simreg spectrum and simreg report read, bad input exits 2.
set -eu
SIMREG=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
py() { /usr/bin/python3 -c "import json,sys; j=json.load(open('$T/a/robustness.json')); $1"; }

"$SIMREG" train --epochs 1 --limit 1500 --lr-schedule constant --no-crop --no-flip --no-test --threads 1 --quiet --out "$T/a"
"$SIMREG" train --epochs 1 --limit 1500 --lr-schedule constant --no-crop --no-flip --no-test --threads 1 --quiet --seed 1 --out "$T/b"
"$SIMREG" attack --help | grep -q -- "--attack" || fail "help"

A="--checkpoint last --images 24 --batch 16 --quiet --threads 1"
"$SIMREG" attack --attack noise $A --n-levels 3 --noise gaussian,salt_pepper --repeats 2 "$T/a"
"$SIMREG" attack --attack fgsm $A --levels 0,0.05,0.2 "$T/a"
"$SIMREG" attack --attack pgd $A --levels 0,0.1 --steps 3 --norm l2 "$T/a"
"$SIMREG" attack --attack transfer $A --source "$T/b" --levels 0,0.1,0.2 "$T/a"
"$SIMREG" attack --attack boundary $A --steps 30 --seed 3 "$T/a"
cp "$T/a/robustness.json" "$T/first.json"
"$SIMREG" attack --attack boundary $A --steps 30 --seed 3 "$T/a"
/usr/bin/python3 -c "
import json
a,b=[json.load(open(p)) for p in ('$T/a/robustness.json','$T/first.json')]
for j in (a,b): j['boundary'].pop('queries_per_second')
assert a==b
" || fail "same seed gave different results"

py "
n=j['noise']; assert set(n)=={'gaussian','salt_pepper'}, n.keys()
g=n['gaussian']; assert g['levels']==[0,0.25,0.5] and len(g['accuracy'])==3 and g['accuracy'][2] < g['accuracy'][0], g
assert abs(g['accuracy'][0]-j['clean_accuracy']) < 1e-12
w=j['white_box']; assert set(w)=={'fgsm','pgd_l2'}, w.keys()
assert w['fgsm']['accuracy'][2] < w['fgsm']['accuracy'][0] and w['fgsm']['out_of_bounds']==0
t=j['transfer']['fgsm']; assert t['source'].endswith('/b') and t['accuracy'][0]==j['clean_accuracy']
b=j['boundary']; assert len(b['norms_sq_per_dim'])==len(b['queries'])>0 and b['recheck_failed']==0
assert b['attacked']+b['misclassified_clean']==24
assert all(v>0 for v in b['norms_sq_per_dim']) and b['ci_low']<=b['median']<=b['ci_high']
" || fail "robustness.json content"
/usr/bin/python3 -c "
import numpy as np, json
d=np.load('$T/a/boundary_delta.npy'); j=json.load(open('$T/a/robustness.json'))['boundary']
assert d.shape[1:]==(1,28,28) and d.shape[0]==len(j['norms_sq_per_dim'])
got=(d.astype(np.float64)**2).reshape(len(d),-1).mean(1)
assert np.allclose(got, j['norms_sq_per_dim'], rtol=1e-4), (got[:3], j['norms_sq_per_dim'][:3])
" || fail "perturbations .npy"
"$SIMREG" spectrum "$T/a/boundary_delta.npy" -o "$T/spec" > /dev/null || fail "spectrum reads the perturbations"
"$SIMREG" report --out "$T/rep" "$T/a" > /dev/null 2>&1 || fail "report reads robustness.json"
grep -rqi "gaussian" "$T/rep" || fail "report shows the noise curves"

# bad input: exit 2 with a message
set +e
"$SIMREG" attack --attack nope "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "unknown attack"
"$SIMREG" attack --attack transfer $A "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "transfer without --source"
"$SIMREG" attack --attack fgsm --norm l3 "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "bad norm"
"$SIMREG" attack --attack noise --levels 0,x "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "bad levels"
"$SIMREG" attack --attack noise --noise pink $A "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "bad noise kind"
"$SIMREG" attack --attack noise "$T/missing" 2>/dev/null; [ $? -eq 2 ] || fail "missing run"
# AutoAttack's flags: each bad value exits 2 and the message names the flag
bad() {  # bad FLAG ARGS...: exit code 2, FLAG in the message
  flag=$1
  shift
  "$SIMREG" attack "$@" --images 4 --quiet "$T/a" 2>"$T/err"
  rc=$?
  [ $rc -eq 2 ] || fail "$* exited $rc, not 2"
  grep -q -- "$flag" "$T/err" || fail "$*: message does not name $flag: $(cat "$T/err")"
}
bad --eps --attack autoattack --eps 0
bad --eps --attack apgd-ce --eps -0.1
bad --eps --attack autoattack --eps nan
bad --norm --attack autoattack --norm l3
bad --version --attack autoattack --version ultra
bad --targets --attack apgd-t --targets 10
bad --targets --attack fab-t --targets 12
bad --targets --attack autoattack --version fast --targets 10
bad --targets --attack apgd-t --targets 0
bad --steps --attack apgd-ce --steps 0
bad --norm --attack ddn --norm linf
bad --norm --attack fmn --norm l1
"$SIMREG" attack --attack autoattack --version fast --eps 0.05 --steps 5 $A "$T/a" || fail "autoattack fast"
py "
a=j['attacks']['autoattack_linf']; assert a['eps']==0.05 and a['images']==24, a
assert 0 <= a['robust_accuracy'] <= a['clean_accuracy'] <= 1, a
assert [s['attack'] for s in a['attacks']]==['apgd-ce','apgd-t'], a['attacks']
" || fail "autoattack in robustness.json"
echo '{broken' > "$T/a/robustness.json"
"$SIMREG" attack --attack noise $A --n-levels 2 "$T/a" 2>/dev/null; [ $? -eq 2 ] || fail "malformed robustness.json"
grep -q broken "$T/a/robustness.json" || fail "malformed results file was overwritten"
echo ok
