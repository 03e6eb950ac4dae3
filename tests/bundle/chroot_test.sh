#!/usr/bin/env bash
# chroot_test.sh [BUNDLE.tar.gz]
#
# The offline bundle (launch/make-bundle.sh) on a machine that has none of dptrain's packages: a
# minimal Debian 12 (debootstrap --variant=minbase; no OpenBLAS, HDF5, Open MPI, PMIx, hwloc,
# libevent, libgfortran, OpenSSL or CUDA in it, which the test checks first), run as a chroot.
# Without BUNDLE, the bundle is made from the CUDA build `build` first. The chroot unpacks it with
# its own tar and gzip, then, each asserted (exit status and output), and timed:
#   1. no CUDA libraries anywhere: `selftest` exits 2 with one line naming the missing sonames;
#   2. cudart, cuBLAS and NCCL as the nvidia-* Python wheels lay them out (this machine's files,
#      bind-mounted into site-packages/nvidia/cu13/lib and nvidia/nccl/lib): `selftest
#      --cuda-libs` says it found each there, and `dptrain info` starts with them;
#   3. the CUDA toolkit (this machine's, bind-mounted read-only at /usr/local/cuda):
#      `selftest --cpu-check` passes every check (dptrain info, the CPU unit tests, the CPU MPI
#      tests and one epoch of the MLP under the bundle's mpirun -np 2, MNIST from the bundled IDX
#      files), and `selftest` exits 2 with the one line "no CUDA GPU visible (...)" (no GPU here).
# Fails if anything is missing or any assertion does not hold. The debootstrapped chroot is kept
# as a tarball in CACHE (DPTRAIN_CHROOT_CACHE, default /var/cache/dptrain-chroot), so that only
# the first run needs the Debian mirror (the one this machine's apt sources name, or
# DPTRAIN_DEBIAN_MIRROR). Needs root (chroot, mounts). Runs in a mount namespace of its own, so
# that its mounts (/proc, /sys, /dev, /dev/pts, /dev/shm, CUDA) vanish with it even if it is killed;
# it also unmounts them itself. The selftest's results are kept in OUT (DPTRAIN_CHROOT_TEST_OUT,
# default build/bundle-chroot-test).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${DPTRAIN_CHROOT_CACHE:-/var/cache/dptrain-chroot}
results=${DPTRAIN_CHROOT_TEST_OUT:-$repo/build/bundle-chroot-test}
base=$cache/bookworm-minbase.tar
fail() { echo "chroot_test: FAIL: $*" >&2; exit 1; }
say() { echo "chroot_test: $*"; }

[ "$(id -u)" -eq 0 ] || fail "needs root (chroot and mounts)"
# A private mount namespace: nothing mounted here is seen outside, or outlives the test.
if [ -z "${DPTRAIN_CHROOT_TEST_NAMESPACE:-}" ]; then
  exec env DPTRAIN_CHROOT_TEST_NAMESPACE=1 unshare --mount --propagation private bash "$0" "$@"
fi

started=$SECONDS
work=$(mktemp -d)
root=$work/root
mounts=()

# Unmounts what this test mounted, newest first, then removes its files, but only once nothing
# is mounted under them any more (rm would otherwise reach into /dev or the CUDA toolkit).
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
  done
  if grep -q " $work/" /proc/self/mountinfo; then
    echo "chroot_test: still mounted under $work; left in place" >&2
  else
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT

# mount_in TARGET MOUNT-ARGS...: mounts at TARGET (created, inside the chroot) and remembers it.
mount_in() {
  local target=$1
  shift
  [ -e "$target" ] || mkdir -p "$target"
  mount "$@" "$target"
  mounts+=("$target")
}
# bind_ro SOURCE TARGET: a read-only bind mount (the chroot must not change this machine's files).
bind_ro() {
  if [ -f "$1" ]; then mkdir -p "$(dirname "$2")"; touch "$2"; fi
  mount_in "$2" --bind "$1"
  mount -o remount,bind,ro "$2"
}
unmount() {
  umount "$1"
  local kept=() m
  for m in "${mounts[@]}"; do [ "$m" = "$1" ] || kept+=("$m"); done
  mounts=("${kept[@]}")
}

# The Debian mirror of this machine's apt sources (deb822 or one-line format), for bookworm.
debian_mirror() {
  [ -n "${DPTRAIN_DEBIAN_MIRROR:-}" ] && { echo "$DPTRAIN_DEBIAN_MIRROR"; return; }
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk 'BEGIN { RS = "" } /(^|\n)Suites:([^\n]* )?bookworm( |\n|$)/ && /(^|\n)Types:[^\n]*deb( |\n|$)/ {
        if (match($0, /URIs: *[^ \n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/URIs: */, "", u); print u; exit }
      }' "$file"
  done | grep -m 1 . && return
  awk '$1 == "deb" { for (i = 2; i < NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == "bookworm") { print $i; exit } } }' \
    /etc/apt/sources.list 2>/dev/null | grep -m 1 . && return
  fail "no bookworm mirror in /etc/apt/sources.list*; set DPTRAIN_DEBIAN_MIRROR"
}

