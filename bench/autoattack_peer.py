#!/usr/bin/python3
"""The reference peer of `simreg attack --attack autoattack | apgd-ce`: fra31/auto-attack on the same weights
and the same first N Fashion-MNIST test images, on the CPU with 2 threads (a check, never a dependency).

    PYTHONPATH=AUTOATTACK_SRC /usr/bin/python3 bench/autoattack_peer.py RUN --attack autoattack|apgd-ce \
        [--images 1000] [--eps 0.1] [--norm Linf] [--seed 0] [--out RESULT.json]

RUN is a simreg run directory: its best.safetensors is loaded into the PyTorch module of
scripts/torch_load_example.py, and its input scaling (gray, input_mean, input_scale of config.json) is applied
inside the model, so the attack works on [0,1] pixels exactly as simreg's wrapper does. AUTOATTACK_SRC holds
the `autoattack` package (bench/autoattack.sh unpacks it from a fetched git directory into a temp dir).
For apgd-ce alone the reference's "custom" version is used with 1 restart (AutoAttack standard's setting).
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


def load_test(n):
    with gzip.open(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")) as f:
        img = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz")) as f:
        lab = np.frombuffer(f.read(), np.uint8, offset=8)
    x = torch.from_numpy(img[:n].astype(np.float32) / 255.0)
    return x, torch.from_numpy(lab[:n].astype(np.int64))


class Scaled(nn.Module):
    """[0,1] pixels -> the run's input normalisation -> the network (as simreg's sr_amodel)."""

    def __init__(self, net, gray, mean, scale):
        super().__init__()
        self.net, self.gray, self.mean, self.scale = net, gray, mean, scale

    def forward(self, x):
        if self.gray and x.shape[1] > 1:
            x = x.mean(1, keepdim=True)
        return self.net((x - self.mean) * self.scale)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--attack", default="autoattack", choices=["autoattack", "apgd-ce"])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--norm", default="Linf", choices=["Linf", "L2"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bs", type=int, default=250)
    ap.add_argument("--out")
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(a.seed)
    from autoattack import AutoAttack

    with open(os.path.join(a.run, "config.json")) as f:
        cfg = json.load(f)
    state, meta = read_safetensors(os.path.join(a.run, "best.safetensors"))
    net = build(meta)
    net.load_state_dict(state, strict=True)
    model = Scaled(net, bool(cfg.get("gray", False)), float(cfg["input_mean"]), float(cfg["input_scale"])).eval()
    x, y = load_test(a.images)
    t0 = time.time()
    if a.attack == "autoattack":
        aa = AutoAttack(model, norm=a.norm, eps=a.eps, version="standard", device="cpu", seed=a.seed, verbose=True)
    else:
        aa = AutoAttack(model, norm=a.norm, eps=a.eps, version="custom", attacks_to_run=["apgd-ce"], device="cpu",
                        seed=a.seed, verbose=True)
        aa.apgd.n_restarts = 1
    adv = aa.run_standard_evaluation(x, y, bs=a.bs)
    secs = time.time() - t0
    with torch.no_grad():
        clean = (model(x).argmax(1) == y).float().mean().item()
        robust = (model(adv).argmax(1) == y).float().mean().item()
    res = {"attack": a.attack, "norm": a.norm, "eps": a.eps, "images": a.images, "clean_accuracy": clean,
           "robust_accuracy": robust, "seconds": secs, "threads": torch.get_num_threads()}
    print(json.dumps(res))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f)


if __name__ == "__main__":
    main()
