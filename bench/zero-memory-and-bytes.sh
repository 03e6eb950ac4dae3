#!/usr/bin/env bash
# bench/zero-memory-and-bytes.sh [RANKS]: what --shard-optimizer (ZeRO-1) saves and what it
# sends: MNIST, 1 epoch, RANKS ranks (default 4) x 32 rows, the MLP and the CNN, with and
# without it. Prints a markdown table of the optimizer's state on rank 0 and on all ranks
# together, and of the bytes the ring sent per step (counted by the ring) from rank 0 and from all
# ranks together, from the --metrics line, with the test accuracy.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$repo/build/dptrain}
data=${DATA:-$repo/datasets/mnist.h5}
ranks=${1:-4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$repo/bench/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "| model | ranks | optimizer state | state: rank 0 / all ranks (bytes) | sent per step: rank 0 / all ranks (bytes) | test accuracy after 1 epoch |"
echo "|---|---|---|---|---|---|"
for model in mlp cnn; do
  for shard in "" --shard-optimizer; do
    timeout 1800 mpirun --oversubscribe -np "$ranks" "$dptrain" train --data "$data" \
      --model "$model" --epochs 1 --batch-size 32 --threads 1 --progress off $shard \
      --metrics "$work/run.jsonl" --overwrite </dev/null >"$work/log" 2>&1 ||
      { cat "$work/log" >&2; exit 1; }
    state=$(field "$work/run.jsonl" optimizer_state_bytes)
    all_state=$(field "$work/run.jsonl" all_ranks_optimizer_state_bytes)
    sent=$(field "$work/run.jsonl" sent_bytes_per_step)
    all_sent=$(field "$work/run.jsonl" all_ranks_sent_bytes_per_step)
    accuracy=$(field "$work/run.jsonl" test_accuracy)
    awk -v m="$model" -v r="$ranks" -v z="${shard:-whole}" -v s="$state" -v S="$all_state" \
      -v b="$sent" -v B="$all_sent" -v a="$accuracy" 'BEGIN {
        printf "| %s | %s | %s | %d / %d | %d / %d | %.2f%% |\n", m, r,
          z == "whole" ? "whole on every rank" : "sharded (ZeRO-1)", s, S, b, B, 100 * a }' </dev/null
  done
done
