#!/usr/bin/env bash
# checkpoint_shapes.sh DPTRAIN FILES WORKDIR MPIEXEC...: a checkpoint of 32x32x3 images with 5
# classes is refused, with both shapes named and status 2, when resumed on 20 features with 3
# classes or evaluated on them; evaluated on its own data it scores its 5 classes.
set -u
dptrain=$1 files=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
# Runs a command that must end with status 2 and a last error line matching a pattern.
refused() {
  local pattern=$1
  shift
  timeout --kill-after=5 120 "$@" >"$work/out" 2>&1
  local status=$?
  [ "$status" -eq 2 ] || fail "status $status (expected 2) from: $* ($(tail -3 "$work/out"))"
  grep -q -- "$pattern" "$work/out" || fail "no '$pattern' in: $(cat "$work/out")"
}
timeout --kill-after=5 120 "$@" -np 2 "$dptrain" train --data "$files/images-32x32x3.h5" \
  --epochs 1 --batch-size 16 --checkpoint-dir "$work/ckpt" >"$work/train.out" 2>&1 ||
  fail "training on images-32x32x3 failed: $(tail -3 "$work/train.out")"
checkpoint=$(ls "$work"/ckpt/ckpt-*.h5 | tail -1)
refused "^dptrain: error: rank 0: checkpoint '.*' was trained on 32x32x3 images, 5 classes, but this data holds 20 features, 3 classes$" \
  "$@" -np 2 "$dptrain" train --data "$files/features-20.h5" --checkpoint-dir "$work/ckpt" --resume
refused "^dptrain: error: checkpoint '.*' was trained on 32x32x3 images, 5 classes, but data file '.*' holds 20 features$" \
  "$dptrain" eval --checkpoint "$checkpoint" --data "$files/features-20.h5"
timeout 120 "$dptrain" eval --checkpoint "$checkpoint" --data "$files/images-32x32x3.h5" >"$work/eval.out" 2>&1 ||
  fail "eval on its own data failed: $(cat "$work/eval.out")"
grep -q "model cnn\|model mlp 3072-64-5" "$work/eval.out" || fail "eval names no 5-class model: $(cat "$work/eval.out")"
grep -q "^     4 " "$work/eval.out" || fail "no confusion row for label 4: $(cat "$work/eval.out")"
echo "checkpoints of one shape are refused on another; eval scores its own data"
