#include "dptrain/optim/adam.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"

namespace dptrain {
namespace {

// Runs Adam on one parameter with the given gradients; returns the parameter after each step.
std::vector<float> trajectory(float initial, const std::vector<float>& gradients,
                              const AdamOptions& options) {
  CpuBackend backend(1);
  Adam adam(backend, 1, options);
  float param = initial;
  std::vector<float> after;
  for (float gradient : gradients) {
    adam.step(&param, &gradient);
    after.push_back(param);
  }
  EXPECT_EQ(adam.steps_taken(), static_cast<int64_t>(gradients.size()));
  return after;
}

// Expected values worked out from Algorithm 1 of Kingma & Ba (2015) with 40-digit decimal
// arithmetic, one step at a time: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
// p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps); for AdamW p -= lr wd p first.
TEST(Adam, FollowsThePublishedUpdateRule) {
  AdamOptions options;
  options.lr = 0.1f;
  const std::vector<float> got = trajectory(1.0f, {0.5f, -0.3f, 0.2f, 1.5f}, options);
  const std::vector<double> expected{0.90000000199999996, 0.88085019894177506, 0.84610743079088193,
                                     0.78154074529294937};
  for (size_t t = 0; t < expected.size(); ++t)
    EXPECT_NEAR(got[t], expected[t], 1e-6 * std::abs(expected[t])) << "step " << t + 1;
}

TEST(Adam, DecoupledWeightDecayFollowsAdamW) {
  AdamOptions options;
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
  AdamOptions options;
  options.lr = 0.05f;
  const std::vector<float> got = trajectory(0.0f, std::vector<float>(20, -4.0f), options);
  for (size_t t = 0; t < got.size(); ++t)
    EXPECT_NEAR(got[t], 0.05 * static_cast<double>(t + 1), 1e-5) << "step " << t + 1;
}

TEST(Adam, ZeroGradientLeavesParametersAlone) {
  const std::vector<float> got = trajectory(0.25f, std::vector<float>(5, 0.0f), AdamOptions{});
  for (float p : got)
    EXPECT_EQ(p, 0.25f);
}

}  // namespace
}  // namespace dptrain
