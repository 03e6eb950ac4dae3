# shellcheck shell=bash
# Shell functions the bench scripts share; sourced, not run.

# field FILE KEY: the values of KEY, one per line of a --metrics file.
field() { grep -o "\"$2\":[-0-9.e+]*" "$1" | cut -d: -f2; }

# The lines of epochs 2.. (epoch 1 when there is only one): epoch 1 includes the warm-up.
after_first_epoch() { awk '{ line[NR] = $0 } END { for (i = NR > 1 ? 2 : 1; i <= NR; i++) print line[i] }' "$1"; }

median_field() {  # FILE KEY: the median of KEY over the epochs after the first
  after_first_epoch "$1" | grep -o "\"$2\":[-0-9.e+]*" | cut -d: -f2 | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Per-phase seconds of those epochs summed, as shares of the step (evaluation, "other", left out).
phase_shares() {  # FILE
  after_first_epoch "$1" | grep -o '"phase_seconds":{[^}]*}' | awk -F'[:,{}"]+' '
      { for (i = 3; i < NF; i += 2) s[$i] += $(i + 1) }
      END { all = s["data"] + s["forward"] + s["backward"] + s["exchange"] + s["optimizer"]
            printf "%.0f%% | %.0f%% | %.0f%% | %.0f%% | %.0f%%\n", 100 * s["data"] / all,
              100 * s["forward"] / all, 100 * s["backward"] / all, 100 * s["exchange"] / all,
              100 * s["optimizer"] / all }'
}

# min / mean / max of the numbers in FILE (one a line), as percentages of fractions.
percent_range() {
  awk 'NR == 1 { min = max = $1 } { s += $1; if ($1 < min) min = $1; if ($1 > max) max = $1 }
       END { printf "%.2f%% / %.2f%% / %.2f%%", 100 * min, 100 * s / NR, 100 * max }' "$1"
}

# on_two_hosts SCRIPT ARGS...: runs SCRIPT ARGS under a cluster of 2 hosts made of network
# namespaces (tests/cluster/with_cluster.sh: needs root; CLUSTER and CLUSTER_SH exported), which
# is always taken down again, then removes its directory. Needs $repo.
on_two_hosts() {
  local work status=0
  work=$(mktemp -d)
  bash "${repo:?}/tests/cluster/with_cluster.sh" 2 "$work" -- "$@" || status=$?
  rm -rf "$work"
  return "$status"
}

# set_links RATE: both hosts' links shaped to RATE (tbf, e.g. 1gbit), or not shaped (unshaped).
set_links() {
  local host
  for host in h1 h2; do
    if [ "$1" = unshaped ]; then
      "$CLUSTER_SH" link "$CLUSTER" "$host" clear
    else
      "$CLUSTER_SH" link "$CLUSTER" "$host" rate "$1"
    fi
  done
}
