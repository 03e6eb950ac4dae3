# idx-to-h5.sh: what the datasets/fetch-*.sh scripts share, sourced by them (not run itself):
# their options, the check of an existing output, the SHA-256 check of the four IDX files (plain
# or .gz) and the conversion by `dptrain prepare`. Sourcing it sets `repo`; the script then sets
#   tool      its name, which starts every message (fetch-mnist)
#   title     the data set as messages name it (MNIST)
#   data_set  the `dptrain prepare` subcommand, also recorded in the file (mnist)
#   out       the default output file
#   sha256    an associative array: IDX file name -> SHA-256 of the uncompressed file
#   default_source WORK   a function that sets `from` where --from is not given; it may fetch
#                         into the temporary directory WORK
# and calls `idx_to_h5 "$@"`.
# shellcheck shell=bash disable=SC2154  # those variables are the sourcing script's

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

declare -A h5_dataset=(
  [train-images-idx3-ubyte]=/train/images [train-labels-idx1-ubyte]=/train/labels
  [t10k-images-idx3-ubyte]=/test/images [t10k-labels-idx1-ubyte]=/test/labels
)

# The source_sha256 attribute that `dptrain prepare` recorded on a dataset.
recorded_sha256() {
  h5dump -a "$2/source_sha256" "$1" 2>/dev/null | sed -n 's/.*(0): "\([0-9a-f]*\)".*/\1/p'
}

idx_to_h5() {
  dptrain=${DPTRAIN:-$repo/build/dptrain}
  from="" force=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --from) from=$2; shift 2 ;;
      --out) out=$2; shift 2 ;;
      --force) force=1; shift ;;
      -h | --help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;  # the script's header comment
      *) echo "$tool: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
  done

  if [ -e "$out" ] && [ "$force" -eq 0 ]; then
    for name in "${!sha256[@]}"; do
      if [ "$(recorded_sha256 "$out" "${h5_dataset[$name]}")" != "${sha256[$name]}" ]; then
        echo "$tool: $out exists but does not record the verified $title files;" \
          "move it away or pass --force to replace it" >&2
        exit 2
      fi
    done
    echo "$tool: $out is up to date (it records the verified $title files)"
    exit 0
  fi
  [ -x "$dptrain" ] || { echo "$tool: $dptrain not found; build dptrain first" >&2; exit 2; }

  # Global, not local: the EXIT trap runs after this function has returned.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  if [ -z "$from" ]; then default_source "$work"; fi
  mkdir -p "$work/idx"
  for name in "${!sha256[@]}"; do
    if [ -f "$from/$name" ]; then
      cp "$from/$name" "$work/idx/$name"
    elif [ -f "$from/$name.gz" ]; then
      gunzip -c "$from/$name.gz" >"$work/idx/$name"
    else
      echo "$tool: $from has neither $name nor $name.gz" >&2
      exit 2
    fi
    echo "${sha256[$name]}  $work/idx/$name" >>"$work/SHA256SUMS"
  done
  sha256sum --check --quiet "$work/SHA256SUMS" || {
    echo "$tool: checksum mismatch: these are not the $title files dptrain was verified with" >&2
    exit 2
  }
  echo "$tool: checksums verified"
  overwrite=()
  [ "$force" -eq 1 ] && overwrite=(--overwrite)
  mkdir -p "$(dirname "$out")"
  "$dptrain" prepare "$data_set" --idx-dir "$work/idx" --out "$out" "${overwrite[@]}"
}
