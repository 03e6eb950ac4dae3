#!/usr/bin/env python3
"""Writes fuzz/corpus/idx/: the first rows of real IDX files, re-headed to their row count, as
single files and as the harness's pairs (4-byte big-endian length of the images file, images,
labels). Usage: make_idx_seeds.py OUT_DIR MNIST_DIR FASHION_DIR (FASHION_DIR's files gzipped)."""
import gzip, os, struct, sys

out, mnist, fashion = sys.argv[1:4]
os.makedirs(out, exist_ok=True)

def read(directory, name):
    path = os.path.join(directory, name)
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz").read()
    return open(path, "rb").read()

def first_rows(idx, rows):
    rank = idx[3]
    dims = list(struct.unpack(">" + "I" * rank, idx[4:4 + 4 * rank]))
    row = 1
    for d in dims[1:]:
        row *= d
    body = idx[4 + 4 * rank:4 + 4 * rank + rows * row]
    return idx[:4] + struct.pack(">" + "I" * rank, rows, *dims[1:]) + body

def pair(images, labels):
    return struct.pack(">I", len(images)) + images + labels

for source, directory in (("mnist", mnist), ("fashion", fashion)):
    for split in ("train", "t10k"):
        images = first_rows(read(directory, split + "-images-idx3-ubyte"), 3)
        labels = first_rows(read(directory, split + "-labels-idx1-ubyte"), 3)
        open(os.path.join(out, f"{source}-{split}-images-3rows"), "wb").write(images)
        open(os.path.join(out, f"{source}-{split}-labels-3rows"), "wb").write(labels)
        open(os.path.join(out, f"{source}-{split}-pair-3rows"), "wb").write(pair(images, labels))
images = first_rows(read(mnist, "train-images-idx3-ubyte"), 2)
labels = first_rows(read(mnist, "train-labels-idx1-ubyte"), 2)
# The bad inputs of tests/unit/idx_test.cpp and prepare's checks, each once.
bad = {
    "truncated-header": images[:10],
    "truncated-data": images[:-5],
    "wrong-type": images[:2] + b"\x0d" + images[3:],
    "zero-rank": b"\x00\x00\x08\x00",
    "pair-count-mismatch": pair(images, first_rows(read(mnist, "train-labels-idx1-ubyte"), 3)),
    "pair-label-10": pair(images, labels[:-1] + b"\x0a"),
    "pair-not-28x28": pair(b"\x00\x00\x08\x03" + struct.pack(">III", 1, 2, 2) + b"\x01\x02\x03\x04",
                           b"\x00\x00\x08\x01" + struct.pack(">I", 1) + b"\x01"),
}
for name, data in bad.items():
    open(os.path.join(out, name), "wb").write(data)
