// Every operation of the CUDA backend against the CPU backend on random inputs. Skipped, with
// the CUDA runtime's reason, where no GPU is visible.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/column_sum.hpp"
#include "dptrain/cuda/cuda_api.hpp"
#include "dptrain/model/sequential.hpp"
#include "dptrain/optim/optimizer.hpp"
#include "support/numeric_checks.hpp"

namespace dptrain {
namespace {

using testing::random_values;
using testing::same_bits;

void expect_close(const std::vector<float>& got, const std::vector<float>& expected,
                  float tolerance, const std::string& what) {
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], expected[i], tolerance * (1.0f + std::abs(expected[i])))
        << what << " element " << i;
}

class CudaVsCpu : public ::testing::Test {
 protected:
  void SetUp() override {
    const VisibleDevices devices = cuda::visible_devices();
    if (devices.count == 0) GTEST_SKIP() << "no CUDA device: " << devices.error;
    gpu_ = cuda::make_backend(0, GemmPrecision::fp32);
  }

  template <class T>
  DeviceArray<T> upload(const std::vector<T>& host) {
    DeviceArray<T> array(*gpu_, host.size());
    gpu_->copy_to_device(array.data(), host.data(), array.bytes());
    return array;
  }
  template <class T>
  std::vector<T> download(const DeviceArray<T>& array) {
    std::vector<T> host(array.size());
    gpu_->copy_to_host(host.data(), array.data(), array.bytes());
    return host;
  }

  CpuBackend cpu_{1};
  // The model's logits and gradients on the GPU against the CPU's (defined below).
  void expect_model_matches_cpu(const ModelSpec& spec);
  std::unique_ptr<Backend> gpu_;
};

TEST_F(CudaVsCpu, GemmInEveryTransposition) {
  const int m = 33, n = 65, k = 129;
  for (Transpose ta : {Transpose::no, Transpose::yes})
    for (Transpose tb : {Transpose::no, Transpose::yes}) {
      const int lda = ta == Transpose::no ? k : m, ldb = tb == Transpose::no ? n : k;
      const std::vector<float> a = random_values(static_cast<size_t>(m) * k, 1);
      const std::vector<float> b = random_values(static_cast<size_t>(k) * n, 2);
      std::vector<float> c = random_values(static_cast<size_t>(m) * n, 3);
      DeviceArray<float> da = upload(a), db = upload(b), dc = upload(c);
      cpu_.gemm(ta, tb, m, n, k, 1.5f, a.data(), lda, b.data(), ldb, 0.25f, c.data(), n);
      gpu_->gemm(ta, tb, m, n, k, 1.5f, da.data(), lda, db.data(), ldb, 0.25f, dc.data(), n);
      expect_close(download(dc), c, 1e-4f, "gemm");
    }
}

TEST_F(CudaVsCpu, Tf32GemmStaysWithinItsPrecision) {
  std::unique_ptr<Backend> tf32 = cuda::make_backend(0, GemmPrecision::tf32);
  const int m = 64, n = 64, k = 256;
  const std::vector<float> a = random_values(static_cast<size_t>(m) * k, 4);
  const std::vector<float> b = random_values(static_cast<size_t>(k) * n, 5);
  std::vector<float> c(static_cast<size_t>(m) * n, 0.0f);
  DeviceArray<float> da(*tf32, a.size()), db(*tf32, b.size()), dc(*tf32, c.size());
  tf32->copy_to_device(da.data(), a.data(), da.bytes());
  tf32->copy_to_device(db.data(), b.data(), db.bytes());
  cpu_.gemm(Transpose::no, Transpose::no, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(),
            n);
  tf32->gemm(Transpose::no, Transpose::no, m, n, k, 1.0f, da.data(), k, db.data(), n, 0.0f,
             dc.data(), n);
  std::vector<float> got(c.size());
  tf32->copy_to_host(got.data(), dc.data(), dc.bytes());
  expect_close(got, c, 2e-2f, "tf32 gemm");
}

