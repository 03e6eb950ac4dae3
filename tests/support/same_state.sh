# shellcheck shell=bash
# same_state CHECKPOINT CHECKPOINT: both hold the same /model and /optimizer, every element
# exactly (h5diff); otherwise says which group differs and exits 1. Sourced by the tests that
# compare runs bit for bit (resume, stop and resume, --exact layouts, the cluster).
same_state() {
  local group
  for group in /model /optimizer; do
    h5diff "$1" "$2" "$group" || { echo "FAIL: $group of $1 and $2 differ"; exit 1; }
  done
}
