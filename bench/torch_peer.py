"""PyTorch 1.13 peer for bench_engine: the same architecture, batch and thread count, random data.
usage: torch_peer.py [--bf16] MODEL WIDTH CHANNELS SIZE BATCH [SECONDS]   (prints one JSON line)
       torch_peer.py [--bf16] --rss MODEL WIDTH CHANNELS SIZE BATCH STEPS  (peak RSS of a training run of STEPS
                                                                    steps; run it in a fresh process per measurement)
--bf16: PyTorch's CPU mixed precision, torch.autocast("cpu", dtype=torch.bfloat16): f32 master weights, bf16
convolutions and matmuls, the loss in f32 (what simreg's --precision bf16 computes). Inference is also timed
with the whole model cast to bf16 (model.to(torch.bfloat16)); infer_img_s is the faster of the two.
f32 also times PyTorch's best inference, frozen TorchScript (torch.jit.freeze of the scripted eval model, then
torch.jit.optimize_for_inference: BN folded, oneDNN layouts), as infer_frozen_img_s in the same process."""
import copy, json, os, resource, sys, time
import torch
import torch.nn as nn

torch.set_num_threads(2)


# The same PyTorch ResNet (state_dict names equal to simreg's) as the test fixtures use.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from gen_fixtures import ResNet  # noqa: E402


def cnn_small(cin, size, classes=10):
    return nn.Sequential(nn.Conv2d(cin, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * (size // 4) ** 2, classes))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def main():
    bf16 = sys.argv[1] == "--bf16"
    if bf16:
        del sys.argv[1]
    rss = sys.argv[1] == "--rss"
    if rss:
        del sys.argv[1]
    arch, width, cin, size, batch = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    budget = float(sys.argv[6]) if len(sys.argv) > 6 else 10.0
    torch.manual_seed(0)
    model = {"resnet18": lambda: ResNet((2, 2, 2, 2), cin, 10, width), "resnet34": lambda: ResNet((3, 4, 6, 3), cin, 10, width),
             "cnn-small": lambda: cnn_small(cin, size)}[arch]()
    x = torch.randn(batch, cin, size, size)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = nn.functional.cross_entropy(out.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def train_for(sec):
        model.train()
        t0, it = time.time(), 0
        while it < 1 or time.time() - t0 < sec:  # a bf16 step can take a minute here
            step()
            it += 1
        return it * batch / (time.time() - t0)

    def infer_for(sec, net=model, inp=x):
        net.eval()
        t0, it = time.time(), 0
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16 and inp.dtype == torch.float32):
            while it < 1 or time.time() - t0 < sec:  # a bf16 step can take a minute here
                net(inp)
                it += 1
        return it * batch / (time.time() - t0)

    if rss:  # the same run as bench_engine --rss: STEPS training steps
        setup = peak_rss_mb()
        steps = int(sys.argv[6])
        model.train()
        for _ in range(steps):
            step()
        print(json.dumps({"model": arch, "precision": "bf16" if bf16 else "f32", "width": width, "batch": batch,
                          "steps": steps, "setup_rss_mb": round(setup, 1),
                          "train_peak_rss_mb": round(peak_rss_mb(), 1)}))
        return
    train_for(0.5)
    tr = train_for(budget)
    infer_for(0.3)
    inf = infer_for(budget)
    row = {"model": arch, "precision": "bf16" if bf16 else "f32", "width": width, "batch": batch,
           "threads": torch.get_num_threads(), "train_img_s": round(tr, 2), "infer_img_s": round(inf, 2)}
    if not bf16:
        model.eval()
        with torch.no_grad():
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(model)))
        infer_for(0.3, frozen)
        row["infer_frozen_img_s"] = round(infer_for(budget, frozen), 2)
    if bf16:
        pure = copy.deepcopy(model).to(torch.bfloat16)
        xb = x.to(torch.bfloat16)
        infer_for(0.3, pure, xb)
        row["infer_autocast_img_s"] = row["infer_img_s"]
        row["infer_pure_bf16_img_s"] = round(infer_for(budget, pure, xb), 2)
        row["infer_img_s"] = max(row["infer_autocast_img_s"], row["infer_pure_bf16_img_s"])
    print(json.dumps(row))


if __name__ == "__main__":
    main()
