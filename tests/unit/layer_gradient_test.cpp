// Each layer type through the seam: its gradients against kink-free central differences (in a
// small spec model, every element of every tensor; a layer without parameters is checked through
// the gradients of the layers before it), and its CPU code against its shared element code.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/conv_elements.hpp"
#include "dptrain/model/layers/activation_layer.hpp"
#include "dptrain/model/layers/relu.hpp"
#include "dptrain/model/layers/tanh.hpp"
#include "support/model_fixture.hpp"
#include "support/model_specs.hpp"

namespace dptrain {
namespace {

using testing::random_values;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
const DataShape kImages{DataShape::Kind::images, 7, 6, 2, 3};

struct GradientCase {
  const char* spec;
  DataShape input;
};

class LayerGradientCheck : public ::testing::TestWithParam<GradientCase> {};

TEST_P(LayerGradientCheck, EveryElementOfEveryTensor) {
  testing::ModelFixture net(testing::layers_spec(GetParam().spec, GetParam().input), 3);
  std::vector<float> grads(net.params.size(), kNaN);
  net.loss(&grads);
  for (const TensorSlot& slot : net.model.layout().tensors()) {
    double largest = 0.0;
    for (size_t e = 0; e < slot.size; ++e)
      largest =
          std::max(largest, std::abs(testing::expect_matches_difference(net, grads, slot, e)));
    EXPECT_GT(largest, 1e-3) << slot.name << ": no gradient worth checking";
  }
}

// The layer under test second, between layers with parameters.
INSTANTIATE_TEST_SUITE_P(
    LayerTypes, LayerGradientCheck,
    ::testing::Values(GradientCase{"dense6,relu,denseK", DataShape::features(5, 3)},
                      GradientCase{"conv3x4,relu,denseK", kImages},
                      GradientCase{"conv3x4s,relu,denseK", kImages},
                      GradientCase{"conv5x2s,denseK", kImages},
                      GradientCase{"conv3x4,pool2,denseK", kImages},
                      GradientCase{"conv3x4s,pool2,relu,denseK", kImages},
                      GradientCase{"conv3x4s,tanh,denseK", kImages},
                      GradientCase{"dense6,tanh,dense5,tanh,denseK", DataShape::features(5, 3)}));

// An activation layer's CPU forward and backward: exactly its element functions, element by
// element.
template <class Fn>
void expect_cpu_layer_is_its_element_code() {
  CpuBackend backend(1);
  const layers::MapShape shape{3, 4, 5};
  const int rows = 2;
  const size_t n = rows * shape.size();
  layers::ActivationLayer<Fn> layer(shape);
  const std::vector<float> x = random_values(n, 1, -3.0f, 3.0f);
  const std::vector<float> dy = random_values(n, 2);
  std::vector<float> y(n, kNaN), dx(n, kNaN);
  layer.forward(backend, nullptr, x.data(), rows, y.data());
  layer.input_gradient(backend, nullptr, x.data(), y.data(), dy.data(), rows, dx.data());
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(y[i], Fn::forward(x[i])) << Fn::kToken << " " << i;
    ASSERT_EQ(dx[i], Fn::backward(dy[i], y[i])) << Fn::kToken << " " << i;
  }
}

TEST(LayerElementCode, TanhOnTheCpuIsItsElementFunctions) {
  expect_cpu_layer_is_its_element_code<layers::Tanh>();
}

TEST(LayerElementCode, StandaloneReluOnTheCpuIsItsElementFunctions) {
  expect_cpu_layer_is_its_element_code<layers::Relu>();
}

TEST(LayerElementCode, TanhsElementFunctionsAreTanhAndItsDerivative) {
  for (float x : {-20.0f, -2.5f, -0.3f, 0.0f, 1e-3f, 0.7f, 4.0f}) {
    const float y = layers::Tanh::forward(x);
    // tanhf is within a few float ulps of tanh: 4 ulps of a value at most 1.
    EXPECT_NEAR(y, std::tanh(static_cast<double>(x)), 4 * std::numeric_limits<float>::epsilon());
    EXPECT_EQ(layers::Tanh::backward(2.0f, y), 2.0f * (1.0f - y * y));
  }
}

// Relu's standalone element functions are the fused ones (ew::activate), so that a relu after a
// pool computes what one fused into a convolution would.
TEST(LayerElementCode, StandaloneReluIsTheFusedRelu) {
  for (float v : {-1.0f, -0.0f, 0.0f, 0.5f})
    EXPECT_EQ(layers::Relu::forward(v), ew::activate(v, ew::Activation::relu));
  EXPECT_EQ(layers::Relu::backward(3.0f, 0.0f), 0.0f);
  EXPECT_EQ(layers::Relu::backward(3.0f, 0.5f), 3.0f);
}

// 'same' padding: the CPU's im2col and col2im with pad = kernel / 2 are ew's element code.
TEST(LayerElementCode, SamePaddingIm2colAndCol2imAreTheElementCode) {
  CpuBackend backend(1);
  for (int kernel : {1, 3, 5}) {
    const ew::ConvGeometry g{5, 4, 3, kernel, kernel / 2, 1};
    ASSERT_EQ(g.out_height(), g.height);
    ASSERT_EQ(g.out_width(), g.width);
    const int rows = 2;
    const size_t pixels = static_cast<size_t>(rows) * g.out_height() * g.out_width();
    const std::vector<float> x = random_values(static_cast<size_t>(rows) * 5 * 4 * 3, 3);
    std::vector<float> col(pixels * g.patch(), kNaN);
    backend.im2col(x.data(), g, rows, col.data());
    for (size_t i = 0; i < col.size(); ++i)
      ASSERT_EQ(col[i], ew::im2col_element(x.data(), g, i)) << "kernel " << kernel << " " << i;
    const std::vector<float> dcol = random_values(col.size(), 4);
    std::vector<float> dx(x.size(), kNaN);
    backend.col2im(dcol.data(), g, rows, dx.data());
    for (int n = 0; n < rows; ++n)
      for (int h = 0; h < g.height; ++h)
        for (int w = 0; w < g.width; ++w)
          for (int c = 0; c < g.channels; ++c)
            ASSERT_EQ(dx[((static_cast<size_t>(n) * g.height + h) * g.width + w) * g.channels + c],
                      ew::col2im_element(dcol.data(), g, n, h, w, c))
                << "kernel " << kernel;
  }
}

}  // namespace
}  // namespace dptrain
