#!/usr/bin/env bash
# gpus.sh DPTRAIN none|some -- COMMAND...
# Runs COMMAND only if this machine has no GPU (none) or has one (some), as `dptrain info` tells;
# otherwise exits 77, which CTest reports as a skipped test.
set -u
dptrain=$1 want=$2
shift 3
count=$("$dptrain" info | sed -n 's/^cuda devices: \([0-9]*\).*/\1/p')
if { [ "$want" = none ] && [ "${count:-0}" -gt 0 ]; } || { [ "$want" = some ] && [ "${count:-0}" -eq 0 ]; }; then
  echo "skipped: this test needs $want GPUs; dptrain info says: cuda devices: ${count:-?}"
  exit 77
fi
exec "$@"