TEST_F(CudaVsCpu, BiasActivationAndItsBackward) {
  const int rows = 37, cols = 70;
  std::vector<float> y = random_values(static_cast<size_t>(rows) * cols, 6);
  const std::vector<float> bias = random_values(cols, 7);
  std::vector<float> dy = random_values(y.size(), 8);
  DeviceArray<float> dev_y = upload(y), dev_bias = upload(bias), dev_dy = upload(dy);
  for (ew::Activation activation : {ew::Activation::relu, ew::Activation::none}) {
    cpu_.bias_activation_forward(y.data(), bias.data(), rows, cols, activation);
    gpu_->bias_activation_forward(dev_y.data(), dev_bias.data(), rows, cols, activation);
    expect_close(download(dev_y), y, 0.0f, "bias + activation");
    cpu_.activation_backward(dy.data(), y.data(), dy.size(), activation);
    gpu_->activation_backward(dev_dy.data(), dev_y.data(), dy.size(), activation);
    expect_close(download(dev_dy), dy, 0.0f, "activation backward");
  }
}

// The bias gradient adds in the order of ew::column_sum_plan, fixed by the shape: it must equal
// that order run on the host bit for bit, for one run of rows (the MLP) and for many (conv1's
// 18432 rows of a 32-image batch), and so repeat bit for bit from run to run.
TEST_F(CudaVsCpu, BiasGradientInItsFixedOrderBitForBit) {
  for (const auto& [rows, cols] :
       {std::pair{32, 64}, std::pair{37, 70}, std::pair{18432, 32}, std::pair{5000, 1100}}) {
    const std::vector<float> dy = random_values(static_cast<size_t>(rows) * cols, 8);
    DeviceArray<float> dev_dy = upload(dy), dev_dbias(*gpu_, static_cast<size_t>(cols));
    gpu_->bias_gradient(dev_dy.data(), rows, cols, dev_dbias.data());
    const std::vector<float> got = download(dev_dbias);
    const std::vector<float> expected =
        ew::column_sums_in_device_order(dy.data(), rows, cols, size_t{1} << 20);
    ASSERT_EQ(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)), 0)
        << rows << "x" << cols;
  }
}

TEST_F(CudaVsCpu, SoftmaxCrossEntropyAndAccuracy) {
  const int rows = 300, cols = 10;
  const std::vector<float> logits = random_values(static_cast<size_t>(rows) * cols, 9, -8, 8);
  std::vector<int32_t> labels(rows);
  for (int r = 0; r < rows; ++r)
    labels[r] = (r * 7 + 3) % cols;
  std::vector<float> dlogits(logits.size());
  double loss = 0.0;
  std::vector<int64_t> confusion(static_cast<size_t>(cols) * cols, 0);
  cpu_.softmax_cross_entropy(logits.data(), labels.data(), rows, cols, 1.0f / rows, dlogits.data(),
                             &loss);
  cpu_.accumulate_confusion(logits.data(), labels.data(), rows, cols, confusion.data());

  DeviceArray<float> dev_logits = upload(logits), dev_dlogits(*gpu_, logits.size());
  DeviceArray<int32_t> dev_labels = upload(labels);
  DeviceArray<double> dev_loss = upload(std::vector<double>{0.0});
  DeviceArray<int64_t> dev_confusion = upload(std::vector<int64_t>(confusion.size(), 0));
  gpu_->softmax_cross_entropy(dev_logits.data(), dev_labels.data(), rows, cols, 1.0f / rows,
                              dev_dlogits.data(), dev_loss.data());
  gpu_->accumulate_confusion(dev_logits.data(), dev_labels.data(), rows, cols,
                             dev_confusion.data());
  // Both sides evaluate the same float expressions (ew::softmax_cross_entropy_row) and differ
  // only in expf and logf: at most 2 ulp on the GPU (CUDA C Programming Guide, "Mathematical
  // Functions", single precision) and 1 on the CPU (glibc). With u = 2^-24 and the logits'
  // range R = 16, a side's exponential is off by (2 + R) u relatively (the rounding of x - max
  // moves it by R u), the sum of `cols` of them by (cols + 1 + R) u, so e / sum by
  // (cols + 3 + 2R) u; that is dlogits' error per side before grad_scale (|e / sum| <= 1).
  // The row loss log(sum) - (x - max) adds 1 ulp of log(sum) <= log(cols) and R u, and the
  // final rounding, |loss| <= R + log(cols): per side (cols + 2 + 4R + 3 log(cols)) u.
  constexpr double u = 0x1p-24, range = 16.0;
  const double dlogit_bound = 2.0 * (cols + 3 + 2 * range + 1) * u / rows;
  const std::vector<float> got_dlogits = download(dev_dlogits);
  for (size_t i = 0; i < dlogits.size(); ++i)
    ASSERT_NEAR(got_dlogits[i], dlogits[i], dlogit_bound) << "dlogits element " << i;
  const double row_bound = 2.0 * (cols + 2 + 4 * range + 3 * std::log(cols)) * u;
  // The double sums' own rounding (rows * 2^-53 * loss) is far below.
  EXPECT_NEAR(download(dev_loss)[0], loss, rows * row_bound);
  EXPECT_EQ(download(dev_confusion), confusion);
  // all_finite, on a clean buffer and with one infinity.
  EXPECT_TRUE(gpu_->all_finite(dev_logits.data(), logits.size()));
  const float infinity = std::numeric_limits<float>::infinity();
  gpu_->copy_to_device(dev_logits.data() + 17, &infinity, sizeof infinity);
  EXPECT_FALSE(gpu_->all_finite(dev_logits.data(), logits.size()));
}

