#!/usr/bin/env bash
# make_test_files.sh DIR MAKER KIND...: a fresh DIR with one test file per kind (KIND.h5), made
# by MAKER (dptrain_make_test_file), and existing.jsonl standing for a file a user wrote earlier.
set -eu
dir=$1 maker=$2
shift 2
rm -rf "$dir"
mkdir -p "$dir"
for kind in "$@"; do "$maker" "$kind" "$dir/$kind.h5"; done
echo "an earlier run" >"$dir/existing.jsonl"
