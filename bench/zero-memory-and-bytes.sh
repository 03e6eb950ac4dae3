#!/usr/bin/env bash
# bench/zero-memory-and-bytes.sh [RANKS]: what --shard-optimizer (ZeRO-1) saves and what it
# sends: MNIST, 1 epoch, RANKS ranks (default 4) x 32 rows, the MLP and the CNN, with and
# without it. Prints a markdown table of rank 0's optimizer state and of the bytes rank 0's ring
# sent per step (counted by the ring), from the --metrics line, with the test accuracy.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$repo/build/dptrain}
data=${DATA:-$repo/datasets/mnist.h5}
ranks=${1:-4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$repo/bench/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "| model | ranks | optimizer | optimizer state on rank 0 | bytes sent per step by rank 0 | test accuracy after 1 epoch |"
echo "|---|---|---|---|---|---|"
for model in mlp cnn; do
  for shard in "" --shard-optimizer; do
    timeout 1800 mpirun --oversubscribe -np "$ranks" "$dptrain" train --data "$data" \
      --model "$model" --epochs 1 --batch-size 32 --threads 1 --progress off $shard \
      --metrics "$work/run.jsonl" --overwrite </dev/null >"$work/log" 2>&1 ||
      { cat "$work/log" >&2; exit 1; }
    state=$(field "$work/run.jsonl" optimizer_state_bytes)
    sent=$(field "$work/run.jsonl" sent_bytes_per_step)
    accuracy=$(field "$work/run.jsonl" test_accuracy)
    awk -v m="$model" -v r="$ranks" -v z="${shard:-whole}" -v s="$state" -v b="$sent" -v a="$accuracy" \
      'BEGIN { printf "| %s | %s | %s | %d bytes | %d bytes | %.2f%% |\n", m, r, z == "whole" ? "whole on every rank" : "sharded (ZeRO-1)", s, b, 100 * a }' </dev/null
  done
done
