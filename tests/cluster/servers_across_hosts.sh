#!/usr/bin/env bash
# servers_across_hosts.sh DPTRAIN DATA (under with_cluster.sh with 2 hosts)
# Synchronous parameter servers across hosts, 2 hosts x 2 ranks: with 2 servers both on h1 and
# the 2 workers on h2, and with 1 server on h1 and workers on both hosts. Synchronous servers
# add the workers' gradients in worker order, as one rank adds its micro-batches, so each run
# must end bitwise equal to one rank computing the workers' rows as micro-batches (README,
# "Parameter servers"), with float sums and with --exact.
set -u
dptrain=$1 data=$2
source "$(dirname "$0")/lib.sh"
run() { train_on_cluster "$1" "$2" "$3" "$dptrain" "$data" --seed 5 "${@:4}"; }
for exact in "" --exact; do
  tag=${exact:+exact_}
  run "${tag}servers_on_h1" 4 2 --batch-size 8 --mode ps --ps-servers 2 $exact
  run "${tag}one_rank_2" 1 1 --batch-size 16 --micro-batch 8 $exact
  same_runs "${tag}servers_on_h1" "${tag}one_rank_2"
  run "${tag}workers_on_both" 4 2 --batch-size 8 --mode ps $exact
  run "${tag}one_rank_3" 1 1 --batch-size 24 --micro-batch 8 $exact
  same_runs "${tag}workers_on_both" "${tag}one_rank_3"
done
