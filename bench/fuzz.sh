#!/usr/bin/env bash
# bash bench/fuzz.sh [SECONDS_PER_HARNESS (default 60)] [HARNESS...]
#
# Builds the fuzz harnesses of fuzz/ with libFuzzer, AddressSanitizer and UBSan (clang-14, in
# build-fuzz/), then runs each (default: all) for SECONDS, two at a time, each from a copy of
# its seeds and regressions (fuzz/corpus/<name>/, fuzz/regressions/<name>/; fuzz/ itself is
# never written). A crash, a sanitizer finding, a hang of 10 s, an RSS over 2 GiB or a single
# allocation over 2 GiB is a finding: its input is saved under build-fuzz/crashes/<name>/ and
# the script exits 1. Prints a line per harness: seconds, executions, coverage (libFuzzer's cov
# and ft at the end), corpus size and findings.
set -euo pipefail

seconds=${1:-60}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build-fuzz
if [[ $# -gt 0 ]]; then
  harnesses=("$@")
else
  harnesses=()
  for source in "$root"/fuzz/*_fuzz.cpp; do
    name=$(basename "$source" _fuzz.cpp)
    harnesses+=("$name")
  done
fi

mkdir -p "$build"
timeout 600 cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 -DDPTRAIN_FUZZ=ON \
  -DDPTRAIN_SANITIZE=address,undefined -DDPTRAIN_CUDA=OFF -DDPTRAIN_BUILD_TESTS=OFF \
  -DDPTRAIN_BUILD_BENCHMARKS=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 2; }
targets=()
for name in "${harnesses[@]}"; do targets+=("fuzz_$name"); done
timeout 3600 cmake --build "$build" -j2 --target "${targets[@]}"

# One harness: a fresh corpus copy, libFuzzer's run, its summary line.
run_one() {
  local name=$1 work=$build/runs/$1 crashes=$build/crashes/$1
  rm -rf "$work" "$crashes" && mkdir -p "$work/corpus" "$crashes"
  if [[ -d $root/fuzz/corpus/$name ]]; then cp -r "$root/fuzz/corpus/$name/." "$work/corpus/"; fi
  if [[ -d $root/fuzz/regressions/$name ]]; then
    cp -r "$root/fuzz/regressions/$name/." "$work/corpus/"
  fi
  local started=$SECONDS status=0
  # -close_fd_mask=1: the harnesses' stdout (reports, help) is noise; libFuzzer writes stderr.
  timeout $((seconds + 300)) "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 -close_fd_mask=1 \
    -artifact_prefix="$crashes/" "$work/corpus" >"$work/log" 2>&1 || status=$?
  local took=$((SECONDS - started))
  local executions cov ft findings
  executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | grep -o '[0-9]*$' || true)
  cov=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: [0-9]+' "$work/log" | tail -n 1 | grep -oE '[0-9]+$' || true)
  ft=$(grep -oE ' ft: [0-9]+' "$work/log" | tail -n 1 | grep -oE '[0-9]+$' || true)
  findings=$(find "$crashes" -type f | wc -l)
  if [[ $status -ne 0 && $findings -eq 0 ]]; then findings="exit-$status"; fi
  printf '%-18s %5ss %12s execs  cov %6s  ft %7s  corpus %6s  findings %s\n' "$name" "$took" \
    "${executions:-?}" "${cov:-?}" "${ft:-?}" "$(find "$work/corpus" -type f | wc -l)" "$findings"
}

echo "bench/fuzz.sh: ${#harnesses[@]} harnesses, ${seconds} s each, two at a time; logs in $build/runs/"
summary=$build/summary.txt
: >"$summary"
running=0
for name in "${harnesses[@]}"; do
  if [[ $running -ge 2 ]]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$name" >>"$summary" &
  running=$((running + 1))
done
wait
sort "$summary"
if grep -qvE 'findings 0$' "$summary"; then
  echo "bench/fuzz.sh: findings: see $build/crashes/ and the logs in $build/runs/" >&2
  exit 1
fi
