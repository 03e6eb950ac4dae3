#include "dptrain/optim/optimizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"

namespace dptrain {
namespace {

// Runs the optimizer on one parameter with the given gradients at a constant learning rate;
// returns the parameter after each step.
std::vector<float> trajectory(float initial, const std::vector<float>& gradients,
                              const OptimizerOptions& options) {
  CpuBackend backend(1);
  Optimizer optimizer(backend, 1, options);
  float param = initial;
  std::vector<float> after;
  for (size_t t = 1; t <= gradients.size(); ++t) {
    optimizer.step(
        &param, &gradients[t - 1],
        ew::update_constants(options.hyper(), options.lr, static_cast<int64_t>(t), 1.0f));
    after.push_back(param);
  }
  return after;
}

OptimizerOptions sgd(float lr, std::optional<float> momentum, float weight_decay = 0.0f) {
  OptimizerOptions options;
  options.kind = OptimizerKind::sgd;
  options.lr = lr;
  options.momentum = momentum;
  options.weight_decay = weight_decay;
  return options;
}

void expect_trajectory(const std::vector<float>& got, const std::vector<double>& expected) {
  ASSERT_EQ(got.size(), expected.size());
  // float arithmetic over a few steps: a few ulps of the values, far below the differences the
  // tests tell apart.
  for (size_t t = 0; t < expected.size(); ++t)
    EXPECT_NEAR(got[t], expected[t], 1e-6 * std::abs(expected[t])) << "step " << t + 1;
}

// Expected values worked out from Algorithm 1 of Kingma & Ba (2015) with 40-digit decimal
// arithmetic, one step at a time: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
// p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps); for AdamW p -= lr wd p first.
TEST(Adam, FollowsThePublishedUpdateRule) {
  OptimizerOptions options;
  options.lr = 0.1f;
  const std::vector<float> got = trajectory(1.0f, {0.5f, -0.3f, 0.2f, 1.5f}, options);
  const std::vector<double> expected{0.90000000199999996, 0.88085019894177506, 0.84610743079088193,
                                     0.78154074529294937};
  for (size_t t = 0; t < expected.size(); ++t)
    EXPECT_NEAR(got[t], expected[t], 1e-6 * std::abs(expected[t])) << "step " << t + 1;
}

TEST(Adam, DecoupledWeightDecayFollowsAdamW) {
  OptimizerOptions options;
  options.lr = 0.01f;
  options.beta1 = 0.8f;
  options.beta2 = 0.99f;
  options.eps = 1e-3f;
  options.weight_decay = 0.5f;
  const std::vector<float> got = trajectory(-2.0f, {0.5f, -0.3f, 0.2f, 1.5f}, options);
  const std::vector<double> expected{-1.9999800399201597, -1.9913258880715868, -1.9845934694773907,
                                     -1.9818233060805039};
  for (size_t t = 0; t < expected.size(); ++t)
    EXPECT_NEAR(got[t], expected[t], 1e-6 * std::abs(expected[t])) << "step " << t + 1;
}

// With a constant gradient g the bias-corrected moments are exactly g and g^2, so every step
// moves the parameter by lr * g / (|g| + eps): a closed form independent of the code above.
TEST(Adam, ConstantGradientMovesByTheLearningRate) {
  OptimizerOptions options;
  options.lr = 0.05f;
  const std::vector<float> got = trajectory(0.0f, std::vector<float>(20, -4.0f), options);
  for (size_t t = 0; t < got.size(); ++t)
    EXPECT_NEAR(got[t], 0.05 * static_cast<double>(t + 1), 1e-5) << "step " << t + 1;
}

TEST(Adam, ZeroGradientLeavesParametersAlone) {
  const std::vector<float> got = trajectory(0.25f, std::vector<float>(5, 0.0f), OptimizerOptions{});
  for (float p : got)
    EXPECT_EQ(p, 0.25f);
}

TEST(Optimizer, AdamKeepsTwoMomentsAndSgdOneVelocityOnlyWithMomentum) {
  EXPECT_EQ(optimizer_state_names(OptimizerOptions{}), (std::vector<std::string>{"m", "v"}));
  EXPECT_EQ(optimizer_state_names(sgd(0.1f, 0.9f)), std::vector<std::string>{"velocity"});
  EXPECT_TRUE(optimizer_state_names(sgd(0.1f, std::nullopt)).empty());
  EXPECT_TRUE(optimizer_state_names(sgd(0.1f, 0.0f)).empty());
  CpuBackend backend(1);
  EXPECT_EQ(Optimizer(backend, 10, OptimizerOptions{}).state_bytes(), 2 * 10 * sizeof(float));
}

// torch.optim.SGD's rule by hand, lr 0.1, momentum 0.9, from p = 1 with g = 0.5, -0.3, 0.2:
// b = 0.5, p = 0.95; b = 0.45 - 0.3 = 0.15, p = 0.935; b = 0.135 + 0.2 = 0.335, p = 0.9015.
TEST(Optimizer, SgdWithMomentumFollowsTorchsRule) {
  expect_trajectory(trajectory(1.0f, {0.5f, -0.3f, 0.2f}, sgd(0.1f, 0.9f)), {0.95, 0.935, 0.9015});
}

// With weight decay 0.01 added to the gradient (L2, as torch's weight_decay):
// g' = 0.51, b = 0.51, p = 0.949; g' = -0.29051, b = 0.16849, p = 0.932151;
// g' = 0.20932151, b = 0.36096251, p = 0.896054749.
TEST(Optimizer, SgdWeightDecayIsAddedToTheGradient) {
  expect_trajectory(trajectory(1.0f, {0.5f, -0.3f, 0.2f}, sgd(0.1f, 0.9f, 0.01f)),
                    {0.949, 0.932151, 0.896054749});
}

// Without momentum there is no state: p -= lr g, 1 -> 0.95 -> 0.98 -> 0.96.
TEST(Optimizer, PlainSgdStepsAgainstTheGradient) {
  expect_trajectory(trajectory(1.0f, {0.5f, -0.3f, 0.2f}, sgd(0.1f, std::nullopt)),
                    {0.95, 0.98, 0.96});
}

// An update of a range touches that range of the parameters only, with the state of its own:
// the same bits as the same elements updated as part of the whole buffer (ZeRO-1's shards and
// parameter servers' ranges rely on it).
TEST(Optimizer, ARangeUpdatesLikeThoseElementsOfTheWhole) {
  CpuBackend backend(1);
  const OptimizerOptions options;
  std::vector<float> whole{0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, part = whole;
  const std::vector<float> g{1.0f, -2.0f, 3.0f, -4.0f, 5.0f, -6.0f};
  Optimizer all(backend, 6, options), middle(backend, 3, options);
  for (int64_t t = 1; t <= 3; ++t) {
    const ew::UpdateStep step = ew::update_constants(options.hyper(), options.lr, t, 1.0f);
    all.step(whole.data(), g.data(), step);
    middle.step(part.data() + 2, g.data() + 2, step);
  }
  EXPECT_EQ(part[0], 0.1f);
  EXPECT_EQ(part[5], 0.6f);
  for (size_t i = 2; i < 5; ++i)
    EXPECT_EQ(part[i], whole[i]) << i;
}

}  // namespace
}  // namespace dptrain
