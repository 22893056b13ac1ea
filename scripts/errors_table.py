#!/usr/bin/python3
"""Generates the table of docs/ERRORS.md (run it with LSAN_OPTIONS pointing at scripts/sanitizers/lsan.supp
when the binary is a sanitizer build) by running the simreg CLI on bad inputs (real runs, real
messages). usage: scripts/errors_table.py BUILD/tools/simreg > table.md
Temporary paths in messages are shown as $T."""
import gzip, json, os, re, shutil, struct, subprocess, sys, tempfile

SIMREG = os.path.abspath(sys.argv[1])
T = tempfile.mkdtemp(prefix="sr_errors_")
F = "/usr/share/datasets/fashion-mnist"
rows = []


def w(rel, data):
    p = os.path.join(T, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return p


def run(what, fault, args, env=None):
    e = dict(os.environ, OMP_NUM_THREADS="1")
    e.update(env or {})
    r = subprocess.run([SIMREG] + args, capture_output=True, text=True, env=e, timeout=600)
    lines = [l for l in r.stderr.splitlines() if re.match(r"^simreg( [a-z]+)?: ", l)]
    msg = (lines[0] if lines else r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "(no message)")
    msg = msg.replace(T, "$T")
    rows.append((what, fault, msg, r.returncode))


def st(header, data=b"", hl=None):
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h) if hl is None else hl) + h + data


def npy(header, data=b"", magic=b"\x93NUMPY", ver=1):
    h = header.encode()
    h += b" " * (-(10 + len(h) + 1) % 64) + b"\n"
    return magic + bytes([ver, 0]) + struct.pack("<H", len(h)) + h + data


# A small dataset (Fashion-MNIST's test split as train) and one trained run for the run-directory cases.
os.makedirs(f"{T}/fm")
for k in ("images-idx3", "labels-idx1"):
    os.symlink(f"{F}/t10k-{k}-ubyte.gz", f"{T}/fm/train-{k}-ubyte.gz")
subprocess.run([SIMREG, "train", "--model", "mlp", "--data", f"idx:{T}/fm", "--limit", "300", "--epochs", "1",
                "--no-test", "--threads", "1", "--quiet", "--out", f"{T}/run"], check=True)
good_st = open(f"{T}/run/best.safetensors", "rb").read()


def run_copy(name, mutate):
    d = f"{T}/{name}"
    shutil.copytree(f"{T}/run", d)
    mutate(d)
    return d


# ---- command line ----
run("`train --epochs -1`", "negative count", ["train", "--epochs", "-1"])
run("`train --batch 1`", "batch too small for batch norm", ["train", "--batch", "1"])
run("`train --lr abc`", "not a number", ["train", "--lr", "abc"])
run("`train --lr nan`", "non-finite number", ["train", "--lr", "nan"])
run("`train --momentum 2`", "out of range", ["train", "--momentum", "2"])
run("`train --threads 1.5`", "not an integer", ["train", "--threads", "1.5"])
run("`train --epochs 99999999999`", "does not fit in an int", ["train", "--epochs", "99999999999"])
run("`train --bogus`", "unknown option", ["train", "--bogus"])
run("`train --out`", "missing value", ["train", "--out"])
run("`train --nesterov=1`", "value for a flag", ["train", "--nesterov=1"])
run("`train --model vgg`", "unknown model", ["train", "--model", "vgg", "--data", f"idx:{T}/fm", "--no-test", "--out", f"{T}/x1"])
run("`simreg frobnicate`", "unknown command", ["frobnicate"])
run("`train --resume $T/nope`", "resume a missing run", ["train", "--resume", f"{T}/nope"])
run("`train --resume RUN --lr 0.5`", "setting changed on resume", ["train", "--resume", f"{T}/run", "--lr", "0.5"])

# ---- numerical faults ----
run("`train --lr 1e30` (mlp)", "training diverges (forward overflow)",
    ["train", "--model", "mlp", "--data", f"idx:{T}/fm", "--limit", "300", "--lr", "1e30", "--no-test",
     "--threads", "1", "--quiet", "--out", f"{T}/div"])

