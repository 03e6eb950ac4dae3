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
exit "$status"
