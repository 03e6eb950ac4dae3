#!/usr/bin/env bash
# cluster.sh: a cluster of hosts made of network namespaces, on this machine (README, "Many
# hosts"). Every host is a network namespace with a UTS namespace of its own (its hostname), a
# veth into a bridge that lives in a namespace of its own (the switch), and an address in
# 10.199.0.0/24; a head namespace, where mpirun and slurmctld run, holds no ranks. Names resolve
# from the cluster's own hosts file, bind-mounted over /etc/hosts in a private mount namespace
# around every command (never the machine's /etc, never DNS); no address lives outside the
# namespaces this script made, so no packet leaves them.
#
#   cluster.sh up DIR HOSTS      make h1..hHOSTS and the head; DIR holds the state (must be new)
#   cluster.sh head DIR CMD...   run CMD on the head, with mpirun's options for the cluster in
#                                $MPIRUN_ARGS (and those to reach it in $MPIRUN_NETWORK_ARGS)
#   cluster.sh on DIR HOST CMD...  run CMD on host HOST (h1...)
#   cluster.sh link DIR HOST up|down|blackhole|clear|rate RATE
#                                change HOST's link: carrier down or up, drop every packet
#                                (blackhole qdisc), remove the qdisc, or shape it (tbf, e.g. 1gbit)
#   cluster.sh down DIR          kill every process in the cluster's namespaces, remove them
#
# Needs root (namespaces); `cluster.sh check` exits 0 if it can make them, else prints why.
set -euo pipefail

subnet=10.199.0
head_address=$subnet.254

die() { echo "cluster.sh: $*" >&2; exit 2; }
state() { [ -f "$1/state" ] || die "$1 holds no cluster"; source "$1/state"; }
ns() { echo "dpt${token}-$1"; }

check() {
  [ "$(id -u)" -eq 0 ] || { echo "not root: network namespaces need root"; return 1; }
  local probe="dptcheck$$"
  ip netns add "$probe" 2>/dev/null || { echo "cannot create network namespaces (ip netns add)"; return 1; }
  ip netns del "$probe"
  command -v unshare >/dev/null && command -v nsenter >/dev/null || { echo "unshare or nsenter missing"; return 1; }
}

