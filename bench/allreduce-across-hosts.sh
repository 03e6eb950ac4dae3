#!/usr/bin/env bash
# bench/allreduce-across-hosts.sh [MAX_BYTES]: the allreduce benchmark (dptrain_allreduce_bench)
# between 2 hosts made of network namespaces (needs root), 1 rank each, on an unshaped veth and
# at 10 and 1 Gbit/s (tbf): the time of recursive doubling and of the ring at every size from
# 1 KiB to MAX_BYTES (default 4 MiB), for the crossover that RingAllreduce::kDoublingUpTo
# follows (README, "Many hosts"). Prints Google Benchmark's table per link.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/bench/lib.sh"
if [ "${1:-}" != --inside ]; then
  on_two_hosts "$0" --inside "${1:-4194304}"
  exit
fi
max=$2
bench=${BENCH:-$repo/build/bench/dptrain_allreduce_bench}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# The sizes up to max, as the benchmark's arguments (powers of 2 from 1 KiB).
sizes=""
for ((bytes = 1024; bytes <= max; bytes *= 2)); do sizes+="${sizes:+|}$bytes"; done
for rate in unshaped 10gbit 1gbit; do
  set_links "$rate"
  echo "=== link: $rate"
  timeout --kill-after=5 600 "$CLUSTER_SH" head "$CLUSTER" sh -c \
    "mpirun \$MPIRUN_ARGS -np 2 --npernode 1 $bench --benchmark_filter='/($sizes)/' \
     --benchmark_counters_tabular=true --benchmark_color=false" </dev/null 2>&1 |
    grep -E "^(Benchmark|Ring|MPI_|-)" || true
done
