#!/usr/bin/python3
"""Load a simreg weights file (.safetensors) into the equivalent PyTorch module.

    /usr/bin/python3 scripts/torch_load_example.py MODEL.safetensors [INPUT.npy [LOGITS.npy]]

Needs only torch and numpy (Debian: python3-torch, python3-numpy); the safetensors header is parsed by
hand. The architecture is read from the file's metadata (arch, in_channels, classes, width), the module is
built with the same PyTorch state_dict names simreg uses, and loaded with strict=True. Given INPUT.npy
(N,C,H,W float32) it prints the eval-mode logits; given LOGITS.npy as well (simreg's logits for that
input) it prints the max relative difference and exits 1 if it exceeds 1e-5.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from gen_fixtures import ResNet  # noqa: E402  (the torchvision-style resnet with simreg's stem)

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}


def read_safetensors(path):
    """-> (dict name -> tensor, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (hl,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hl])
    meta = header.pop("__metadata__", {})
    data = memoryview(raw)[8 + hl:]
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        dt = DTYPES[t["dtype"]]
        x = torch.frombuffer(bytearray(data[b:e]), dtype=dt) if e > b else torch.empty(0, dtype=dt)
        out[name] = x.reshape(t["shape"])
    return out, meta


class CnnSmall(nn.Module):
    """simreg's cnn-small: two conv3x3(no bias)-BN-ReLU-maxpool2 blocks (32, 64), flatten, fc."""

    def __init__(self, in_c, hw, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64 * (hw[0] // 4) * (hw[1] // 4), classes)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = nn.functional.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(torch.flatten(x, 1))


class Mlp(nn.Module):
    """simreg's mlp: flatten, fc1(256)-ReLU, fc2(256)-ReLU, fc3."""

    def __init__(self, n_in, classes):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(n_in, 256), nn.Linear(256, 256), nn.Linear(256, classes)

    def forward(self, x):
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc3(torch.relu(self.fc2(x)))


def build(meta):
    arch, c, k = meta["arch"], int(meta["in_channels"]), int(meta["classes"])
    h, w = int(meta["in_height"]), int(meta["in_width"])
    if arch == "resnet18":
        return ResNet((2, 2, 2, 2), c, k, float(meta["width"]))
    if arch == "resnet34":
        return ResNet((3, 4, 6, 3), c, k, float(meta["width"]))
    if arch == "cnn-small":
        return CnnSmall(c, (h, w), k)
    if arch == "mlp":
        return Mlp(c * h * w, k)
    raise SystemExit(f"unknown arch {arch}")


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    torch.set_num_threads(2)
    state, meta = read_safetensors(sys.argv[1])
    net = build(meta)
    net.load_state_dict(state, strict=True)  # every name and shape must match
    net.eval()
    print(f"loaded {meta['arch']} ({len(state)} tensors) from {sys.argv[1]}")
    if len(sys.argv) > 2:
        x = torch.from_numpy(np.load(sys.argv[2]).astype(np.float32))
        with torch.no_grad():
            logits = net(x).numpy()
        print("logits:\n", logits)
        if len(sys.argv) > 3:
            ref = np.load(sys.argv[3])
            err = np.abs(logits - ref).max() / np.abs(ref).max()
            print(f"max relative difference to simreg's logits: {err:.2e}")
            sys.exit(0 if err <= 1e-5 else 1)


if __name__ == "__main__":
    main()
