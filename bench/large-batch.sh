#!/usr/bin/env bash
# bench/large-batch.sh [RANKS...]: what the learning rate must do when the global batch grows
# (README, "Large global batches"): MNIST, 5 epochs, 32 rows per rank on 1, 4 and 8 ranks
# (default; global batch 32, 128, 256; oversubscribed ranks compute the same numbers, only
# slower), the MLP and the CNN, each with --lr 1e-3 as tuned for batch 32 and with the linear
# scaling rule plus a warm-up (--lr-scaling linear --warmup-epochs 1, and a cosine decay to 0 in
# a third column). Prints a markdown table of the final test accuracy and, for each run, the
# epoch at which the target (97% MLP, 99% CNN) was first reached. One seed (0): the spread over
# seeds is about 0.15 points (README, "Reproducibility").
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$repo/build/dptrain}
data=${DATA:-$repo/datasets/mnist.h5}
ranks_list=${*:-1 4 8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$repo/bench/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# ACCURACY (epoch of TARGET) of a metrics file.
summary() {  # FILE TARGET
  local last first
  last=$(field "$1" test_accuracy | tail -n 1)
  first=$(field "$1" test_accuracy | awk -v t="$2" '$1 >= t { print NR; exit }')
  awk -v a="$last" -v e="${first:+epoch $first}" \
    'BEGIN { printf "%.2f%% (%s)", 100 * a, e == "" ? "not reached" : e }' </dev/null
}

declare -A recipes=(
  [none]=""
  [linear]="--lr-scaling linear --warmup-epochs 1"
  [cosine]="--lr-scaling linear --warmup-epochs 1 --lr-schedule cosine"
)
echo "| model | ranks x rows | global batch | lr 1e-3 | linear scaling + 1 epoch warm-up | + cosine |"
echo "|---|---|---|---|---|---|"
for model in mlp cnn; do
  target=0.97
  [ "$model" = cnn ] && target=0.99
  for ranks in $ranks_list; do
    row="| $model | $ranks x 32 | $((ranks * 32)) |"
    for recipe in none linear cosine; do
      if [ "$ranks" = 1 ] && [ "$recipe" != none ]; then row+=" (scaling x1: the same) |"; continue; fi
      # shellcheck disable=SC2086
      timeout 3600 mpirun --oversubscribe -np "$ranks" "$dptrain" train --data "$data" \
        --model "$model" --epochs 5 --batch-size 32 --threads 1 --seed 0 --progress off \
        ${recipes[$recipe]} --metrics "$work/run.jsonl" --overwrite </dev/null >"$work/log" 2>&1 ||
        { cat "$work/log" >&2; exit 1; }
      row+=" $(summary "$work/run.jsonl" "$target") |"
    done
    echo "$row"
  done
done
