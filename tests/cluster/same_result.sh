#!/usr/bin/env bash
# same_result.sh DPTRAIN DATA (under with_cluster.sh with 2 hosts)
# Across hosts, the mathematics is that of one host: the same ranks in the same ring order sum
# the same bits, so (with one BLAS thread everywhere, README "Reproducibility")
#   2 hosts x 1 rank   == 1 host x 2 ranks
#   2 hosts x 2 ranks  == 1 host x 4 ranks
# bit for bit, and with --exact 2 hosts x 2 ranks == 1 rank in micro-batches of the same rows.
# /model and /optimizer of the runs' last checkpoints are compared with h5diff.
set -u
dptrain=$1 data=$2
run() {  # NAME RANKS PER-HOST TRAIN-ARGS...
  local name=$1 ranks=$2 per_host=$3
  shift 3
  timeout --kill-after=5 180 "$CLUSTER_SH" head "$CLUSTER" sh -c \
    "mpirun \$MPIRUN_ARGS -np $ranks --npernode $per_host $dptrain train --data $data --epochs 2 \
     --threads 1 --seed 7 --progress off --checkpoint-dir $CLUSTER/$name $*" >"$CLUSTER/$name.log" 2>&1 ||
    { cat "$CLUSTER/$name.log"; echo "FAIL: the run $name failed"; exit 1; }
  grep "^dptrain: " "$CLUSTER/$name.log"
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
run across2 2 1 --batch-size 16
run one_host2 2 2 --batch-size 16
same across2 one_host2
run across4 4 2 --batch-size 8
run one_host4 4 4 --batch-size 8
same across4 one_host4
run exact_across4 4 2 --batch-size 8 --exact
run exact_one_rank 1 1 --batch-size 32 --micro-batch 8 --exact
same exact_across4 exact_one_rank
