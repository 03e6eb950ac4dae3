#!/usr/bin/env bash
# The README's first command. On a fresh Debian 12 machine: installs the missing packages,
# builds dptrain, fetches and converts MNIST, and trains the reference model (784-64-10, Adam
# 1e-3, 32 rows per rank, 5 epochs) on 2 MPI ranks. Extra arguments go to `dptrain train`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash launch/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
bash datasets/fetch-mnist.sh

mpirun_flags=(-np 2)
[ "$(id -u)" -ne 0 ] || mpirun_flags+=(--allow-run-as-root)
[ "$(nproc)" -ge 2 ] || mpirun_flags+=(--oversubscribe)
progress=(--progress off)
[ ! -t 1 ] || progress=(--progress on)
set -x
mpirun "${mpirun_flags[@]}" build/dptrain train --data datasets/mnist.h5 "${progress[@]}" "$@"