# The pristine minimal Debian 12, as a tarball in the cache (debootstrapped the first time).
ensure_base() {
  if [ -f "$base" ]; then
    say "chroot from the cache: $base"
    return
  fi
  command -v debootstrap >/dev/null || fail "debootstrap not found (apt-get install debootstrap)"
  local mirror start=$SECONDS fresh=$work/debootstrap
  mirror=$(debian_mirror)
  say "debootstrap --variant=minbase bookworm from $mirror"
  timeout 900 debootstrap --variant=minbase bookworm "$fresh" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
  mkdir -p "$cache"
  tar -C "$fresh" --numeric-owner -cf "$base.tmp" .
  mv "$base.tmp" "$base"
  rm -rf --one-file-system "$fresh"
  say "debootstrap took $((SECONDS - start)) s; cached as $base ($(du -h "$base" | cut -f1))"
}

# None of what the bundle carries may already be in the chroot, or the test would prove nothing.
check_bare() {
  local found
  found=$(find "$root" -xdev \( -name 'libopenblas*' -o -name 'libhdf5*' -o -name 'libmpi.so*' \
    -o -name 'libopen-pal*' -o -name 'libpmix*' -o -name 'libhwloc*' -o -name 'libevent*' \
    -o -name 'libgfortran*' -o -name 'libcrypto.so*' -o -name 'libcudart*' -o -name 'libcublas*' \
    -o -name 'libnccl*' -o -name 'mpirun*' -o -name 'orterun' -o -name 'python3*' \) -print -quit)
  [ -z "$found" ] || fail "the chroot is not bare: $found"
  # shellcheck disable=SC2016  # ${Package} is dpkg-query's
  if chroot "$root" dpkg-query -W -f '${Package}\n' | grep -E '^(lib)?(openblas|hdf5|openmpi|pmix|hwloc|event|gfortran|ssl3|cuda|nccl)'; then
    fail "the chroot has packages that the bundle must bring itself"
  fi
  say "the chroot has none of dptrain's libraries, no MPI, no CUDA, no python"
}

# in_chroot COMMAND...: as a fresh root login would, with nothing of this test's environment.
in_chroot() {
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 TMPDIR=/tmp timeout --kill-after=10 600 chroot "$root" "$@"
}

# expect_one_line STATUS REGEX COMMAND...: COMMAND exits STATUS, prints nothing on stdout, and
# exactly one line, matching REGEX, on stderr.
expect_one_line() {
  local want=$1 regex=$2 status=0
  shift 2
  in_chroot "$@" >"$work/stdout" 2>"$work/stderr" || status=$?
  [ "$status" -eq "$want" ] || { cat "$work/stdout" "$work/stderr" >&2; fail "$* exited $status, not $want"; }
  [ ! -s "$work/stdout" ] || { cat "$work/stdout" >&2; fail "$* printed on stdout"; }
  if [ "$(wc -l <"$work/stderr")" -ne 1 ] || ! grep -Eq "$regex" "$work/stderr"; then
    cat "$work/stderr" >&2
    fail "$* did not print the one line /$regex/"
  fi
  say "  $* -> $want: $(cat "$work/stderr")"
}

timed() {  # timed LABEL COMMAND...
  local start=$SECONDS label=$1
  shift
  "$@"
  say "$label: $((SECONDS - start)) s"
}

make_bundle() {
  bundle=$work/dptrain-bundle.tar.gz
  bash "$repo/launch/make-bundle.sh" --build "$repo/build" --out "$bundle"
}

unpack_bundle() {
  mkdir -p "$root/opt"
  cp "$bundle" "$root/opt/dptrain-bundle.tar.gz"
  in_chroot tar -xzf /opt/dptrain-bundle.tar.gz -C /opt
  rm "$root/opt/dptrain-bundle.tar.gz"
  say "unpacked with the chroot's tar: /opt/dptrain-bundle ($(du -sh "$root/opt/dptrain-bundle" | cut -f1))"
}

# /proc and /dev as Open MPI needs them; /dev/shm a tmpfs of the test's own, so that shared
# memory left by a failed run goes with it; /sys read-only, as every GPU node has it (hwloc
# reads the CPU topology there and gives up without it).
mount_system() {
  mount_in "$root/proc" -t proc proc
  bind_ro /sys "$root/sys"
  mount_in "$root/dev" --bind /dev
  mount_in "$root/dev/pts" --bind /dev/pts
  mount_in "$root/dev/shm" -t tmpfs -o mode=1777,size=1g tmpfs
}

