#!/usr/bin/env bash
# with_cluster.sh HOSTS WORKDIR -- COMMAND...
# Makes a cluster of HOSTS namespace hosts (cluster.sh) in WORKDIR/cluster, runs COMMAND with
# CLUSTER (the cluster's directory) and CLUSTER_SH (the script) in its environment, and always
# takes the cluster down again: on success, failure, a signal, or the time limit that CTest
# imposes (its SIGTERM). Exits 77 (CTest's skip) where namespaces cannot be made, saying why.
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
cleanup() { "$CLUSTER_SH" down "$CLUSTER"; }
trap cleanup EXIT
trap 'exit 143' TERM INT
"$CLUSTER_SH" up "$CLUSTER" "$hosts" || { echo "FAIL: the cluster did not come up"; exit 1; }
"$@"