up() {
  local dir=$1 hosts=$2
  [ ! -e "$dir/state" ] || die "$dir already holds a cluster"
  [ "$hosts" -ge 1 ] && [ "$hosts" -le 16 ] || die "HOSTS must be 1 to 16"
  mkdir -p "$dir/uts" "$dir/tmp"
  dir=$(cd "$dir" && pwd)
  token=$$
  printf 'token=%s\nhosts=%s\ndir=%s\n' "$token" "$hosts" "$dir" >"$dir/state"
  trap 'down "$dir" >/dev/null 2>&1 || true' ERR
  ip netns add "$(ns switch)"
  ip -n "$(ns switch)" link set lo up
  ip -n "$(ns switch)" link add br0 type bridge
  ip -n "$(ns switch)" link set br0 up
  {
    echo "127.0.0.1 localhost"
    echo "$head_address head"
    for i in $(seq 1 "$hosts"); do echo "$subnet.$i h$i"; done
  } >"$dir/hosts"
  : >"$dir/hostfile"
  for name in head $(seq -f 'h%g' 1 "$hosts"); do
    local address=$head_address
    [ "$name" = head ] || address=$subnet.${name#h}
    ip netns add "$(ns "$name")"
    ip -n "$(ns "$name")" link set lo up
    ip link add "dpt${token}$name" type veth peer name eth0 netns "$(ns "$name")"
    ip link set "dpt${token}$name" netns "$(ns switch)"
    ip -n "$(ns switch)" link set "dpt${token}$name" master br0 up
    ip -n "$(ns "$name")" addr add "$address/24" dev eth0
    ip -n "$(ns "$name")" link set eth0 up
    touch "$dir/uts/$name"
    unshare --uts="$dir/uts/$name" hostname "$name"
    [ "$name" = head ] || echo "$name slots=${SLOTS:-4}" >>"$dir/hostfile"
  done
  # mpirun's rsh agent: `agent HOST words...` runs the words on HOST.
  cat >"$dir/agent" <<AGENT
#!/bin/sh
host=\$1
shift
exec "$(realpath "$0")" on "$dir" "\$host" sh -c "\$*"
AGENT
  chmod +x "$dir/agent"
  trap - ERR
  echo "cluster.sh: $hosts host(s) up in $dir (token $token)"
}

# The words of `on` and `head`: a private mount namespace with the cluster's /etc/hosts, then
# the host's network and UTS namespaces, a plain environment plus what the caller exported.
enter() {
  local dir=$1 name=$2
  shift 2
  state "$dir"
  local target
  target=$(ns "$name")
  [ -e "/run/netns/$target" ] || die "no host $name in $dir"
  exec unshare --mount --propagation private -- sh -c '
    mount --bind "$1/hosts" /etc/hosts || exit 1
    target=$2 uts=$1/uts/$3
    shift 3
    exec ip netns exec "$target" nsenter --uts="$uts" -- "$@"' sh "$dir" "$target" "$name" "$@"
}

head_cmd() {
  local dir=$1
  shift
  state "$dir"
  # How to reach the hosts: the agent, TCP on the cluster's subnet, shared memory within a host.
  export MPIRUN_NETWORK_ARGS="--mca plm_rsh_agent $dir/agent --mca pml ob1 \
--mca btl self,vader,tcp --mca oob_tcp_if_include $subnet.0/24 --mca btl_tcp_if_include $subnet.0/24 \
--mca orte_tmpdir_base $dir/tmp"
  # And the rest of what launch/dptrain-hosts sets: the keepalive lets mpirun notice a lost host
  # in about 11 s, not 480 (README, "Many hosts"); no binding, the hosts share this machine's cores.
  export MPIRUN_ARGS="--hostfile $dir/hostfile $MPIRUN_NETWORK_ARGS \
--mca oob_tcp_keepalive_time 5 --mca oob_tcp_keepalive_intvl 2 --mca oob_tcp_keepalive_probes 3 \
--bind-to none"
  enter "$dir" head "$@"
}

# A host's link is its veth: the switch's end (traffic to the host) and the host's eth0 (traffic
# from it). Qdiscs go on both ends, so that a blackhole or a rate holds both ways.
link() {
  local dir=$1 name=$2 what=$3
  state "$dir"
  local device="dpt${token}$name" switch host
  switch=$(ns switch) host=$(ns "$name")
  both() {  # both VERB [QDISC...]
    local verb=$1
    shift
    tc -n "$switch" qdisc "$verb" dev "$device" root "$@" && tc -n "$host" qdisc "$verb" dev eth0 root "$@"
  }
  case "$what" in
    up | down) ip -n "$switch" link set "$device" "$what" ;;
    blackhole) both replace blackhole ;;
    clear) both del 2>/dev/null || true ;;
    rate) both replace tbf rate "$4" burst 256kb latency 20ms ;;
    *) die "link: up, down, blackhole, clear or rate RATE" ;;
  esac
}

down() {
  local dir=$1
  [ -f "$dir/state" ] || return 0
  state "$dir"
  local name
  for pass in 1 2; do
    for target in $(ip netns list | awk '{print $1}' | grep "^dpt${token}-" || true); do
      for pid in $(ip netns pids "$target" 2>/dev/null); do
        kill -"$([ "$pass" = 1 ] && echo TERM || echo KILL)" "$pid" 2>/dev/null || true
      done
    done
    [ "$pass" = 1 ] && sleep 1
  done
  for target in $(ip netns list | awk '{print $1}' | grep "^dpt${token}-" || true); do
    ip netns del "$target" 2>/dev/null || true
  done
  for name in "$dir"/uts/*; do
    [ -e "$name" ] || continue
    umount "$name" 2>/dev/null || true
    rm -f "$name"
  done
  rm -f "$dir/state"
}

command=${1:-}
shift || true
case "$command" in
  check) check ;;
  up) up "$@" ;;
  head) head_cmd "$@" ;;
  on) enter "$@" ;;
  link) link "$@" ;;
  down) down "$@" ;;
  *) die "usage: cluster.sh check|up|head|on|link|down ..." ;;
esac