cuda_files() { # the four sonames the bundle wants, from its own list
  cat "$root/opt/dptrain-bundle/lib/cuda-sonames"
}

no_cuda() {
  expect_one_line 2 '^selftest: .*libcudart\.so\.[0-9]+.* not found \(.*\); install CUDA' \
    /opt/dptrain-bundle/selftest
}

# This machine's CUDA libraries where pip puts CUDA 13's wheels (nvidia-cuda-runtime and
# nvidia-cublas in nvidia/cu13/lib, nvidia-nccl-cu13 in nvidia/nccl/lib), for a python3.11
# installation the chroot does not even have: the bundle must find them without python.
with_wheels() {
  local site=$root/usr/local/lib/python3.11/dist-packages soname dir targets=()
  for soname in $(cuda_files); do
    case "$soname" in libnccl*) dir=$site/nvidia/nccl/lib ;; *) dir=$site/nvidia/cu13/lib ;; esac
    bind_ro "$(readlink -f "$cuda_lib/$soname")" "$dir/$soname"
    targets+=("$dir/$soname")
  done
  in_chroot /opt/dptrain-bundle/selftest --cuda-libs >"$work/wheels.txt" 2>&1 ||
    { cat "$work/wheels.txt" >&2; fail "selftest --cuda-libs failed with the wheels"; }
  for soname in $(cuda_files); do
    grep -Eq "^ +$soname +/usr/local/lib/python3.11/dist-packages/nvidia/(cu13|nccl)/lib/$soname +\(Python wheel" \
      "$work/wheels.txt" || { cat "$work/wheels.txt" >&2; fail "$soname not found in the wheels"; }
  done
  in_chroot /opt/dptrain-bundle/bin/dptrain info >"$work/info-wheels.txt" 2>&1 ||
    { cat "$work/info-wheels.txt" >&2; fail "dptrain info failed with the wheels' libraries"; }
  sed 's/^/chroot_test:   /' "$work/wheels.txt"
  for dir in "${targets[@]}"; do unmount "$dir"; done
}

# This machine's CUDA toolkit, read-only at /usr/local/cuda (as on a GPU node).
with_toolkit() {
  bind_ro "$cuda_home" "$root/usr/local/cuda"
  local status=0
  in_chroot /opt/dptrain-bundle/selftest --cpu-check --out /tmp/selftest-cpu >"$work/cpu-check.txt" 2>&1 ||
    status=$?
  # The results of the last run only (a folder of this test's, or a new one).
  if [ -f "$results/summary.md" ]; then rm -rf "$results"; fi
  mkdir -p "$results"
  cp -r "$root/tmp/selftest-cpu/." "$results/" 2>/dev/null || true
  [ "$status" -eq 0 ] || { cat "$work/cpu-check.txt" >&2; fail "selftest --cpu-check exited $status"; }
  local check
  for check in "dptrain info" "CPU unit tests" "CPU MPI tests -np 2" "MNIST prepared" \
    "MLP, 1 epoch, CPU, mpirun -np 2"; do
    grep -Fq "| $check | PASS |" "$results/summary.md" || fail "no PASS for '$check' in $results/summary.md"
  done
  grep -F '(CUDA toolkit)' "$results/summary.md" | grep -q /usr/local/cuda/ ||
    fail "the CUDA libraries did not come from /usr/local/cuda"
  grep -E '^(PASS|FAIL) ' "$work/cpu-check.txt" | sed 's/^/chroot_test:   /'
  expect_one_line 2 '^selftest: no CUDA GPU visible \(.+\); nothing to test$' /opt/dptrain-bundle/selftest
}

bundle=${1:-}
if [ -n "$bundle" ]; then
  [ -f "$bundle" ] || fail "$bundle: no such bundle"
  bundle=$(readlink -f "$bundle")
else
  timed "bundle made" make_bundle
fi
cuda_home=$(readlink -f "${CUDA_HOME:-/usr/local/cuda}")
cuda_lib=$cuda_home/lib64
[ -e "$cuda_lib/libcudart.so.13" ] || fail "no CUDA toolkit at $cuda_home to mount into the chroot"

timed "chroot ready" ensure_base
start=$SECONDS
mkdir -p "$root"
tar -C "$root" --numeric-owner -xf "$base"
say "chroot extracted: $((SECONDS - start)) s"
check_bare
timed "bundle unpacked" unpack_bundle
mount_system
timed "1. without CUDA" no_cuda
timed "2. CUDA from Python wheels" with_wheels
timed "3. CUDA toolkit, selftest --cpu-check and selftest" with_toolkit
say "PASS in $((SECONDS - started)) s (bundle $(stat -c %s "$bundle") bytes); selftest results in $results"
