#!/usr/bin/env python3
"""Writes fuzz/corpus/command_line/: the train command lines of tests/cli/CMakeLists.txt (every
bad_option(... train ${good_data} ...) and the README's), as the harness reads them: a byte
choosing the ranks (1 + byte % 8: here 2, or 4 with --mode ps), then the arguments after
`dptrain train`, separated by NUL bytes. Usage: make_command_line_seeds.py OUT_DIR CMAKELISTS"""
import os, re, shlex, sys

out, cmakelists = sys.argv[1:3]
os.makedirs(out, exist_ok=True)
text = open(cmakelists).read()
lines = []
for block in re.findall(r"bad_option\((.*?)\)\n", text, re.S):
    words = shlex.split(block.replace("\n", " "))
    if "train" in words:
        rest = words[words.index("train") + 1:]
        lines.append(["--data", "good.h5" if rest[:1] == ["${good_data}"] else "x.h5"]
                     + [w for w in rest[1:] if not w.startswith("${")])
lines += [
    ["--data", "mnist.h5", "--model",
     "conv3x16s,relu,pool2,conv3x32s,tanh,pool2,dense64,relu,denseK"],
    ["--data", "my-data.h5", "--model", "cnn", "--epochs", "2"],
    ["--data", "good.h5", "--epochs", "4", "--lr-schedule", "step", "--lr-milestones", "2,3"],
    ["--data", "good.h5", "--epochs", "1", "--hidden", "64,32"],
    ["--data", "good.h5", "--mode", "ps", "--ps-servers", "2", "--ps-async", "--ps-staleness", "2"],
    ["--data", "good.h5", "--exact", "--micro-batch", "8", "--batch-size", "32", "--bucket-kb",
     "64", "--checkpoint-dir", "ckpt", "--resume", "--allow-resize"],
    ["--data", "good.h5", "--optimizer", "sgd", "--momentum", "0.9", "--lr-schedule", "cosine",
     "--warmup-epochs", "0.5", "--lr-scaling", "linear", "--lr-base-batch", "64",
     "--clip-norm", "1", "--shard-optimizer"],
]
for i, words in enumerate(lines):
    ranks = b"\x03" if "ps" in words else b"\x01"
    with open(os.path.join(out, f"line-{i:03d}"), "wb") as f:
        f.write(ranks + b"\0".join(w.encode() for w in words))
print(len(lines), "command lines")
