#!/usr/bin/env bash
# kill_rank.sh RANK COMMAND...: starts an MPI job (COMMAND, e.g. mpirun ... dptrain train ...),
# waits until it trains, kills the process of world rank RANK with SIGKILL, and returns the job's
# exit status. A launcher that ends every rank gives a non-zero status quickly; one that leaves
# the others waiting hangs, and expect.sh's time limit catches that.
set -u
victim=$1
shift
"$@" &
job=$!
# The rank's process: a dptrain process whose environment names the rank.
find_rank() {
  for pid in $(pgrep -f "dptrain train"); do
    if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$victim"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}
pid=""
for _ in $(seq 100); do
  pid=$(find_rank) && break
  sleep 0.1
done
[ -n "$pid" ] || { echo "kill_rank: rank $victim never started"; kill "$job"; exit 1; }
sleep 3  # let it train
echo "kill_rank: SIGKILL to rank $victim (pid $pid)"
kill -9 "$pid"
wait "$job"
