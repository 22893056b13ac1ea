"""PyTorch 1.13 peer of bench_study (the study's workload), 2 threads. Prints one JSON line.
usage: study_peer.py train MODEL WIDTH CIFAR10_DIR none|threshold SECONDS
       study_peer.py query MODEL WIDTH BATCH SECONDS
       study_peer.py fourier MODEL WIDTH SECONDS

train: eager PyTorch doing what simreg's trainer does per step: a batch of 64 gray images (channel mean of the
CIFAR-10 colour images, random crop 32 / reflect pad 4 + flip, 5(x - 0.5)) through the model in training mode
and cross-entropy; with --reg threshold also k = 16 pairs of regularization images (the first N = 5000, no
augmentation) as two batches of 16 through the same model in training mode, the features of the stem and the
four stages, centred by running means (EMA 0.9, updated first), cosine similarities weighted by softmax(w),
the loss alpha * mean (g(S_cnn) - g(S_target))^2 against the thresholded pixel target (Th 0.8, values in
{-1, 0, +1}, held as an N x N float32 matrix like simreg's), backward of both losses together, SGD with
momentum 0.9 on the weights and on w. The regularizer's math is tests/fixtures/gen_reg_fixtures.py's
(reg_forward, resnet_features), the code that made simreg's reference fixtures.
query: a decision attack's query batch: colour [0, 1] images -> gray -> 5(x - 0.5) -> frozen TorchScript
(torch.jit.freeze + optimize_for_inference) -> argmax.
fourier: the stream of `simreg fourier-map --eps 4 --random-sign`: batches of 256 (frequency, image) pairs,
clip(x + s eps basis / sqrt(3), 0, 1), then as query, predictions compared with the labels."""
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(2)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
from gen_fixtures import ResNet  # noqa: E402
from gen_reg_fixtures import reg_forward, resnet_features  # noqa: E402

WARMUP_STEPS = 3
BATCH, PAIRS, REG_N, TH, ALPHA = 64, 16, 5000, 0.8, 1.0


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def make_model(arch, width):
    assert arch == "resnet18", "the study's model"
    torch.manual_seed(0)
    return ResNet((2, 2, 2, 2), 1, 10, width)


def load_cifar(root):
    d = os.path.join(root, "cifar-10-batches-bin")
    d = d if os.path.isdir(d) else root
    recs = [np.fromfile(os.path.join(d, f"data_batch_{i}.bin"), dtype=np.uint8).reshape(-1, 3073) for i in range(1, 6)]
    recs = np.concatenate(recs)
    return torch.from_numpy(recs[:, 1:].reshape(-1, 3, 32, 32).copy()), torch.from_numpy(recs[:, 0].astype(np.int64))


def gray_u8(images):
    """Channel mean, rounded to uint8 (as simreg's gray regularization images)."""
    return torch.round(images.float().mean(dim=1, keepdim=True)).to(torch.uint8)


def threshold_target(gray):
    """S^Th of the images (N, 1, 32, 32) uint8 as an N x N float32 matrix, built in row blocks."""
    n = gray.shape[0]
    u = gray.reshape(n, -1).double()
    u = u - u.mean(dim=0)
    nrm = u.norm(dim=1, keepdim=True)
    u = torch.where(nrm > 0, u / nrm.clamp_min(1e-300), torch.zeros_like(u))
    s = torch.empty(n, n, dtype=torch.float32)
    for i in range(0, n, 500):
        b = u[i:i + 500] @ u.T
        s[i:i + 500] = (b > TH).float() - (b < -TH).float()
    s.fill_diagonal_(1.0)
    return s


def augmented_batch(images, labels, idx):
    """Gray, random crop 32 from the reflect-padded 40 x 40, random flip, 5(x - 0.5)."""
    x = images[idx].float().mean(dim=1, keepdim=True) / 255.0
    x = F.pad(x, (4, 4, 4, 4), mode="reflect")
    b, r = len(idx), torch.arange(32)
    oy, ox = torch.randint(0, 9, (2, b))
    flip = torch.rand(b) < 0.5
    rows = oy[:, None] + r
    cols = ox[:, None] + torch.where(flip[:, None], 31 - r, r)
    out = x[torch.arange(b)[:, None, None], 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)
    return (out - 0.5) * 5.0, labels[idx]


def sample_pairs(n, k, gen):
    i = torch.randint(0, n, (k,), generator=gen)
    j = (i + torch.randint(1, n, (k,), generator=gen)) % n
    return torch.minimum(i, j), torch.maximum(i, j)