// The step's check and verdict stay on the device (core/step_guard.hpp): the first bad index
// found, the verdict the CPU's, and the guarded update the plain one bit for bit, or nothing.
TEST_F(CudaVsCpu, NonFiniteVerdictAndGuardedAdamOnTheDevice) {
  const size_t n = 300007;
  std::vector<float> grads = random_values(n, 14);
  grads[200001] = std::numeric_limits<float>::quiet_NaN();
  grads[250000] = std::numeric_limits<float>::infinity();
  DeviceArray<float> dg = upload(grads);
  ew::StepGuard cpu_guard;
  DeviceArray<ew::StepGuard> dev_guard = upload(std::vector<ew::StepGuard>{cpu_guard});
  ew::StepPolicy skip;
  skip.optimizer = OptimizerOptions{}.hyper();
  skip.schedule.peak = OptimizerOptions{}.lr;
  skip.halt_on_non_finite = false;
  std::vector<float> params = random_values(n, 15), m(n, 0.0f), v(n, 0.0f);
  DeviceArray<float> dp = upload(params), dm = upload(m), dv = upload(v);
  for (int step = 1; step <= 3; ++step) {
    if (step == 2) {  // the bad step
      cpu_.find_non_finite(grads.data(), n, &cpu_guard.non_finite_index);
      gpu_->find_non_finite(dg.data(), n, &dev_guard.data()->non_finite_index);
    }
    cpu_.decide_step(&cpu_guard, skip, ew::kNoIndex, nullptr);
    gpu_->decide_step(dev_guard.data(), skip, ew::kNoIndex, nullptr);
    const float* g = step == 2 ? grads.data() : grads.data() + 1;  // finite ranges elsewhere
    ew::StateTensors cpu_state, gpu_state;
    cpu_state.tensor[0] = m.data();
    cpu_state.tensor[1] = v.data();
    gpu_state.tensor[0] = dm.data();
    gpu_state.tensor[1] = dv.data();
    cpu_.guarded_optimizer_update(params.data(), g, cpu_state, 200000, &cpu_guard);
    gpu_->guarded_optimizer_update(dp.data(), dg.data() + (step == 2 ? 0 : 1), gpu_state, 200000,
                                   dev_guard.data());
  }
  const ew::StepGuard got = download(dev_guard)[0];
  EXPECT_EQ(got.latest_skipped_index, 200001u);
  EXPECT_EQ(got.skipped, 1);
  EXPECT_EQ(got.optimizer_steps, 2);
  EXPECT_EQ(got.steps, 3);
  // Adam's constants are double arithmetic with pow on both sides: CUDA's pow is within 2 ulp
  // of the C library's, and rounding to float absorbs that unless a constant lies within 2
  // double ulps of a float rounding boundary; the parameters are compared within 1e-6 relative.
  expect_close(download(dp), params, 1e-6f, "guarded Adam");
}

