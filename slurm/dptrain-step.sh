#!/usr/bin/env bash
# The body of dptrain's sbatch scripts: one training step under srun, resumed from the newest
# checkpoint when there is one, and the job requeued when dptrain stopped on a signal (Slurm's
# --signal=USR1@120 before the time limit, or a preemption) after writing a checkpoint.
#
# Environment (set when submitting: sbatch --export=ALL,...):
#   DPTRAIN_HOME         the dptrain checkout (default: the directory sbatch ran in)
#   DPTRAIN              the binary (default: $DPTRAIN_HOME/build/dptrain)
#   DPTRAIN_DATA         the HDF5 data set (default: $DPTRAIN_HOME/datasets/mnist.h5)
#   DPTRAIN_CHECKPOINTS  the checkpoint directory (default: $DPTRAIN_HOME/checkpoints/$SLURM_JOB_NAME)
# Arguments are passed on to `dptrain train`.
set -u
home=${DPTRAIN_HOME:-${SLURM_SUBMIT_DIR:-.}}
dptrain=${DPTRAIN:-$home/build/dptrain}
data=${DPTRAIN_DATA:-$home/datasets/mnist.h5}
checkpoints=${DPTRAIN_CHECKPOINTS:-$home/checkpoints/${SLURM_JOB_NAME:-dptrain}}

# Why srun's exit status is not enough (seen with Slurm 22.05, the test slurm_launch-fails):
# when a step daemon fails before it starts its tasks, as mpi/pmix's set-up does when its socket
# or directory path is taken (an earlier step's daemon still holding its PMIx socket did that to
# requeued jobs), srun says "task N launch failed: Unspecified error" and exits 0, and the job
# would end COMPLETED without a step of training. (Tasks that start and fail, execve() of a
# missing or non-executable binary included, make srun exit non-zero: 2, 13.) So an exit status
# of 0 counts only when the newest checkpoint says the training is finished: dptrain writes one
# at the end of every epoch, atomically (README, "Checkpoints"), and a run resumed from a
# finished checkpoint writes none but is finished too.

# attribute FILE NAME: a scalar attribute of a checkpoint's root group.
attribute() { h5dump -w 0 -a "/$2" "$1" 2>/dev/null | sed -n 's/^ *(0): //p'; }

# requested_epochs ARGS...: the value of --epochs among dptrain's arguments, empty if not there.
requested_epochs() {
  local epochs=""
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --epochs) epochs=${2:-} && shift ;;
      --epochs=*) epochs=${1#--epochs=} ;;
    esac
    shift
  done
  echo "$epochs"
}

# finished ARGS...: 0 if the newest checkpoint is that of a finished run (past its configured
# epochs, and of the epochs asked for when --epochs is among ARGS); otherwise says why.
finished() {
  local newest epoch step epochs requested
  newest=$(compgen -G "$checkpoints/ckpt-*.h5" | sort | tail -n 1)
  [ -n "$newest" ] || { echo "no checkpoint in $checkpoints"; return 1; }
  epoch=$(attribute "$newest" epoch) step=$(attribute "$newest" step_in_epoch)
  epochs=$(attribute "$newest" config | grep -o '"epochs":[0-9]*' | cut -d: -f2)
  if ! [[ "$epoch $step $epochs" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]]; then
    echo "$newest does not read as a dptrain checkpoint"
    return 1
  fi
  requested=$(requested_epochs "$@")
  if [ -n "$requested" ] && [ "$requested" != "$epochs" ]; then
    echo "the newest checkpoint, $newest, is of a run of $epochs epochs, not $requested"
    return 1
  fi
  if [ "$epoch" -le "$epochs" ] || [ "$step" -ne 0 ]; then
    echo "the newest checkpoint, $newest, is at epoch $epoch (step $step) of $epochs"
    return 1
  fi
  echo "$newest, after epoch $epochs of $epochs"
}

# Without h5dump no checkpoint can be read: say so now, not after the training.
command -v h5dump >/dev/null ||
  { echo "dptrain-step: h5dump (Debian: hdf5-tools) is needed to check that training finished"; exit 1; }

resume=()
compgen -G "$checkpoints/ckpt-*.h5" >/dev/null && resume=(--resume)
echo "dptrain-step: job ${SLURM_JOB_ID:-?} (restart ${SLURM_RESTART_COUNT:-0}), ${SLURM_NTASKS:-?} tasks, checkpoints in $checkpoints ${resume[*]}"

# --kill-on-bad-exit: a task that dies takes the others down at once, instead of leaving them to
# the collective watchdog.
srun --mpi=pmix --kill-on-bad-exit=1 "$dptrain" train --data "$data" \
  --checkpoint-dir "$checkpoints" "${resume[@]}" --progress off "$@"
status=$?
if [ "$status" -eq 3 ]; then  # stopped on a signal, checkpoint written
  echo "dptrain-step: requeueing job $SLURM_JOB_ID to resume from its checkpoint"
  scontrol requeue "$SLURM_JOB_ID"
  exit 0
fi
[ "$status" -eq 0 ] || exit "$status"
if ! why=$(finished "$@"); then
  echo "dptrain-step: srun exited 0 but dptrain did not finish ($why): the job fails"
  exit 1
fi
echo "dptrain-step: training finished: $why"
