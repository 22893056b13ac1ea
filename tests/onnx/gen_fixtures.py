#!/usr/bin/python3
"""Generate the ONNX import fixtures (run once; the outputs are committed under tests/onnx/fixtures/).

Needs Debian's python3-torch and python3-onnx. For each small CNN (a torchvision-style ResNet-18 with a 3x3
CIFAR stem at width 8, a VGG-11-BN-like net, a net normalising its input inside the graph with Sub/Div, a
net with Concat, LeakyReLU, ReLU6 and average pooling) it writes:
  NAME.onnx        the model in eval mode (opset 13), BatchNorm kept as its own node
  NAME_x.npy       fixture inputs (4, 3, 32, 32) in [0, 1]
  NAME_logits.npy  eval-mode logits
  NAME_dx.npy      eval-mode input gradient of the mean cross-entropy with labels i % 10
  NAME_sgd.onnx    the same model after one plain SGD step (lr 0.1, training mode: batch statistics, running
                   statistics updated) on the same batch and labels: its initializers are the reference weights
usage: /usr/bin/python3 tests/onnx/gen_fixtures.py [OUTDIR]   (default: tests/onnx/fixtures next to this script)
       /usr/bin/python3 tests/onnx/gen_fixtures.py --fuzz-seeds DIR   (tiny models for fuzz/corpus/onnx)
       /usr/bin/python3 tests/onnx/gen_fixtures.py --seed-references fuzz/corpus/onnx tests/onnx/fixtures
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
OPSET = 13
LR = 0.1


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.downsample is None else self.downsample(x)
        return F.relu(y + s)


class ResNet18(nn.Module):
    """torchvision's BasicBlock ResNet-18 without the max-pool; stem 3 (CIFAR) or 7 (simreg's built-in)."""

    def __init__(self, w=8, classes=10, stem=3, cin=3):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, w, stem, 1, stem // 2, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        layers, cin = [], w
        for i, c in enumerate([w, 2 * w, 4 * w, 8 * w]):
            blocks = [BasicBlock(cin, c, 1 if i == 0 else 2), BasicBlock(c, c, 1)]
            cin = c
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = nn.Linear(8 * w, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


class VGG11BN(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        cfg = [8, "M", 16, "M", 32, 32, "M", 64, 64, "M", 64, 64, "M"]
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(64, 64), nn.ReLU(True), nn.Dropout(), nn.Linear(64, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class NormNet(nn.Module):
    """Input normalisation inside the graph: (x - mean) / std with per-channel constants."""

    def __init__(self, classes=10):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ConcatNet(nn.Module):
    """Two branches joined with Concat on channels; LeakyReLU, ReLU6 (Clip), AveragePool, Gemm."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.a = nn.Conv2d(8, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 4, 1)
        self.bn = nn.BatchNorm2d(12)
        self.mix = nn.Conv2d(12, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16 * 8 * 8, classes)

    def forward(self, x):
        x = F.leaky_relu(self.stem(x), 0.1)
        y = torch.cat([F.leaky_relu(self.a(x), 0.2), self.b(x)], 1)
        y = F.relu6(self.bn(y))
        y = F.avg_pool2d(F.leaky_relu(self.mix(y), 0.1), 2)
        return self.fc(torch.flatten(y, 1))


