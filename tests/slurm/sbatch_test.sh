#!/usr/bin/env bash
# sbatch_test.sh CASE DPTRAIN DATA: a real one-node Slurm cluster (slurm_cluster.sh), started
# here and stopped on exit, runs slurm/train-cpu.sbatch. Cases:
#   train    the job trains 2 epochs of 2 x 16 rows and reaches 96% test accuracy;
#   requeue  SIGUSR1 to the job (what --signal=USR1@120 sends before the time limit) stops it
#            with a checkpoint, the job requeues itself, resumes and finishes;
#   kill     SIGKILL to one task: the job ends, failed, within 30 s.
set -u
case=$1 dptrain=$2 data=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
# munged (tests/slurm/daemons.sh) wants every directory above its socket searchable by all.
chmod 755 "$work"
cluster=$work/cluster
# Exported before any Slurm command runs: without a SLURM_CONF (a cluster that did not start),
# sbatch and scancel would look for their controller in DNS (SRV records).
export SLURM_CONF=$cluster/slurm.conf
cleanup() {
  [ -n "${job:-}" ] && timeout 10 scancel "$job" 2>/dev/null
  bash "$repo/tests/slurm/slurm_cluster.sh" stop "$cluster"
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  [ -n "${out:-}" ] && [ -f "$out" ] && cat "$out"
  # Slurm's own account of the job: why a launch failed is only in the daemons' logs.
  for log in "$cluster"/log/slurmctld.log "$cluster"/log/slurmd.log; do
    [ -f "$log" ] && { echo "--- last lines of $log"; tail -n 40 "$log"; }
  done
  exit 1
}

bash "$repo/tests/slurm/slurm_cluster.sh" start "$cluster" >/dev/null || fail "no Slurm cluster"
export DPTRAIN_HOME=$repo DPTRAIN=$dptrain DPTRAIN_DATA=$data DPTRAIN_CHECKPOINTS=$work/checkpoints
cd "$work" || fail "cannot enter $work"

wait_for_line() {  # wait_for_line REGEX SECONDS
  for _ in $(seq $(($2 * 10))); do
    grep -Eq "$1" "$out" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no line matching '$1' within $2 s"
}
job_state() { scontrol show job "$job" 2>/dev/null | grep -o "JobState=[A-Z_]*" | cut -d= -f2; }
wait_for_state() {  # wait_for_state SECONDS STATE...: until the job is in one of the states
  local seconds=$1
  shift
  for _ in $(seq $((seconds * 10))); do
    local state
    state=$(job_state)
    for wanted in "$@"; do [ "$state" = "$wanted" ] && return 0; done
    sleep 0.1
  done
  fail "job $job is $(job_state) after $seconds s, not $* ($(scontrol show job "$job" 2>/dev/null |
    grep -o 'Reason=[^ ]*'))"
}
wait_for_end() { wait_for_state "$1" COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL OUT_OF_MEMORY; }

case "$case" in
  train)
    out=$work/train.out
    sbatch --wait --output="$out" "$repo/slurm/train-cpu.sbatch" --epochs 2 --batch-size 16 ||
      fail "the job failed"
    cat "$out"
    accuracy=$(sed -n 's/^epoch 2\/2 .*test accuracy \([0-9.]*\)%.*/\1/p' "$out")
    [ -n "$accuracy" ] || fail "the job did not finish its 2 epochs"
    awk -v a="$accuracy" 'BEGIN { exit !(a >= 96.0) }' || fail "test accuracy $accuracy% < 96%"
    echo "PASS: the sbatch job trained to $accuracy%"
    ;;
  requeue)
    out=$work/requeue.out
    job=$(sbatch --parsable --output="$out" "$repo/slurm/train-cpu.sbatch" --epochs 3 \
      --batch-size 16) || fail "sbatch failed"
    wait_for_line "^epoch 1/3 " 120
    scancel --signal=USR1 "$job"
    wait_for_line "requeueing job $job" 60
    # Slurm starts the requeued job again by itself, once its last run's credentials have
    # expired (AuthInfo=cred_expire in slurm_cluster.sh). Forcing an earlier start
    # (StartTime=now) failed the relaunch when the old step's daemon still held its PMIx socket.
    wait_for_state 30 PENDING
    wait_for_state 60 RUNNING COMPLETED
    wait_for_end 300
    cat "$out"
    grep -q "^dptrain: stopped by SIGUSR1 at epoch .*; checkpoint .*; continue with --resume" "$out" ||
      fail "no stop on SIGUSR1"
    grep -q "^resumed from .*ckpt-" "$out" || fail "the requeued job did not resume"
    grep -q "^epoch 3/3 " "$out" || fail "the resumed job did not finish"
    [ "$(job_state)" = COMPLETED ] || fail "job state $(job_state)"
    echo "PASS: SIGUSR1, checkpoint, requeue, resume, completed"
    ;;
  kill)
    out=$work/kill.out
    job=$(sbatch --parsable --output="$out" "$repo/slurm/train-cpu.sbatch" --epochs 200) ||
      fail "sbatch failed"
    wait_for_line "^epoch 1/200 " 120
    victim=""
    for pid in $(pgrep -f "dptrain train"); do
      { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qx "SLURM_PROCID=1" && victim=$pid
    done
    [ -n "$victim" ] || fail "task 1 not found"
    kill -9 "$victim"
    start=$(date +%s)
    wait_for_end 30
    elapsed=$(($(date +%s) - start))
    cat "$out"
    state=$(job_state)
    [ "$state" = FAILED ] || fail "job state $state, expected FAILED"
    echo "PASS: task 1 killed, the job ended $state within $elapsed s"
    ;;
  *) fail "unknown case $case" ;;
esac
