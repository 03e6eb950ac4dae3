#pragma once

// The element-wise arithmetic of a training step, written once for both backends: the CPU
// backend calls these functions in loops, the CUDA backend from kernels. Row-major throughout.

#include <cmath>
#include <cstdint>

#include "dptrain/core/host_device.hpp"

namespace dptrain::ew {

enum class Activation : int { none = 0, relu = 1 };

DPTRAIN_HD float activate(float x, Activation activation) {
  return (activation == Activation::relu && x < 0.0f) ? 0.0f : x;
}

// Gradient through the activation, from the activation's *output* y: ReLU passes dy where y > 0.
// Using the output lets the forward pass keep a single buffer per layer.
DPTRAIN_HD float activation_backward(float dy, float y, Activation activation) {
  return (activation == Activation::relu && !(y > 0.0f)) ? 0.0f : dy;
}

// Pixels are stored as bytes and enter the model scaled to [0, 1], as in the Keras example.
DPTRAIN_HD float pixel_to_input(uint8_t pixel) {
  return static_cast<float>(pixel) * (1.0f / 255.0f);
}

// A value of a data row as the model's input: pixels scaled, features as they are.
DPTRAIN_HD float row_value_to_input(uint8_t pixel) {
  return pixel_to_input(pixel);
}
DPTRAIN_HD float row_value_to_input(float feature) {
  return feature;
}

// Softmax cross-entropy of one row of logits, computed stably from the row maximum:
//   loss = log(sum_j exp(z_j - max)) - (z_label - max)
// When dlogits is not null it receives (softmax(z) - onehot(label)) * grad_scale, the gradient of
// grad_scale * loss. Returns the row's loss.
DPTRAIN_HD float softmax_cross_entropy_row(const float* logits, int cols, int label,
                                           float grad_scale, float* dlogits) {
  float max_logit = logits[0];
  for (int j = 1; j < cols; ++j)
    max_logit = fmaxf(max_logit, logits[j]);
  float sum = 0.0f;
  for (int j = 0; j < cols; ++j) {
    const float e = expf(logits[j] - max_logit);
    if (dlogits != nullptr) dlogits[j] = e;  // kept, so that each exponential is taken once
    sum += e;
  }
  const float loss = logf(sum) - (logits[label] - max_logit);
  if (dlogits != nullptr) {
    const float inv_sum = 1.0f / sum;
    for (int j = 0; j < cols; ++j)
      dlogits[j] = (dlogits[j] * inv_sum - (j == label ? 1.0f : 0.0f)) * grad_scale;
  }
  return loss;
}

// Whether the IEEE-754 single-precision value with these bits is a NaN or an infinity.
DPTRAIN_HD bool is_non_finite_bits(uint32_t bits) {
  return (bits & 0x7F800000u) == 0x7F800000u;
}

// Index of the largest logit; the first one on ties.
DPTRAIN_HD int argmax_row(const float* row, int cols) {
  int best = 0;
  for (int j = 1; j < cols; ++j)
    if (row[j] > row[best]) best = j;
  return best;
}

}  // namespace dptrain::ew
