#!/usr/bin/python3
"""PyTorch cross-check of `simreg fourier-map`: recompute chosen cells of the map on the same weights, images
and signs, with an independent basis (numpy inverse FFT of a spectrum with ones at (u,v) and (-u,-v)).

    /usr/bin/python3 bench/fourier_torch_check.py RUN FMAP_DIR [--cells 16] [--seed 0] [--checkpoint best] [--threads 2]

RUN is the run directory (config.json, best|last.safetensors), FMAP_DIR holds fourier_map.json written by
`simreg fourier-map RUN -o FMAP_DIR` (the signs of --random-sign are read from it). Cells: DC, the Nyquist
corner, and the rest drawn at random (numpy seed --seed) from the canonical half-plane. Every map with
channel "all" is checked; a cell passes when PyTorch's error rate is within 1 point (0.01) of simreg's.
Fashion-MNIST / MNIST (gray, IDX under /usr/share/datasets) only. Exit status 1 when a cell fails.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
from torch_load_example import build, read_safetensors  # noqa: E402

DATA = {"fashion-mnist": "/usr/share/datasets/fashion-mnist", "mnist": "/usr/share/datasets/mnist"}


def idx_images(path, n):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    _, count, h, w = struct.unpack(">IIII", raw[:16])
    a = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, 1, h, w)[:n]
    return a.astype(np.float32) / np.float32(255.0)


def idx_labels(path, n):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=8)[:n].astype(np.int64)


def basis(ky, kx, h, w):
    """Real part of the inverse DFT of the shifted spectrum with ones at (ky,kx) and its mirror, unit norm."""
    spec = np.zeros((h, w), dtype=np.complex128)
    spec[ky, kx] = 1
    spec[(2 * (h // 2) - ky) % h, (2 * (w // 2) - kx) % w] = 1
    b = np.real(np.fft.ifft2(np.fft.ifftshift(spec)))
    return b / np.linalg.norm(b)


def pick_cells(h, w, k, seed):
    canon = [(y, x) for y in range(h) for x in range(w)
             if y * w + x <= ((2 * (h // 2) - y) % h) * w + (2 * (w // 2) - x) % w]
    fixed = [(h // 2, w // 2), (0, 0)]
    rest = [c for c in canon if c not in fixed]
    idx = np.random.RandomState(seed).choice(len(rest), k - len(fixed), replace=False)
    return fixed + [rest[i] for i in sorted(idx)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("fmap")
    ap.add_argument("--cells", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    j = json.load(open(os.path.join(a.fmap, "fourier_map.json")))
    s = j["settings"]
    cfg = json.load(open(os.path.join(a.run, "config.json")))
    which = a.checkpoint or s["checkpoint"]
    state, meta = read_safetensors(os.path.join(a.run, f"{which}.safetensors"))
    net = build(meta)
    net.load_state_dict(state, strict=True)
    net.eval()
    root = DATA[s["dataset"]]
    n, h, w = int(s["images"]), int(s["height"]), int(s["width"])
    x = idx_images(os.path.join(root, "t10k-images-idx3-ubyte.gz"), n)
    y = idx_labels(os.path.join(root, "t10k-labels-idx1-ubyte.gz"), n)
    c = x.shape[1]
    signs = np.array(j["signs"], dtype=np.float32) if s["random_sign"] else np.ones(n, dtype=np.float32)
    mean, scale = np.float32(cfg["input_mean"]), np.float32(cfg["input_scale"])
    cells = pick_cells(h, w, a.cells, a.seed)
    worst, t0 = 0.0, time.time()
    print(f"{a.run} ({which}), {n} images, signs {'random' if s['random_sign'] else '+1'}; "
          f"cells (ky, kx) -> (fy, fx) cycles/pixel")
    print(f"{'eps':>5} {'ky':>3} {'kx':>3} {'fy':>7} {'fx':>7} {'simreg':>7} {'torch':>7} {'diff (points)':>14}")
    for m in j["maps"]:
        if m["channel"] != "all":
            continue
        eps = float(m["eps"])
        for ky, kx in cells:
            b = basis(ky, kx, h, w).astype(np.float32)
            xp = np.clip(x + (np.float32(eps / np.sqrt(c)) * signs)[:, None, None, None] * b, 0, 1)
            xin = (xp.mean(axis=1, keepdims=True) if cfg.get("gray") and c > 1 else xp)
            with torch.no_grad():
                pred = net(torch.from_numpy((xin - mean) * scale)).argmax(1).numpy()
            rate = float((pred != y).mean())
            ref = float(m["error"][ky][kx])
            d = 100 * (rate - ref)
            worst = max(worst, abs(d))
            print(f"{eps:5g} {ky:3d} {kx:3d} {(ky - h // 2) / h:7.3f} {(kx - w // 2) / w:7.3f} {ref:7.3f} {rate:7.3f} "
                  f"{d:+14.2f}")
    ok = worst <= 1.0
    print(f"worst |difference| {worst:.2f} points ({'ok' if ok else 'FAIL'}: limit 1 point), {time.time() - t0:.1f} s")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
