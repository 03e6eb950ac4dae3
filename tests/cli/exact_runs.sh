#!/usr/bin/env bash
# exact_runs.sh WORKDIR DPTRAIN DATA MPIEXEC...
# --exact as users run it (README, "Reproducibility"), 2 epochs of the MLP on DATA:
#   1. 4 ranks x 32 rows, 2 ranks x 64 rows in micro-batches of 32, and 1 rank x 128 rows in
#      micro-batches of 32 end with the same model and optimizer state, bit for bit;
#   2. a checkpoint of the 4-rank run from within its first epoch, resumed on 2 ranks
#      (--allow-resize, the same global batch and micro-batch), ends exactly like the 4-rank run
#      that was never stopped.
# Checkpoints hold more than the state (world size, configuration), so /model and /optimizer are
# compared, as h5diff compares: every element, exactly.
set -u
work=$1 dptrain=$2 data=$3
shift 3
mpiexec=("$@")
rm -rf "$work" && mkdir -p "$work"
train() {  # train NAME RANKS ARGS...
  local name=$1 ranks=$2
  shift 2
  "${mpiexec[@]}" -np "$ranks" "$dptrain" train --data "$data" --epochs 2 --exact --seed 3 \
    --progress off --checkpoint-dir "$work/$name" "$@" >"$work/$name.log" 2>&1 ||
    { cat "$work/$name.log"; echo "FAIL: the run $name failed"; exit 1; }
}
source "$(dirname "$0")/../support/same_state.sh"

train four 4 --batch-size 32 --checkpoint-every 200 --keep-checkpoints 10
train two 2 --batch-size 64 --micro-batch 32
train one 1 --batch-size 128 --micro-batch 32
grep -q "summed in 64-bit fixed point with agreed per-tensor scales" "$work/four.log" ||
  { cat "$work/four.log"; echo "FAIL: the run does not say it sums exactly"; exit 1; }
last=$(ls "$work/four" | sort | tail -n 1)
if [ ! -f "$work/two/$last" ] || [ ! -f "$work/one/$last" ]; then
  ls "$work"/*; echo "FAIL: the runs did not take the same steps ($last)"; exit 1
fi
same_state "$work/four/$last" "$work/two/$last"
same_state "$work/four/$last" "$work/one/$last"
# The runs moved: the last state is not the first epoch's.
first=$(ls "$work/four" | sort | head -n 1)
if h5diff -q "$work/four/$first" "$work/four/$last" /model >/dev/null; then
  echo "FAIL: the model did not change between $first and $last"; exit 1
fi
echo "PASS: 4 x 32, 2 x 64 / 32 and 1 x 128 / 32 end bitwise equal ($last)"

mkdir -p "$work/resized"
cp "$work/four/$first" "$work/resized/"
"${mpiexec[@]}" -np 2 "$dptrain" train --data "$data" --epochs 2 --exact --seed 3 --progress off \
  --batch-size 64 --micro-batch 32 --checkpoint-dir "$work/resized" --resume --allow-resize \
  >"$work/resized.log" 2>&1 || { cat "$work/resized.log"; echo "FAIL: the resized run failed"; exit 1; }
cat "$work/resized.log"
grep -q "^resumed from .*$first: epoch 1, step 200$" "$work/resized.log" ||
  { echo "FAIL: did not resume from $first within the first epoch"; exit 1; }
same_state "$work/four/$last" "$work/resized/$last"
echo "PASS: 4 ranks to step 200, then 2 ranks, end bitwise equal to 4 ranks throughout ($last)"
