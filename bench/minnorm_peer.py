#!/usr/bin/python3
"""Reference peer for simreg's minimal-norm white-box attacks (bench/minnorm.sh), for checking only.

    /usr/bin/python3 bench/minnorm_peer.py --refs DIR --run RUN --attack fmn|ddn [--norm l2|linf] [--steps 100]
                                           [--images 1000] [--batch 128] [--out FILE.json]

RUN: a simreg run directory (config.json, best.safetensors); its weights are loaded into the PyTorch module of
docs/WEIGHTS.md, with the run's input normalisation (gray = channel mean, (x - mean) * scale) in front, so the
attack works on [0,1] pixels as simreg's does. The first --images Fashion-MNIST test images are read from the
dataset package; the correctly classified ones are attacked in batches of --batch.

DIR (--refs) holds the reference code, put there by bench/minnorm.sh from the fetched repositories and never
committed: the FMN authors' implementation (pralab/Fast-Minimum-Norm-FMN-Attack, src/attacks/fmn.py as
fmnref/fmn.py) with Foolbox 3 and EagerPy, and the DDN authors' implementation (jeromerony/fast_adversarial,
fast_adv/attacks/ddn.py as ddnref.py). Prints one JSON line: attacked, found (confirmed by a fresh forward
pass here), median / quartiles of ||delta||_2 and ||delta||_inf over the found, seconds.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
from torch_load_example import build, read_safetensors  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist"


class Normalised(nn.Module):
    """simreg's wrapper: pixels in [0,1] -> (gray: channel mean) -> (x - mean) * scale -> the network."""

    def __init__(self, net, gray, mean, scale):
        super().__init__()
        self.net, self.gray, self.mean, self.scale = net, gray, mean, scale

    def forward(self, x):
        if self.gray and x.shape[1] > 1:
            x = x.mean(dim=1, keepdim=True)
        return self.net((x - self.mean) * self.scale)


def load_model(run):
    with open(os.path.join(run, "config.json")) as f:
        cfg = json.load(f)
    state, meta = read_safetensors(os.path.join(run, "best.safetensors"))
    net = build(meta)
    net.load_state_dict(state, strict=True)
    net.eval()
    model = Normalised(net, bool(cfg.get("gray", False)), float(cfg["input_mean"]), float(cfg["input_scale"])).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def test_images(n):
    with gzip.open(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    x = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]
    with gzip.open(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:n]
    return torch.from_numpy(x.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))


def run_fmn(model, x, y, norm, steps):
    import foolbox as fb
    from fmnref.fmn import L2FMNAttack, LInfFMNAttack

    fmodel = fb.PyTorchModel(model, bounds=(0, 1))
    attack = (L2FMNAttack if norm == "l2" else LInfFMNAttack)(steps=steps)
    return attack.run(fmodel, x, fb.criteria.Misclassification(y))


def run_ddn(model, x, y, steps):
    from ddnref import DDN

    return DDN(steps=steps, device=torch.device("cpu")).attack(model, x, y)


def quartiles(v):
    return [float(np.percentile(v, q)) for q in (25, 50, 75)] if len(v) else [float("nan")] * 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--refs", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--attack", choices=["fmn", "ddn"], required=True)
    ap.add_argument("--norm", choices=["l2", "linf"], default="l2")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--out")
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    sys.path.insert(0, a.refs)
    model = load_model(a.run)
    x, y = test_images(a.images)
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + a.batch]).argmax(1) for i in range(0, len(x), a.batch)])
    keep = pred == y
    xc, yc = x[keep], y[keep]
    t0 = time.time()
    advs = []
    for i in range(0, len(xc), a.batch):
        xb, yb = xc[i:i + a.batch], yc[i:i + a.batch]
        adv = run_fmn(model, xb, yb, a.norm, a.steps) if a.attack == "fmn" else run_ddn(model, xb, yb, a.steps)
        advs.append(adv.detach())
    secs = time.time() - t0
    adv = torch.cat(advs)
    with torch.no_grad():
        p = torch.cat([model(adv[i:i + a.batch]).argmax(1) for i in range(0, len(adv), a.batch)])
    inside = ((adv >= 0) & (adv <= 1)).flatten(1).all(1)
    found = (p != yc) & inside  # a fresh forward pass decides, as simreg's re-check does
    d = (adv - xc).flatten(1).double()
    l2 = d.norm(p=2, dim=1)[found].numpy()
    li = d.abs().max(dim=1).values[found].numpy()
    res = {"peer": "fmn (pralab, Foolbox 3)" if a.attack == "fmn" else "ddn (fast_adversarial)", "attack": a.attack,
           "norm": a.norm if a.attack == "fmn" else "l2", "steps": a.steps, "images": a.images,
           "attacked": int(keep.sum()), "found": int(found.sum()), "median_l2": float(np.median(l2)) if len(l2) else None,
           "quartiles_l2": quartiles(l2), "median_linf": float(np.median(li)) if len(li) else None,
           "quartiles_linf": quartiles(li), "seconds": secs, "torch": torch.__version__, "threads": torch.get_num_threads()}
    line = json.dumps(res)
    print(line)
    if a.out:
        with open(a.out, "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
