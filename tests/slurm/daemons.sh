# shellcheck shell=bash
# What the Slurm test harnesses share (slurm_cluster.sh, tests/cluster/slurm_hosts.sh); sourced.
#
# munge_start DIR / munge_stop DIR: a munged of the tests' own, for Slurm's authentication: its
# key, socket, pid, log and seed files all live in DIR, so nothing is written to the machine's
# /etc, /run or /var, and no munged of the machine (or of another test) is used or disturbed.
# Slurm finds it through `AuthInfo=socket=DIR/munge.socket` in slurm.conf. The socket is a path
# in the file system, so daemons in other network namespaces reach it too.

# alive PID: a running process (a zombie, ended but not yet reaped, is not).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

# stop_daemon PIDFILE NAME: SIGTERM to the PID in PIDFILE, SIGKILL after 5 s; only if that
# process is NAME, so that a stale pid file never kills whatever has that PID now.
stop_daemon() {
  local file=$1 name=$2 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$file"
  return 0
}

munge_works() {
  local socket=$1/munge.socket
  timeout 5 munge -S "$socket" -n 2>/dev/null | timeout 5 unmunge -S "$socket" >/dev/null 2>&1
}

munge_start() {
  local dir=$1
  # munged insists: the key readable by its owner only, and the directories of its files
  # searchable by all (the socket's clients) and writable by their owner only.
  { mkdir -p "$dir" && chmod 755 "$dir"; } || { echo "munge: cannot make $dir" >&2; return 1; }
  if [ ! -s "$dir/munge.key" ]; then
    if ! dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none; then
      echo "munge: no key" >&2
      return 1
    fi
    chmod 400 "$dir/munge.key"
  fi
  # --origin as an address: munged would otherwise look its host name up, and no test may ask DNS.
  timeout 10 /usr/sbin/munged --origin=127.0.0.1 --key-file="$dir/munge.key" \
    --socket="$dir/munge.socket" --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
    --seed-file="$dir/munged.seed" ||
    { echo "munge: munged did not start: $(tail -n 3 "$dir/munged.log" 2>/dev/null)" >&2; return 1; }
  for _ in $(seq 50); do munge_works "$dir" && return 0; sleep 0.1; done
  echo "munge: no credential decodes with $dir/munge.socket" >&2
  return 1
}

munge_stop() { stop_daemon "$1/munged.pid" munged; }

# slurm_settings MUNGE_SOCKET: the slurm.conf lines that every test cluster shares (the one-node
# one and the namespace hosts' one); each adds its host names, paths and nodes.
slurm_settings() {
  cat <<CONF
SlurmUser=root
AuthType=auth/munge
# Our own munged (munge_start); Slurm's auth and cred plugins both read the socket from here.
# Slurm starts a requeued job again cred_expire + 1 s after it stopped: time for the last run's
# step daemons (and their PMIx sockets) and revoked credentials to go; 20 s, not the default 120.
AuthInfo=socket=$1,cred_expire=20
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# Nodes declare more CPUs than their share of this machine: accept it, do not drain them.
SlurmdParameters=config_overrides
SlurmctldPort=16817
SlurmdPort=16818
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
KillWait=5
CONF
}
