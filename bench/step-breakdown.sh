#!/usr/bin/env bash
# bench/step-breakdown.sh: where a training step's time goes, read against the machine's limit.
#
# For (a) the reference MLP 784-64-10 with 32 rows per rank, (b) 784-1024-1024-10 with 256 and
# (c) the CNN (--model cnn) with 32, trains on the real MNIST with 1 and 2 ranks, one BLAS
# thread per rank (and 1 rank with one thread per core, for comparison), and prints markdown
# tables of:
#   - training samples/s, the speed-up over 1 rank, the step's achieved GFLOP/s per rank and its
#     share of the sgemm GFLOP/s of the same GEMM shapes on one core, and the share of the step
#     spent in each phase (from dptrain's own phase timers, --metrics phase_seconds);
#   - the sgemm limit itself: every GEMM shape of the step run alone by Google Benchmark
#     (build/bench/dptrain_kernels_bench), added up;
#   - the bucketed gradient exchange (--bucket-kb) on 2 ranks against one allreduce after backward;
#   - --exact (fixed-point gradient sums) against the default float sums, on 1 and 2 ranks, with
#     the collectives and bytes each rank reduces per step (--metrics allreduce).
# Figures are medians over the epochs after the first, taken in one run of this script: compare
# them with each other, not with another machine's or another day's.
#
# Environment: DPTRAIN (binary, default build/dptrain), BENCH (default
# build/bench/dptrain_kernels_bench), DATA (default datasets/mnist.h5), EPOCHS_A (default 4),
# EPOCHS_B (default 2), EPOCHS_C (default 2), MODELS (an extended regex: only the models whose
# names match, e.g. MODELS=cnn; default all), SECTIONS (an extended regex over steps, buckets and
# exact: only those tables, e.g. SECTIONS=exact; default all). About 15 minutes on 2 cores.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$repo/build/dptrain}
bench=${BENCH:-$repo/build/bench/dptrain_kernels_bench}
data=${DATA:-$repo/datasets/mnist.h5}
epochs_a=${EPOCHS_A:-4}
epochs_b=${EPOCHS_B:-2}
epochs_c=${EPOCHS_C:-2}
cores=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for file in "$dptrain" "$bench" "$data"; do
  [ -e "$file" ] || { echo "step-breakdown.sh: $file is missing (build, and datasets/fetch-mnist.sh)" >&2; exit 2; }
done

# model name (as in the kernels benchmark) | dptrain's model options | rows per rank | epochs
models="reference_784_64_10_b32|--hidden 64|32|$epochs_a
large_784_1024_1024_10_b256|--hidden 1024,1024|256|$epochs_b
cnn_b32|--model cnn|32|$epochs_c"
models=$(grep -E "^[^|]*(${MODELS:-.})" <<<"$models") ||
  { echo "step-breakdown.sh: no model matches MODELS='$MODELS'" >&2; exit 2; }

# The sgemm limit of each model's step: the flops of all its GEMMs over their summed times.
"$bench" --benchmark_filter='^Sgemm/' --benchmark_format=csv --benchmark_min_time=0.5 \
  2>/dev/null | tr -d '"' >"$work/sgemm.csv"
limit() {  # MODEL -> "flops_per_step gflops"
  awk -F, -v model="$1" '$1 ~ "^Sgemm/" model "/" {
      t = $3 * 1e-9; flops += $11 * 1e9 * t; seconds += t
    } END { printf "%.0f %.2f\n", flops, flops / seconds * 1e-9 }' "$work/sgemm.csv"
}

source "$repo/bench/lib.sh"

train() {  # RANKS THREADS MODEL-OPTIONS ROWS EPOCHS METRICS [FLAGS...]
  local ranks=$1 threads=$2 model=$3 rows=$4 epochs=$5 metrics=$6
  shift 6
  # shellcheck disable=SC2086 # the model options are words
  mpirun --oversubscribe --bind-to none -np "$ranks" "$dptrain" train --data "$data" \
    $model --batch-size "$rows" --epochs "$epochs" --threads "$threads" \
    --progress off --metrics "$metrics" --overwrite "$@" </dev/null >"$work/log" 2>&1 ||
    { cat "$work/log" >&2; exit 1; }
}

sections=${SECTIONS:-.}
section() { [[ "$1" =~ $sections ]]; }

echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $cores cores; $(date -u +%Y-%m-%d)"
if section steps; then
echo
echo "| model | ranks x BLAS threads | samples/s | vs 1 rank | GFLOP/s per rank | of sgemm | data | forward | backward | exchange | optimizer |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
limits=""
while IFS='|' read -r name model rows epochs; do
  read -r flops sgemm < <(limit "$name")
  limits+="| $name | $sgemm | $(awk -v f="$flops" -v g="$sgemm" -v r="$rows" 'BEGIN { printf "%.0f", g * 1e9 / f * r }') |"$'\n'
  base=""
  for setup in "1 1" "1 $cores" "2 1"; do
    read -r ranks threads <<<"$setup"
    [ "$ranks" -le "$cores" ] || continue
    train "$ranks" "$threads" "$model" "$rows" "$epochs" "$work/m.jsonl"
    speed=$(median_field "$work/m.jsonl" samples_per_second)
    [ -n "$base" ] || base=$speed
    awk -v s="$speed" -v b="$base" -v f="$flops" -v r="$rows" -v n="$ranks" -v g="$sgemm" \
      -v name="$name" -v setup="$ranks x $threads" -v shares="$(phase_shares "$work/m.jsonl")" \
      'BEGIN { per_rank = s / n * f / r * 1e-9
               printf "| %s | %s | %.0f | %.2fx | %.1f | %.0f%% | %s |\n", name, setup, s, s / b,
                 per_rank, 100 * per_rank / g, shares }'
  done
done <<<"$models"

echo
echo "sgemm on one core, every GEMM shape of the step alone, added up (the step's limit):"
echo
echo "| model | sgemm GFLOP/s | samples/s per core at that rate |"
echo "|---|---|---|"
printf '%s' "$limits"
fi

if section buckets; then
echo
echo "Bucketed gradient exchange, 2 ranks x 1 thread (samples/s; 0 = one allreduce after backward):"
echo
echo "| model | --bucket-kb 0 | 64 | 256 | 1024 | 4096 |"
echo "|---|---|---|---|---|---|"
while IFS='|' read -r name model rows epochs; do
  row="| $name |"
  for kb in 0 64 256 1024 4096; do
    train 2 1 "$model" "$rows" "$epochs" "$work/m.jsonl" --bucket-kb "$kb"
    row+=" $(median_field "$work/m.jsonl" samples_per_second | awk '{ printf "%.0f", $1 }') |"
  done
  echo "$row"
done <<<"$models"
fi

if section exact; then
echo
echo "--exact against the default float sums, 1 thread per rank (samples/s; per step and rank: the"
echo "collectives and the bytes they reduce, of which a ring sends 2 (ranks - 1) / ranks):"
echo
echo "| model | ranks | default samples/s | --exact samples/s | --exact / default | default: collectives, bytes | --exact: collectives, bytes |"
echo "|---|---|---|---|---|---|---|"
exchange() {  # METRICS -> "collectives, bytes" of the last epoch, or "-" without an exchange
  local line
  line=$(tail -n 1 "$1" | grep -o '"allreduce":{[^}]*}') || { echo "-"; return; }
  echo "$(grep -o '"collectives_per_step":[0-9]*' <<<"$line" | cut -d: -f2), $(grep -o '"bytes_per_step":[0-9]*' <<<"$line" | cut -d: -f2)"
}
while IFS='|' read -r name model rows epochs; do
  for ranks in 1 2; do
    [ "$ranks" -le "$cores" ] || continue
    train "$ranks" 1 "$model" "$rows" "$epochs" "$work/float.jsonl"
    train "$ranks" 1 "$model" "$rows" "$epochs" "$work/exact.jsonl" --exact
    float=$(median_field "$work/float.jsonl" samples_per_second)
    exact=$(median_field "$work/exact.jsonl" samples_per_second)
    volumes="$(exchange "$work/float.jsonl") | $(exchange "$work/exact.jsonl")"
    [ "$ranks" -gt 1 ] || volumes="- | -"
    awk -v name="$name" -v ranks="$ranks" -v f="$float" -v e="$exact" -v volumes="$volumes" \
      'BEGIN { printf "| %s | %d | %.0f | %.0f | %.2f | %s |\n", name, ranks, f, e, e / f, volumes }'
  done
done <<<"$models"
fi
