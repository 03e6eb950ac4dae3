#!/usr/bin/env bash
# checkpoint_dir.sh CASE DIR FILES -- MPIRUN... DPTRAIN: --checkpoint-dir is made or checked at
# set-up, before any step, and nothing already in it is touched (FILES: make_test_files.sh's).
#   made     DIR/a/b does not exist; a run refused later in set-up (tiny.h5: fewer rows than one
#            global batch) leaves it made, and empty: no probe file left behind
#   trained  DIR/a/b does not exist; a one-epoch run leaves its checkpoint there
#   kept     DIR holds a file of the user's; after a one-epoch run it is unchanged, and beside it
#            is only the run's checkpoint
#   resumed  DIR holds an earlier run's checkpoint; a --resume refused after the check (another
#            --seed) leaves DIR as it was, file for file
set -u
case=$1 dir=$2 files=$3
shift 4  # CASE DIR FILES --
rm -rf "$dir"

# Every file of DIR with its checksum.
contents() { (cd "$1" && find . -mindepth 1 -printf '%P\n' | sort | while read -r f; do
  if [ -d "$f" ]; then echo "$f/"; else echo "$f $(sha256sum <"$f" | cut -c1-16)"; fi
done); }
fail() { echo "FAIL: $*"; exit 1; }
run() {  # expected status, then train arguments
  local want=$1
  shift
  echo "--- $*"
  timeout 60 "$@" --progress off 2>&1
  local got=$?
  echo "--- exit status $got"
  [ "$got" -eq "$want" ] || fail "exit status $got, expected $want"
}
train=("$@" train)

case $case in
  made)
    run 2 "${train[@]}" --data "$files/tiny.h5" --checkpoint-dir "$dir/a/b"
    [ -d "$dir/a/b" ] || fail "$dir/a/b was not made at set-up"
    [ -z "$(ls -A "$dir/a/b")" ] || fail "$dir/a/b holds: $(ls -A "$dir/a/b")"
    ;;
  trained)
    run 0 "${train[@]}" --data "$files/good.h5" --epochs 1 --checkpoint-dir "$dir/a/b"
    ls "$dir/a/b" | grep -q '^ckpt-[0-9]*\.h5$' || fail "no checkpoint in $dir/a/b"
    ;;
  kept)
    mkdir -p "$dir" && echo "a user's notes" >"$dir/notes.txt"
    before=$(contents "$dir")
    run 0 "${train[@]}" --data "$files/good.h5" --epochs 1 --checkpoint-dir "$dir"
    after=$(contents "$dir" | grep -v '^ckpt-[0-9]*\.h5 ')
    [ "$after" = "$before" ] || fail "$dir changed: before: $before; after, less checkpoints: $after"
    ;;
  resumed)
    run 0 "${train[@]}" --data "$files/good.h5" --epochs 1 --checkpoint-dir "$dir"
    before=$(contents "$dir")
    echo "before: $before"
    run 2 "${train[@]}" --data "$files/good.h5" --epochs 2 --checkpoint-dir "$dir" --resume --seed 5
    [ "$(contents "$dir")" = "$before" ] || fail "$dir changed: now $(contents "$dir")"
    ;;
  *) fail "unknown case $case" ;;
esac
echo PASS
