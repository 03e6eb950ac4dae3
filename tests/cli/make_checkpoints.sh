#!/usr/bin/env bash
# make_checkpoints.sh DIR DPTRAIN DATA MPIEXEC...: checkpoint directories for the resume tests,
# each its own, from one epoch on 2 ranks:
#   DIR/good/                  the run's checkpoints
#   DIR/<case>/                a copy of good/, one per test that resumes and so writes into it
#   DIR/corrupt-only/          one checkpoint, truncated
#   DIR/corrupt-newest/        good/'s checkpoints plus a newer, truncated one
#   DIR/exact-<case>/          copies of one epoch with --exact, one per test that resumes it
set -eu
dir=$1 dptrain=$2 data=$3
shift 3
rm -rf "$dir" && mkdir -p "$dir"
"$@" -np 2 "$dptrain" train --data "$data" --epochs 1 --batch-size 8 --checkpoint-every 10 \
  --keep-checkpoints 2 --checkpoint-dir "$dir/good" --progress off >"$dir/good.log"
for case in resize seed model cnn world to-exact optimizer; do cp -r "$dir/good" "$dir/$case"; done
"$@" -np 2 "$dptrain" train --data "$data" --epochs 1 --batch-size 8 --exact \
  --checkpoint-dir "$dir/exact" --progress off >"$dir/exact.log"
for case in to-float resized micro; do cp -r "$dir/exact" "$dir/exact-$case"; done
newest=$(ls "$dir/good" | sort | tail -n 1)
mkdir -p "$dir/corrupt-only"
head -c 3000 "$dir/good/$newest" >"$dir/corrupt-only/ckpt-0000000099.h5"
cp -r "$dir/good" "$dir/corrupt-newest"
head -c 3000 "$dir/good/$newest" >"$dir/corrupt-newest/ckpt-0000099999.h5"
