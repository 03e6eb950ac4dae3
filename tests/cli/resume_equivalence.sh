#!/usr/bin/env bash
# resume_equivalence.sh WORKDIR -- TRAIN-COMMAND...
# TRAIN-COMMAND (mpirun ... dptrain train ..., without --epochs or --checkpoint-dir) trains 2
# epochs straight, and 1 epoch, then 1 more after --resume. Both must end with bitwise the same
# model and optimizer state.
set -u
work=$1
shift 2
rm -rf "$work" && mkdir -p "$work"
"$@" --epochs 2 --checkpoint-dir "$work/straight" >"$work/straight.log" 2>&1 &&
  "$@" --epochs 1 --checkpoint-dir "$work/split" >"$work/first.log" 2>&1 &&
  "$@" --epochs 2 --checkpoint-dir "$work/split" --resume >"$work/second.log" 2>&1 ||
  { cat "$work"/*.log; echo "FAIL: a run failed"; exit 1; }
cat "$work/second.log"
last=$(ls "$work/straight" | sort | tail -n 1)
source "$(dirname "$0")/../support/same_state.sh"
same_state "$work/straight/$last" "$work/split/$last"
echo "PASS: 2 epochs straight and 1 + resume + 1 end bitwise equal ($last)"
