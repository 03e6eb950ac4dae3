#!/usr/bin/env bash
# bench/ps-vs-allreduce.sh [EPOCHS] [REPEATS]: allreduce against synchronous and asynchronous
# parameter servers, all with 3 replicas of 32 rows on the real MNIST (default 3 epochs), each
# run REPEATS times (default 3), printed as a markdown table: training samples/s (median of the
# runs' means over epochs, and the range), final test accuracy and the staleness seen (last run).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$repo/build/dptrain}
data=${DATA:-$repo/datasets/mnist.h5}
epochs=${1:-3}
repeats=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

field() { { grep -o "\"$2\":[-0-9.e+]*" "$1" || true; } | cut -d: -f2; }

echo "| mode | ranks | samples/s: median (min - max) | test accuracy after $epochs epochs | most steps apart |"
echo "|---|---|---|---|---|"
while IFS='|' read -r name ranks flags; do
  metrics="$work/run.jsonl"
  : >"$work/speeds"
  for _ in $(seq "$repeats"); do
    # shellcheck disable=SC2086
    mpirun --oversubscribe -np "$ranks" "$dptrain" train --data "$data" --epochs "$epochs" \
      --progress off --metrics "$metrics" --overwrite $flags </dev/null >/dev/null
    field "$metrics" samples_per_second | awk '{s+=$1} END{printf "%.0f\n", s/NR}' >>"$work/speeds"
  done
  speed=$(sort -n "$work/speeds" | awk '{v[NR]=$1} END{printf "%d (%d - %d)", v[int((NR+1)/2)], v[1], v[NR]}')
  accuracy=$(field "$metrics" test_accuracy | tail -n 1 | awk '{printf "%.2f%%", 100*$1}')
  staleness=$(field "$metrics" max_staleness | sort -n | tail -n 1)
  echo "| $name | $ranks | $speed | $accuracy | ${staleness:--} |"
done <<'RUNS'
allreduce|3|--mode allreduce
synchronous PS, 1 server|4|--mode ps --ps-servers 1
synchronous PS, 2 servers|5|--mode ps --ps-servers 2
asynchronous PS, 1 server, staleness 2|4|--mode ps --ps-servers 1 --ps-async --ps-staleness 2
asynchronous PS, 2 servers, staleness 2|5|--mode ps --ps-servers 2 --ps-async --ps-staleness 2
RUNS
