#!/usr/bin/env bash
# launcher.sh DPTRAIN DATA (under with_cluster.sh with 2 hosts)
# launch/dptrain-hosts across the cluster: its mpirun line carries the keepalive settings, and
# one rank per host trains.
set -u
dptrain=$1 data=$2
here=$(cd "$(dirname "$0")/../.." && pwd)
log=$CLUSTER/launcher.log
timeout --kill-after=5 120 "$CLUSTER_SH" head "$CLUSTER" sh -c \
  "DPTRAIN=$dptrain DPTRAIN_MPIRUN_ARGS=\"\$MPIRUN_NETWORK_ARGS\" $here/launch/dptrain-hosts \
   --hostfile $CLUSTER/hostfile --npernode 1 --data $data --epochs 1 --batch-size 8 \
   --progress off" >"$log" 2>&1
status=$?
cat "$log"
[ "$status" -eq 0 ] || { echo "FAIL: dptrain-hosts exited $status"; exit 1; }
grep -q "^dptrain-hosts: mpirun .*--mca oob_tcp_keepalive_time 5 --mca oob_tcp_keepalive_intvl 2 --mca oob_tcp_keepalive_probes 3" "$log" ||
  { echo "FAIL: no keepalive settings"; exit 1; }
grep -q "^dptrain: 2 rank(s) on 2 hosts x 1 rank (h1: 0, h2: 1)" "$log" || { echo "FAIL: not 2 x 1"; exit 1; }
grep -q "^epoch 1/1 " "$log" || { echo "FAIL: no epoch"; exit 1; }
echo "PASS: dptrain-hosts trained across 2 hosts with the keepalive settings"
