#!/usr/bin/env bash
# exchange.sh DPTRAIN DATA (under with_cluster.sh with 2 hosts): the exchange's options across
# hosts (README, "Many hosts").
#   - Buckets between hosts are moved by the progress thread (rank 0 says so); with 2 ranks
#     every float sum is a + b, the same bits whatever the buckets, so a bucketed 2 x 1 run ends
#     bitwise equal to an unbucketed one.
#   - --allreduce hierarchical on 2 x 2, with bf16 between hosts: replicas stay identical
#     (compared every 4 steps); with --exact it ends bitwise equal to the flat ring's run.
set -u
dptrain=$1 data=$2
source "$(dirname "$0")/lib.sh"
says() {  # says RUN TEXT: rank 0's set-up of RUN names TEXT
  grep -qF "$2" "$CLUSTER/$1.log" || { cat "$CLUSTER/$1.log"; echo "FAIL: $1 does not say '$2'"; exit 1; }
}

train_on_cluster buckets 2 1 "$dptrain" "$data" --seed 3 --batch-size 16 --bucket-kb 4
says buckets "gradients: mpi ring allreduce, progressed by a thread"
train_on_cluster whole 2 1 "$dptrain" "$data" --seed 3 --batch-size 16
same_runs buckets whole

run() { train_on_cluster "$1" 4 2 "$dptrain" "$data" --seed 5 --batch-size 8 "${@:2}"; }
run float --allreduce hierarchical --check-replicas-every 4 --exchange-dtype bf16
says float "gradients: mpi hierarchical allreduce (2 host(s): rings within, a ring of leaders across), sent as bf16"
echo "PASS: 2 x 2, hierarchical, bf16 between hosts: replicas identical every 4 steps"
run exact_hierarchical --allreduce hierarchical --exact
run exact_ring --exact
same_runs exact_hierarchical exact_ring