def bench_train(arch, width, root, reg, budget):
    images, labels = load_cifar(root)
    model = make_model(arch, width)
    on = reg != "none"
    w = torch.zeros(5, requires_grad=True)  # layer weights, gamma = softmax(w)
    params = list(model.parameters()) + ([w] if on else [])
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    if on:
        reg_u8 = gray_u8(images[:REG_N])  # uint8, as simreg holds them; normalised per pair batch
        target = threshold_target(reg_u8)
        run_mean = [torch.zeros(m.num_features) for m in
                    [model.bn1] + [getattr(model, f"layer{s}")[-1].bn2 for s in range(1, 5)]]
    gen = torch.Generator().manual_seed(7)
    perm = torch.randperm(len(images))
    setup = peak_rss_mb()
    model.train()
    step, timed, counted, t_prev = 0, 0.0, 0, None
    while counted < 5 or timed < budget:
        lo = (step * BATCH) % (len(images) - BATCH)
        x, y = augmented_batch(images, labels, perm[lo:lo + BATCH])
        loss = F.cross_entropy(model(x), y)
        if on:
            pi, pj = sample_pairs(REG_N, PAIRS, gen)
            xa, xb = ((reg_u8[q].float() / 255.0 - 0.5) * 5.0 for q in (pi, pj))
            fa, fb = resnet_features(model, xa), resnet_features(model, xb)
            rl, _, new_mean = reg_forward(fa, fb, run_mean, w, target[pi, pj], ALPHA, False)
            run_mean = [m.detach() for m in new_mean]
            loss = loss + rl
        opt.zero_grad()
        loss.backward()
        opt.step()
        now = time.time()
        step += 1
        if step > WARMUP_STEPS:
            timed += now - t_prev
            counted += 1
        t_prev = now
    sps = counted / timed
    print(json.dumps({"item": "train", "model": arch, "width": width, "reg": reg, "batch": BATCH,
                      "pairs": PAIRS if on else 0, "threads": torch.get_num_threads(), "steps": counted,
                      "steps_s": round(sps, 4), "img_s": round(sps * BATCH, 2), "setup_rss_mb": round(setup, 1),
                      "peak_rss_mb": round(peak_rss_mb(), 1)}))


def frozen(model):
    # A fresh model's eval-mode BatchNorm (running mean 0, var 1) sends activations into denormals on this
    # CPU: frozen resnet18 w0.25 ran 1.1-1.7k img/s against 3.5k with denormals flushed (2026-12-07). Attacks
    # query trained models; flushing gives PyTorch its speed on them.
    torch.set_flush_denormal(True)
    model.eval()
    with torch.no_grad():
        return torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(model)))


def predict(net, x):
    """Pixel-space colour images -> the model's classes, as simreg's attack wrapper."""
    return net((x.mean(dim=1, keepdim=True) - 0.5) * 5.0).argmax(dim=1)


def bench_query(arch, width, batch, budget):
    net = frozen(make_model(arch, width))
    x = torch.rand(batch, 3, 32, 32)
    with torch.no_grad():
        for _ in range(3):
            predict(net, x)
        t0, it = time.time(), 0
        while it < 3 or time.time() - t0 < budget:
            predict(net, x)
            it += 1
    print(json.dumps({"item": "query", "model": arch, "width": width, "batch": batch,
                      "threads": torch.get_num_threads(), "img_s": round(it * batch / (time.time() - t0), 2)}))


def fourier_basis(h=32, w=32):
    """The canonical half of the centred plane's real Fourier basis images, unit L2 norm, (cells, h*w)."""
    cells = []
    for ky in range(h):
        for kx in range(w):
            my, mx = (2 * (h // 2) - ky) % h, (2 * (w // 2) - kx) % w
            if ky * w + kx <= my * w + mx:
                cells.append((ky, kx))
    ky, kx = torch.tensor(cells, dtype=torch.float64).T
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    ph = 2 * math.pi * (((ky - h // 2) / h)[:, None, None] * yy + ((kx - w // 2) / w)[:, None, None] * xx)
    b = torch.cos(ph).reshape(len(cells), -1)
    return (b / b.norm(dim=1, keepdim=True)).float()


def bench_fourier(arch, width, budget):
    net = frozen(make_model(arch, width))
    n, jobs_per_call, batch, eps = 128, 20, 256, 4.0
    x = torch.rand(n, 3, 32, 32)
    y = torch.randint(0, 10, (n,))
    sign = torch.where(torch.rand(n) < 0.5, -1.0, 1.0)
    a = eps / math.sqrt(3)
    t0, calls, images, lo = 0.0, 0, 0, 0
    with torch.no_grad():
        while calls < 3 or time.time() - t0 < budget:
            if calls == 1:
                t0 = time.time()  # the first call is a warm-up
            basis = fourier_basis()  # built per call, as simreg's stream does
            if lo + jobs_per_call > len(basis):
                lo = 0
            t_all = torch.arange(lo * n, (lo + jobs_per_call) * n)
            err = torch.empty(len(t_all), dtype=torch.uint8)
            for s in range(0, len(t_all), batch):
                t = t_all[s:s + batch]
                cell, img = t // n, t % n
                xb = (x[img] + (a * sign[img])[:, None, None, None] * basis[cell].reshape(-1, 1, 32, 32)).clamp(0, 1)
                err[s:s + batch] = (predict(net, xb) != y[img]).to(torch.uint8)
            if calls >= 1:
                images += len(t_all)
            lo += jobs_per_call
            calls += 1
    print(json.dumps({"item": "fourier", "model": arch, "width": width, "batch": batch,
                      "threads": torch.get_num_threads(), "img_s": round(images / (time.time() - t0), 2)}))


def main():
    a = sys.argv[1:]
    if len(a) == 6 and a[0] == "train":
        bench_train(a[1], float(a[2]), a[3], a[4], float(a[5]))
    elif len(a) == 5 and a[0] == "query":
        bench_query(a[1], float(a[2]), int(a[3]), float(a[4]))
    elif len(a) == 4 and a[0] == "fourier":
        bench_fourier(a[1], float(a[2]), float(a[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