# ---- datasets ----
run("`--data $T/none`", "missing dataset directory", ["train", "--data", f"{T}/none", "--out", f"{T}/x2"])
lab = gzip.open(f"{F}/t10k-labels-idx1-ubyte.gz").read()
img = gzip.open(f"{F}/t10k-images-idx3-ubyte.gz").read()


def idx_case(name, images, labels, fault):
    w(f"{name}/train-images-idx3-ubyte", images)
    w(f"{name}/train-labels-idx1-ubyte", labels)
    run(f"IDX images/labels ({name})", fault, ["train", "--data", f"idx:{T}/{name}", "--out", f"{T}/x_{name}"])


idx_case("idx_magic", b"\0\0\x08\x02" + img[4:1000], lab, "wrong magic")
idx_case("idx_trunc", img[:5000], lab, "truncated payload")
idx_case("idx_huge", struct.pack(">IIII", 0x803, 0xFFFFFFFF, 4096, 4096) + b"\0" * 100, lab, "header claims 64 TB")
idx_case("idx_count", img, lab[:8 + 5000].replace(struct.pack(">I", 10000), struct.pack(">I", 5000), 1),
         "image/label count mismatch")
idx_case("idx_label", img, lab[:8] + b"\x0c" + lab[9:], "label 12 of 10 classes")
w("idx_gz/train-images-idx3-ubyte.gz", gzip.compress(img)[:20000])
w("idx_gz/train-labels-idx1-ubyte.gz", gzip.compress(lab))
run("IDX .gz cut short", "truncated gzip stream", ["train", "--data", f"idx:{T}/idx_gz", "--out", f"{T}/x3"])
w("cifar_size/test_batch.bin", b"\0" * 3072)
run("CIFAR batch of 3072 bytes", "not a whole number of records",
    ["eval", f"{T}/run", "--data", f"cifar10:{T}/cifar_size"])
