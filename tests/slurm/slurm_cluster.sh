#!/usr/bin/env bash
# slurm_cluster.sh start DIR | stop DIR
# A one-node Slurm cluster for tests, from Debian's slurm-wlm and munge, without systemd: its
# configuration, state, logs, pid files and its munged (daemons.sh) all live in DIR. `start`
# prints the SLURM_CONF to export and returns once the node is idle; `stop` ends every daemon
# that `start` started, by PID.
set -u
action=$1 dir=$2
conf=$dir/slurm.conf
# shellcheck source-path=SCRIPTDIR source=daemons.sh
source "$(dirname "$0")/daemons.sh"
fail() { echo "slurm_cluster: $*" >&2; exit 1; }

start() {
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  # munge: a daemon of our own, with its key and socket in DIR (daemons.sh); never the machine's.
  munge_start "$dir/munge" || fail "no munge"
  local host cpus
  host=$(hostname)
  cpus=4  # more than this machine may have: SlurmdParameters=config_overrides accepts it
  cat >"$conf" <<CONF
ClusterName=dptrain-test
SlurmctldHost=$host
$(slurm_settings "$dir/munge/munge.socket")
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
  export SLURM_CONF=$conf
  /usr/sbin/slurmctld -f "$conf" || fail "slurmctld did not start (see $dir/log)"
  /usr/sbin/slurmd -f "$conf" || fail "slurmd did not start (see $dir/log)"
  for _ in $(seq 100); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && { echo "export SLURM_CONF=$conf"; return 0; }
    sleep 0.2
  done
  fail "the node did not become idle: $(sinfo 2>&1)"
}

stop() {
  stop_daemon "$dir/slurmd.pid" slurmd
  stop_daemon "$dir/slurmctld.pid" slurmctld
  munge_stop "$dir/munge"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) fail "usage: slurm_cluster.sh start|stop DIR" ;;
esac
