#!/usr/bin/env python3
"""The CIFAR-10 tables of docs/RESULTS.md, generated from the collected study (experiments/collect-cifar10.sh).

Every number comes from a file the study wrote: report-{gray,colour}/report.json (the report: clean accuracy,
noise and transfer accuracy at the strongest level, decision-attack medians with CIs, HF share, corruption
groups at severity 4, Fourier bands, verdicts) and the runs' own robustness.json (the CIs of the noise and
transfer accuracies, HopSkipJump convergence, AutoAttack) and eval-test.json. Nothing is typed in by hand
except the paper's values (PAPER.md). Arms without a finished report row are printed as "not yet run".
Usage: cifar10-table.py DIR   (DIR = docs/results/paper-cifar10); markdown on stdout.
       cifar10-table.py DIR --splice RESULTS.md   puts DIR/table.md between RESULTS.md's cifar10-table markers.
"""
import json
import os
import sys
import time

ARMS = {
    "gray": [("g-base", "baseline"), ("g-th1", "Th 0.8, α = A1"), ("g-th2", "Th 0.8, α = A2"),
             ("g-pix", "plain pixel target, α = A1")],
    "colour": [("c-base", "baseline"), ("c-th1", "Th 0.8, α = A1"), ("c-th2", "Th 0.8, α = A2"),
               ("c-pix", "plain pixel target, α = A1")],
}
# PAPER.md, "Reported results (CIFAR-10, ResNet-18; approximate, read off the poster)"
PAPER = [("paper: unregularized (w1, 40 epochs)", "0.88", "0.14", "0.31", "2.8e-3", "0.43"),
         ("paper: pixel-regularized", "0.83–0.85", "0.40–0.42", "0.53–0.56", "4.6e-3 – 5.9e-3", "0.60–0.63")]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def at_level(sweep, level):
    """accuracy and CI of a robustness.json sweep at the level closest to `level`"""
    if not sweep:
        return None
    k = min(range(len(sweep["levels"])), key=lambda i: abs(sweep["levels"][i] - level))
    lo = sweep["ci_low"][k] if "ci_low" in sweep else None  # transfer sweeps carry no CI of their own
    hi = sweep["ci_high"][k] if "ci_high" in sweep else None
    return sweep["accuracy"][k], lo, hi, sweep["levels"][k], sweep.get("images")


def fmt_acc(v):
    if v is None:
        return "—"
    if v[1] is None:
        return "%.4f" % v[0]
    return "%.4f [%.3f, %.3f]" % (v[0], v[1], v[2])


def alphas(d):
    out = {}
    try:
        with open(os.path.join(d, "alphas")) as f:
            for line in f:
                k, v = line.split()
                out[k] = v
    except OSError:
        pass
    return out


def arm_row(d, rep, name, label):
    runs = {r["name"]: r for r in (rep or {}).get("runs", [])}
    if name not in runs:
        return "| %s | %s | not yet run |  |  |  |  |  |  |  |" % (name, label)
    r = runs[name]
    rob = load(os.path.join(d, name, "robustness.json")) or {}
    g = at_level(rob.get("noise", {}).get("gaussian"), 0.1)
    t = at_level(rob.get("transfer", {}).get("fgsm"), 0.02)
    att = rob.get("attacks", {})
    hsj = att.get("hsj_l2", {})
    conv = hsj.get("convergence", {})
    b = r.get("boundary_median_norm_sq_per_dim") or {}
    hs = r.get("hf_share") or {}
    aa = att.get("autoattack_linf")
    fm = {f["name"]: f for f in (rep.get("fourier") or {}).get("runs", [])}.get(name)
    bands = "—"
    if fm:
        bands = " / ".join("%.3f" % fm["bands"][k]["estimate"] + (" (%s)" % fm["bands"][k]["verdict"]
                                                                  if "verdict" in fm["bands"][k] else "")
                           for k in ("low", "mid", "high"))
    hsj_s = "—"
    if b:
        hsj_s = "%.3e [%.3e, %.3e], %d images, %s (%.1f%%)" % (
            b["estimate"], b["ci_low"], b["ci_high"], b.get("n", 0),
            "converged" if conv.get("converged") else "NOT converged", 100 * conv.get("last20_drop", float("nan")))
    aa_s = "—" if not aa else "%.4f (%d images, clean %.4f)" % (aa["robust_accuracy"], aa["images"],
                                                                 aa["clean_accuracy"])
    hf_s = "—" if not hs else "%.3f [%.3f, %.3f]" % (hs["estimate"], hs["ci_low"], hs["ci_high"])
    cc = (r.get("corruptions") or {}).get("high")
    return "| %s | %s | %.4f (%d images) | %s | %s | %s | %s | %s | %s | %s |" % (
        name, label, r["clean_accuracy"], rob.get("clean_images", 0), fmt_acc(g), fmt_acc(t), hsj_s,
        "—" if cc is None else "%.4f" % cc, hf_s, aa_s, bands)


