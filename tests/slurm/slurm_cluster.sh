#!/usr/bin/env bash
# slurm_cluster.sh start DIR | stop DIR
# A one-node Slurm cluster for tests, from Debian's slurm-wlm and munge, without systemd: its
# configuration, state, logs and pid files all live in DIR. `start` prints the SLURM_CONF to
# export and returns once the node is idle; `stop` ends every daemon that `start` started.
set -u
action=$1 dir=$2
conf=$dir/slurm.conf
fail() { echo "slurm_cluster: $*" >&2; exit 1; }

start() {
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  # munge: reuse a running daemon; otherwise start one, with a key of our own if there is none.
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    if [ ! -s /etc/munge/munge.key ]; then
      mkdir -p /etc/munge && chmod 700 /etc/munge
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
      chown munge:munge /etc/munge/munge.key 2>/dev/null || true
      chmod 400 /etc/munge/munge.key
      touch "$dir/munge-key-created"
    fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
    /usr/sbin/munged --force || fail "munged did not start"
    pgrep -n munged >"$dir/munged.pid"
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null || fail "munge does not work"
  fi
  local host cpus
  host=$(hostname)
  cpus=4  # more than this machine may have: SlurmdParameters=config_overrides accepts it
  cat >"$conf" <<CONF
ClusterName=dptrain-test
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
# Slurm waits cred_expire + 1 s before it starts a requeued job again: time for the last run's
# step daemons (and their PMIx sockets) and revoked credentials to go; 20 s, not the default 120.
AuthInfo=cred_expire=20
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SlurmctldPort=16817
SlurmdPort=16818
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
KillWait=5
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
  for daemon in slurmd slurmctld munged; do
    [ -s "$dir/$daemon.pid" ] || continue
    pid=$(cat "$dir/$daemon.pid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    rm -f "$dir/$daemon.pid"
  done
  [ -e "$dir/munge-key-created" ] && rm -f /etc/munge/munge.key "$dir/munge-key-created"
  return 0
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) fail "usage: slurm_cluster.sh start|stop DIR" ;;
esac
