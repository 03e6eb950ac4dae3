#!/usr/bin/env bash
# selftest_dry_run.sh BUNDLE.tar.gz
#
# The GPU path of the bundle's selftest, as far as a machine without a GPU can run it: GPU time
# is short, and a selftest that misreads a log or a metrics file there wastes it. The bundle is
# unpacked into a temporary folder and given stand-ins: `dptrain info` reports 2 GPUs, `dptrain
# train --device cuda` trains on the CPU (and `--model cnn` as the MLP, which is quick and meets
# none of the CNN's floors), dptrain_cuda_tests runs a few CPU unit tests, dptrain_cuda_mpi_tests
# a CPU test that skips below 3 ranks, and nvidia-smi names a made-up GPU. Then the selftest must
# report exactly these results, each with its figure: PASS where the stand-in passes, FAIL for
# the skipped device tests and the CNN's floors and target; and exit 1.
set -euo pipefail
bundle=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "selftest_dry_run: FAIL: $*" >&2; exit 1; }

tar -xzf "$bundle" -C "$work"
libexec=$work/dptrain-bundle/libexec
mv "$libexec/dptrain" "$libexec/dptrain.real"
cat >"$libexec/dptrain" <<'EOF'
#!/usr/bin/env bash
# Stand-in: 2 GPUs that are the CPU, and a CNN that is the MLP.
real=$(dirname "$0")/dptrain.real
if [ "${1:-}" = info ]; then "$real" info | sed 's/^cuda devices: .*/cuda devices: 2/'; exit; fi
args=()
for arg in "$@"; do
  case "$arg" in cuda) arg=cpu ;; cnn) arg=mlp ;; esac
  args+=("$arg")
done
exec "$real" "${args[@]}"
EOF
cat >"$libexec/dptrain_cuda_tests" <<'EOF'
#!/usr/bin/env bash
exec "$(dirname "$0")/dptrain_unit_tests" '--gtest_filter=Adam.*' "$@"
EOF
cat >"$libexec/dptrain_cuda_mpi_tests" <<'EOF'
#!/usr/bin/env bash
exec "$(dirname "$0")/dptrain_mpi_tests" '--gtest_filter=Agree.TheLowestFailingRank*' "$@"
EOF
mkdir -p "$work/fakebin"
cat >"$work/fakebin/nvidia-smi" <<'EOF'
#!/usr/bin/env bash
case "$*" in
  *--query-gpu*) printf 'NVIDIA Stand-in GPU, 999.1\nNVIDIA Stand-in GPU, 999.1\n' ;;
  *) echo "NVIDIA-SMI 999.1 (a stand-in of selftest_dry_run.sh)" ;;
esac
EOF
chmod +x "$libexec/dptrain" "$libexec/dptrain_cuda_tests" "$libexec/dptrain_cuda_mpi_tests" \
  "$work/fakebin/nvidia-smi"

status=0
env -i PATH="$work/fakebin:/usr/bin:/bin" HOME="$work" TMPDIR="$work" \
  timeout 600 "$work/dptrain-bundle/selftest" --out "$work/results" >"$work/stdout" 2>&1 || status=$?
summary=$work/results/summary.md
[ -f "$summary" ] || { cat "$work/stdout" >&2; fail "no summary.md"; }
[ "$status" -eq 1 ] || { cat "$summary" >&2; fail "selftest exited $status, not 1"; }

