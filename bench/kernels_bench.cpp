// Google Benchmark of the step's kernels on the CPU backend, each beside the machine's own limit
// for the same work: dense layers against a bare cblas_sgemm of their shapes (the ratio is what
// the fused code adds), softmax cross-entropy, Adam, the batch gather. Run:
//   build/bench/dptrain_kernels_bench --benchmark_counters_tabular=true
// Threads: one (OPENBLAS_NUM_THREADS has no effect; each benchmark sets its own).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/random.hpp"
#include "dptrain/model/mlp.hpp"
#include "dptrain/optim/adam.hpp"

namespace dptrain {
namespace {

std::vector<float> random_floats(size_t n, uint64_t seed) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = random::uniform01(seed, i) - 0.5f;
  return values;
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// A bare sgemm, C[m,n] = A[m,k] op(B): the reference the layers are measured against.
void Sgemm(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1)),
            k = static_cast<int>(state.range(2));
  const bool trans_b = state.range(3) != 0;
  openblas_set_num_threads(1);
  const std::vector<float> a = random_floats(static_cast<size_t>(m) * k, 1);
  const std::vector<float> b = random_floats(static_cast<size_t>(k) * n, 2);
  std::vector<float> c(static_cast<size_t>(m) * n);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0f,
                a.data(), k, b.data(), trans_b ? k : n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, 2.0 * m * n * k);
}
// The GEMMs of the reference model (batch 32) and of the large one (batch 256).
BENCHMARK(Sgemm)
    ->ArgNames({"m", "n", "k", "transB"})
    ->Args({32, 64, 784, 1})
    ->Args({32, 10, 64, 1})
    ->Args({256, 1024, 784, 1})
    ->Args({256, 1024, 1024, 1})
    ->Args({256, 10, 1024, 1})
    ->Args({1024, 1024, 1024, 0});

// Forward and backward of a whole MLP at a batch size, on one thread: the compute of a step.
void MlpForwardBackward(benchmark::State& state, std::vector<int> widths, int rows) {
  CpuBackend backend(1);
  Mlp model(backend, widths, rows);
  std::vector<float> params(model.layout().total());
  model.initialize(params, 1);
  const std::vector<float> x = random_floats(static_cast<size_t>(rows) * widths[0], 3);
  const std::vector<float> dlogits = random_floats(static_cast<size_t>(rows) * widths.back(), 4);
  std::vector<float> grads(params.size());
  for (auto _ : state) {
    model.forward(params.data(), x.data(), rows);
    model.backward(params.data(), x.data(), dlogits.data(), rows, grads.data());
    benchmark::DoNotOptimize(grads.data());
  }
  // Forward: every layer; backward: every weight gradient, and input gradients but the first's.
  double flops = 0.0;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    const double layer = 2.0 * rows * widths[i] * widths[i + 1];
    flops += (i == 0 ? 2.0 : 3.0) * layer;
  }
  set_flops(state, flops);
}
BENCHMARK_CAPTURE(MlpForwardBackward, reference_784_64_10_b32, std::vector<int>{784, 64, 10}, 32);
BENCHMARK_CAPTURE(MlpForwardBackward, large_784_1024_1024_10_b256,
                  std::vector<int>{784, 1024, 1024, 10}, 256);

void SoftmaxCrossEntropy(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(0));
  CpuBackend backend(1);
  const std::vector<float> logits = random_floats(static_cast<size_t>(rows) * 10, 5);
  std::vector<int32_t> labels(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r)
    labels[static_cast<size_t>(r)] = r % 10;
  std::vector<float> dlogits(logits.size());
  double loss = 0.0;
  for (auto _ : state) {
    backend.softmax_cross_entropy(logits.data(), labels.data(), rows, 10,
                                  1.0f / static_cast<float>(rows), dlogits.data(), &loss);
    benchmark::DoNotOptimize(dlogits.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(SoftmaxCrossEntropy)->Arg(32)->Arg(256);

void AdamUpdate(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  CpuBackend backend(1);
  Adam adam(backend, n, AdamOptions{});
  std::vector<float> params = random_floats(n, 6);
  const std::vector<float> grads = random_floats(n, 7);
  for (auto _ : state) {
    adam.step(params.data(), grads.data());
    benchmark::DoNotOptimize(params.data());
  }
  // p, g, m, v read; p, m, v written.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * 7 * sizeof(float)));
}
BENCHMARK(AdamUpdate)->Arg(50890)->Arg(1863690);

void GatherBatch(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(0));
  CpuBackend backend(1);
  const size_t stored = 30000;
  std::vector<uint8_t> images(stored * 784), labels(stored);
  for (size_t i = 0; i < images.size(); ++i)
    images[i] = static_cast<uint8_t>(i * 7);
  std::vector<uint32_t> indices(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r)
    indices[static_cast<size_t>(r)] = static_cast<uint32_t>((r * 7919) % stored);
  std::vector<float> x(static_cast<size_t>(rows) * 784);
  std::vector<int32_t> y(static_cast<size_t>(rows));
  for (auto _ : state) {
    backend.gather_batch(images.data(), labels.data(), 784, indices.data(), rows, x.data(),
                         y.data());
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(GatherBatch)->Arg(32)->Arg(256);

}  // namespace
}  // namespace dptrain

BENCHMARK_MAIN();
