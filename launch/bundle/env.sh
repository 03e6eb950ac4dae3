# shellcheck shell=bash
# env.sh: the environment of an unpacked dptrain bundle (launch/make-bundle.sh copies this file to
# the bundle's root). Every program in the bundle's bin/ sources it, and so may a shell:
#   source dptrain-bundle/env.sh    # then dptrain, mpirun, ... are the bundle's
# The bundle carries Debian 12's Open MPI and PMIx, built for /usr: their install directories
# are pointed at the bundle here (both read these variables at start), so that nothing of the
# machine's own MPI, PMIx, hwloc or OpenSSL configuration is read. cuBLAS, cudart and NCCL are
# not in the bundle: they are looked for on this machine (bundle_find_cuda, below) and their
# directories put on LD_LIBRARY_PATH. Sourcing twice does nothing the second time, so ranks
# started by the bundle's mpirun inherit the first lookup instead of repeating it.

DPTRAIN_BUNDLE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

# The sonames that dptrain needs from CUDA, one a line (make-bundle.sh writes them from ldd).
bundle_cuda_sonames() { cat "$DPTRAIN_BUNDLE/lib/cuda-sonames"; }

# Directories that may hold the CUDA libraries, each as "LABEL<TAB>DIR", in the order of
# preference: what the user's environment says first (LD_LIBRARY_PATH, CUDA_HOME), then the
# usual toolkit places. ldconfig's cache is asked after these, the Python wheels last.
bundle_cuda_toolkit_dirs() {
  local dir var prefix
  local IFS=:
  for dir in ${LD_LIBRARY_PATH:-}; do [ -n "$dir" ] && printf 'LD_LIBRARY_PATH\t%s\n' "$dir"; done
  unset IFS
  for var in CUDA_HOME CUDA_PATH CUDA_ROOT CUDA_TOOLKIT_ROOT_DIR; do
    prefix=${!var:-}
    [ -n "$prefix" ] || continue
    for dir in lib64 lib targets/x86_64-linux/lib; do
      printf 'CUDA toolkit (%s)\t%s\n' "$var" "$prefix/$dir"
    done
  done
  for prefix in /usr/local/cuda /usr/local/cuda-[0-9]* /opt/cuda /opt/nvidia/cuda; do
    [ -d "$prefix" ] || continue
    for dir in lib64 lib targets/x86_64-linux/lib; do
      printf 'CUDA toolkit\t%s\n' "$prefix/$dir"
    done
  done
  [ -n "${CONDA_PREFIX:-}" ] && printf 'conda (CONDA_PREFIX)\t%s\n' "$CONDA_PREFIX/lib"
  return 0
}

# The nvidia-* Python wheels' library folders, as "LABEL<TAB>DIR". CUDA 13's wheels
# (nvidia-cublas, nvidia-cuda-runtime) share nvidia/cu13/lib; NCCL's (nvidia-nccl-cu13) and
# CUDA 12's keep a folder each.
bundle_cuda_wheel_dirs() {
  local site dir
  while IFS= read -r site; do
    for dir in "$site"/nvidia/cu13/lib "$site"/nvidia/nccl/lib "$site"/nvidia/cublas/lib \
      "$site"/nvidia/cuda_runtime/lib; do
      [ -d "$dir" ] && printf 'Python wheel (%s)\t%s\n' "$site" "$dir"
    done
  done < <(bundle_site_packages | awk '!seen[$0]++')
  return 0
}

# Python's site-packages folders: the interpreters on PATH say where theirs are (a virtualenv,
# ~/.local, conda); the usual system places are added for a machine without python on PATH.
bundle_site_packages() {
  local python
  for python in python3 python; do
    command -v "$python" >/dev/null 2>&1 || continue
    timeout 10 "$python" -c 'import sys
print("\n".join(p for p in sys.path if p.endswith(("site-packages", "dist-packages"))))' \
      2>/dev/null || true
  done
  local dir
  for dir in "${VIRTUAL_ENV:-/nonexistent}"/lib/python3*/site-packages \
    /usr/local/lib/python3*/dist-packages /usr/local/lib/python3*/site-packages \
    /usr/lib/python3/dist-packages /usr/lib/python3*/site-packages \
    "${HOME:-/nonexistent}"/.local/lib/python3*/site-packages; do
    [ -d "$dir" ] && echo "$dir"
  done
  return 0
}

# The path ldconfig's cache gives for a soname, if any (ldconfig is in /sbin for non-root).
bundle_ldconfig_path() {
  local ldconfig
  ldconfig=$(command -v ldconfig 2>/dev/null || echo /sbin/ldconfig)
  [ -x "$ldconfig" ] || return 0
  # (Reads to the end rather than exit at the first match: an early exit would kill ldconfig
  # with SIGPIPE, a failure under pipefail.)
  "$ldconfig" -p 2>/dev/null | awk -v so="$1" '$1 == so && /x86-64/ && !p { p = $NF } END { if (p) print p }' || true
}

