// Analytic gradients against central finite differences, for the loss and for every parameter
// of every layer of small MLPs (first, hidden and last layers; weights and biases).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/model/sequential.hpp"
#include "support/model_specs.hpp"
#include "support/numeric_checks.hpp"

namespace dptrain {
namespace {

using testing::central_difference;
using testing::random_values;

constexpr float kStep = 1e-3f;

void expect_close(double analytic, double numeric, const std::string& what) {
  EXPECT_NEAR(analytic, numeric, 2e-3 + 2e-2 * std::abs(numeric)) << what;
}

TEST(GradientCheck, SoftmaxCrossEntropy) {
  CpuBackend backend(1);
  const int rows = 4;
  const int cols = 6;
  std::vector<float> logits = random_values(rows * cols, 1, -3.0f, 3.0f);
  const std::vector<int32_t> labels{0, 5, 2, 2};
  const float scale = 1.0f / rows;
  std::vector<float> dlogits(logits.size());
  double loss = 0.0;
  backend.softmax_cross_entropy(logits.data(), labels.data(), rows, cols, scale, dlogits.data(),
                                &loss);
  const auto scaled_loss = [&] {
    double sum = 0.0;
    backend.softmax_cross_entropy(logits.data(), labels.data(), rows, cols, 0.0f, nullptr, &sum);
    return sum * scale;
  };
  for (size_t i = 0; i < logits.size(); ++i)
    expect_close(dlogits[i], central_difference(logits[i], kStep, scaled_loss),
                 "logit " + std::to_string(i));
}

class MlpGradientCheck : public ::testing::TestWithParam<std::vector<int>> {};

TEST_P(MlpGradientCheck, EveryParameterOfEveryLayer) {
  const std::vector<int> widths = GetParam();
  const int rows = 5;
  const int classes = widths.back();
  CpuBackend backend(1);
  Sequential model(backend, testing::mlp_spec(widths), rows);
  std::vector<float> params(model.layout().total());
  model.initialize(params, 7);
  // Non-zero biases, so that the bias gradients pass through live ReLUs too.
  for (const TensorSlot& slot : model.layout().tensors())
    if (slot.shape.size() == 1) {
      const std::vector<float> bias = random_values(slot.size, slot.offset, -0.2f, 0.2f);
      std::copy(bias.begin(), bias.end(), params.begin() + static_cast<ptrdiff_t>(slot.offset));
    }
  const std::vector<float> x = random_values(static_cast<size_t>(rows) * widths[0], 3);
  std::vector<int32_t> labels(rows);
  for (int r = 0; r < rows; ++r)
    labels[r] = (r * 7) % classes;
  const float scale = 1.0f / rows;

  std::vector<float> dlogits(static_cast<size_t>(rows) * classes);
  std::vector<float> grads(params.size());
  double loss = 0.0;
  const float* logits = model.forward(params.data(), x.data(), rows);
  backend.softmax_cross_entropy(logits, labels.data(), rows, classes, scale, dlogits.data(), &loss);
  model.backward(params.data(), x.data(), dlogits.data(), rows, grads.data());

  const auto mean_loss = [&] {
    double sum = 0.0;
    backend.softmax_cross_entropy(model.forward(params.data(), x.data(), rows), labels.data(), rows,
                                  classes, 0.0f, nullptr, &sum);
    return sum * scale;
  };
  for (const TensorSlot& slot : model.layout().tensors())
    for (size_t e = 0; e < slot.size; ++e)
      expect_close(grads[slot.offset + e],
                   central_difference(params[slot.offset + e], kStep, mean_loss),
                   slot.name + "[" + std::to_string(e) + "]");
}

INSTANTIATE_TEST_SUITE_P(Architectures, MlpGradientCheck,
                         ::testing::Values(std::vector<int>{7, 3}, std::vector<int>{7, 6, 4},
                                           std::vector<int>{9, 8, 5, 3}));

TEST(GradientCheck, BackwardOverwritesEveryGradient) {
  CpuBackend backend(1);
  Sequential model(backend, testing::mlp_spec({4, 3, 2}), 2);
  std::vector<float> params(model.layout().total());
  model.initialize(params, 1);
  const std::vector<float> x = random_values(8, 5);
  const std::vector<float> dlogits{0.1f, -0.1f, -0.2f, 0.2f};
  std::vector<float> first(params.size(), 123.0f);
  std::vector<float> second(params.size(), -7.0f);
  model.forward(params.data(), x.data(), 2);
  model.backward(params.data(), x.data(), dlogits.data(), 2, first.data());
  model.backward(params.data(), x.data(), dlogits.data(), 2, second.data());
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace dptrain