// Each rule's element code on both backends, with a clipping factor; the rules are a few float
// operations each (FMA contraction on the device), so within 1e-6 relative.
TEST_F(CudaVsCpu, OptimizerUpdates) {
  const size_t n = 100003;
  for (const OptimizerKind kind : {OptimizerKind::adam, OptimizerKind::sgd}) {
    std::vector<float> params = random_values(n, 10), grads = random_values(n, 11);
    std::vector<float> m = random_values(n, 12, -0.1f, 0.1f);
    std::vector<float> v = random_values(n, 13, 0.0f, 0.01f);
    DeviceArray<float> dp = upload(params), dg = upload(grads), dm = upload(m), dv = upload(v);
    OptimizerOptions options;
    options.kind = kind;
    options.weight_decay = 0.01f;
    if (kind == OptimizerKind::sgd) options.momentum = 0.9f;
    const ew::UpdateStep step = ew::update_constants(options.hyper(), 1e-3, 3, 0.5f);
    ew::StateTensors cpu_state, gpu_state;
    cpu_state.tensor[0] = m.data();
    gpu_state.tensor[0] = dm.data();
    if (kind == OptimizerKind::adam) {
      cpu_state.tensor[1] = v.data();
      gpu_state.tensor[1] = dv.data();
    }
    cpu_.optimizer_update(params.data(), grads.data(), cpu_state, n, step);
    gpu_->optimizer_update(dp.data(), dg.data(), gpu_state, n, step);
    const std::string name = optimizer_name(kind);
    expect_close(download(dp), params, 1e-6f, name + " params");
    expect_close(download(dm), m, 1e-6f, name + " first state");
    expect_close(download(dv), v, 1e-6f, name + " second state");
  }
}

// The norm's block sums are deterministic on the device and agree with the CPU's within the
// rounding of double sums of 4096 squares in two orders (4096 * 2^-53 relative at most).
TEST_F(CudaVsCpu, BlockSumsOfSquares) {
  const size_t n = 3 * ew::kNormBlock + 77;
  const std::vector<float> data = random_values(n, 16);
  DeviceArray<float> dd = upload(data);
  std::vector<int64_t> cpu_bits(ew::norm_blocks(n));
  DeviceArray<int64_t> gpu_bits(*gpu_, cpu_bits.size());
  cpu_.block_sums_of_squares(data.data(), n, cpu_bits.data());
  gpu_->block_sums_of_squares(dd.data(), n, gpu_bits.data());
  const std::vector<int64_t> first = download(gpu_bits);
  gpu_->block_sums_of_squares(dd.data(), n, gpu_bits.data());
  EXPECT_EQ(download(gpu_bits), first) << "the same bits every run";
  for (size_t b = 0; b < cpu_bits.size(); ++b) {
    const double want = ew::double_from_bits(cpu_bits[b]);
    EXPECT_NEAR(ew::double_from_bits(first[b]), want, want * 4096 * 0x1p-53) << "block " << b;
  }
}

