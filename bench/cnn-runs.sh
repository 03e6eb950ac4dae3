#!/usr/bin/env bash
# bench/cnn-runs.sh [SEEDS]: the README's accuracy figures for the CNN (--model cnn).
#
# Trains the CNN on 2 MPI ranks x 32 rows (Adam 1e-3) for each seed (default: 0 1 2): 5 epochs
# on the real MNIST and 10 on Fashion-MNIST, and prints a markdown table: test accuracy after
# the last epoch and the best epoch's (min / mean / max over the seeds), and the epoch by which
# every seed had reached the target (99.0% and 90%) at least once. Speed is bench/step-breakdown.sh's.
# About 7 minutes a seed on 2 cores.
#
# Environment: DPTRAIN (default build/dptrain), MNIST (default datasets/mnist.h5), FASHION
# (default datasets/fashion-mnist.h5).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$repo/build/dptrain}
mnist=${MNIST:-$repo/datasets/mnist.h5}
fashion=${FASHION:-$repo/datasets/fashion-mnist.h5}
seeds=${1:-0 1 2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
source "$repo/bench/lib.sh"
for file in "$dptrain" "$mnist" "$fashion"; do
  [ -e "$file" ] || { echo "cnn-runs.sh: $file is missing (build, and datasets/fetch-*.sh)" >&2; exit 2; }
done

echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%d); seeds $seeds"
echo
echo "| data set | ranks x rows | epochs | test accuracy, last epoch: min / mean / max | best epoch: min / mean / max | target | epoch by which every seed reached it |"
echo "|---|---|---|---|---|---|---|"
for setup in "MNIST $mnist 5 0.99" "Fashion-MNIST $fashion 10 0.90"; do
  read -r name data epochs target <<<"$setup"
  : >"$work/last" && : >"$work/best" && : >"$work/reached"
  for seed in $seeds; do
    metrics="$work/$name-s$seed.jsonl"
    mpirun --oversubscribe -np 2 "$dptrain" train --model cnn --data "$data" --epochs "$epochs" \
      --batch-size 32 --seed "$seed" --progress off --metrics "$metrics" >/dev/null
    field "$metrics" test_accuracy | tail -n 1 >>"$work/last"
    field "$metrics" test_accuracy | sort -g | tail -n 1 >>"$work/best"
    # The first epoch at the target, or "never".
    field "$metrics" test_accuracy | awk -v t="$target" '$1 >= t { print NR; found = 1; exit }
                                                          END { if (!found) print "never" }' >>"$work/reached"
  done
  if grep -q never "$work/reached"; then
    reached="not every seed"
  else
    reached=$(sort -n "$work/reached" | tail -n 1)
  fi
  echo "| $name | 2 x 32 | $epochs | $(percent_range "$work/last") | $(percent_range "$work/best") |" \
    "$(awk -v t="$target" 'BEGIN { printf "%.1f%%", 100 * t }') | $reached |"
done
