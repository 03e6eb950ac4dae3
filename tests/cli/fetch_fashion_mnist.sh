#!/usr/bin/env bash
# fetch_fashion_mnist.sh converts|refuses_a_changed_label DPTRAIN IDX_DIR
# Runs datasets/fetch-fashion-mnist.sh --from IDX_DIR (Debian's dataset-fashion-mnist) into a
# temporary directory. converts: the file must hold 60,000 training and 10,000 test images of
# 28x28 with their labels and say dataset "fashion-mnist"; run again, the script keeps it; and
# fetch-mnist.sh must not take it for MNIST. refuses_a_changed_label: with one label of the
# sources changed (to another valid label, which only the checksum can catch) the script must
# exit 2 with the checksum message and write nothing. Exits 77 (skipped) without IDX_DIR.
set -u
mode=$1 dptrain=$2 idx=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
export DPTRAIN=$dptrain
if [ ! -d "$idx" ]; then
  echo "SKIP: $idx is missing: install dataset-fashion-mnist (launch/install-deps.sh)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# run STATUS REGEX COMMAND...: COMMAND must exit with STATUS, printing a line matching REGEX.
run() {
  local status=$1 regex=$2 got
  shift 2
  echo "--- $*"
  "$@" >"$work/output" 2>&1
  got=$?
  cat "$work/output"
  [ "$got" -eq "$status" ] || fail "exit status $got, expected $status"
  grep -Eq -- "$regex" "$work/output" || fail "no output line matches: $regex"
}

out=$work/out/fashion-mnist.h5  # in a directory that the script must create
case "$mode" in
  converts)
    run 0 "^wrote .*: 60000 training and 10000 test images$" \
      "$repo/datasets/fetch-fashion-mnist.sh" --from "$idx" --out "$out"
    listing=$(h5ls -r "$out")
    echo "$listing"
    for line in "/train/images +Dataset \{60000, 28, 28\}" "/train/labels +Dataset \{60000\}" \
      "/test/images +Dataset \{10000, 28, 28\}" "/test/labels +Dataset \{10000\}"; do
      grep -Eq "^$line$" <<<"$listing" || fail "h5ls -r shows no line $line"
    done
    h5dump -a /dataset "$out" | grep -q '(0): "fashion-mnist"' ||
      fail "no root attribute dataset = \"fashion-mnist\""
    before=$(sha256sum <"$out")
    run 0 "is up to date \(it records the verified Fashion-MNIST files\)$" \
      "$repo/datasets/fetch-fashion-mnist.sh" --from "$idx" --out "$out"
    run 2 "exists but does not record the verified MNIST files" \
      "$repo/datasets/fetch-mnist.sh" --out "$out"
    [ "$(sha256sum <"$out")" = "$before" ] || fail "$out was changed"
    ;;
  refuses_a_changed_label)
    mkdir "$work/idx"
    cp "$idx"/*-ubyte.gz "$work/idx/"
    labels=$work/idx/train-labels-idx1-ubyte
    gunzip "$labels.gz"
    offset=1008  # label 1000, past the 8-byte header
    label=$(od -An -tu1 -j "$offset" -N1 "$labels" | tr -d ' ')
    printf '%b' "\\0$(printf %o $(((label + 1) % 10)))" |
      dd of="$labels" bs=1 seek="$offset" conv=notrunc status=none
    cmp -s <(gunzip -c "$idx/train-labels-idx1-ubyte.gz") "$labels" && fail "the label was not changed"
    gzip -n "$labels"
    run 2 "^fetch-fashion-mnist: checksum mismatch: these are not the Fashion-MNIST files dptrain was verified with$" \
      "$repo/datasets/fetch-fashion-mnist.sh" --from "$work/idx" --out "$out"
    [ ! -e "$out" ] || fail "$out was written"
    ;;
  *) echo "fetch_fashion_mnist.sh: unknown mode $mode" >&2; exit 2 ;;
esac
[ "$failed" -eq 0 ] && echo "PASS"
exit "$failed"