TEST_F(CudaVsCpu, GatherBatchAndFill) {
  const int pixels = 784, stored = 50, rows = 17;
  std::vector<uint8_t> images(static_cast<size_t>(stored) * pixels);
  std::vector<int32_t> labels(stored);
  for (size_t i = 0; i < images.size(); ++i)
    images[i] = static_cast<uint8_t>(i * 31);
  for (int i = 0; i < stored; ++i)
    labels[i] = i % 10;
  std::vector<uint32_t> indices(rows);
  for (int r = 0; r < rows; ++r)
    indices[r] = static_cast<uint32_t>((r * 13) % stored);
  std::vector<float> x(static_cast<size_t>(rows) * pixels);
  std::vector<int32_t> y(rows);
  cpu_.gather_batch(images.data(), labels.data(), pixels, indices.data(), rows, x.data(), y.data());
  DeviceArray<uint8_t> di = upload(images);
  DeviceArray<int32_t> dl = upload(labels);
  DeviceArray<uint32_t> dindices = upload(indices);
  DeviceArray<float> dx(*gpu_, x.size());
  DeviceArray<int32_t> dy(*gpu_, y.size());
  gpu_->gather_batch(di.data(), dl.data(), pixels, dindices.data(), rows, dx.data(), dy.data());
  expect_close(download(dx), x, 0.0f, "x");
  EXPECT_EQ(download(dy), y);
  // Float features: copied as they are.
  std::vector<float> features(images.begin(), images.end());
  cpu_.gather_feature_batch(features.data(), labels.data(), pixels, indices.data(), rows, x.data(),
                            y.data());
  DeviceArray<float> df = upload(features);
  gpu_->gather_feature_batch(df.data(), dl.data(), pixels, dindices.data(), rows, dx.data(),
                             dy.data());
  expect_close(download(dx), x, 0.0f, "features");
  EXPECT_EQ(download(dy), y);
  gpu_->fill(dx.data(), dx.size(), 2.5f);
  expect_close(download(dx), std::vector<float>(x.size(), 2.5f), 0.0f, "fill");
}

// --exact's element arithmetic runs the same DPTRAIN_HD code on both: the same bits, NaNs and
// out-of-range values included, and the same maximum.
TEST_F(CudaVsCpu, FixedPointConversionsAndTheirMaximumBitForBit) {
  const size_t n = 70001;
  std::vector<float> g = random_values(n, 41, -3.0f, 3.0f);
  g[5] = std::numeric_limits<float>::quiet_NaN();
  g[6] = 1e30f;  // beyond the scale: clamped to 0
  std::vector<int64_t> acc(n, 7);
  float cpu_max = 0.0f;
  const double scale = 0x1p50;
  DeviceArray<float> dg = upload(g), dmax = upload(std::vector<float>{0.0f});
  DeviceArray<int64_t> dacc = upload(acc);
  cpu_.to_fixed_point(g.data(), n, scale, /*accumulate=*/true, acc.data(), &cpu_max);
  gpu_->to_fixed_point(dg.data(), n, scale, /*accumulate=*/true, dacc.data(), dmax.data());
  EXPECT_EQ(download(dacc), acc);
  EXPECT_TRUE(same_bits(download(dmax), std::vector<float>{cpu_max}));
  std::vector<float> back(n);
  cpu_.from_fixed_point(acc.data(), n, 1.0 / scale, back.data());
  DeviceArray<float> dback(*gpu_, n);
  gpu_->from_fixed_point(dacc.data(), n, 1.0 / scale, dback.data());
  EXPECT_TRUE(same_bits(download(dback), back));
  std::vector<float> sum = random_values(n, 42), addend = random_values(n, 43);
  DeviceArray<float> dsum = upload(sum), daddend = upload(addend);
  cpu_.add(sum.data(), addend.data(), n);
  gpu_->add(dsum.data(), daddend.data(), n);
  EXPECT_TRUE(same_bits(download(dsum), sum));
}

TEST_F(CudaVsCpu, WholeModelGradients) {
  const int rows = 32;
  const ModelSpec mlp{ModelKind::mlp, {64}, {}, {}};
  Sequential cpu_model(cpu_, mlp, rows);
  Sequential gpu_model(*gpu_, mlp, rows);
  std::vector<float> params(cpu_model.layout().total());
  cpu_model.initialize(params, 3);
  const std::vector<float> x = random_values(static_cast<size_t>(rows) * 784, 14, 0.0f, 1.0f);
  const std::vector<float> dlogits = random_values(static_cast<size_t>(rows) * 10, 15, -0.1f, 0.1f);
  std::vector<float> grads(params.size());
  cpu_model.forward(params.data(), x.data(), rows);
  cpu_model.backward(params.data(), x.data(), dlogits.data(), rows, grads.data());
  DeviceArray<float> dp = upload(params), dx = upload(x), dd = upload(dlogits);
  DeviceArray<float> dg(*gpu_, grads.size());
  gpu_model.forward(dp.data(), dx.data(), rows);
  gpu_model.backward(dp.data(), dx.data(), dd.data(), rows, dg.data());
  expect_close(download(dg), grads, 1e-4f, "gradients");
}

