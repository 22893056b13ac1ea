#!/usr/bin/python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (small valid inputs of each format). Rerun to refresh;
the fuzzers grow their own corpora from these in a scratch directory, not in the repository."""
import gzip, io, json, os, struct
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy_bytes(a, version=None):
    b = io.BytesIO()
    if version:
        np.lib.format.write_array(b, a, version=version)
    else:
        np.save(b, a)
    return b.getvalue()


def safetensors(tensors, meta=None):
    header, off, blobs = {}, 0, []
    if meta:
        header["__metadata__"] = meta
    for name, a in tensors:
        raw = a.tobytes()
        dt = {"float32": "F32", "float64": "F64", "int64": "I64", "int32": "I32", "uint8": "U8"}[str(a.dtype)]
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def with_len(a, b):
    return struct.pack("<H", len(a)) + a + b


def idx(n, h, w, gz):
    rng = np.random.default_rng(n)
    lab = struct.pack(">II", 0x801, n) + bytes(rng.integers(0, 10, n, dtype=np.uint8))
    img = struct.pack(">IIII", 0x803, n, h, w) + rng.integers(0, 256, n * h * w, dtype=np.uint8).tobytes()
    if gz:
        lab, img = gzip.compress(lab, mtime=0), gzip.compress(img, mtime=0)
    return with_len(lab, img)


def image(mode, size, fmt, **kw):
    rng = np.random.default_rng(7)
    chans = {"L": 1, "RGB": 3, "RGBA": 4, "P": 1, "I;16": 1, "LA": 2, "1": 1}[mode]
    if mode == "P":
        im = Image.fromarray(rng.integers(0, 16, size[::-1], dtype=np.uint8), "L").convert("P")
    elif mode == "I;16":
        im = Image.fromarray(rng.integers(0, 65535, size[::-1], dtype=np.uint16))
    elif mode == "1":
        im = Image.fromarray(rng.integers(0, 2, size[::-1], dtype=np.uint8) * 255, "L").convert("1")
    else:
        shape = size[::-1] + ((chans,) if chans > 1 else ())
        im = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def main():
    out("npy", "f32_2x3.npy", npy_bytes(np.arange(6, dtype=np.float32).reshape(2, 3)))
    out("npy", "u8_vec.npy", npy_bytes(np.arange(5, dtype=np.uint8)))
    out("npy", "f64_scalar.npy", npy_bytes(np.float64(3.5)))
    out("npy", "i64_empty.npy", npy_bytes(np.zeros((2, 0), dtype=np.int64)))
    out("npy", "i32_v2.npy", npy_bytes(np.arange(4, dtype=np.int32).reshape(2, 2), version=(2, 0)))

    out("safetensors", "two.safetensors", safetensors(
        [("a.weight", np.arange(6, dtype=np.float32).reshape(2, 3)), ("b", np.arange(3, dtype=np.int64))],
        {"epoch": "1", "metrics": "[]"}))
    out("safetensors", "dtypes.safetensors", safetensors(
        [("u", np.arange(4, dtype=np.uint8)), ("d", np.ones((1, 1, 2), dtype=np.float64)),
         ("i", np.zeros(0, dtype=np.int32))]))
    out("safetensors", "empty.safetensors", safetensors([]))

    out("idx", "plain_3x4x4", idx(3, 4, 4, False))
    out("idx", "gz_2x5x3", idx(2, 5, 3, True))

    rng = np.random.default_rng(1)
    rec10 = b"".join(bytes([k]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes() for k in (3, 9))
    out("cifar", "c10_2rec", b"\x00" + with_len(b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n", rec10))
    rec100 = b"".join(bytes([k % 20, k]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes() for k in (5, 99))
    out("cifar", "c100_2rec", b"\x01" + with_len(b"", rec100))

    out("png", "gray.png", image("L", (5, 4), "PNG"))
    out("png", "rgb.png", image("RGB", (4, 3), "PNG"))
    out("png", "rgba.png", image("RGBA", (3, 3), "PNG"))
    out("png", "palette.png", image("P", (4, 4), "PNG"))
    out("png", "gray16.png", image("I;16", (3, 2), "PNG"))
    out("png", "bilevel.png", image("1", (9, 2), "PNG"))
    out("png", "gray_alpha.png", image("LA", (4, 4), "PNG"))

    out("jpeg", "gray.jpg", image("L", (8, 8), "JPEG", quality=90))
    out("jpeg", "rgb.jpg", image("RGB", (16, 8), "JPEG", quality=75))
    out("jpeg", "progressive.jpg", image("RGB", (9, 7), "JPEG", progressive=True))
    out("jpeg", "subsampled.jpg", image("RGB", (17, 9), "JPEG", subsampling=2, quality=50))

    cfg = {"name": "r", "version": "0.1.0", "model": "mlp", "width": 1, "dataset": "fashion-mnist",
           "data": "fashion-mnist", "in_channels": 1, "in_height": 4, "in_width": 4, "classes": 3,
           "epochs": 2, "batch": 8, "lr": 0.02, "lr_schedule": "cyclic", "momentum": 0.9, "seed": 1,
           "gray": True, "input_mean": 0.5, "input_scale": 5, "limit": 100,
           "reg": {"type": "threshold", "alpha": 10, "threshold": 0.8, "images": 50, "pairs": 16,
                   "layers": "all", "loss": "log"}}
    c = json.dumps(cfg).encode()
    for k in (0, 1, 2):
        out("json", f"config_{k}", bytes([k]) + c)
    metrics = b"".join(json.dumps({"epoch": e, "lr": 0.1, "train_loss": 1.0 / e, "train_acc": 0.5, "val_loss": 1.1,
                                   "val_acc": 0.4, "test_acc": 0.45, "seconds": 2.0, "reg_loss": 0.3,
                                   "gamma": [0.25, 0.75]}).encode() + b"\n" for e in (1, 2))
    out("json", "metrics", b"\x03" + metrics)
    rob = {"clean_accuracy": 0.9,
           "noise": {"gaussian": {"levels": [0, 0.05, 0.1], "accuracy": [0.9, 0.7, 0.3],
                                  "ci_low": [0.85, 0.65, 0.25], "ci_high": [0.95, 0.75, 0.35]}},
           "transfer": {"fgsm": {"levels": [0, 0.01], "accuracy": [0.9, 0.6], "source": "runs/s"}},
           "boundary": {"norms_sq_per_dim": [0.002, 0.003, 0.001], "median": 0.002}}
    out("json", "robustness", b"\x04" + json.dumps(rob).encode())
    out("json", "robustness_merge", b"\x06" + json.dumps(rob).encode())
    corr = {"severities": [1, 2, 3], "corruptions": {"gaussian_noise": {"group": "high", "accuracy": [0.7, 0.6, 0.5]},
                                                     "contrast": {"group": "low", "accuracy": [0.8, 0.7, 0.6]}}}
    out("json", "corruptions", b"\x05" + json.dumps(corr).encode())

    for k, args in enumerate([["--flag", "--n", "5", "--x=0.25", "a"], ["--s", "hi", "--big", "123", "--", "-p", "q"],
                              ["-n=3", "--help"], ["--n", "1e2", "--x", "nan"]]):
        out("cli", f"args_{k}", b"\0".join(a.encode() for a in args))


if __name__ == "__main__":
    main()
