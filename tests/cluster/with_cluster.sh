#!/usr/bin/env bash
# with_cluster.sh HOSTS WORKDIR -- COMMAND...
# Makes a cluster of HOSTS namespace hosts (cluster.sh) in WORKDIR/cluster, runs COMMAND with
# CLUSTER (the cluster's directory), CLUSTER_SH (the script) and SLURM_HOSTS_SH (Slurm on the
# cluster, slurm_hosts.sh) in its environment, and always stops Slurm's daemons if COMMAND
# started them and takes the cluster down again: on success, failure, a signal, or the time
# limit that CTest imposes (its SIGTERM). Exits 77 (CTest's skip) where namespaces cannot be made, saying why.
set -u
hosts=$1 work=$2
shift 3
here=$(cd "$(dirname "$0")" && pwd)
export CLUSTER_SH=$here/cluster.sh
if ! why=$("$CLUSTER_SH" check 2>&1); then
  echo "SKIP: a cluster of network namespaces cannot be made here: $why"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
export CLUSTER=$work/cluster
export SLURM_HOSTS_SH=$here/slurm_hosts.sh
# Slurm's daemons first, by PID (a no-op where COMMAND started none), then the cluster.
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  [ -n "${child:-}" ] && kill -TERM "$child" 2>/dev/null
  timeout 60 "$SLURM_HOSTS_SH" down "$CLUSTER"
  "$CLUSTER_SH" down "$CLUSTER"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
"$CLUSTER_SH" up "$CLUSTER" "$hosts" || { echo "FAIL: the cluster did not come up"; exit 1; }
# COMMAND in the background and a wait, which a signal interrupts: the shell would run the TERM
# trap (and so the cleanup) only once a command in the foreground had ended.
"$@" &
child=$!
wait "$child"
status=$?
child=""
exit "$status"
