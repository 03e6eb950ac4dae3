#!/usr/bin/env bash
# bench/exchange-dtype-accuracy.sh [SEEDS]: what narrowing the exchanged gradients
# (--exchange-dtype) does to accuracy: 2 ranks x 32 rows, 5 epochs of MNIST, MLP and CNN, each
# wire type with seeds 0..SEEDS-1 (default 3), as a markdown table of the final test accuracy
# (min / mean / max over the seeds). Narrowing happens only between ranks, so 2 ranks on one
# host show what any layout would.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$repo/build/dptrain}
data=${DATA:-$repo/datasets/mnist.h5}
seeds=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$repo/bench/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "| model | --exchange-dtype | test accuracy after 5 epochs: min / mean / max | seeds |"
echo "|---|---|---|---|"
for model in mlp cnn; do
  for dtype in fp32 bf16 fp16; do
    : >"$work/accuracies"
    for seed in $(seq 0 $((seeds - 1))); do
      mpirun --oversubscribe -np 2 "$dptrain" train --data "$data" --model "$model" --epochs 5 \
        --threads 1 --seed "$seed" --exchange-dtype "$dtype" --progress off \
        --metrics "$work/run.jsonl" --overwrite </dev/null >/dev/null
      field "$work/run.jsonl" test_accuracy | tail -n 1 >>"$work/accuracies"
    done
    echo "| $model | $dtype | $(percent_range "$work/accuracies") | $seeds |"
  done
done
