#!/usr/bin/python3
"""Export simreg's built-in resnet18 architecture (7x7 stride-1 stem, no max-pool, BasicBlocks, widths
64*W..512*W, GAP, fc) from PyTorch to ONNX, for bench/onnx_vs_builtin.sh.
usage: /usr/bin/python3 bench/onnx_resnet.py WIDTH CHANNELS SIZE OUT.onnx"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "onnx"))
import gen_fixtures as gf  # noqa: E402

w, cin, size, out = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
net = gf.ResNet18(w=max(1, round(64 * w)), stem=7, cin=cin)
net.eval()
torch.onnx.export(net, torch.rand(2, cin, size, size), out, opset_version=13, do_constant_folding=False,
                  input_names=["input"], output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                  dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
print(out, sum(p.numel() for p in net.parameters()), "parameters")
