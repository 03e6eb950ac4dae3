// Google Benchmark of the step's kernels on the CPU backend, each beside the machine's own limit
// for the same work: a whole model's forward and backward (the MLPs and the CNN) against bare
// cblas_sgemm of each GEMM shape its step issues (bench/step-breakdown.sh and cnn-runs.sh add
// them up into the step's limit), the CNN's im2col, col2im and pooling, softmax cross-entropy,
// Adam, the batch gather, and --exact's fixed-point conversions beside Adam over as many
// elements. Run:
//   build/bench/dptrain_kernels_bench --benchmark_counters_tabular=true
// Threads: one (OPENBLAS_NUM_THREADS has no effect; each benchmark sets its own).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/random.hpp"
#include "dptrain/model/layers/conv.hpp"
#include "dptrain/model/layers/pool.hpp"
#include "dptrain/model/model.hpp"
#include "dptrain/model/sequential.hpp"
#include "dptrain/optim/optimizer.hpp"
#include "recording_backend.hpp"

namespace dptrain {
namespace {

using bench::GemmShape;
using bench::RecordingBackend;

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

// The models measured: the reference MLP at its batch, a large MLP whose GEMMs dominate, and the
// CNN at the reference batch.
struct ModelCase {
  const char* name;
  ModelSpec spec;
  int rows;
};
const std::vector<ModelCase>& models() {
  static const std::vector<ModelCase> cases = {
      {"reference_784_64_10_b32", {ModelKind::mlp, {64}, {}, {}}, 32},
      {"large_784_1024_1024_10_b256", {ModelKind::mlp, {1024, 1024}, {}, {}}, 256},
      {"cnn_b32", {ModelKind::cnn, {}, {}, {}}, 32},
  };
  return cases;
}

// A model with its parameters and one batch of inputs, on `backend`.
struct ModelRun {
  std::unique_ptr<Model> model;
  std::vector<float> params, x, dlogits, grads;
  int rows;
  ModelRun(Backend& backend, const ModelCase& c)
      : model(make_model(backend, c.spec, c.rows)), rows(c.rows) {
    params.resize(model->layout().total());
    model->initialize(params, 1);
    x = random_floats(static_cast<size_t>(rows) * 784, 3);
    dlogits = random_floats(static_cast<size_t>(rows) * 10, 4);
    grads.resize(params.size());
  }
  void forward_backward() {
    model->forward(params.data(), x.data(), rows);
    model->backward(params.data(), x.data(), dlogits.data(), rows, grads.data());
  }
};

// The GEMMs of one training step, as the model issues them (recorded, not derived by hand).
std::vector<GemmShape> step_gemms(const ModelCase& c) {
  RecordingBackend recorder(1);
  ModelRun(recorder, c).forward_backward();
  return recorder.gemms;
}

double flops_of(const std::vector<GemmShape>& gemms) {
  double flops = 0.0;
  for (const GemmShape& gemm : gemms)
    flops += gemm.flops();
  return flops;
}

// C[m,n] = op(A) op(B), row-major, with the leading dimensions the models use.
struct GemmBuffers {
  std::vector<float> a, b, c;
  explicit GemmBuffers(const GemmShape& g)
      : a(random_floats(static_cast<size_t>(g.m) * g.k, 1)),
        b(random_floats(static_cast<size_t>(g.k) * g.n, 2)),
        c(static_cast<size_t>(g.m) * g.n) {}
  void run(const GemmShape& g) {
    const bool ta = g.trans_a == Transpose::yes, tb = g.trans_b == Transpose::yes;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, g.m,
                g.n, g.k, 1.0f, a.data(), ta ? g.m : g.k, b.data(), tb ? g.k : g.n, 0.0f, c.data(),
                g.n);
  }
};

// Bare cblas_sgemm of one of the step's shapes, on one thread.
void Sgemm(benchmark::State& state, GemmShape gemm) {
  openblas_set_num_threads(1);
  GemmBuffers buffers(gemm);
  for (auto _ : state) {
    buffers.run(gemm);
    benchmark::DoNotOptimize(buffers.c.data());
  }
  set_flops(state, gemm.flops());
}

// Forward and backward of a whole model on one thread: the step's GEMMs (the same flops as the
// Sgemm benchmarks of its shapes together) with everything between them (bias, activations,
// im2col, col2im, pooling).
void ModelForwardBackward(benchmark::State& state, ModelCase c) {
  CpuBackend backend(1);
  ModelRun run(backend, c);
  for (auto _ : state) {
    run.forward_backward();
    benchmark::DoNotOptimize(run.grads.data());
  }
  set_flops(state, flops_of(step_gemms(c)));
}

void register_model_benchmarks() {
  for (const ModelCase& c : models()) {
    const std::vector<GemmShape> gemms = step_gemms(c);
    for (size_t i = 0; i < gemms.size(); ++i)
      benchmark::RegisterBenchmark(
          ("Sgemm/" + std::string(c.name) + "/" + std::to_string(i) + "_" + gemms[i].name())
              .c_str(),
          Sgemm, gemms[i]);
    benchmark::RegisterBenchmark(("ModelForwardBackward/" + std::string(c.name)).c_str(),
                                 ModelForwardBackward, c);
  }
}

// The CNN's data movement around its GEMMs, per block at 32 rows: bytes read and written.
void ConvBlockKernel(benchmark::State& state, size_t block, int kernel) {
  CpuBackend backend(1);
  const Sequential cnn(backend, {ModelKind::cnn, {}, {}, {}}, 1);
  // Block b is the CNN's layers 2b (its convolution, ReLU fused) and 2b + 1 (its pooling).
  const auto& conv = dynamic_cast<const layers::Conv&>(*cnn.layers().at(2 * block));
  const auto& pool = dynamic_cast<const layers::Pool&>(*cnn.layers().at(2 * block + 1));
  const ew::ConvGeometry& geometry = conv.geometry();
  const int rows = 32;
  const size_t input =
      static_cast<size_t>(rows) * geometry.height * geometry.width * geometry.channels;
  const size_t col = static_cast<size_t>(rows) * conv.pixels() * geometry.patch();
  const size_t activated = static_cast<size_t>(rows) * conv.output().size();
  const size_t pooled = static_cast<size_t>(rows) * pool.output().size();
  std::vector<float> a = random_floats(std::max(col, activated), 8), out(std::max(col, activated));
  std::vector<uint8_t> argmax(pooled);
  size_t bytes = 0;
  for (auto _ : state) {
    switch (kernel) {
      case 0:
        backend.im2col(a.data(), geometry, rows, out.data());
        bytes = (input + col) * sizeof(float);
        break;
      case 1:
        backend.col2im(a.data(), geometry, rows, out.data());
        bytes = (col + input) * sizeof(float);
        break;
      case 2:
        backend.max_pool_forward(a.data(), pool.geometry(), rows, out.data(), argmax.data());
        bytes = (activated + pooled) * sizeof(float) + pooled;
        break;
      default:
        backend.max_pool_backward(a.data(), argmax.data(), pool.geometry(), rows, out.data());
        bytes = (pooled + activated) * sizeof(float) + pooled;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void register_conv_benchmarks() {
  const char* names[] = {"Im2col", "Col2im", "MaxPoolForward", "MaxPoolBackward"};
  for (size_t block = 0; block < 2; ++block)
    for (int kernel = 0; kernel < 4; ++kernel)
      benchmark::RegisterBenchmark(
          (std::string(names[kernel]) + "/cnn_b32/conv" + std::to_string(block + 1)).c_str(),
          ConvBlockKernel, block, kernel);
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

// One optimizer step over n parameters; range(1): 0 Adam, 1 SGD with momentum.
void OptimizerUpdate(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  CpuBackend backend(1);
  OptimizerOptions options;
  if (state.range(1) == 1) {
    options.kind = OptimizerKind::sgd;
    options.momentum = 0.9f;
  }
  Optimizer optimizer(backend, n, options);
  std::vector<float> params = random_floats(n, 6);
  const std::vector<float> grads = random_floats(n, 7);
  const ew::UpdateStep constants = ew::update_constants(options.hyper(), options.lr, 1, 1.0f);
  for (auto _ : state) {
    optimizer.step(params.data(), grads.data(), constants);
    benchmark::DoNotOptimize(params.data());
  }
  // p, g and each state tensor read; p and each state tensor written.
  const size_t tensors = optimizer.state_names().size();
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * n * (3 + 2 * tensors) * sizeof(float)));
}
BENCHMARK(OptimizerUpdate)->Args({50890, 0})->Args({1863690, 0})->Args({1863690, 1});

// --exact's extra work per micro-batch (rounding every gradient to int64, accumulating, taking
// the maximum) and per step (back to float), to read against OptimizerUpdate over as many elements.
void ToFixedPoint(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  CpuBackend backend(1);
  const std::vector<float> grads = random_floats(n, 8);
  std::vector<int64_t> sums(n, 0);
  float largest = 0.0f;
  for (auto _ : state) {
    backend.to_fixed_point(grads.data(), n, 0x1p50, /*accumulate=*/true, sums.data(), &largest);
    benchmark::DoNotOptimize(sums.data());
  }
  // g read; the sums read and written.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * 20));
}
BENCHMARK(ToFixedPoint)->Arg(50890)->Arg(1863690);

void FromFixedPoint(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  CpuBackend backend(1);
  std::vector<int64_t> sums(n);
  for (size_t i = 0; i < n; ++i)
    sums[i] = static_cast<int64_t>(random::mix64(i)) >> 12;
  std::vector<float> grads(n);
  for (auto _ : state) {
    backend.from_fixed_point(sums.data(), n, 0x1p-50, grads.data());
    benchmark::DoNotOptimize(grads.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * 12));
}
BENCHMARK(FromFixedPoint)->Arg(50890)->Arg(1863690);

void GatherBatch(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(0));
  CpuBackend backend(1);
  const size_t stored = 30000;
  std::vector<uint8_t> images(stored * 784);
  std::vector<int32_t> labels(stored);
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
  dptrain::register_conv_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
