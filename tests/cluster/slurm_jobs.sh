#!/usr/bin/env bash
# slurm_jobs.sh CASE DPTRAIN DATA (under with_cluster.sh with 2 hosts)
# Slurm on the cluster (slurm_hosts.sh: slurmctld on the head, a slurmd on h1 and h2) runs
# slurm/train-cpu.sbatch on both nodes, one task each (`sbatch -N 2 --ntasks-per-node=1`), srun
# --mpi=pmix between them over TCP. Cases (the one-node ones of tests/slurm/sbatch_test.sh):
#   train    2 epochs reach 96% test accuracy, and rank 0 says it has one rank on each host;
#   requeue  SIGUSR1 after the first epoch: checkpoint, requeue, resume on both nodes, COMPLETED.
# with_cluster.sh stops the daemons and takes the cluster down, also on failure or timeout.
set -u
case=$1 dptrain=$2 data=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$CLUSTER/jobs
mkdir -p "$work"
fail() {
  echo "FAIL: $*"
  local log
  for log in "$CLUSTER"/slurm/log/*.log; do
    [ -f "$log" ] && { echo "--- last lines of $log"; tail -n 25 "$log"; }
  done
  exit 1
}
slurm() { timeout --kill-after=5 "${limit:-20}" "$SLURM_HOSTS_SH" run "$CLUSTER" "$@"; }
# shellcheck source-path=SCRIPTDIR source=../slurm/jobs.sh
source "$repo/tests/slurm/jobs.sh"

timeout 60 "$SLURM_HOSTS_SH" up "$CLUSTER" || fail "Slurm did not come up on the cluster"
# What the job's environment carries (sbatch exports it all): the checkpoints on the file system
# all hosts share; Open MPI's TCP on the cluster's subnet only (no packet leaves it), shared
# memory within a host, TCP between hosts.
export DPTRAIN_HOME=$repo DPTRAIN=$dptrain DPTRAIN_DATA=$data DPTRAIN_CHECKPOINTS=$work/checkpoints
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=10.199.0.0/24 \
  OMPI_MCA_oob_tcp_if_include=10.199.0.0/24
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
layout="dptrain: 2 rank(s) on 2 hosts x 1 rank (h1: 0, h2: 1);"
nodes=(-N 2 --ntasks-per-node=1)

start=$SECONDS
case "$case" in
  train)
    train_job "${nodes[@]}"
    grep '^dptrain: ' "$out" | grep -qF "$layout" || fail "rank 0 does not say: $layout"
    echo "PASS: 2 nodes x 1 task trained to $accuracy% in $((SECONDS - start)) s"
    ;;
  requeue)
    requeue_job "${nodes[@]}"
    # Both runs of the job, before and after the requeue, on both nodes.
    runs=$(grep '^dptrain: ' "$out" | grep -cF "$layout")
    [ "$runs" -eq 2 ] || fail "$runs of the job's 2 runs say: $layout"
    echo "PASS: 2 nodes: SIGUSR1, checkpoint, requeue, resume on 2 nodes, completed in $((SECONDS - start)) s"
    ;;
  *) fail "unknown case $case" ;;
esac
