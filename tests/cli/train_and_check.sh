#!/usr/bin/env bash
# train_and_check.sh METRICS CHECKER CHECK-ARGS... -- TRAIN-COMMAND...
# Runs a training command that writes METRICS, under a time limit, then checks the metrics file.
set -u
metrics=$1 checker=$2
shift 2
check_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do check_args+=("$1"); shift; done
shift
rm -f "$metrics"
timeout --kill-after=10 600 "$@" || { echo "FAIL: training exited with status $?"; exit 1; }
"$checker" "$metrics" "${check_args[@]}"
