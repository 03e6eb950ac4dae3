#!/usr/bin/env bash
# layouts.sh DPTRAIN DATA HOSTS RANKS-PER-HOST (under with_cluster.sh)
# Trains one epoch across HOSTS hosts with RANKS-PER-HOST ranks each and checks what rank 0
# says of the layout: the hosts and their ranks, and that each host chose its ranks' BLAS
# threads from its own cores and ranks (every host here sees the machine's cores).
set -u
dptrain=$1 data=$2 hosts=$3 per_host=$4
ranks=$((hosts * per_host))
cores=$(nproc)
threads=$((cores / per_host > 0 ? cores / per_host : 1))
log=$CLUSTER/train.log
timeout --kill-after=5 120 "$CLUSTER_SH" head "$CLUSTER" sh -c \
  "mpirun \$MPIRUN_ARGS -np $ranks --npernode $per_host $dptrain train --data $data --epochs 1 \
   --batch-size 8 --progress off" >"$log" 2>&1
status=$?
cat "$log"
[ "$status" -eq 0 ] || { echo "FAIL: training across $hosts x $per_host exited $status"; exit 1; }
plural() { [ "$1" -eq 1 ] && echo "$2" || echo "$2s"; }
expected_layout="on $hosts hosts x $per_host $(plural "$per_host" rank) ("
placement=""
for h in $(seq 1 "$hosts"); do
  first=$(((h - 1) * per_host)) last=$((h * per_host - 1))
  list=$first
  [ "$last" -gt "$first" ] && list="$first-$last"
  expected_layout+="$([ "$h" -gt 1 ] && echo ", ")h$h: $list"
  who="rank $list: cpu, $threads $(plural "$threads" "BLAS thread")"
  [ "$last" -gt "$first" ] && who="ranks $list: cpu, $threads $(plural "$threads" "BLAS thread") each"
  placement+="$([ "$h" -gt 1 ] && echo "; ")h$h: $who"
done
expected_layout+=")"
grep -qF "dptrain: $ranks rank(s) $expected_layout" "$log" ||
  { echo "FAIL: no line says: $ranks rank(s) $expected_layout"; exit 1; }
grep -qxF "placement: $placement" "$log" || { echo "FAIL: no line says: placement: $placement"; exit 1; }
grep -q "^epoch 1/1 " "$log" || { echo "FAIL: no epoch finished"; exit 1; }
echo "PASS: $hosts hosts x $per_host ranks trained, layout and placement as expected"
