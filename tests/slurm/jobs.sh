# shellcheck shell=bash
# shellcheck disable=SC2154  # repo and work: set by the sourcing script
# What the tests of slurm/train-cpu.sbatch share (sbatch_test.sh on one node,
# tests/cluster/slurm_jobs.sh across namespace hosts); sourced. The sourcing script defines
#   fail MESSAGE     print FAIL: MESSAGE, and what helps to see why, and exit 1
#   slurm CMD...     run a Slurm command (sbatch, scontrol...) where the cluster's clients run,
#                    bounded by $limit seconds (20 unless set for the call: limit=150 slurm ...)
# and sets repo (the checkout) and work (a directory for the jobs' output and checkpoints). The
# functions set out (the job's output file) and job (its id).

wait_for_line() {  # wait_for_line REGEX SECONDS: until the job's output has such a line
  local deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    grep -Eq "$1" "$out" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no line matching '$1' within $2 s"
}
job_state() { slurm scontrol show job "$job" 2>/dev/null | grep -o "JobState=[A-Z_]*" | cut -d= -f2; }
wait_for_state() {  # wait_for_state SECONDS STATE...: until the job is in one of the states
  local deadline=$((SECONDS + $1)) state wanted
  shift
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(job_state)
    for wanted in "$@"; do [ "$state" = "$wanted" ] && return 0; done
    sleep 0.2
  done
  fail "job $job is $(job_state) after $1 s, not $* ($(slurm scontrol show job "$job" 2>/dev/null |
    grep -o 'Reason=[^ ]*'))"
}
wait_for_end() { wait_for_state "$1" COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL OUT_OF_MEMORY; }

# train_job SBATCH-OPTIONS...: the job trains 2 epochs of 16 rows per task and reaches 96% test
# accuracy; sets accuracy.
train_job() {
  out=$work/train.out
  limit=200 slurm sbatch --wait --output="$out" "$@" "$repo/slurm/train-cpu.sbatch" --epochs 2 \
    --batch-size 16 || { cat "$out" 2>/dev/null; fail "the job failed"; }
  cat "$out"
  accuracy=$(sed -n 's/^epoch 2\/2 .*test accuracy \([0-9.]*\)%.*/\1/p' "$out")
  [ -n "$accuracy" ] || fail "the job did not finish its 2 epochs"
  awk -v a="$accuracy" 'BEGIN { exit !(a >= 96.0) }' || fail "test accuracy $accuracy% < 96%"
}

# requeue_job SBATCH-OPTIONS...: SIGUSR1 to the job after its first epoch (what --signal=USR1@120
# sends before the time limit) stops it with a checkpoint, the job requeues itself, resumes
# from the checkpoint and finishes its 3 epochs, COMPLETED.
requeue_job() {
  out=$work/requeue.out
  job=$(slurm sbatch --parsable --output="$out" "$@" "$repo/slurm/train-cpu.sbatch" --epochs 3 \
    --batch-size 16) || fail "sbatch failed"
  wait_for_line "^epoch 1/3 " 120
  slurm scancel --signal=USR1 "$job" || fail "scancel --signal=USR1 failed"
  wait_for_line "requeueing job $job" 60
  # Slurm starts the requeued job again by itself, once its last run's credentials have
  # expired (AuthInfo=cred_expire in slurm.conf). Forcing an earlier start (StartTime=now)
  # failed the relaunch when the old step's daemon still held its PMIx socket.
  wait_for_state 30 PENDING
  wait_for_state 60 RUNNING COMPLETED
  wait_for_end 120
  cat "$out"
  grep -q "^dptrain: stopped by SIGUSR1 at epoch .*; checkpoint .*; continue with --resume" "$out" ||
    fail "no stop on SIGUSR1"
  grep -q "^resumed from .*ckpt-" "$out" || fail "the requeued job did not resume"
  grep -q "^epoch 3/3 " "$out" || fail "the resumed job did not finish"
  [ "$(job_state)" = COMPLETED ] || fail "job state $(job_state)"
}
