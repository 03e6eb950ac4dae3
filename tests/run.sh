#!/usr/bin/env bash
# The README's second command, and what CI runs (README, "Tests", says what runs where):
#   1. installs the missing packages, builds build/ with warnings as errors (with the CUDA backend
#      wherever nvcc is found) and fetches MNIST and Fashion-MNIST for the end-to-end tests;
#   2. runs the suite on build/, the cluster tests apart;
#   3. runs the whole CPU suite, cluster tests included, under AddressSanitizer and
#      UndefinedBehaviorSanitizer (build-asan/, tests/sanitizers/run.sh address);
#   4. without extra arguments: the threads' tests under ThreadSanitizer (build-tsan/), a fuzz
#      smoke run of every harness (build-fuzz/, bench/fuzz.sh), and the offline bundle's tests.
# Extra arguments go to ctest (e.g. -L unit, -R sampler). Quick tests run four at a time; those
# that time things, fill the cores or start Slurm or a cluster run alone (RUN_SERIAL). Tests that
# need a GPU report themselves skipped where there is none.
set -euo pipefail
cd "$(dirname "$0")/.."

bash launch/install-deps.sh
cuda=AUTO
if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then cuda=ON; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDPTRAIN_WERROR=ON -DDPTRAIN_CUDA="$cuda"
cmake --build build -j"$(nproc)"
DPTRAIN=build/dptrain bash datasets/fetch-mnist.sh
DPTRAIN=build/dptrain bash datasets/fetch-fashion-mnist.sh

echo "=== tests of build ($(grep -o 'DPTRAIN_CUDA:STRING=.*' build/CMakeCache.txt))"
# The cluster tests (hosts of network namespaces) run the CPU path: once, in build-asan.
ctest --test-dir build --output-on-failure --parallel 4 -LE cluster "$@"

echo "=== AddressSanitizer and UndefinedBehaviorSanitizer"
bash tests/sanitizers/run.sh address "$@"

[ $# -eq 0 ] || exit 0
echo "=== ThreadSanitizer"
bash tests/sanitizers/run.sh thread
echo "=== fuzz smoke run"
bash bench/fuzz.sh 60

# The offline bundle for GPU nodes (launch/make-bundle.sh, from the CUDA build): in a bare
# Debian 12 chroot, and its selftest's GPU path against stand-ins (about 1 minute, 2 more the
# first time, when the chroot is debootstrapped). Only where the CUDA backend was built.
if [ "$cuda" = ON ]; then
  echo "=== the offline bundle"
  bash launch/make-bundle.sh --build build --out build/dptrain-bundle-test.tar.gz
  bash tests/bundle/chroot_test.sh build/dptrain-bundle-test.tar.gz
  bash tests/bundle/selftest_dry_run.sh build/dptrain-bundle-test.tar.gz
fi