# The first "LABEL<TAB>DIR" line on stdin whose DIR has the soname $1, as "PATH<TAB>LABEL".
bundle_first_with() {
  local label dir
  while IFS=$'\t' read -r label dir; do
    if [ -n "$dir" ] && [ -e "$dir/$1" ]; then printf '%s\t%s\n' "$dir/$1" "$label"; return; fi
  done
}

# Finds each CUDA soname: the toolkit's places, else ldconfig's cache, else a Python wheel
# (asked last, and only then, because starting python takes a moment). Sets
# DPTRAIN_BUNDLE_CUDA_FOUND (lines "SONAME<TAB>PATH<TAB>LABEL"), DPTRAIN_BUNDLE_CUDA_MISSING
# (the sonames found nowhere) and DPTRAIN_BUNDLE_CUDA_DIRS (their directories, ':'-separated).
bundle_find_cuda() {
  local toolkit wheels="" wheels_listed=0 soname hit path dir
  local found="" missing="" dirs=""
  toolkit=$(bundle_cuda_toolkit_dirs)
  for soname in $(bundle_cuda_sonames); do
    hit=$(bundle_first_with "$soname" <<<"$toolkit")
    if [ -z "$hit" ]; then
      path=$(bundle_ldconfig_path "$soname")
      [ -n "$path" ] && hit=$(printf '%s\tldconfig' "$path")
    fi
    if [ -z "$hit" ]; then
      [ "$wheels_listed" -eq 1 ] || { wheels=$(bundle_cuda_wheel_dirs); wheels_listed=1; }
      hit=$(bundle_first_with "$soname" <<<"$wheels")
    fi
    if [ -z "$hit" ]; then
      missing="${missing:+$missing }$soname"
      continue
    fi
    found="$found$soname"$'\t'"$hit"$'\n'
    dir=$(dirname "${hit%%$'\t'*}")
    case ":$dirs:" in *":$dir:"*) ;; *) dirs="${dirs:+$dirs:}$dir" ;; esac
  done
  export DPTRAIN_BUNDLE_CUDA_FOUND=$found DPTRAIN_BUNDLE_CUDA_MISSING=$missing
  export DPTRAIN_BUNDLE_CUDA_DIRS=$dirs
}

if [ "${DPTRAIN_BUNDLE_ENV:-}" != "$DPTRAIN_BUNDLE" ]; then
  export DPTRAIN_BUNDLE DPTRAIN_BUNDLE_ENV=$DPTRAIN_BUNDLE
  # Open MPI 4.1 (Debian: prefix /usr, libdir /usr/lib/x86_64-linux-gnu/openmpi/lib,
  # sysconfdir /etc/openmpi): OPAL_PREFIX moves what derives from the prefix; libdir and
  # sysconfdir do not derive from it in Debian's build, so they are set too.
  export OPAL_PREFIX=$DPTRAIN_BUNDLE OPAL_EXEC_PREFIX=$DPTRAIN_BUNDLE
  export OPAL_BINDIR=$DPTRAIN_BUNDLE/bin OPAL_LIBDIR=$DPTRAIN_BUNDLE/lib
  export OPAL_PKGLIBDIR=$DPTRAIN_BUNDLE/lib/openmpi3 OPAL_DATAROOTDIR=$DPTRAIN_BUNDLE/share
  export OPAL_DATADIR=$DPTRAIN_BUNDLE/share OPAL_PKGDATADIR=$DPTRAIN_BUNDLE/share/openmpi
  export OPAL_SYSCONFDIR=$DPTRAIN_BUNDLE/etc
  # PMIx 4.2 (Debian: every path absolute under /usr/lib/x86_64-linux-gnu/pmix2, and its
  # sysconfdir's pmix-mca-params.conf names the component path there).
  export PMIX_PREFIX=$DPTRAIN_BUNDLE PMIX_EXEC_PREFIX=$DPTRAIN_BUNDLE
  export PMIX_LIBDIR=$DPTRAIN_BUNDLE/lib PMIX_PKGLIBDIR=$DPTRAIN_BUNDLE/lib/pmix
  export PMIX_DATAROOTDIR=$DPTRAIN_BUNDLE/share PMIX_DATADIR=$DPTRAIN_BUNDLE/share
  export PMIX_PKGDATADIR=$DPTRAIN_BUNDLE/share/pmix PMIX_SYSCONFDIR=$DPTRAIN_BUNDLE/etc
  export PMIX_MCA_mca_base_component_path=$DPTRAIN_BUNDLE/lib/pmix
  # hwloc's plugins (PCI, OpenCL, GL) are not bundled, and the machine's may be another
  # version's; OpenSSL (dptrain's SHA-256) needs no configuration file.
  export HWLOC_PLUGINS_PATH=$DPTRAIN_BUNDLE/lib/hwloc
  export OPENSSL_CONF=$DPTRAIN_BUNDLE/etc/openssl.cnf
  export PATH=$DPTRAIN_BUNDLE/bin:$PATH
  bundle_find_cuda
  if [ -n "$DPTRAIN_BUNDLE_CUDA_DIRS" ]; then
    export LD_LIBRARY_PATH=$DPTRAIN_BUNDLE_CUDA_DIRS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
fi