// The convolution's index arithmetic is shared (conv_elements.hpp) and each element sums in the
// same order on both backends, so im2col and col2im agree bit for bit. Padding, strides and
// channels as in conv_test.cpp, and the CNN's two convolutions over a batch.
TEST_F(CudaVsCpu, Im2colAndCol2imBitForBit) {
  const std::vector<std::pair<ew::ConvGeometry, int>> cases{
      {{7, 5, 3, 5, 2, 2}, 3}, {{9, 6, 1, 5, 1, 2}, 2},   {{7, 6, 2, 3, 0, 2}, 2},
      {{6, 9, 1, 1, 0, 2}, 3}, {{28, 28, 1, 5, 0, 1}, 8}, {{12, 12, 32, 5, 0, 1}, 8}};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const auto& [g, rows] : cases) {
    const std::string what = std::to_string(g.height) + "x" + std::to_string(g.width) + "x" +
                             std::to_string(g.channels) + " k" + std::to_string(g.kernel) + " p" +
                             std::to_string(g.pad) + " s" + std::to_string(g.stride);
    const size_t input = static_cast<size_t>(rows) * g.height * g.width * g.channels;
    const size_t col_size = static_cast<size_t>(rows) * g.out_height() * g.out_width() * g.patch();
    const std::vector<float> x = random_values(input, 16), dcol = random_values(col_size, 17);
    std::vector<float> col(col_size), dx(input);
    cpu_.im2col(x.data(), g, rows, col.data());
    cpu_.col2im(dcol.data(), g, rows, dx.data());
    DeviceArray<float> dev_x = upload(x), dev_dcol = upload(dcol);
    DeviceArray<float> dev_col = upload(std::vector<float>(col_size, nan));
    DeviceArray<float> dev_dx = upload(std::vector<float>(input, nan));
    gpu_->im2col(dev_x.data(), g, rows, dev_col.data());
    gpu_->col2im(dev_dcol.data(), g, rows, dev_dx.data());
    EXPECT_TRUE(same_bits(download(dev_col), col)) << "im2col " << what;
    EXPECT_TRUE(same_bits(download(dev_dx), dx)) << "col2im " << what;
  }
}

// Max-pooling too, ties included (inputs of three levels), with odd sizes, overlapping windows
// and the CNN's two poolings over a batch.
TEST_F(CudaVsCpu, MaxPoolBitForBit) {
  const std::vector<std::pair<ew::PoolGeometry, int>> cases{{{5, 7, 2, 2, 2}, 2},
                                                            {{5, 7, 3, 3, 2}, 2},
                                                            {{7, 7, 2, 3, 1}, 2},
                                                            {{24, 24, 32, 2, 2}, 8},
                                                            {{8, 8, 64, 2, 2}, 8}};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const auto& [g, rows] : cases) {
    const std::string what = std::to_string(g.height) + "x" + std::to_string(g.width) + "x" +
                             std::to_string(g.channels) + " window " + std::to_string(g.window) +
                             " stride " + std::to_string(g.stride);
    const size_t input = static_cast<size_t>(rows) * g.height * g.width * g.channels;
    const size_t output = static_cast<size_t>(rows) * g.out_height() * g.out_width() * g.channels;
    std::vector<float> x = random_values(input, 18, 0.0f, 3.0f);
    for (float& value : x)
      value = std::floor(value);
    const std::vector<float> dy = random_values(output, 19);
    std::vector<float> y(output), dx(input);
    std::vector<uint8_t> argmax(output);
    cpu_.max_pool_forward(x.data(), g, rows, y.data(), argmax.data());
    cpu_.max_pool_backward(dy.data(), argmax.data(), g, rows, dx.data());
    DeviceArray<float> dev_x = upload(x), dev_dy = upload(dy);
    DeviceArray<float> dev_y = upload(std::vector<float>(output, nan));
    DeviceArray<float> dev_dx = upload(std::vector<float>(input, nan));
    DeviceArray<uint8_t> dev_argmax = upload(std::vector<uint8_t>(output, 255));
    gpu_->max_pool_forward(dev_x.data(), g, rows, dev_y.data(), dev_argmax.data());
    gpu_->max_pool_backward(dev_dy.data(), dev_argmax.data(), g, rows, dev_dx.data());
    EXPECT_TRUE(same_bits(download(dev_y), y)) << "forward " << what;
    EXPECT_EQ(download(dev_argmax), argmax) << what;
    EXPECT_TRUE(same_bits(download(dev_dx), dx)) << "backward " << what;
  }
}

