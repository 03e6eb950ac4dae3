#!/usr/bin/env bash
# The suite under the sanitizers (README, "Sanitizers and fuzzing"), in a build directory of its
# own, CPU path only:
#   bash tests/sanitizers/run.sh address [CTEST_ARGS...]   build-asan: AddressSanitizer and
#       UndefinedBehaviorSanitizer, the whole CPU suite (unit, MPI on 1 to 5 ranks, CLI and bad
#       input, 2 end-to-end runs, cluster, Slurm, fuzz replays); extra arguments go to ctest
#   bash tests/sanitizers/run.sh thread                     build-tsan: ThreadSanitizer, the
#       tests that run dptrain's threads (label threads)
# Every finding ends its process with status 86 (tests/sanitizers/defaults.cpp), so the test
# that met it fails. Expects the packages and datasets of tests/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

kind=${1:?usage: run.sh address|thread [CTEST_ARGS...]}
shift
case "$kind" in
  address) dir=build-asan sanitize=address,undefined targets=(all) ;;
  thread)
    dir=build-tsan sanitize=thread
    # Only what the threads' tests run: TSan slows every instrumented line 5 to 15 times.
    targets=(dptrain dptrain_mpi_tests dptrain_make_test_file) ;;
  *) echo "run.sh: unknown sanitizer kind '$kind' (address or thread)" >&2; exit 2 ;;
esac

cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DDPTRAIN_WERROR=ON -DDPTRAIN_CUDA=OFF \
  -DDPTRAIN_SANITIZE="$sanitize" -DDPTRAIN_BUILD_BENCHMARKS=OFF
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}"
echo "=== tests of $dir (-fsanitize=$sanitize)"
if [ "$kind" = thread ]; then
  ctest --test-dir "$dir" --output-on-failure -L threads "$@"
else
  # End-to-end on a subset: 2 ranks to 96% in 2 epochs, and asynchronous parameter servers. The
  # others train the same code for longer (the 10 seeds' mean alone takes 10 minutes here).
  ctest --test-dir "$dir" --output-on-failure --parallel 4 \
    -E '^e2e_(mnist_reference_run|mnist_keras_batch_mean_of_10_seeds|cnn_mnist_one_epoch|fashion_mnist_mlp|exact_runs_match_bit_for_bit)$' \
    "$@"
fi