w("cifar_label/test_batch.bin", b"\x0b" + b"\0" * 3072)
run("CIFAR-10 label 11", "label out of range", ["eval", f"{T}/run", "--data", f"cifar10:{T}/cifar_label"])
png = open(os.path.join(os.path.dirname(__file__), "../fuzz/corpus/png/gray.png"), "rb").read()
w("folder_png/a/x.png", png[:40])
run("folder: PNG cut after 40 bytes", "truncated PNG", ["train", "--data", f"folder:{T}/folder_png", "--out", f"{T}/x4"])
jpg = open(os.path.join(os.path.dirname(__file__), "../fuzz/corpus/jpeg/rgb.jpg"), "rb").read()
w("folder_jpg/a/x.jpg", jpg[:len(jpg) // 2])
run("folder: JPEG cut in half", "truncated JPEG", ["train", "--data", f"folder:{T}/folder_jpg", "--out", f"{T}/x5"])
w("folder_sig/a/x.png", b"GIF89a" + b"\0" * 50)
run("folder: GIF named .png", "bad signature", ["train", "--data", f"folder:{T}/folder_sig", "--out", f"{T}/x6"])
w("folder_mix/a/x.png", png)
w("folder_mix/b/y.png", open(os.path.join(os.path.dirname(__file__), "../fuzz/corpus/png/rgb.png"), "rb").read())
run("folder: 5x4 and 4x3 images", "inconsistent image sizes", ["train", "--data", f"folder:{T}/folder_mix", "--out", f"{T}/x7"])

# ---- weights / checkpoints (safetensors) ----
def put_best(data):
    return lambda d: open(f"{d}/best.safetensors", "wb").write(data)


run("`eval RUN`, best.safetensors empty", "empty file", ["eval", run_copy("st_empty", put_best(b""))])
run("`eval RUN`, best.safetensors cut in half", "truncated data", ["eval", run_copy("st_half", put_best(good_st[:len(good_st) // 2]))])
run("`eval RUN`, header length 2^64-1", "header length past the file",
    ["eval", run_copy("st_hl", put_best(b"\xff" * 8 + good_st[8:]))])
run("`eval RUN`, 10 GB claimed in a 100-byte file", "size claim larger than the file",
    ["eval", run_copy("st_10g", put_best(st({"fc1.weight": {"dtype": "F32", "shape": [50000, 50000],
                                                             "data_offsets": [0, 10000000000]}}, b"\0" * 16)))])
run("`eval RUN`, two tensors on the same bytes", "overlapping data ranges",
    ["eval", run_copy("st_overlap", put_best(st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                                   "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8)))])
run("`eval RUN`, unused bytes between tensors", "hole in the data",
    ["eval", run_copy("st_hole", put_best(st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                                "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, b"\0" * 12)))])
run("`eval RUN`, dtype BF16", "unsupported dtype",
    ["eval", run_copy("st_bf16", put_best(st({"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4)))])
run("`eval RUN`, shape [2^32, 2^32]", "element count overflow",
    ["eval", run_copy("st_ovf", put_best(st({"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 16]}}, b"\0" * 16)))])
run("`eval RUN`, header not JSON", "malformed header", ["eval", run_copy("st_json", put_best(struct.pack("<Q", 8) + b"{{{{{{{{"))])
run("`eval RUN`, weights of another model", "missing tensor / wrong shape",
    ["eval", run_copy("st_other", put_best(st({"fc1.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4)))])
run("`train --resume RUN`, checkpoint cut in half", "truncated checkpoint",
    ["train", "--resume", run_copy("ck_half", lambda d: open(f"{d}/checkpoint.safetensors", "r+b").truncate(
        os.path.getsize(f"{d}/checkpoint.safetensors") // 2))])

# ---- run-directory JSON ----
run("`eval RUN`, config.json not JSON", "malformed JSON", ["eval", run_copy("cfg_bad", lambda d: open(f"{d}/config.json", "w").write("{\"model\": "))])
run("`eval RUN`, config.json with 10^9 x 10^9 input", "absurd dimensions",
    ["eval", run_copy("cfg_big", lambda d: open(f"{d}/config.json", "w").write(json.dumps(
        dict(json.load(open(f"{T}/run/config.json")), in_height=1000000000, in_width=1000000000))))])
run("`report RUN`, metrics.jsonl line 1 broken", "malformed JSON line",
    ["report", run_copy("met_bad", lambda d: open(f"{d}/metrics.jsonl", "w").write("{\"epoch\": 1,\n")), "-o", f"{T}/rep1"])
run("`report RUN`, accuracy 1.5 in metrics.jsonl", "value out of range",
    ["report", run_copy("met_acc", lambda d: open(f"{d}/metrics.jsonl", "w").write("{\"epoch\": 1, \"val_acc\": 1.5}\n")), "-o", f"{T}/rep2"])
run("`report RUN`, robustness.json levels/accuracy lengths differ", "inconsistent arrays",
    ["report", run_copy("rob_len", lambda d: open(f"{d}/robustness.json", "w").write(
        '{"noise": {"gaussian": {"levels": [0, 0.1], "accuracy": [0.9]}}}')), "-o", f"{T}/rep3"])

# ---- .npy ----
def npy_case(what, fault, data):
    p = w(f"npy/{len(rows)}.npy", data)
    run(what, fault, ["spectrum", p, "-o", f"{T}/spec{len(rows)}"])


npy_case("`spectrum X.npy`, not an npy", "bad magic", b"PK\x03\x04" + b"\0" * 60)
npy_case("`spectrum X.npy`, version 9", "unsupported version", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", b"\0" * 4, ver=9))
npy_case("`spectrum X.npy`, 10 GB claimed", "size claim larger than the file",
         npy("{'descr': '<f4', 'fortran_order': False, 'shape': (50000, 50000), }", b"\0" * 64))
npy_case("`spectrum X.npy`, big-endian float", "unsupported dtype", npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 8, 8), }", b"\0" * 512))
npy_case("`spectrum X.npy`, Fortran order", "unsupported order", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 8, 8), }", b"\0" * 512))
npy_case("`spectrum X.npy`, shape (2^40, 2^40)", "shape overflow", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"))
npy_case("`spectrum X.npy`, data cut short", "truncated data", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 8, 8), }", b"\0" * 100))
npy_case("`spectrum X.npy`, NaN inside", "non-finite values", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 8, 8), }", b"\0\0\xc0\x7f" * 128))

print("| input | fault | message (stderr) | exit |")
print("|---|---|---|---|")
for what, fault, msg, rc in rows:
    print(f"| {what} | {fault} | {msg.replace('|', '&#124;')} | {rc} |")
shutil.rmtree(T)
