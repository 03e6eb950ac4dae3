#!/usr/bin/env bash
# The README's second command, and what CI runs: installs the missing packages, builds dptrain
# twice with warnings as errors (with the CUDA backend wherever nvcc is found, and without it),
# fetches MNIST for the end-to-end tests, and runs the whole test suite on both builds. Tests
# that need a GPU report themselves skipped where there is none. Extra arguments go to ctest
# (e.g. -L unit, -R sampler). Quick tests run four at a time; those that time things, fill the
# cores or start Slurm or a cluster run alone (RUN_SERIAL). The cluster tests run in build-cpu.
# Last, without extra arguments, the offline bundle's tests (tests/bundle).
set -euo pipefail
cd "$(dirname "$0")/.."

bash launch/install-deps.sh
cuda=AUTO
if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then cuda=ON; fi
for build in "build $cuda" "build-cpu OFF"; do
  read -r dir with_cuda <<<"$build"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DDPTRAIN_WERROR=ON -DDPTRAIN_CUDA="$with_cuda"
  cmake --build "$dir" -j"$(nproc)"
done
DPTRAIN=build/dptrain bash datasets/fetch-mnist.sh
DPTRAIN=build/dptrain bash datasets/fetch-fashion-mnist.sh
for dir in build build-cpu; do
  echo "=== tests of $dir ($(grep -o 'DPTRAIN_CUDA:STRING=.*' "$dir/CMakeCache.txt"))"
  # The cluster tests (hosts of network namespaces, about 3.5 minutes) run the CPU path, the same
  # code in both builds: once, in build-cpu, keeps the suite within its 20 minutes.
  skip=()
  [ "$dir" = build ] && skip=(-LE cluster)
  ctest --test-dir "$dir" --output-on-failure --parallel 4 "${skip[@]}" "$@"
done

# The offline bundle for GPU nodes (launch/make-bundle.sh, from the CUDA build): in a bare
# Debian 12 chroot, and its selftest's GPU path against stand-ins (about 1 minute, 2 more the
# first time, when the chroot is debootstrapped). With the whole suite only, not with a
# selection of tests, and only where the CUDA backend was built.
if [ $# -eq 0 ] && [ "$cuda" = ON ]; then
  echo "=== the offline bundle"
  bash launch/make-bundle.sh --build build --out build/dptrain-bundle-test.tar.gz
  bash tests/bundle/chroot_test.sh build/dptrain-bundle-test.tar.gz
  bash tests/bundle/selftest_dry_run.sh build/dptrain-bundle-test.tar.gz
fi
