#!/usr/bin/env bash
# faults.sh KIND DPTRAIN DATA [TRAIN OPTIONS...] (under with_cluster.sh with 2 hosts)
# A host lost in the middle of training, 2 hosts x 2 ranks: KIND is
#   link-down   h2's link loses its carrier
#   blackhole   every packet to and from h2 is dropped (the link stays up)
#   daemon      h2's Open MPI daemon (orted) is killed
# Within 30 s of the fault, mpirun must have exited non-zero and no dptrain process may be left
# on any host; the output must name the lost host: for a lost link, dptrain's one-line warning
# names h2 and its ranks (README, "Many hosts"); for a killed daemon the job ends within about
# 2 s, before any rank's warning, and Open MPI's own report names the host.
#   link-flap   h2's link goes down for 6 s and comes back: training must go on and finish.
# TRAIN OPTIONS go to every run, e.g. --bucket-kb 64: buckets between hosts are moved by a
# progress thread, which must not keep a rank from ending.
set -u
kind=$1 dptrain=$2 data=$3
shift 3
token=$(sed -n 's/^token=//p' "$CLUSTER/state")
log=$CLUSTER/train.log
ranks_left() {  # dptrain processes in the cluster's namespaces
  local target pid count=0
  for target in $(ip netns list | awk '{print $1}' | grep "^dpt${token}-"); do
    for pid in $(ip netns pids "$target"); do
      [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dptrain ] && count=$((count + 1))
    done
  done
  echo "$count"
}
layout=(-np 4 --npernode 2)
epochs=1000
# link-flap: enough epochs to outlast the fault, as many as fit the time limit; sanitizer builds
# run slower (tests/CMakeLists.txt, DPTRAIN_TEST_SLOWDOWN), so fewer of them.
slowdown=${DPTRAIN_TEST_SLOWDOWN:-1}
if [ "$kind" = link-flap ]; then layout=(-np 2 --npernode 1) epochs=$((15 / slowdown + 1)); fi
timeout --kill-after=5 $((200 * slowdown)) "$CLUSTER_SH" head "$CLUSTER" sh -c \
  "mpirun \$MPIRUN_ARGS ${layout[*]} $dptrain train --data $data --epochs $epochs --progress off $*" \
  >"$log" 2>&1 &
launcher=$!
# The fault, once every rank trains.
for _ in $(seq 1 100); do grep -q "^model: " "$log" && break; sleep 0.2; done
sleep 2
fault=$(date +%s%N)
case "$kind" in
  link-down) "$CLUSTER_SH" link "$CLUSTER" h2 down ;;
  blackhole) "$CLUSTER_SH" link "$CLUSTER" h2 blackhole ;;
  link-flap) "$CLUSTER_SH" link "$CLUSTER" h2 down; sleep 6; "$CLUSTER_SH" link "$CLUSTER" h2 up ;;
  daemon)
    for pid in $(ip netns pids "dpt${token}-h2"); do
      [ "$(cat "/proc/$pid/comm")" = orted ] && kill -KILL "$pid"
    done ;;
  *) echo "faults.sh: unknown fault $kind"; exit 2 ;;
esac
wait "$launcher"
status=$?
launcher_s=$((($(date +%s%N) - fault) / 1000000))
while [ "$(ranks_left)" -gt 0 ] && [ $((($(date +%s%N) - fault) / 1000000)) -lt 30000 ]; do
  sleep 0.2
done
left=$(ranks_left)
all_s=$((($(date +%s%N) - fault) / 1000000))
grep -vE "^epoch [0-9]+/" "$log"
echo "--- mpirun exited $status ${launcher_s} ms after the fault; $left dptrain process(es) left after ${all_s} ms"
if [ "$kind" = link-flap ]; then
  [ "$status" -eq 0 ] && grep -q "^epoch $epochs/$epochs " "$log" ||
    { echo "FAIL: training did not go on to its end after the link came back"; exit 1; }
  echo "PASS: h2's link was down 6 s; training went on and finished"
  exit 0
fi
failed=0
[ "$status" -ne 0 ] || { echo "FAIL: mpirun exited 0"; failed=1; }
[ "$left" -eq 0 ] || { echo "FAIL: $left rank(s) still running 30 s after the fault"; failed=1; }
if [ "$kind" = daemon ]; then
  grep -q "on node h2" "$log" || { echo "FAIL: no report names h2"; failed=1; }
else
  grep -qE "^dptrain: warning: rank 0: .* not heard from: h2 \(ranks 2-3\)$" "$log" ||
    { echo "FAIL: no line of dptrain names h2 and its ranks"; failed=1; }
fi
[ "$failed" -eq 0 ] && echo "PASS: $kind: every rank ended within 30 s, the lost host named"
exit "$failed"
