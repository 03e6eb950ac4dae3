#!/usr/bin/env bash
# signal_rank.sh SIGNAL RANK WAIT_FOR COMMAND...: starts an MPI job (COMMAND), waits until the
# file WAIT_FOR exists and is not empty (or 3 s if WAIT_FOR is "-"), sends SIGNAL (e.g. TERM,
# STOP, KILL) to the process of world rank RANK, and returns the job's exit status.
set -u
signal=$1 victim=$2 wait_for=$3
shift 3
# The job's processes carry this tag in their environment (mpirun passes it on), so that the rank
# found is this job's, not that of another test's job running beside it.
export DPTRAIN_SIGNAL_TAG="signal_rank-$$"
"$@" &
job=$!
find_rank() {
  local environ
  for pid in $(pgrep -f "dptrain train"); do
    environ=$({ tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null) || continue
    if grep -qx "OMPI_COMM_WORLD_RANK=$victim" <<<"$environ" &&
      grep -qx "DPTRAIN_SIGNAL_TAG=$DPTRAIN_SIGNAL_TAG" <<<"$environ"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}
# Sanitizer builds run slower (tests/CMakeLists.txt, DPTRAIN_TEST_SLOWDOWN): the waits too.
slowdown=${DPTRAIN_TEST_SLOWDOWN:-1}
pid=""
for _ in $(seq $((300 * slowdown))); do
  pid=$(find_rank) && break
  sleep 0.1
done
[ -n "$pid" ] || { echo "signal_rank: rank $victim never started"; kill "$job"; exit 1; }
if [ "$wait_for" = - ]; then
  sleep $((3 * slowdown))
else
  for _ in $(seq $((600 * slowdown))); do
    [ -s "$wait_for" ] && break
    sleep 0.1
  done
fi
echo "signal_rank: SIG$signal to rank $victim (pid $pid)"
kill -s "$signal" "$pid"
wait "$job"
