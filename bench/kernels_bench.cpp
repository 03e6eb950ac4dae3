// Google Benchmark of the step's kernels on the CPU backend, each beside the machine's own limit
// for the same work: a whole MLP's forward and backward against bare cblas_sgemm of each of its
// GEMM shapes (bench/step-breakdown.sh adds them up into the step's limit), softmax
// cross-entropy, Adam, the batch gather. Run:
//   build/bench/dptrain_kernels_bench --benchmark_counters_tabular=true
// Threads: one (OPENBLAS_NUM_THREADS has no effect; each benchmark sets its own).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <string>
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

// The models measured: the reference MLP at its batch, and a large one whose GEMMs dominate.
struct ModelShape {
  const char* name;
  std::vector<int> widths;
  int rows;
};
const std::vector<ModelShape>& models() {
  static const std::vector<ModelShape> shapes = {
      {"reference_784_64_10_b32", {784, 64, 10}, 32},
      {"large_784_1024_1024_10_b256", {784, 1024, 1024, 10}, 256},
  };
  return shapes;
}

// C[m,n] = op(A) op(B), as the step issues it (row-major, Mlp's layout).
struct Gemm {
  std::string name;
  CBLAS_TRANSPOSE trans_a, trans_b;
  int m, n, k;
  double flops() const { return 2.0 * m * n * k; }
};

// The GEMMs of one training step of an MLP, in Mlp::forward and Mlp::backward's order.
std::vector<Gemm> step_gemms(const ModelShape& model) {
  std::vector<Gemm> gemms;
  const std::vector<int>& w = model.widths;
  const int layers = static_cast<int>(w.size()) - 1;
  for (int i = 0; i < layers; ++i)
    gemms.push_back(
        {"forward" + std::to_string(i), CblasNoTrans, CblasTrans, model.rows, w[i + 1], w[i]});
  for (int i = layers - 1; i >= 0; --i) {
    gemms.push_back(
        {"dweight" + std::to_string(i), CblasTrans, CblasNoTrans, w[i + 1], w[i], model.rows});
    if (i > 0)
      gemms.push_back(
          {"dinput" + std::to_string(i), CblasNoTrans, CblasNoTrans, model.rows, w[i], w[i + 1]});
  }
  return gemms;
}

struct GemmBuffers {
  std::vector<float> a, b, c;
  explicit GemmBuffers(const Gemm& g)
      : a(random_floats(static_cast<size_t>(g.m) * g.k, 1)),
        b(random_floats(static_cast<size_t>(g.k) * g.n, 2)),
        c(static_cast<size_t>(g.m) * g.n) {}
  void run(const Gemm& g) {
    const int lda = g.trans_a == CblasNoTrans ? g.k : g.m;
    const int ldb = g.trans_b == CblasNoTrans ? g.n : g.k;
    cblas_sgemm(CblasRowMajor, g.trans_a, g.trans_b, g.m, g.n, g.k, 1.0f, a.data(), lda, b.data(),
                ldb, 0.0f, c.data(), g.n);
  }
};

// Bare cblas_sgemm of one of the step's shapes, on one thread.
void Sgemm(benchmark::State& state, Gemm gemm) {
  openblas_set_num_threads(1);
  GemmBuffers buffers(gemm);
  for (auto _ : state) {
    buffers.run(gemm);
    benchmark::DoNotOptimize(buffers.c.data());
  }
  set_flops(state, gemm.flops());
}

// Forward and backward of a whole MLP on one thread: the step's GEMMs (the same flops as the
// Sgemm benchmarks of its shapes together) with the fused bias/activation, bias gradients and
// ReLU backward between them.
void MlpForwardBackward(benchmark::State& state, ModelShape shape) {
  const int rows = shape.rows;
  const std::vector<int>& widths = shape.widths;
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
  double flops = 0.0;
  for (const Gemm& gemm : step_gemms(shape))
    flops += gemm.flops();
  set_flops(state, flops);
}

void register_model_benchmarks() {
  for (const ModelShape& model : models()) {
    for (const Gemm& gemm : step_gemms(model))
      benchmark::RegisterBenchmark(("Sgemm/" + std::string(model.name) + "/" + gemm.name).c_str(),
                                   Sgemm, gemm);
    benchmark::RegisterBenchmark(("MlpForwardBackward/" + std::string(model.name)).c_str(),
                                 MlpForwardBackward, model);
  }
}

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

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  dptrain::register_model_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
