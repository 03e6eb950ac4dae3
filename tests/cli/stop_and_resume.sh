#!/usr/bin/env bash
# stop_and_resume.sh SIGNAL WORKDIR -- TRAIN-COMMAND...
# The SIGTERM / SIGUSR1 path end to end. TRAIN-COMMAND (mpirun ... dptrain train ..., without
# --checkpoint-dir) runs three times:
#   1. straight through, checkpointing into WORKDIR/straight;
#   2. with SIGNAL sent to rank $VICTIM (default 1) once the first epoch is done: it must stop
#      with status 3, saying where its checkpoint is, in WORKDIR/stopped;
#   3. with --resume in WORKDIR/stopped: it must finish with status 0.
# The final checkpoints of 1 and 3 must hold bitwise the same model and optimizer state, unless
# EXACT=0 (asynchronous parameter servers, whose order of updates is not reproducible).
set -u
signal=$1 work=$2 victim=${VICTIM:-1} exact=${EXACT:-1}
shift 3
here=$(dirname "$0")
rm -rf "$work" && mkdir -p "$work"

"$@" --checkpoint-dir "$work/straight" >"$work/straight.log" 2>&1 ||
  { cat "$work/straight.log"; echo "FAIL: the straight run failed"; exit 1; }

"$here/signal_rank.sh" "$signal" "$victim" "$work/stopped.jsonl" "$@" --checkpoint-dir "$work/stopped" \
  --metrics "$work/stopped.jsonl" >"$work/stopped.log" 2>&1
status=$?
cat "$work/stopped.log"
[ "$status" -eq 3 ] || { echo "FAIL: the signalled run exited with $status, not 3"; exit 1; }
grep -q "stopped by SIG$signal at epoch .*; checkpoint .*; continue with --resume" "$work/stopped.log" ||
  { echo "FAIL: no stop message"; exit 1; }

"$@" --checkpoint-dir "$work/stopped" --resume >"$work/resumed.log" 2>&1
status=$?
cat "$work/resumed.log"
[ "$status" -eq 0 ] || { echo "FAIL: the resumed run exited with $status"; exit 1; }
grep -q "^resumed from .*ckpt-" "$work/resumed.log" || { echo "FAIL: it did not resume"; exit 1; }

last=$(ls "$work/straight" | sort | tail -n 1)
[ -f "$work/stopped/$last" ] || { echo "FAIL: the resumed run has no $last"; exit 1; }
if [ "$exact" -eq 0 ]; then
  echo "PASS: stopped by SIG$signal, resumed, and finished ($last)"
  exit 0
fi
source "$(dirname "$0")/../support/same_state.sh"
same_state "$work/straight/$last" "$work/stopped/$last"
echo "PASS: stopped by SIG$signal, resumed, and ended bitwise equal to the straight run ($last)"
