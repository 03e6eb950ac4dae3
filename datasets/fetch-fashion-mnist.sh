#!/usr/bin/env bash
# fetch-fashion-mnist.sh [--from DIR] [--out FILE] [--force]
#
# Writes Fashion-MNIST (60,000 training and 10,000 test images of clothes, 10 classes) in
# dptrain's HDF5 layout to FILE (default: datasets/fashion-mnist.h5), converted by `dptrain
# prepare fashion-mnist`. The four IDX files come from DIR (plain or .gz), or else from Debian's
# package dataset-fashion-mnist in /usr/share/datasets/fashion-mnist, installed with apt-get (as
# root or through sudo) if it is missing. Their SHA-256 must match the ones below, so corrupted or
# different files are refused. An existing FILE is kept if it records these very sources, and
# refused otherwise unless --force. Nothing is downloaded at training time.
set -euo pipefail
# shellcheck source=datasets/idx-to-h5.sh source-path=SCRIPTDIR
source "$(dirname "$0")/idx-to-h5.sh"

tool=fetch-fashion-mnist title=Fashion-MNIST data_set=fashion-mnist
out="$repo/datasets/fashion-mnist.h5"
declare -A sha256=(
  [train-images-idx3-ubyte]=c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
  [train-labels-idx1-ubyte]=bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
  [t10k-images-idx3-ubyte]=5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
  [t10k-labels-idx1-ubyte]=0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
)
default_source() {
  from=/usr/share/datasets/fashion-mnist
  [ -d "$from" ] && return
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "fetch-fashion-mnist: installing dataset-fashion-mnist"
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
    dataset-fashion-mnist
}
idx_to_h5 "$@"
