#!/usr/bin/env bash
# bench/mnist-runs.sh [SEEDS]: the README's accuracy and throughput figures.
#
# Trains the reference MLP (784-64-10, Adam 1e-3, 5 epochs) on the real MNIST for each seed
# (default: 0 1 2 3 4) in three set-ups and prints a markdown table: final test accuracy (min,
# mean, max over the seeds) and training samples/s (mean over epochs and seeds).
#   1 rank  x 32 rows   the Keras example as written (global batch 32)
#   2 ranks x 16 rows   the same global batch on 2 ranks: the same training, split
#   2 ranks x 32 rows   the README's reference command (global batch 64, half the steps)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$repo/build/dptrain}
data=${DATA:-$repo/datasets/mnist.h5}
seeds=${1:-0 1 2 3 4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

source "$repo/bench/lib.sh"

echo "| ranks x rows per rank | global batch | test accuracy after 5 epochs: min / mean / max | samples/s |"
echo "|---|---|---|---|"
for setup in "1 32" "2 16" "2 32"; do
  read -r ranks batch <<<"$setup"
  : >"$work/accuracy" && : >"$work/speed"
  for seed in $seeds; do
    metrics="$work/np$ranks-b$batch-s$seed.jsonl"
    mpirun --oversubscribe -np "$ranks" "$dptrain" train --data "$data" --epochs 5 \
      --batch-size "$batch" --seed "$seed" --progress off --metrics "$metrics" >/dev/null
    field "$metrics" test_accuracy | tail -n 1 >>"$work/accuracy"
    field "$metrics" samples_per_second >>"$work/speed"
  done
  accuracy=$(percent_range "$work/accuracy")
  speed=$(awk '{s+=$1} END{printf "%.0f", s/NR}' "$work/speed")
  echo "| $ranks x $batch | $((ranks * batch)) | $accuracy | $speed |"
done
