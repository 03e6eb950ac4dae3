#pragma once

// A model of any spec on the CPU backend with a random batch, and the kink-free central
// differences its gradients are checked against (cnn_test, layer_gradient_test).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/model/sequential.hpp"
#include "support/numeric_checks.hpp"

namespace dptrain::testing {

// The model for `rows` rows with Glorot weights, small random biases (so that gradients pass
// through live ReLUs), and a batch of random rows in [0, 1] with random labels.
struct ModelFixture {
  ModelFixture(const ModelSpec& spec, int rows_, uint64_t seed = 7)
      : rows(rows_),
        classes(spec.input.classes),
        model(backend, spec, rows),
        params(model.layout().total()),
        x(random_values(static_cast<size_t>(rows) * spec.input.row_width(), seed + 1, 0.0f, 1.0f)),
        labels(rows) {
    model.initialize(params, seed);
    for (const TensorSlot& slot : model.layout().tensors())
      if (slot.shape.size() == 1) {
        const std::vector<float> bias = random_values(slot.size, seed + slot.offset, -0.1f, 0.1f);
        std::copy(bias.begin(), bias.end(), params.begin() + static_cast<ptrdiff_t>(slot.offset));
      }
    const std::vector<float> drawn =
        random_values(labels.size(), seed + 2, 0.0f, static_cast<float>(classes));
    for (int r = 0; r < rows; ++r)
      labels[r] = std::min(static_cast<int32_t>(drawn[r]), classes - 1);
  }

  // The mean softmax cross-entropy, and its gradient if grads is given; logits keeps the
  // forward's logits.
  double loss(std::vector<float>* grads = nullptr, GradientsReady* ready = nullptr) {
    const float* output = model.forward(params.data(), x.data(), rows);
    logits.assign(output, output + static_cast<size_t>(rows) * classes);
    std::vector<float> dlogits(logits.size());
    double sum = 0.0;
    backend.softmax_cross_entropy(output, labels.data(), rows, classes,
                                  1.0f / static_cast<float>(rows),
                                  grads == nullptr ? nullptr : dlogits.data(), &sum);
    if (grads != nullptr)
      model.backward(params.data(), x.data(), dlogits.data(), rows, grads->data(), ready);
    return sum / rows;
  }

  int rows;
  int classes;
  CpuBackend backend{1};
  Sequential model;
  std::vector<float> params;
  std::vector<float> x;
  std::vector<int32_t> labels;
  std::vector<float> logits;
};

// A central difference of the mean loss with respect to one parameter, over a step on which
// the network is smooth. With ReLU and max-pooling the logits are piecewise affine in any one
// parameter, and a step across a kink measures a slope that is neither side's (conv biases,
// which move a whole channel, meet one within 1e-3 more often than not). So the step starts at
// 1e-2 and halves while the logits bend, |l(p + h) + l(p - h) - 2 l(p)| > 4e-7 (float noise is
// below 2e-7), down to 1e-4. What bending is left can move the difference by about curvature / h.
struct Difference {
  double slope;
  double step;
  double curvature;
};

inline Difference kink_free_difference(ModelFixture& net, float& p) {
  net.loss();
  const std::vector<float> at = net.logits;
  Difference d{0.0, 0.0, 0.0};
  for (float step = 1e-2f;; step /= 2) {
    const float saved = p;
    const float up_at = saved + step, down_at = saved - step;
    p = up_at;
    const double up = net.loss();
    const std::vector<float> above = net.logits;
    p = down_at;
    const double down = net.loss();
    p = saved;
    d.step = static_cast<double>(up_at) - static_cast<double>(down_at);
    d.slope = (up - down) / d.step;
    d.curvature = 0.0;
    for (size_t j = 0; j < at.size(); ++j)
      d.curvature = std::max(d.curvature,
                             std::abs(static_cast<double>(above[j]) + net.logits[j] - 2.0 * at[j]));
    if (d.curvature <= 4e-7 || step < 1e-4f) return d;
  }
}

// Checks gradient element e of `slot` against a kink-free central difference. The tolerance is
// the float noise of the loss over the step (about 1e-7 / h, taken four times), what curvature is
// left, and 0.2% (cnn_test explains the figures). Returns the difference's slope.
inline double expect_matches_difference(ModelFixture& net, const std::vector<float>& grads,
                                        const TensorSlot& slot, size_t e) {
  const Difference d = kink_free_difference(net, net.params[slot.offset + e]);
  EXPECT_NEAR(grads[slot.offset + e], d.slope,
              (8e-7 + 2.0 * d.curvature) / d.step + 2e-3 * std::abs(d.slope))
      << slot.name << "[" << e << "], step " << d.step / 2 << ", curvature " << d.curvature;
  return d.slope;
}

}  // namespace dptrain::testing
