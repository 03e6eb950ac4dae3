#!/usr/bin/env bash
# shellcheck disable=SC2119  # train_job and requeue_job take sbatch options; none here
# sbatch_test.sh CASE DPTRAIN DATA: a real one-node Slurm cluster (slurm_cluster.sh), started
# here and stopped on exit, runs slurm/train-cpu.sbatch. Cases:
#   train    the job trains 2 epochs of 2 x 16 rows and reaches 96% test accuracy;
#   requeue  SIGUSR1 to the job (what --signal=USR1@120 sends before the time limit) stops it
#            with a checkpoint, the job requeues itself, resumes and finishes;
#   kill     SIGKILL to one task: the job ends, failed, within 30 s;
#   launch-fails  the step's tasks never start and srun exits 0 (slurm/dptrain-step.sh says when
#            that happens): the job ends FAILED, and dptrain-step.sh says why in one line.
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

slurm() { timeout --kill-after=5 "${limit:-20}" "$@"; }
# shellcheck source-path=SCRIPTDIR source=jobs.sh
source "$repo/tests/slurm/jobs.sh"

case "$case" in
  train)
    train_job
    echo "PASS: the sbatch job trained to $accuracy%"
    ;;
  requeue)
    requeue_job
    echo "PASS: SIGUSR1, checkpoint, requeue, resume, completed"
    ;;
  kill)
    out=$work/kill.out
    job=$(slurm sbatch --parsable --output="$out" "$repo/slurm/train-cpu.sbatch" --epochs 200) ||
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
  launch-fails)
    out=$work/launch.out
    # The step daemon's PMIx set-up fails before any task starts when the path of the step's PMIx
    # socket (SlurmdSpoolDir/stepd.slurm.pmix.JOB.STEP) is taken: a non-empty directory there.
    # The job is held until it is, so that its first step (0, dptrain-step.sh's srun) meets it.
    job=$(slurm sbatch --parsable --hold --output="$out" "$repo/slurm/train-cpu.sbatch" --epochs 2 \
      --batch-size 16) || fail "sbatch failed"
    mkdir -p "$cluster/spool/stepd.slurm.pmix.$job.0/taken"
    slurm scontrol release "$job" || fail "scontrol release failed"
    wait_for_end 60
    cat "$out"
    # That the hole was hit: the launch failed, and srun still exited 0 (the step script's line).
    grep -q "^srun: error: task 0 launch failed" "$out" || fail "the tasks' launch did not fail"
    grep -q "^epoch " "$out" && fail "dptrain trained although its launch was to fail"
    grep -qx "dptrain-step: srun exited 0 but dptrain did not finish (no checkpoint in .*): the job fails" \
      "$out" || fail "no line of dptrain-step.sh says why the job fails"
    [ "$(job_state)" = FAILED ] || fail "job state $(job_state), expected FAILED"
    echo "PASS: the tasks' launch failed, srun exited 0, the job ended FAILED saying why"
    ;;
  *) fail "unknown case $case" ;;
esac