// The whole CNN: logits within 1e-4, and every gradient tensor within 5e-3 in relative L2 norm.
// The GEMMs differ (cuBLAS, OpenBLAS) by about 1e-6; a norm rather than every element, because
// a ReLU or pooling window on the edge of a tie may fall the other way on the other device and
// move one pixel's share of a gradient.
void CudaVsCpu::expect_model_matches_cpu(const ModelSpec& spec) {
  const int rows = 8;
  const size_t width = static_cast<size_t>(spec.input.row_width());
  const size_t classes = static_cast<size_t>(spec.input.classes);
  Sequential cpu_model(cpu_, spec, rows);
  Sequential gpu_model(*gpu_, spec, rows);
  std::vector<float> params(cpu_model.layout().total());
  cpu_model.initialize(params, 5);
  const std::vector<float> x = random_values(rows * width, 20, 0.0f, 1.0f);
  const std::vector<float> dlogits = random_values(rows * classes, 21, -0.1f, 0.1f);
  std::vector<float> grads(params.size());
  const float* cpu_logits = cpu_model.forward(params.data(), x.data(), rows);
  const std::vector<float> logits(cpu_logits, cpu_logits + dlogits.size());
  cpu_model.backward(params.data(), x.data(), dlogits.data(), rows, grads.data());

  DeviceArray<float> dp = upload(params), dx = upload(x), dd = upload(dlogits);
  DeviceArray<float> dg = upload(std::vector<float>(grads.size(), std::nanf("")));
  std::vector<float> gpu_logits(logits.size());
  gpu_->copy_to_host(gpu_logits.data(), gpu_model.forward(dp.data(), dx.data(), rows),
                     gpu_logits.size() * sizeof(float));
  expect_close(gpu_logits, logits, 1e-4f, "logits");
  gpu_model.backward(dp.data(), dx.data(), dd.data(), rows, dg.data());
  const std::vector<float> gpu_grads = download(dg);
  for (const TensorSlot& slot : cpu_model.layout().tensors()) {
    double difference = 0.0, norm = 0.0;
    for (size_t e = slot.offset; e < slot.offset + slot.size; ++e) {
      ASSERT_TRUE(std::isfinite(gpu_grads[e])) << slot.name << " element " << e - slot.offset;
      difference += std::pow(static_cast<double>(gpu_grads[e]) - grads[e], 2);
      norm += std::pow(static_cast<double>(grads[e]), 2);
    }
    EXPECT_GT(norm, 0.0) << slot.name;
    EXPECT_LE(std::sqrt(difference), 5e-3 * std::sqrt(norm)) << slot.name;
  }
}

TEST_F(CudaVsCpu, WholeCnnForwardAndGradients) {
  expect_model_matches_cpu({ModelKind::cnn, {}, {}, {}});
}

// A spec model with the layers the CNN lacks: 'same' padding, tanh and a relu after a pool, the
// last two through the element loop's kernels (src/cuda/element_loop.cuh).
TEST_F(CudaVsCpu, SpecModelWithTanhAndSamePaddingForwardAndGradients) {
  expect_model_matches_cpu({ModelKind::layers,
                            {},
                            DataShape{DataShape::Kind::images, 12, 12, 3, 5},
                            "conv3x8s,tanh,pool2,relu,conv3x8s,relu,dense16,tanh,denseK"});
}

}  // namespace
}  // namespace dptrain