def study_table(d, tag, al):
    rep = load(os.path.join(d, "report-" + tag, "report.json"))
    print("| arm | regularizer | clean (test) | Gaussian σ = 0.1 [95% CI] | transferred FGSM ε = 0.02 (CI of the difference: verdicts) | "
          "HopSkipJump median ‖δ‖²/D [95% CI], convergence (last-20% drop) | CIFAR-10-C high-frequency group, "
          "severity 4 | HF share of δ (r ≥ 0.25) [95% CI] | AutoAttack standard L∞ 8/255: robust accuracy | "
          "Fourier-map error low / mid / high (verdict) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in PAPER:
        print("| %s | | %s | %s | %s | %s | %s | — | — | — |" % p)
    for name, label in ARMS[tag]:
        label = label.replace("A1", al.get("A1", "A1")).replace("A2", al.get("A2", "A2"))
        print(arm_row(d, rep, name, label))
    if rep:
        print()
        print("Verdicts (`simreg report`, each regularized arm against the baseline; rules in the report):")
        print()
        print("| arm | claim | measure | effect [95% CI] | p | verdict | note |")
        print("|---|---|---|---|---|---|---|")
        for v in rep.get("verdicts", []):
            p = v.get("p")
            print("| %s | %s | %s | %.4g [%.4g, %.4g] | %s | **%s** | %s |" % (
                v["run"], v["claim"], v["measure"].replace("||", "‖").replace("|", "\\|"), v["estimate"],
                v["ci_low"], v["ci_high"], "—" if p is None else "%.3g" % p, v["verdict"], v.get("note", "")))
    else:
        print()
        print("No %s report yet." % tag)


def pilot_table(d):
    sel = load(os.path.join(d, "select-pilot.json"))
    if not sel:
        print("Pilot not finished yet.")
        return
    print("| pilot arm (4 epochs) | clean (test, whole) | Gaussian σ = 0.1 [95% CI] | selection rule |")
    print("|---|---|---|---|")
    rows = [(sel["baseline"]["run"], None)] + [(r["run"], r) for r in sel["runs"]]
    for run, r in rows:
        n = os.path.basename(run)
        rob = load(os.path.join(d, n, "robustness.json")) or {}
        g = at_level(rob.get("noise", {}).get("gaussian"), 0.1)
        if r is None:
            rule = "baseline"
        elif r["kept"]:
            rule = "kept, rank %d" % r["rank"]
        else:
            rule = "out (clean < %.2f × baseline)" % sel["ratio"]
        print("| %s | %.4f | %s | %s |" % (n, rob.get("clean_accuracy", float("nan")), fmt_acc(g), rule))


def job_times(d):
    """(job, seconds, start unix time or None) from times.tsv; starts from study.log's clock times"""
    rows = []
    try:
        with open(os.path.join(d, "times.tsv")) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                rows.append((p[0], int(p[2]), int(p[3]) if len(p) > 3 else None))
    except OSError:
        pass
    return rows


def log_starts(d, t0):
    """job -> start unix time from study.log's "[HH:MM:SS] start JOB" lines (runs whose times.tsv has no
    start column), the day taken from t0 (the first load sample) and rolled over when the clock goes back"""
    out = {}
    if t0 is None:
        return out
    day = t0 - t0 % 86400
    last = None
    try:
        with open(os.path.join(d, "study.log")) as f:
            for line in f:
                p = line.split()
                if len(p) < 3 or p[1] != "start" or not p[0].startswith("["):
                    continue
                h, m, sec = (int(x) for x in p[0].strip("[]").split(":"))
                t = day + h * 3600 + m * 60 + sec
                if last is not None and t < last - 60:
                    day += 86400
                    t += 86400
                last = t
                out[p[2]] = t
    except (OSError, ValueError):
        pass
    return out


def loads(d):
    out = []
    try:
        with open(os.path.join(d, "load.tsv")) as f:
            for line in f:
                t, rest = line.split("\t")
                out.append((int(t), float(rest.split()[0])))
    except OSError:
        pass
    return out


def stopped_seconds(ld, t0, t1):
    """time the study spent stopped within [t0, t1]: the load sampler runs in the study's process group and
    samples every 60 s, so a gap of more than 90 s between samples is (gap - 60 s) of SIGSTOP"""
    total = 0
    for (a, _), (b, _) in zip(ld, ld[1:]):
        if b - a > 90:
            lo = max(a + 60, t0)
            hi = min(b, t1)
            total += max(0, hi - lo)
    return total


def times_table(d):
    ld = loads(d)
    starts = log_starts(d, ld[0][0] if ld else None)
    rows = [(j, s, st if st is not None else starts.get(j)) for j, s, st in job_times(d)]
    if not rows:
        print("No job finished yet.")
        return
    print("| job | wall time | started (UTC) | of which stopped (SIGSTOP) | "
          "1-min load average while it ran: mean (min–max, samples) |")
    print("|---|---|---|---|---|")
    for job, secs, start in rows:
        st = "—" if start is None else time.strftime("%m-%d %H:%M", time.gmtime(start))
        lo = "—"
        stopped = "—"
        if start is not None:
            s = [v for t, v in ld if start <= t <= start + secs]
            if s:
                lo = "%.1f (%.1f–%.1f, %d)" % (sum(s) / len(s), min(s), max(s), len(s))
            stopped = "%d s" % stopped_seconds(ld, start, start + secs)
        print("| %s | %d s (%.1f min) | %s | %s | %s |" % (job, secs, secs / 60.0, st, stopped, lo))


BEGIN = "<!-- cifar10-table begin -->"
END = "<!-- cifar10-table end -->"


def splice(results, table):
    """replace the text between BEGIN and END in the file `results` by `table`"""
    with open(results) as f:
        text = f.read()
    a = text.index(BEGIN) + len(BEGIN)
    b = text.index(END)
    tmp = results + ".tmp"
    with open(tmp, "w") as f:
        f.write(text[:a] + "\n" + table + text[b:])
    os.replace(tmp, results)


def training_table(d):
    """per run: epochs trained, training seconds (sum of the epochs' own timings in metrics.jsonl), the last
    epoch's test accuracy (of the last weights; the instruments use the best-validation weights)"""
    print("| run | epochs done | training time (sum over epochs) | last epoch: test acc. (last weights) |")
    print("|---|---|---|---|")
    for n in sorted(os.listdir(d)):
        f = os.path.join(d, n, "metrics.jsonl")
        if not n[:2] in ("p-", "g-", "c-") or not os.path.isfile(f):
            continue
        rows = []
        with open(f) as fh:
            for line in fh:
                line = line.strip()
                if line:
                    rows.append(json.loads(line))
        if not rows:
            continue
        secs = sum(r.get("seconds", 0) for r in rows)
        last = rows[-1]
        print("| %s | %d | %d s (%.1f h) | %s |" % (n, last["epoch"], secs, secs / 3600.0,
                                                   "%.4f" % last["test_acc"] if "test_acc" in last else "—"))


def main():
    if len(sys.argv) == 4 and sys.argv[2] == "--splice":
        with open(os.path.join(sys.argv[1], "table.md")) as f:
            splice(sys.argv[3], f.read())
        return
    d = sys.argv[1]
    al = alphas(d)
    print("<!-- generated by experiments/cifar10-table.py from docs/results/paper-cifar10; do not edit -->")
    print()
    print("#### Gray, 20 epochs")
    print()
    study_table(d, "gray", al)
    print()
    print("#### Colour (`--color`), 20 epochs")
    print()
    study_table(d, "colour", al)
    print()
    print("#### Pilot (gray, 4 epochs): the selection rule")
    print()
    pilot_table(d)
    if al:
        print()
        print("Picked: A1 = %s, A2 = %s (%s settings kept by the rule)." % (al.get("A1"), al.get("A2"),
                                                                         al.get("kept")))
    print()
    print("#### Training time per run")
    print()
    training_table(d)
    print()
    print("#### Wall time per job (2 lanes × 1 thread, nice 19) and the machine's load")
    print()
    times_table(d)


if __name__ == "__main__":
    main()
