#!/usr/bin/env bash
# The README's second command, and what CI runs: installs the missing packages, builds with
# warnings as errors, fetches MNIST (for the end-to-end tests), and runs the whole test suite.
# Extra arguments go to ctest (e.g. -L unit, -R sampler).
set -euo pipefail
cd "$(dirname "$0")/.."

bash launch/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDPTRAIN_WERROR=ON
cmake --build build -j"$(nproc)"
bash datasets/fetch-mnist.sh
ctest --test-dir build --output-on-failure "$@"
