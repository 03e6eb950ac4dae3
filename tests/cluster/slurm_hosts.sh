#!/usr/bin/env bash
# slurm_hosts.sh: Slurm on a cluster of namespace hosts (cluster.sh), for tests and by hand
# (README, "Many hosts"). slurmctld and its munged run on the head, one slurmd on every host;
# configuration, state, logs and munged's key and socket live in DIR/slurm, what each slurmd
# keeps by host (spool, pid file, TmpFS) in /tmp/dptslurm-TOKEN (short: it holds UNIX sockets),
# so nothing is written to the machine's /etc, /run or /var.
#
#   slurm_hosts.sh up DIR          start the daemons on the cluster in DIR; returns once every
#                                  node is idle
#   slurm_hosts.sh run DIR CMD...  run CMD (sbatch, squeue, scontrol, sinfo...) on the head,
#                                  SLURM_CONF exported
#   slurm_hosts.sh down DIR        stop every daemon that `up` started, by PID (a no-op if none)
#
# Every daemon and command runs in a private mount namespace with the cluster's hosts file over
# /etc/hosts and with SLURM_CONF set: names never go to DNS (without SLURM_CONF, Slurm's commands
# look their controller up in DNS SRV records). The daemons enter a host's network and UTS
# namespaces with nsenter, not `ip netns exec`, which remounts /sys and leaves slurmd without
# /sys/fs/cgroup. Every host shares this machine's /tmp, so whatever Slurm keys by host goes
# into a directory of that host's own (%n in slurm.conf): spool, pid and log files, and TmpFS,
# where the PMIx server of each step puts its clients' directory (spmix_appdir_UID_JOB.STEP).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../slurm/daemons.sh
source "$here/../slurm/daemons.sh"
subnet=10.199.0  # cluster.sh's

die() { echo "slurm_hosts.sh: $*" >&2; exit 2; }

# setup DIR: the cluster's state (token, hosts, dir) and where Slurm's files go.
setup() {
  [ -f "$1/state" ] || die "$1 holds no cluster"
  token="" hosts="" dir=""
  # shellcheck disable=SC1091
  source "$1/state"
  slurm=$dir/slurm
  # What each slurmd keeps by host: in a short path of its own, since the step daemons make
  # UNIX sockets there (PMIx's stepd.slurm.pmix.JOB.STEP), and a socket path has at most 107
  # bytes; a test's directory deep in a build tree leaves too few.
  runs=/tmp/dptslurm-$token
  export SLURM_CONF=$slurm/slurm.conf
}

# inside NAME CMD...: CMD in the network and UTS namespaces of host NAME (or head), in a private
# mount namespace with the cluster's hosts file.
inside() {
  local name=$1
  shift
  [ -e "/run/netns/dpt${token}-$name" ] || die "no host $name in $dir"
  # shellcheck disable=SC2016  # expanded by the inner sh
  unshare --mount --propagation private -- sh -c '
    mount --bind "$1/hosts" /etc/hosts || exit 1
    net=$2 uts=$3
    shift 3
    exec nsenter --net="$net" --uts="$uts" -- "$@"' sh \
    "$dir" "/run/netns/dpt${token}-$name" "$dir/uts/$name" "$@"
}

write_conf() {
  local i
  cat >"$SLURM_CONF" <<CONF
ClusterName=dptrain-hosts
SlurmctldHost=head($subnet.254)
$(slurm_settings "$slurm/munge/munge.socket")
SlurmctldPidFile=$slurm/slurmctld.pid
SlurmctldLogFile=$slurm/log/slurmctld.log
StateSaveLocation=$slurm/state
SlurmdPidFile=$runs/%n/slurmd.pid
SlurmdSpoolDir=$runs/%n/spool
SlurmdLogFile=$slurm/log/slurmd-%n.log
TmpFS=$runs/%n/tmp
CONF
  for i in $(seq 1 "$hosts"); do
    echo "NodeName=h$i NodeAddr=$subnet.$i NodeHostname=h$i CPUs=2 State=UNKNOWN"
  done >>"$SLURM_CONF"
  echo "PartitionName=test Nodes=h[1-$hosts] Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4" \
    >>"$SLURM_CONF"
}

up() {
  setup "$1"
  [ ! -e "$slurm" ] || die "$slurm exists: Slurm was started on this cluster before"
  local i
  mkdir -p "$slurm/state" "$slurm/log"
  [ ! -e "$runs" ] || die "$runs exists: Slurm was started on this cluster before"
  for i in $(seq 1 "$hosts"); do mkdir -p "$runs/h$i/spool" "$runs/h$i/tmp"; done
  write_conf
  # shellcheck disable=SC2016  # expanded by the inner bash
  inside head bash -c 'source "$1"; munge_start "$2"' sh "$here/../slurm/daemons.sh" \
    "$slurm/munge" || die "munged did not start"
  inside head timeout 30 /usr/sbin/slurmctld -f "$SLURM_CONF" ||
    die "slurmctld did not start ($slurm/log/slurmctld.log)"
  for i in $(seq 1 "$hosts"); do
    inside "h$i" timeout 30 /usr/sbin/slurmd -f "$SLURM_CONF" -N "h$i" ||
      die "slurmd on h$i did not start ($slurm/log/slurmd-h$i.log)"
  done
  local idle=0
  for _ in $(seq 150); do
    idle=$(inside head timeout 5 sinfo -h -N -o %T 2>/dev/null | grep -cx idle || true)
    [ "$idle" -eq "$hosts" ] && { echo "slurm_hosts.sh: $hosts node(s) idle, SLURM_CONF=$SLURM_CONF"; return 0; }
    sleep 0.2
  done
  die "$idle of $hosts node(s) idle after 30 s: $(inside head timeout 5 sinfo -N 2>&1 | tr '\n' ' ')"
}

down() {
  [ -f "$1/state" ] || return 0
  setup "$1"
  [ -d "$slurm" ] || return 0
  local i
  # slurmd first: a slurmd whose controller is gone retries before it exits.
  for i in $(seq 1 "$hosts"); do stop_daemon "$runs/h$i/slurmd.pid" slurmd; done
  stop_daemon "$slurm/slurmctld.pid" slurmctld
  munge_stop "$slurm/munge"
  # The step daemons of jobs still running outlive their slurmd: end those in the hosts too
  # (cluster.sh down ends whatever else is left in the namespaces).
  local pid
  for i in $(seq 1 "$hosts"); do
    for pid in $(ip netns pids "dpt${token}-h$i" 2>/dev/null); do
      [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slurmstepd ] && kill -9 "$pid" 2>/dev/null
    done
  done
  rm -rf "$runs"
  return 0
}

run() {
  setup "$1"
  shift
  inside head "$@"
}

command=${1:-}
shift || true
case "$command" in
  up) up "$@" ;;
  run) run "$@" ;;
  down) down "$@" ;;
  *) die "usage: slurm_hosts.sh up|run|down DIR ..." ;;
esac
