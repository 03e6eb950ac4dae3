#include "dptrain/core/elementwise.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace dptrain::ew {
namespace {

TEST(Elementwise, ReluForwardAndBackwardUseTheOutput) {
  EXPECT_EQ(activate(-2.0f, Activation::relu), 0.0f);
  EXPECT_EQ(activate(3.0f, Activation::relu), 3.0f);
  EXPECT_EQ(activate(-2.0f, Activation::none), -2.0f);
  EXPECT_EQ(activation_backward(5.0f, 0.0f, Activation::relu), 0.0f);
  EXPECT_EQ(activation_backward(5.0f, 0.5f, Activation::relu), 5.0f);
  EXPECT_EQ(activation_backward(5.0f, -1.0f, Activation::none), 5.0f);
}

TEST(Elementwise, PixelsScaleToTheUnitInterval) {
  EXPECT_EQ(pixel_to_input(0), 0.0f);
  EXPECT_FLOAT_EQ(pixel_to_input(255), 1.0f);
  EXPECT_FLOAT_EQ(pixel_to_input(51), 0.2f);
}

TEST(Elementwise, SoftmaxCrossEntropyMatchesTheDefinition) {
  const std::vector<float> logits{0.5f, -1.0f, 2.0f, 0.0f};
  double denominator = 0.0;
  for (float z : logits)
    denominator += std::exp(static_cast<double>(z));
  const int label = 1;
  std::vector<float> dlogits(logits.size());
  const float loss = softmax_cross_entropy_row(logits.data(), 4, label, 0.5f, dlogits.data());
  EXPECT_NEAR(loss, -std::log(std::exp(-1.0) / denominator), 1e-6);
  for (size_t j = 0; j < logits.size(); ++j) {
    const double p = std::exp(static_cast<double>(logits[j])) / denominator;
    EXPECT_NEAR(dlogits[j], 0.5 * (p - (static_cast<int>(j) == label ? 1.0 : 0.0)), 1e-7);
  }
}

TEST(Elementwise, SoftmaxCrossEntropyIsStableForHugeLogits) {
  const std::vector<float> logits{1000.0f, 999.0f, -1000.0f};
  std::vector<float> dlogits(3);
  const float loss = softmax_cross_entropy_row(logits.data(), 3, 1, 1.0f, dlogits.data());
  EXPECT_NEAR(loss, std::log(1.0 + std::exp(1.0)), 1e-5);  // -log(e^-1 / (1 + e^-1))
  float sum = 0.0f;
  for (float d : dlogits) {
    EXPECT_TRUE(std::isfinite(d));
    sum += d;
  }
  EXPECT_NEAR(sum, 0.0f, 1e-6f);  // softmax sums to one, the one-hot too
}

TEST(Elementwise, SoftmaxCrossEntropyWithoutGradientWritesNothing) {
  const std::vector<float> logits{1.0f, 2.0f};
  EXPECT_NEAR(softmax_cross_entropy_row(logits.data(), 2, 0, 1.0f, nullptr),
              std::log(1.0 + std::exp(1.0)), 1e-6);
}

TEST(Elementwise, ArgmaxTakesTheFirstOfEqualMaxima) {
  const std::vector<float> row{0.1f, 0.7f, 0.7f, -3.0f};
  EXPECT_EQ(argmax_row(row.data(), 4), 1);
  EXPECT_EQ(argmax_row(row.data(), 1), 0);
}

}  // namespace
}  // namespace dptrain::ew