class DWNet(nn.Module):
    """Grouped convolutions: a depthwise dilated conv with a channel multiplier, a grouped strided conv, a
    depthwise dilated 5x5 at stride 2, BatchNorm after each but the last."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 32, 3, padding=2, dilation=2, groups=16, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.gc = nn.Conv2d(32, 32, 3, stride=2, padding=1, groups=4)
        self.bn2 = nn.BatchNorm2d(32)
        self.dw2 = nn.Conv2d(32, 32, 5, stride=2, padding=4, dilation=2, groups=32)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = F.relu(self.bn0(self.stem(x)))
        x = F.relu(self.bn1(self.dw(x)))
        x = F.relu(self.bn2(self.gc(x)))
        x = F.relu(self.dw2(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


BETA, GEPS, ALPHA = 0.9, 1e-5, 10.0  # simreg's regularizer (docs/REGULARIZER.md, tests/fixtures/gen_reg_fixtures.py)


def reg_loss(fa, fb, w, target):
    """L_reg of simreg's threshold regularizer with zero running means (the first step): running means
    updated (detached), centred cosines per layer, softmax(w)-weighted, atanh-style g, alpha * mean square."""
    k = fa[0].shape[0]
    cos = []
    for a, b in zip(fa, fb):
        rm = (1 - BETA) * torch.cat([a.detach(), b.detach()]).mean(dim=(0, 2, 3))
        cos.append(F.cosine_similarity((a - rm[:, None, None]).reshape(k, -1), (b - rm[:, None, None]).reshape(k, -1)))
    s = (torch.stack(cos, 1) * torch.softmax(w, 0)).sum(1)

    def g(x):
        return torch.log(1 + x + GEPS) - torch.log(1 - x + GEPS)

    d = g(s) - g(target)
    return ALPHA * (d * d).mean()


def resnet_stages(net, x):
    """The four stage outputs: what `--features auto` picks in the imported graph."""
    x = F.relu(net.bn1(net.conv1(x)))
    f = []
    for s in range(1, 5):
        x = getattr(net, f"layer{s}")(x)
        f.append(x)
    return f


def reg_step(name, model, out):
    """One SGD step on the regularizer alone (training mode, halves A then B through the net): NAME_reg_*.npy
    (xa, xb, target, w, loss) and NAME_reg.onnx, the model after the step."""
    import copy
    net = copy.deepcopy(model)
    torch.manual_seed(77)
    xa, xb = torch.rand(4, 3, 32, 32), torch.rand(4, 3, 32, 32)
    target = torch.tensor([1.0, -1.0, 0.0, 1.0])
    w = torch.tensor([0.2, -0.1, 0.0, 0.3])
    net.train()
    net.zero_grad()
    loss = reg_loss(resnet_stages(net, xa), resnet_stages(net, xb), w, target)
    loss.backward()
    with torch.no_grad():
        for p in net.parameters():
            if p.grad is not None:
                p -= LR * p.grad
    for k, v in (("xa", xa), ("xb", xb), ("target", target), ("w", w), ("loss", loss.detach().reshape(1))):
        np.save(os.path.join(out, f"{name}_reg_{k}.npy"), v.numpy().astype(np.float32))
    export(net, xa, os.path.join(out, name + "_reg.onnx"))


def export(model, x, path):
    model.eval()
    torch.onnx.export(model, x, path, opset_version=OPSET, do_constant_folding=False, input_names=["input"],
                      output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    onnx.checker.check_model(onnx.load(path))


def make(name, model, out, seed):
    torch.manual_seed(seed)
    for m in model.modules():  # non-trivial BN statistics so folding and eval mode are tested
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    x = torch.rand(4, 3, 32, 32)
    labels = torch.arange(4) % 10
    export(model, x, os.path.join(out, name + ".onnx"))
    if name == "resnet18":
        reg_step(name, model, out)
    model.eval()
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    F.cross_entropy(logits, labels).backward()
    np.save(os.path.join(out, name + "_x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, name + "_logits.npy"), logits.detach().numpy().astype(np.float32))
    np.save(os.path.join(out, name + "_dx.npy"), xg.grad.numpy().astype(np.float32))
    # one plain SGD step in training mode (Dropout off: p = 0 here so the step is deterministic)
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x), labels).backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= LR * p.grad
    export(model, x, os.path.join(out, name + "_sgd.onnx"))


def fuzz_seeds(out):
    """Three tiny graphs (onnx.helper, a few hundred bytes each) covering every importer path."""
    from onnx import TensorProto, helper

    rng = np.random.RandomState(0)

    def init(name, *shape, dtype=np.float32):
        return numpy_helper.from_array(rng.uniform(-1, 1, shape).astype(dtype), name)

    def model(nodes, inits, cin, classes, opset, name):
        g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", cin, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", classes])], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(out, name + ".onnx"))

    from onnx import numpy_helper
    N = helper.make_node
    model([N("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv"),
           N("BatchNormalization", ["c", "g", "be", "mu", "var"], ["n"], epsilon=1e-5, name="bn"),
           N("Relu", ["n"], ["r"]), N("GlobalAveragePool", ["r"], ["p"]), N("Flatten", ["p"], ["f"]),
           N("Gemm", ["f", "fw", "fb"], ["l"], transB=1), N("Softmax", ["l"], ["y"], axis=1)],
          [init("w", 3, 2, 3, 3), init("b", 3), init("g", 3), init("be", 3), init("mu", 3),
           numpy_helper.from_array(np.ones(3, np.float32), "var"), init("fw", 2, 3), init("fb", 2)], 2, 2, 13, "cbr")
    model([N("Sub", ["x", "m"], ["s"]), N("Div", ["s", "sd"], ["d"]),
           N("Conv", ["d", "w1"], ["a"], kernel_shape=[1, 1]), N("LeakyRelu", ["a"], ["la"], alpha=0.2),
           N("Conv", ["d", "w2"], ["b"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
           N("Concat", ["la", "b"], ["cat"], axis=1), N("Clip", ["cat", "lo", "hi"], ["cl"]),
           N("MaxPool", ["cl"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
           N("Constant", [], ["shape"], value=numpy_helper.from_array(np.array([0, -1], np.int64))),
           N("Reshape", ["mp", "shape"], ["fl"]), N("MatMul", ["fl", "mw"], ["mm"]), N("Add", ["mm", "mb"], ["y"])],
          [init("m", 1, 1, 1, 1), numpy_helper.from_array(np.array([[[[0.5]]]], np.float32), "sd"), init("w1", 2, 1, 1, 1),
           init("w2", 1, 1, 3, 3), numpy_helper.from_array(np.array(0, np.float32), "lo"),
           numpy_helper.from_array(np.array(6, np.float32), "hi"), init("mw", 12, 3), init("mb", 3)], 1, 3, 11, "concat")
    model([N("AveragePool", ["x"], ["ap"], kernel_shape=[2, 2], strides=[2, 2]), N("Sigmoid", ["ap"], ["sg"]),
           N("Tanh", ["sg"], ["th"]), N("Mul", ["th", "k"], ["mk"]), N("Flatten", ["mk"], ["f"]),
           N("Unsqueeze", ["v"], ["v2"], axes=[0]), N("Mul", ["v2", "two"], ["v3"]),
           N("Dropout", ["f"], ["dr"]), N("Identity", ["dr"], ["id"]), N("Gemm", ["id", "gw", "v3"], ["y"])],
          [init("k", 1, 1, 1), init("v", 2), numpy_helper.from_array(np.array(2, np.float32), "two"),
           init("gw", 4, 2)], 1, 2, 9, "misc")
    # asymmetric pads and auto_pad (what torch.onnx.export does not write), grouped convolutions
    model([N("Conv", ["x", "p1"], ["c1"], kernel_shape=[2, 2], pads=[0, 1, 1, 0]),
           N("Conv", ["c1", "p2", "pb2"], ["c2"], kernel_shape=[3, 3], strides=[2, 2], group=4, auto_pad="SAME_UPPER"),
           N("Relu", ["c2"], ["r2"]),
           N("Conv", ["r2", "p3"], ["c3"], kernel_shape=[2, 2], auto_pad="SAME_LOWER"),
           N("Conv", ["c3", "p4"], ["c4"], kernel_shape=[2, 2], group=2, auto_pad="VALID"),
           N("Flatten", ["c4"], ["f"]), N("Gemm", ["f", "pw", "pb"], ["y"], transB=1)],
          [init("p1", 4, 2, 2, 2), init("p2", 4, 1, 3, 3), init("pb2", 4), init("p3", 4, 4, 2, 2),
           init("p4", 6, 2, 2, 2), init("pw", 3, 6), init("pb", 3)], 2, 3, 13, "pads")


def seed_references(seeds, out):
    """For the tiny graphs of fuzz/corpus/onnx (Sigmoid, Tanh, MatMul, Clip, constant folding...): inputs,
    logits and input gradients from the graph run by tests/onnx/eval_onnx.py's torch interpreter (a final
    Softmax left out: simreg works on the logits)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import eval_onnx

    for name in ("cbr", "concat", "misc", "pads"):
        m = onnx.load(os.path.join(seeds, name + ".onnx"))
        if m.graph.node[-1].op_type == "Softmax":
            m.graph.output[0].name = m.graph.node[-1].input[0]
            del m.graph.node[-1]
        cin = m.graph.input[0].type.tensor_type.shape.dim[1].dim_value
        torch.manual_seed(7)
        x = torch.rand(4, cin, 4, 4).requires_grad_(True)
        y = eval_onnx.forward(m, x)
        F.cross_entropy(y, torch.arange(4) % y.shape[1]).backward()
        np.save(os.path.join(out, "seed_%s_x.npy" % name), x.detach().numpy())
        np.save(os.path.join(out, "seed_%s_logits.npy" % name), y.detach().numpy())
        np.save(os.path.join(out, "seed_%s_dx.npy" % name), x.grad.numpy())


def softmax_variant(out):
    """softnet.onnx: normnet.onnx with a final Softmax over the classes (simreg keeps it for scores, decides
    on the logits; its logits are normnet's)."""
    from onnx import helper

    m = onnx.load(os.path.join(out, "normnet.onnx"))
    last = m.graph.output[0].name
    m.graph.node[-1].output[0] = last + "_logits"
    m.graph.node.append(helper.make_node("Softmax", [last + "_logits"], [last], axis=1, name="/Softmax"))
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "softnet.onnx"))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--seed-references":
        seed_references(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--fuzz-seeds":
        os.makedirs(sys.argv[2], exist_ok=True)
        fuzz_seeds(sys.argv[2])
        return
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    nets = [("resnet18", ResNet18), ("vgg11bn", VGG11BN), ("normnet", NormNet), ("concatnet", ConcatNet),
            ("dwnet", DWNet)]
    for i, (name, cls) in enumerate(nets):
        torch.manual_seed(100 + i)
        make(name, cls(), out, 200 + i)
    softmax_variant(out)


if __name__ == "__main__":
    main()
