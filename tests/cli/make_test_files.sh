#!/usr/bin/env bash
# make_test_files.sh DIR MAKER KIND...: a fresh DIR with one test file per kind (KIND.h5), made
# by MAKER (dptrain_make_test_file), and existing.jsonl (and its
# --trace name for rank 0) standing for a file a user wrote earlier.
set -eu
dir=$1 maker=$2
shift 2
rm -rf "$dir"
mkdir -p "$dir"
for kind in "$@"; do "$maker" "$kind" "$dir/$kind.h5"; done
echo "an earlier run" >"$dir/existing.jsonl"
echo "an earlier trace" >"$dir/existing.rank0.jsonl"
