#!/usr/bin/env bash
# bench/cluster-scaling.sh [EPOCHS]: scaling across 2 hosts made of network namespaces
# (tests/cluster/cluster.sh; needs root), as a markdown table (README, "Many hosts"). For each
# link (unshaped veth, 10 Gbit/s, 1 Gbit/s, shaped with tbf) x model x options, one rank per
# host trains EPOCHS epochs (default 2) of MNIST with 1 BLAS thread; samples/s is the median over
# the epochs after the first (epoch 1 holds the warm-up). Efficiency = samples/s on 2 hosts /
# (2 x samples/s of 1 rank alone on one host, measured in the same run). The exchange share is
# that of the step's phases (README, "Where the time went"). This machine's 2 cores run both
# hosts, so the kernel's TCP and shaping work competes with training: real NICs do less harm.
# ROWS (optional) is a file of "model|options" lines that replaces the default rows.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/bench/lib.sh"
if [ "${1:-}" != --inside ]; then
  on_two_hosts "$0" --inside "${1:-2}"
  exit
fi
epochs=$2
dptrain=${DPTRAIN:-$repo/build/dptrain}
data=${DATA:-$repo/datasets/mnist.h5}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# train LAYOUT OPTIONS...: prints "samples/s exchange-share test-accuracy" of one run.
train() {
  local layout=$1
  shift
  local metrics=$CLUSTER/${METRICS:-run}.jsonl
  timeout --kill-after=5 900 "$CLUSTER_SH" head "$CLUSTER" sh -c \
    "mpirun \$MPIRUN_ARGS $layout $dptrain train --data $data --epochs $epochs --threads 1 \
     --progress off --metrics $metrics --overwrite $*" </dev/null >"$CLUSTER/${METRICS:-run}.log" 2>&1 ||
    { cat "$CLUSTER/${METRICS:-run}.log" >&2; echo "cluster-scaling: the run failed: $layout $*" >&2; exit 1; }
  echo "$(median_field "$metrics" samples_per_second) $(phase_shares "$metrics" |
    awk -F' [|] ' '{print $4}') $(field "$metrics" test_accuracy | tail -n 1)"
}

rows=$(cat "${ROWS:-/dev/stdin}" <<'ROWS'
mlp|
mlp|--exchange-dtype bf16
cnn|
cnn|--exchange-dtype bf16
cnn|--bucket-kb 512
cnn|--bucket-kb 512 --exchange-dtype bf16
ROWS
)
# The machine's own ceiling: both hosts training at once without talking to each other (two
# 1-rank jobs) share its cores, caches and memory bus as the 2-host runs do, and no exchange
# can do better than they.
declare -A alone
for model in $(cut -d'|' -f1 <<<"$rows" | sort -u); do
  read -r speed _ _ < <(train "-np 1 --host h1" --model "$model")
  alone[$model]=$speed
  METRICS=h2 train "-np 1 --host h2" --model "$model" >"$CLUSTER/h2-alone" &
  other=$!
  read -r together _ _ < <(METRICS=h1 train "-np 1 --host h1" --model "$model")
  wait "$other"
  read -r together_h2 _ _ <"$CLUSTER/h2-alone"
  awk -v m="$model" -v a="$speed" -v t="$together" -v u="$together_h2" 'BEGIN {
    printf "%s: 1 rank alone %.0f samples/s; 2 separate 1-rank jobs at once, one per host: %.0f + %.0f = %.0f%% of 2 x alone\n", m, a, t, u, 100 * (t + u) / (2 * a) }'
done
echo
# Speed is measured on 2 hosts x 1 rank only: more ranks oversubscribe this machine's 2 cores
# (ctest -L cluster runs the larger layouts, for correctness and faults).
echo "| link | layout | model | options | samples/s | efficiency | exchange share | test accuracy |"
echo "|---|---|---|---|---|---|---|---|"
for rate in unshaped 10gbit 1gbit; do
  set_links "$rate"
  while IFS='|' read -r model options; do
    [ -n "$model" ] || continue
    # shellcheck disable=SC2086 # options are words
    read -r speed share accuracy < <(train "-np 2 --npernode 1" --model "$model" $options)
    awk -v r="$rate" -v m="$model" -v o="${options:-(defaults)}" -v s="$speed" -v a="${alone[$model]}" \
      -v x="$share" -v t="$accuracy" \
      'BEGIN { printf "| %s | 2 hosts x 1 rank | %s | %s | %.0f | %.0f%% | %s | %.2f%% |\n", r, m, o, s, 100 * s / (2 * a), x, 100 * t }'
  done <<<"$rows"
done