# check | result | a regex of its figure
expected=(
  'dptrain info|PASS|^Open MPI v[0-9.]+, OpenBLAS [0-9.]+ \([A-Za-z0-9]+ kernels\), 2 GPU\(s\)$'
  'device tests: dptrain_cuda_tests|PASS|^[0-9]+ tests passed in [0-9.]+ s$'
  'device tests: cuda_mpi_tests -np 1|FAIL|^1 skipped, which a GPU machine must not: needs 3 ranks$'
  'device tests: cuda_mpi_tests -np 2|FAIL|^1 skipped, which a GPU machine must not: needs 3 ranks$'
  'CPU unit tests|PASS|^[0-9]+ tests passed in [0-9.]+ s$'
  'MNIST prepared|PASS|^SHA-256 verified, 60000 training and 10000 test images, [0-9.]+ s$'
  'MLP, 1 epoch, 1 GPU|PASS|^test accuracy 9[0-9]\.[0-9]{2}% \(>= 90\.00%\), [0-9]+ samples/s$'
  'MLP, time to 97%, 1 GPU|PASS|^epoch [1-5] \(9[7-9]\.[0-9]{2}%\), [0-9.]+ s of training$'
  'CNN, 1 epoch, 1 GPU|FAIL|^test accuracy 9[0-6]\.[0-9]{2}% < 97\.00%, [0-9]+ samples/s$'
  'CNN, time to 99%, 1 GPU|FAIL|^not reached in 5 epoch\(s\) \(best 9[0-8]\.[0-9]{2}%\)$'
  'MLP, 1 epoch, 2 GPUs|PASS|^test accuracy 9[0-9]\.[0-9]{2}% \(>= 90\.00%\), [0-9]+ samples/s$'
  'MLP, 2 GPUs / 1 GPU|PASS|^[0-9.]+x \([0-9]+ against [0-9]+ samples/s\)$'
  'CNN, 1 epoch, 2 GPUs|FAIL|^test accuracy 9[0-6]\.[0-9]{2}% < 97\.00%, [0-9]+ samples/s$'
  'CNN, 2 GPUs / 1 GPU|PASS|^[0-9.]+x \([0-9]+ against [0-9]+ samples/s\)$'
  'MLP, 1 epoch, 1 GPU, --exact|PASS|^test accuracy 9[0-9]\.[0-9]{2}% \(>= 90\.00%\), [0-9]+ samples/s$'
  'MLP, --exact / default speed|PASS|^[0-9.]+x \([0-9]+ against [0-9]+ samples/s\)$'
  'CNN, 1 epoch, 1 GPU, --exact|FAIL|^test accuracy 9[0-6]\.[0-9]{2}% < 97\.00%, [0-9]+ samples/s$'
  'CNN, --exact / default speed|PASS|^[0-9.]+x \([0-9]+ against [0-9]+ samples/s\)$'
  'MLP, 1 epoch, 1 GPU, --cuda-graph off|PASS|^test accuracy 9[0-9]\.[0-9]{2}% \(>= 90\.00%\), [0-9]+ samples/s$'
  'MLP, --cuda-graph off / default speed|PASS|^[0-9.]+x \([0-9]+ against [0-9]+ samples/s\)$'
  'MLP, 1 epoch, 1 GPU, SGD, cosine, clipping, ZeRO-1|PASS|^test accuracy 9[0-9]\.[0-9]{2}% \(>= 90\.00%\), [0-9]+ samples/s$'
)
rows=$(grep -E '^\| .* \| (PASS|FAIL) \| ' "$summary")
[ "$(wc -l <<<"$rows")" -eq "${#expected[@]}" ] ||
  { cat "$summary" >&2; fail "summary.md has $(wc -l <<<"$rows") checks, not ${#expected[@]}"; }
i=0
while IFS='|' read -r _ name result figure _; do
  IFS='|' read -r want_name want_result want_figure <<<"${expected[i]}"
  name=${name# } name=${name% } result=${result// /} figure=${figure# } figure=${figure% }
  if [ "$name" != "$want_name" ] || [ "$result" != "$want_result" ] ||
    ! grep -Eq "$want_figure" <<<"$figure"; then
    cat "$summary" >&2
    fail "check $((i + 1)): '$name | $result | $figure', expected '${expected[i]}'"
  fi
  i=$((i + 1))
done <<<"$rows"
grep -q '^- GPUs: 2 (2x NVIDIA Stand-in GPU, 999.1)$' "$summary" || { cat "$summary" >&2; fail "no GPU line"; }
grep -q '^6 of 21 checks failed\.$' "$summary" || { cat "$summary" >&2; fail "no count of failures"; }
for file in selftest.log dptrain-info.txt nvidia-smi.txt cuda-libraries.txt mlp-1gpu.jsonl \
  cnn-1gpu.jsonl mlp-2gpu.log mlp-1gpu-exact.jsonl dptrain_cuda_mpi_tests-np2.log; do
  [ -s "$work/results/$file" ] || fail "the results folder has no $file"
done
echo "selftest_dry_run: PASS: the selftest's ${#expected[@]} GPU-path checks read as expected ($SECONDS s)"
