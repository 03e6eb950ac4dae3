#!/usr/bin/env bash
# mean_over_seeds.sh WORKDIR SEEDS MIN-MEAN CHECKER CHECK-ARGS... -- TRAIN-COMMAND...
# Trains TRAIN-COMMAND (which must not name --seed or --metrics) once for each of SEEDS, checks
# every run's metrics with CHECKER (its --min-accuracy is the floor of each run), and then that
# the final test accuracy averaged over the seeds is at least MIN-MEAN. One run's accuracy is
# chance in its last few images; the mean of n seeds has a spread sqrt(n) times smaller, which is
# what lets a test hold a product's claim (the Keras example's 97%) without a coin toss.
set -u
work=$1 seeds=$2 min_mean=$3 checker=$4
shift 4
check_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do check_args+=("$1"); shift; done
shift
rm -rf "$work" && mkdir -p "$work"
for seed in $seeds; do
  metrics="$work/seed$seed.jsonl"
  timeout --kill-after=10 600 "$@" --seed "$seed" --metrics "$metrics" >"$work/seed$seed.log" 2>&1 ||
    { cat "$work/seed$seed.log"; echo "FAIL: seed $seed: training exited with status $?"; exit 1; }
  "$checker" "$metrics" "${check_args[@]}" || { echo "FAIL: seed $seed"; exit 1; }
  tail -n 1 "$metrics" | grep -o '"test_accuracy":[0-9.e+-]*' | cut -d: -f2 >>"$work/accuracy"
done
awk -v min_mean="$min_mean" '{ s += $1; printf "seed accuracy %.4f\n", $1 }
     END { mean = s / NR; printf "mean over %d seeds: %.4f (at least %.4f needed)\n", NR, mean, min_mean
           if (mean < min_mean) { print "FAIL: the mean is below the floor"; exit 1 }
           print "PASS" }' "$work/accuracy"
