#!/usr/bin/python3
"""PyTorch-side evaluation of an ONNX classifier (e.g. one `simreg export` wrote): onnx.checker, then the
graph run node by node with torch.nn.functional (python3-onnx 1.12 has no reference evaluator), on the test
split of a CIFAR-10 binary directory, with simreg's pixel scaling x' = (x / 255 - mean) * scale.

usage: /usr/bin/python3 tests/onnx/eval_onnx.py MODEL.onnx CIFAR_DIR [--mean M] [--scale S] [--limit N]
prints: {"images": N, "accuracy": A}
Independent of simreg's importer: only the ONNX file and the dataset are read.
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

torch.set_num_threads(2)


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def pads4(a):
    p = a.get("pads", [0, 0, 0, 0])
    return (p[0], p[1]) if p[0] == p[2] and p[1] == p[3] else None


def conv_pads(a, x, w):
    """Conv's [top, left, bottom, right]: the pads attribute, or auto_pad's (SAME_*: output ceil(n / stride),
    the odd pixel at the end for UPPER, at the beginning for LOWER; VALID: none)."""
    mode = a.get("auto_pad", b"NOTSET")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode == "VALID":
        return [0, 0, 0, 0]
    if mode not in ("SAME_UPPER", "SAME_LOWER"):
        return list(a.get("pads", [0, 0, 0, 0]))
    s, d = a.get("strides", [1, 1]), a.get("dilations", [1, 1])
    p = [0, 0, 0, 0]
    for i in range(2):
        n, k = x.shape[2 + i], w.shape[2 + i]
        total = max((-(-n // s[i]) - 1) * s[i] + d[i] * (k - 1) + 1 - n, 0)
        small = total // 2
        p[i], p[i + 2] = (total - small, small) if mode == "SAME_LOWER" else (small, total - small)
    return p


def conv(a, x):
    """F.conv2d; asymmetric pads as an explicit zero F.pad first."""
    p = conv_pads(a, x[0], x[1])
    inp, pad = x[0], (p[0], p[1])
    if p[0] != p[2] or p[1] != p[3]:
        inp, pad = F.pad(x[0], (p[1], p[3], p[0], p[2])), (0, 0)
    return F.conv2d(inp, x[1], x[2] if len(x) > 2 else None, a.get("strides", [1, 1]), pad,
                    a.get("dilations", [1, 1]), a.get("group", 1))


def run_node(n, env):
    a = attrs(n)
    x = [env[i] if i else None for i in n.input]
    op = n.op_type
    if op == "Conv":
        return conv(a, x)
    if op == "BatchNormalization":
        return F.batch_norm(x[0], x[3], x[4], x[1], x[2], False, 0.0, a.get("epsilon", 1e-5))
    if op == "Relu":
        return F.relu(x[0])
    if op == "LeakyRelu":
        return F.leaky_relu(x[0], a.get("alpha", 0.01))
    if op == "Clip":
        lo = x[1].item() if len(x) > 1 and x[1] is not None else a.get("min", -float("inf"))
        hi = x[2].item() if len(x) > 2 and x[2] is not None else a.get("max", float("inf"))
        return torch.clamp(x[0], lo, hi)
    if op == "Sigmoid":
        return torch.sigmoid(x[0])
    if op == "Tanh":
        return torch.tanh(x[0])
    if op == "MaxPool":
        return F.max_pool2d(x[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]), pads4(a))
    if op == "AveragePool":
        return F.avg_pool2d(x[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]), pads4(a),
                            count_include_pad=bool(a.get("count_include_pad", 0)))
    if op == "GlobalAveragePool":
        return x[0].mean((2, 3), keepdim=True)
    if op in ("Add", "Sub", "Mul", "Div"):
        return {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}[op](x[0], x[1])
    if op == "Gemm":
        A = x[0].t() if a.get("transA", 0) else x[0]
        B = x[1].t() if a.get("transB", 0) else x[1]
        y = a.get("alpha", 1.0) * A @ B
        return y + a.get("beta", 1.0) * x[2] if len(x) > 2 and x[2] is not None else y
    if op == "MatMul":
        return x[0] @ x[1]
    if op == "Flatten":
        return torch.flatten(x[0], a.get("axis", 1))
    if op == "Reshape":
        shape = [int(v) for v in x[1].tolist()]
        shape = [x[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
        return x[0].reshape(shape)
    if op in ("Identity", "Dropout"):
        return x[0]
    if op == "Pad":
        assert not torch.any(x[1] != 0), "only zero pads"
        return x[0]
    if op == "Concat":
        return torch.cat(x, a["axis"])
    if op == "Softmax":
        return torch.softmax(x[0], a.get("axis", -1))
    if op == "Constant":
        return torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
    if op == "Cast":
        return x[0].float() if a["to"] == 1 else x[0].long()
    if op == "Unsqueeze":
        axes = a.get("axes") or x[1].tolist()
        y = x[0]
        for ax in sorted(axes):
            y = y.unsqueeze(ax)
        return y
    if op == "Squeeze":
        axes = a.get("axes") or (x[1].tolist() if len(x) > 1 else None)
        return x[0].squeeze() if axes is None else x[0].squeeze(tuple(axes))
    if op == "Sqrt":
        return torch.sqrt(x[0])
    if op == "Neg":
        return -x[0]
    raise SystemExit("eval_onnx.py: operator %s not handled" % op)


def forward(model, x):
    g = model.graph
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.initializer}
    inits = set(env)
    env[[i.name for i in g.input if i.name not in inits][0]] = x
    for n in g.node:
        out = run_node(n, env)
        env[n.output[0]] = out
    return env[g.output[0].name]


def load_cifar_test(d):
    path = os.path.join(d, "cifar-10-batches-bin", "test_batch.bin")
    if not os.path.exists(path):
        path = os.path.join(d, "test_batch.bin")
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("cifar")
    ap.add_argument("--mean", type=float, default=0.0)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    model = onnx.load(args.model)
    onnx.checker.check_model(model)
    xs, ys = load_cifar_test(args.cifar)
    if args.limit:
        xs, ys = xs[: args.limit], ys[: args.limit]
    correct = 0
    with torch.no_grad():
        for i in range(0, len(xs), 500):
            x = (torch.from_numpy(xs[i:i + 500].astype(np.float32)) / 255.0 - args.mean) * args.scale
            correct += int((forward(model, x).argmax(1).numpy() == ys[i:i + 500]).sum())
    print(json.dumps({"images": int(len(xs)), "accuracy": correct / len(xs)}))


if __name__ == "__main__":
    main()
