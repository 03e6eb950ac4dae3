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
source "$(dirname "$0")/lib.sh"
run() { train_on_cluster "$1" "$2" "$3" "$dptrain" "$data" --seed 7 "${@:4}"; }
run across2 2 1 --batch-size 16
run one_host2 2 2 --batch-size 16
same_runs across2 one_host2
run across4 4 2 --batch-size 8
run one_host4 4 4 --batch-size 8
same_runs across4 one_host4
run exact_across4 4 2 --batch-size 8 --exact
run exact_one_rank 1 1 --batch-size 32 --micro-batch 8 --exact
same_runs exact_across4 exact_one_rank
