#!/usr/bin/env bash
# resume_equivalence.sh WORKDIR [--from-step N] -- TRAIN-COMMAND... [--resume-with RESUME-COMMAND...]
# TRAIN-COMMAND (mpirun ... dptrain train ..., without --epochs or --checkpoint-dir) trains 2
# epochs straight, and 1 epoch, then 1 more after --resume, with RESUME-COMMAND if given (e.g.
# another number of ranks). With --from-step N the straight run also checkpoints every N steps
# and the resumed run starts from its checkpoint of step N instead (within an epoch). Both must
# end with bitwise the same model and optimizer state.
set -u
work=$1
shift
from_step=
if [ "$1" = --from-step ]; then from_step=$2; shift 2; fi
shift  # --
train=() resume=()
while [ $# -gt 0 ] && [ "$1" != --resume-with ]; do train+=("$1"); shift; done
[ $# -gt 0 ] && { shift; resume=("$@"); }
[ ${#resume[@]} -eq 0 ] && resume=("${train[@]}")
rm -rf "$work" && mkdir -p "$work"
if [ -n "$from_step" ]; then
  "${train[@]}" --epochs 2 --checkpoint-dir "$work/straight" --checkpoint-every "$from_step" \
    --keep-checkpoints 1000 >"$work/straight.log" 2>&1 || { cat "$work/straight.log"; exit 1; }
  mkdir -p "$work/split"
  cp "$work/straight/$(printf 'ckpt-%010d.h5' "$from_step")" "$work/split/" ||
    { echo "FAIL: no checkpoint of step $from_step"; exit 1; }
else
  "${train[@]}" --epochs 2 --checkpoint-dir "$work/straight" >"$work/straight.log" 2>&1 &&
    "${train[@]}" --epochs 1 --checkpoint-dir "$work/split" >"$work/first.log" 2>&1 ||
    { cat "$work"/*.log; echo "FAIL: a run failed"; exit 1; }
fi
"${resume[@]}" --epochs 2 --checkpoint-dir "$work/split" --resume >"$work/second.log" 2>&1 ||
  { cat "$work"/*.log; echo "FAIL: the resumed run failed"; exit 1; }
cat "$work/second.log"
last=$(ls "$work/straight" | sort | tail -n 1)
source "$(dirname "$0")/../support/same_state.sh"
same_state "$work/straight/$last" "$work/split/$last"
echo "PASS: 2 epochs straight and${from_step:+ from step $from_step} resumed end bitwise equal ($last)"
