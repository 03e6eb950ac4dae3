#!/usr/bin/env bash
# servers_across_hosts.sh DPTRAIN DATA (under with_cluster.sh with 2 hosts)
# Synchronous parameter servers across hosts, 2 hosts x 2 ranks: with 2 servers both on h1 and
# the 2 workers on h2, and with 1 server on h1 and workers on both hosts. Synchronous servers
# add the workers' gradients in worker order, as one rank adds its micro-batches, so each run
# must end bitwise equal to one rank computing the workers' rows as micro-batches (README,
# "Parameter servers"), with float sums and with --exact.
set -u
dptrain=$1 data=$2
run() {  # NAME RANKS PER-HOST TRAIN-ARGS...
  local name=$1 ranks=$2 per_host=$3
  shift 3
  timeout --kill-after=5 180 "$CLUSTER_SH" head "$CLUSTER" sh -c \
    "mpirun \$MPIRUN_ARGS -np $ranks --npernode $per_host $dptrain train --data $data --epochs 2 \
     --threads 1 --seed 5 --progress off --checkpoint-dir $CLUSTER/$name $*" >"$CLUSTER/$name.log" 2>&1 ||
    { cat "$CLUSTER/$name.log"; echo "FAIL: the run $name failed"; exit 1; }
  grep -E "^(dptrain|placement|ps): " "$CLUSTER/$name.log"
}
same() {  # A B
  local last
  last=$(ls "$CLUSTER/$1" | sort | tail -n 1)
  for group in /model /optimizer; do
    h5diff "$CLUSTER/$1/$last" "$CLUSTER/$2/$last" "$group" ||
      { echo "FAIL: $group of $1 and $2 differ ($last)"; exit 1; }
  done
  echo "PASS: $1 and $2 end bitwise equal ($last)"
}
for exact in "" --exact; do
  tag=${exact:+exact_}
  run "${tag}servers_on_h1" 4 2 --batch-size 8 --mode ps --ps-servers 2 $exact
  run "${tag}one_rank_2" 1 1 --batch-size 16 --micro-batch 8 $exact
  same "${tag}servers_on_h1" "${tag}one_rank_2"
  run "${tag}workers_on_both" 4 2 --batch-size 8 --mode ps $exact
  run "${tag}one_rank_3" 1 1 --batch-size 24 --micro-batch 8 $exact
  same "${tag}workers_on_both" "${tag}one_rank_3"
done
