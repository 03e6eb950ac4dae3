# shellcheck shell=bash
# What the cluster tests share; sourced, not run. Needs CLUSTER and CLUSTER_SH (with_cluster.sh).

# train_on_cluster NAME RANKS PER-HOST DPTRAIN DATA TRAIN-ARGS...: 2 epochs on the cluster, one
# BLAS thread per rank, checkpoints in $CLUSTER/NAME; prints rank 0's set-up lines.
train_on_cluster() {
  local name=$1 ranks=$2 per_host=$3 dptrain=$4 data=$5
  shift 5
  timeout --kill-after=5 180 "$CLUSTER_SH" head "$CLUSTER" sh -c \
    "mpirun \$MPIRUN_ARGS -np $ranks --npernode $per_host $dptrain train --data $data --epochs 2 \
     --threads 1 --progress off --checkpoint-dir $CLUSTER/$name $*" >"$CLUSTER/$name.log" 2>&1 ||
    { cat "$CLUSTER/$name.log"; echo "FAIL: the run $name failed"; exit 1; }
  grep -E "^(dptrain|placement): " "$CLUSTER/$name.log"
}

source "$(dirname "${BASH_SOURCE[0]}")/../support/same_state.sh"

# same_runs A B: the last checkpoints of runs A and B hold the same /model and /optimizer.
same_runs() {
  local last
  last=$(ls "$CLUSTER/$1" | sort | tail -n 1)
  same_state "$CLUSTER/$1/$last" "$CLUSTER/$2/$last"
  echo "PASS: $1 and $2 end bitwise equal ($last)"
}
