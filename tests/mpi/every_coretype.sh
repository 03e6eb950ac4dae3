#!/usr/bin/env bash
# every_coretype.sh DPTRAIN -- COMMAND...
# Runs COMMAND once with OpenBLAS's own choice of kernels and once under every OPENBLAS_CORETYPE
# that this CPU can run (by its flags in /proc/cpuinfo), checking with `DPTRAIN info` that
# OpenBLAS really took each one. Kernel sets round GEMMs differently, so one machine stands in
# for the others (Haswell: AVX2 machines; SkylakeX: AVX-512; Zen: AMD's AVX2 kernels); a bound
# that holds under one and not another is tuned to a machine. Fails if COMMAND fails under any.
set -u
dptrain=$1
shift 2
flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { for flag in "$@"; do [[ "$flags" == *" $flag "* ]] || return 1; done; }

coretypes=(default Nehalem)
has avx && coretypes+=(Sandybridge)
has avx2 fma && coretypes+=(Haswell Zen)
has avx512f avx512bw avx512dq avx512vl && coretypes+=(SkylakeX)
has avx512_bf16 && coretypes+=(Cooperlake)

failed=() ran=() skipped=()
for coretype in "${coretypes[@]}"; do
  if [ "$coretype" = default ]; then
    core=$(OPENBLAS_VERBOSE=2 "$dptrain" info 2>&1 | sed -n 's/^Core: //p' | head -n 1)
    echo "=== OpenBLAS's own choice: ${core:-unknown}"
    "$@" || failed+=("default ($core)")
    ran+=("default ($core)")
    continue
  fi
  core=$(OPENBLAS_VERBOSE=2 OPENBLAS_CORETYPE=$coretype "$dptrain" info 2>&1 | head -n 1)
  if [ "$core" != "Core: $coretype" ]; then
    echo "=== $coretype: not taken by this OpenBLAS (it says: $core)"
    skipped+=("$coretype")
    continue
  fi
  echo "=== OPENBLAS_CORETYPE=$coretype"
  OPENBLAS_CORETYPE=$coretype "$@" || failed+=("$coretype")
  ran+=("$coretype")
done
echo "ran under: ${ran[*]}; not available here: ${skipped[*]:-none}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAIL under: ${failed[*]}"
  exit 1
fi
echo "PASS under every kernel set"
